"""Run the official Open Badges validators on what the tool issues, from the tests.

``make validators`` installs them into ``.validators/`` (``MICROCRED_VALIDATORS_DIR`` moves
them): 1EdTech's ``openbadges`` 1.1.2 for OB 2.0 in its own virtualenv (``ob2/``), and the
Digital Credentials Consortium's ``verifier-core`` for OB 3.0 (``ob3js/``). Each runs as a
subprocess through our harness scripts in ``tests/validators/``, offline: every fetch they make
goes to loopback. Their known gaps are listed at the top of those scripts.

    result = verify_ob3(credential, ca_cert=live_https.ca_cert)
    assert result.ok, result          # the message holds the validator's own output
    assert result.steps["revocation_status"] == "ok"

Tests ask for the ``validators`` fixture (``tests/conftest.py``), which skips them when the
validators are not installed, unless ``MICROCRED_REQUIRE_VALIDATORS`` is set (``make test``
sets it, so CI fails instead of skipping)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
HARNESS = REPO / "tests" / "validators"
DEFAULT_TIMEOUT = 60.0
"""Seconds a validator may take; each run takes well under a second here."""

_OB3_STEP = re.compile(r"^(ok|FAIL|n/a)\s+(\S+)")
_OB3_FATAL = re.compile(r"^FATAL (\S+?):")
_OB3_RESULT = re.compile(r"^RESULT: (verified|NOT verified)$", re.MULTILINE)
_OB2_MESSAGE = re.compile(r"^(ERROR|WARNING|INFO|\w+): (\S+) ")
_OB2_SUMMARY = re.compile(
    r"^openBadgesVersion=\S* errors=\S* warnings=\S* valid=(\w+)$", re.MULTILINE
)
_SEVERITY = {"FATAL": 3, "ERROR": 3, "FAIL": 2, "WARNING": 1}


class ValidatorError(Exception):
    """The validator could not give a verdict: not installed, crashed, or timed out."""


@dataclass(frozen=True)
class Result:
    """A validator's verdict on one credential."""

    validator: str
    ok: bool
    """Verified (OB 3.0) or valid (OB 2.0)."""
    output: str
    """What the validator printed on stdout: one line per step or message, then its verdict."""
    steps: dict[str, str] = field(default_factory=dict)
    """OB 3.0: step id → ``ok``, ``FAIL``, ``n/a`` or ``FATAL`` (e.g. ``valid_signature``,
    ``expiration``, ``revocation_status``, ``invalid_signature``). OB 2.0: message name →
    its most severe level (``ERROR``, ``WARNING``, ...), e.g. ``VALIDATE_PROPERTY``."""
    stderr: str = ""

    def __str__(self) -> str:
        verdict = "verified" if self.ok else "NOT verified"
        text = f"{self.validator}: {verdict}\n{self.output.rstrip()}"
        if self.stderr.strip():
            text += "\n--- stderr (last lines) ---\n" + _tail(self.stderr)
        return text


def validators_dir() -> Path:
    """Return where the validators are installed: ``MICROCRED_VALIDATORS_DIR``, by default
    ``<repository>/.validators``."""
    configured = os.environ.get("MICROCRED_VALIDATORS_DIR")
    return Path(configured) if configured else REPO / ".validators"


def ob2_python() -> Path:
    """The Python of the OB 2.0 validator's own virtualenv."""
    return validators_dir() / "ob2" / "bin" / "python"


def ob3_js_dir() -> Path:
    """The npm folder holding the OB 3.0 validator."""
    return validators_dir() / "ob3js"


def missing() -> list[str]:
    """Say what of the validators is not installed (empty when they all are)."""
    problems = []
    if not ob2_python().is_file():
        problems.append(f"the OB 2.0 validator ({ob2_python()})")
    if not (ob3_js_dir() / "node_modules" / "@digitalcredentials" / "verifier-core").is_dir():
        problems.append(f"the OB 3.0 validator ({ob3_js_dir()}/node_modules)")
    if shutil.which("node") is None:
        problems.append("node (Debian package nodejs)")
    return problems


def require_validators() -> Path:
    """Return the validators' folder; skip the calling test when they are not installed, or
    fail it when ``MICROCRED_REQUIRE_VALIDATORS`` is set."""
    problems = missing()
    if problems:
        message = (
            f"Open Badges validators not installed: {'; '.join(problems)}. "
            "Run `make validators` (make test does)."
        )
        if os.environ.get("MICROCRED_REQUIRE_VALIDATORS"):
            pytest.fail(message + " MICROCRED_REQUIRE_VALIDATORS is set.", pytrace=False)
        pytest.skip(message)
    return validators_dir()


