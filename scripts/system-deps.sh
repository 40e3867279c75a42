#!/usr/bin/env bash
# Install the Debian packages the test suite needs, but only those whose commands are missing:
#   chromium       /usr/bin/chromium (the browser tests drive it through Playwright)
#   redis-server   redis-server
#   postgresql     initdb and pg_ctl (the suite starts throwaway servers with them)
#   haproxy        haproxy (`make cluster` and the cluster tests put it in front of the tool)
#   npm            npm (installs axe-core for the browser tests' accessibility checks)
# `scripts/system-deps.sh cluster` checks only what `make cluster` needs: redis-server,
# postgresql and haproxy.
# As root it runs `apt-get install -y`; otherwise it says what to install and fails.
set -euo pipefail

for_cluster_only=false
[[ ${1:-} == cluster ]] && for_cluster_only=true

have() { command -v "$1" >/dev/null 2>&1; }

have_postgres() {
    local tool
    for tool in initdb pg_ctl; do
        have "$tool" || compgen -G "/usr/lib/postgresql/*/bin/$tool" >/dev/null || return 1
    done
}

missing=()
have redis-server || missing+=(redis-server)
have_postgres || missing+=(postgresql)
have haproxy || missing+=(haproxy)
if ! $for_cluster_only; then
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    have npm || missing+=(npm)
fi

if ((${#missing[@]} == 0)); then
    if $for_cluster_only; then
        echo "system-deps: redis-server, postgresql and haproxy are installed."
    else
        echo "system-deps: chromium, redis-server, postgresql, haproxy and npm are installed."
    fi
    exit 0
fi

echo "system-deps: missing Debian packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
    {
        echo "system-deps: not running as root, so they cannot be installed from here."
        echo "Install them with"
        echo
        echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
        echo
        echo "(or: sudo scripts/system-deps.sh), then run make test again."
    } >&2
    exit 1
fi
if ! have apt-get; then
    echo "system-deps: apt-get is not available; install ${missing[*]} with your package manager." >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y "${missing[@]}"
echo "system-deps: installed ${missing[*]}."
