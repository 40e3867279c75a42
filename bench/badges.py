"""Benchmark: Open Badges 3.0 signing, issuing, and the public verification page, on loopback.

1. Signing on one core, in this process: OB 3.0 credentials (the tool's own documents, sample
   catalog) signed with eddsa-rdfc-2022 per second, CPU ms per signature, and verifying.
2. Issuing in this process: earned decisions turned into signed, stored awards by the outbox
   processor (SQLite file, the embedded default), per second.
3. The verification page: the tool under gunicorn (1 worker), GET /badges/<id> as a browser
   asks for it (the server checks the signature, expiry and status at every request), with 1
   and 8 concurrent clients: requests/s, p50/p95/p99, and the server's CPU ms per page.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/badges.py [--sign 200] [--awards 200] [--pages 300]

On 2 shared cores the load generator competes with the server: at 8 concurrent clients the
latency is bounded by Little's law (latency ≈ concurrency ÷ throughput); compare CPU per page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.launch import cpu_seconds, pct, run, serve, stop, wait_up  # noqa: E402

SECRET = "bench-secret-key-0123456789-0123456789-0123456789"


def settings(folder: Path, base_url: str) -> dict[str, str]:
    return {
        "MICROCRED_ENV": "development",
        "MICROCRED_SECRET_KEY": SECRET,
        "MICROCRED_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite'}",
        "MICROCRED_INSTANCE_PATH": str(folder),
        "MICROCRED_BASE_URL": base_url,
        "MICROCRED_DEVLMS_URL": "http://127.0.0.1:9",
        "MICROCRED_LOG_LEVEL": "WARNING",
        "MICROCRED_EMBEDDED_WORKER": "false",
    }


def signing(app: object, count: int) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy import select

    from app.badges import documents, proofs, status
    from app.badges.services import site_of
    from app.catalog.models import CredentialVersion, Organisation
    from app.db import get_db, utcnow

    site = site_of(app)  # type: ignore[arg-type]
    key = Ed25519PrivateKey.generate()
    multibase = proofs.multikey(key.public_key())
    with get_db(app).begin() as session:  # type: ignore[arg-type]
        versions = list(
            session.scalars(
                select(CredentialVersion).where(
                    CredentialVersion.status == CredentialVersion.PUBLISHED
                )
            )
        )
        unsigned = []
        methods = []
        for n in range(count):
            version = versions[n % len(versions)]
            organisation = session.get_one(Organisation, version.credential.organisation_id)
            methods.append(site.key_id(organisation.slug, multibase))
            unsigned.append(
                documents.credential(
                    site,
                    public_id=f"bench{n}",
                    organisation=organisation,
                    slug=version.credential.slug,
                    version=version,
                    recipient=documents.Recipient("email", "salt", "sha256$" + "0" * 64, "Bench"),
                    issued_at=utcnow(),
                    valid_until=None,
                    status_entry=status.entry(site, organisation.slug, 1, n),
                    evidence_narrative="Bench evidence.",
                )
            )
    now = utcnow()
    proofs.sign(unsigned[0], key, methods[0], now)  # warm: contexts loaded
    cpu, wall = time.process_time(), time.perf_counter()
    signed = [proofs.sign(d, key, m, now) for d, m in zip(unsigned, methods, strict=True)]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    public = key.public_key()
    vcpu, vwall = time.process_time(), time.perf_counter()
    for document in signed:
        assert proofs.verify(document, lambda _vm: public).ok
    vcpu, vwall = time.process_time() - vcpu, time.perf_counter() - vwall
    print(
        f"Signing (one core, this process): {count} OB 3.0 credentials in {wall:.2f} s = "
        f"{count / wall:.0f} signed/s, {cpu / count * 1000:.1f} ms CPU each; "
        f"verifying {count / vwall:.0f}/s, {vcpu / count * 1000:.1f} ms CPU each"
    )


def issuing(app: object, count: int) -> list[str]:
    from app.badges.processing import build
    from tests.badges.support import add_educator, awards, decide_attempt

    for n in range(count):
        _registration, user_id = add_educator(
            app,  # type: ignore[arg-type]
            sub=f"bench-{n}",
            email=f"bench{n}@example.edu",
            name=f"Bench Educator {n}",
        )
        decide_attempt(app, user_id)  # type: ignore[arg-type]
    processor = build(app)  # type: ignore[arg-type]
    cpu, wall = time.process_time(), time.perf_counter()
    counters = processor.run(until_idle=True)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"Issuing (outbox processor, SQLite): {counters.issued} awards in {wall:.2f} s = "
        f"{counters.issued / wall:.0f} issued/s, {cpu / max(counters.issued, 1) * 1000:.1f} ms "
        "CPU each (event claimed, key, status index, signed, stored)"
    )
    return [a.public_id for a in awards(app)]  # type: ignore[arg-type]


def pages(folder: Path, base_url: str, port: int, ids: list[str], count: int) -> None:
    env = {**os.environ, **settings(folder, base_url), "PYTHONPATH": str(ROOT)}
    processes: dict = {}
    serve(processes, "tool", port, "app:create_app()", ["-w", "1"], env, folder / "tool.log")
    try:
        wait_up(f"{base_url}/healthz")
        requests.get(f"{base_url}/badges/{ids[0]}", timeout=30).raise_for_status()
        print(
            f"Verification page (gunicorn, 1 worker, SQLite), {count} GETs per row, "
            "the server checking signature, expiry and status on each:"
        )
        head = f"{'conc':>4} {'pages/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
        print(f"{head} {'server CPU ms':>13}")
        for concurrency in (1, 8):
            local = threading.local()

            def one(n: int, local: threading.local = local) -> float:
                if not hasattr(local, "s"):
                    local.s = requests.Session()
                started = time.perf_counter()
                answer = local.s.get(
                    f"{base_url}/badges/{ids[n % len(ids)]}",
                    headers={"Accept": "text/html"},
                    timeout=60,
                )
                answer.raise_for_status()
                assert "Verified" in answer.text
                return time.perf_counter() - started

            before = cpu_seconds(processes["tool"].pid)
            elapsed, lat = run(count, concurrency, one)
            used = (cpu_seconds(processes["tool"].pid) - before) / count * 1000
            print(
                f"{concurrency:>4} {count / elapsed:>8.1f} {statistics.median(lat) * 1000:>7.1f} "
                f"{pct(lat, 0.95):>7.1f} {pct(lat, 0.99):>7.1f} {used:>13.1f}"
            )
    finally:
        stop(processes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sign", type=int, default=200)
    parser.add_argument("--awards", type=int, default=200)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    from app import create_app, migrate
    from tests.badges.support import load_sample
    from tests.support.postgres import free_port

    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-badges-"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = settings(folder, base_url)
    migrate.upgrade(config["MICROCRED_DATABASE_URL"])
    app = create_app(config)
    load_sample(app)
    print(f"Microcred badge benchmark: loopback, {os.cpu_count()} CPUs")
    signing(app, args.sign)
    ids = issuing(app, args.awards)
    app.extensions["db"].dispose()
    pages(folder, base_url, port, ids, args.pages)


if __name__ == "__main__":
    main()