def verify_ob3(
    credential: Mapping[str, Any],
    *,
    ca_cert: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Result:
    """Verify an OB 3.0 credential with the DCC verifier-core.

    ``ca_cert`` is the CA to trust for https fetches (a did:web issuer's DID document, a status
    list) in addition to Node's own; the Node verifier needs it as ``NODE_EXTRA_CA_CERTS``."""
    env = {"OB3_JS_DIR": str(ob3_js_dir())}
    if ca_cert is not None:
        env["NODE_EXTRA_CA_CERTS"] = str(ca_cert)
    name = "OB 3.0 validator (DCC verifier-core)"
    stdout, stderr, code = _run(
        name,
        [shutil.which("node") or "node", str(HARNESS / "ob3_verify.mjs"), "-"],
        env=env,
        stdin=json.dumps(credential),
        timeout=timeout,
    )
    verdict = _OB3_RESULT.search(stdout)
    if code not in (0, 1) or verdict is None or (code == 0) != (verdict[1] == "verified"):
        raise ValidatorError(_no_verdict(name, code, stdout, stderr))
    steps: dict[str, str] = {}
    for line in stdout.splitlines():
        if match := _OB3_STEP.match(line):
            steps[match[2]] = match[1]
        elif match := _OB3_FATAL.match(line):
            steps[match[1]] = "FATAL"
    return Result(name, code == 0, stdout, steps, stderr)


def verify_ob2(
    target: str | Path,
    *,
    recipient: str | None = None,
    ca_cert: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Result:
    """Validate an OB 2.0 badge with 1EdTech's openbadges 1.1.2.

    ``target`` is a hosted assertion's URL (a ``str`` starting with ``http``), or a file: a baked
    PNG or SVG (by suffix), or a file holding the assertion's JSON or a compact JWS. A hosted
    assertion's documents are fetched again by their URLs, so their server must be up.
    ``recipient`` is an email the assertion must be issued to. ``ca_cert`` is the CA to trust
    for https fetches (``REQUESTS_CA_BUNDLE``; the validator fetches only loopback)."""
    args = [str(ob2_python()), str(HARNESS / "ob2_verify.py")]
    if recipient is not None:
        args += ["--recipient", recipient]
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        args.append(target)
    else:
        path = Path(target)
        if not path.is_file():
            raise ValidatorError(f"verify_ob2: {target} is neither an http(s) URL nor a file.")
        args += ["--file", str(path.resolve())]
    env = {"REQUESTS_CA_BUNDLE": str(ca_cert)} if ca_cert is not None else {}
    name = "OB 2.0 validator (1EdTech openbadges 1.1.2)"
    stdout, stderr, code = _run(name, args, env=env, timeout=timeout)
    verdict = _OB2_SUMMARY.search(stdout)
    if code not in (0, 1) or verdict is None or (code == 0) != (verdict[1] == "True"):
        raise ValidatorError(_no_verdict(name, code, stdout, stderr))
    steps: dict[str, str] = {}
    for line in stdout.splitlines():
        if match := _OB2_MESSAGE.match(line):
            level, message = match[1], match[2]
            if _SEVERITY.get(level, 0) >= _SEVERITY.get(steps.get(message, ""), -1):
                steps[message] = level
    return Result(name, code == 0, stdout, steps, stderr)


def dcc_issue(*args: str, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Run ``tests/validators/ob3_issue.mjs`` (the DCC libraries, a fixed test key) with
    ``args`` and return the JSON it prints: by default a signed did:key OpenBadgeCredential;
    ``--issuer did:web:...``, ``--did-doc``, ``--status-list URL --revoke 7``, ``--status-url
    URL --status-index 3`` as that script's header says. For tests of the harness and
    cross-checks, never for what the tool issues."""
    name = "ob3_issue.mjs (DCC libraries)"
    script = str(HARNESS / "ob3_issue.mjs")
    env = {"OB3_JS_DIR": str(ob3_js_dir())}
    stdout, stderr, code = _run(
        name, [shutil.which("node") or "node", script, *args], env=env, timeout=timeout
    )
    if code != 0:
        raise ValidatorError(f"{name}: exited {code}.\n" + _streams(stdout, stderr))
    return json.loads(stdout)


def _run(
    name: str,
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    stdin: str | None = None,
) -> tuple[str, str, int]:
    if problems := missing():
        raise ValidatorError(
            f"{name}: not installed ({'; '.join(problems)}). Run `make validators`."
        )
    try:
        done = subprocess.run(
            args,
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            cwd=REPO,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ValidatorError(
            f"{name}: no verdict within {timeout:g} s.\n"
            + _streams(_text(exc.stdout), _text(exc.stderr))
        ) from exc
    return done.stdout, done.stderr, done.returncode


def _no_verdict(name: str, code: int, stdout: str, stderr: str) -> str:
    return f"{name}: exited {code} without a verdict.\n" + _streams(stdout, stderr)


def _streams(stdout: str, stderr: str) -> str:
    return f"--- stdout ---\n{stdout.rstrip()}\n--- stderr (last lines) ---\n{_tail(stderr)}"


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data or ""
