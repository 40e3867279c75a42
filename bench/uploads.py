"""Benchmark: a 500 MB evidence upload through the real chunked API, against raw disk writes.

The tool runs under gunicorn (2 workers) on a throwaway PostgreSQL server (or a SQLite file),
over loopback, with the local evidence store in the run's scratch folder. One educator launches
through the development LMS (which then stops); an attempt at a credential with a file part is
made for them directly (starting attempts is the workspace's service). The file is sent as the
page's script sends it: announced, then chunks of the server's size (16 MiB) with
``PUT …/content?offset=N`` one after another, then completed (the server reads the file back for
its SHA-256, which is checked).

In the same run and on the same disk, raw write speed is measured for the same amount: writes of
a chunk's size, each followed by ``fsync`` — the durability the store gives each chunk before it
answers (a chunk acknowledged is on disk). The figures printed: both speeds in MB/s (10^6
bytes), their ratio (the goal is >= 0.5), and the tool's CPU time per chunk request (gunicorn
master and workers, from /proc before and after).

``measure_upload`` and ``upload_lines`` are for other benchmarks (``bench/drafts.py``): given a
running tool, a session token and a draft attempt, they print the same lines.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/uploads.py [--megabytes 500] [--database postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import requests
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
MB = 1_000_000


@dataclass(frozen=True)
class UploadFigures:
    """One upload's figures and the raw disk's, from the same run."""

    size: int
    upload_seconds: float
    disk_seconds: float
    chunks: int
    chunk_size: int
    cpu_seconds: float | None
    complete_seconds: float

    @property
    def upload_mb_s(self) -> float:
        return self.size / MB / self.upload_seconds

    @property
    def disk_mb_s(self) -> float:
        return self.size / MB / self.disk_seconds

    @property
    def ratio(self) -> float:
        return self.upload_mb_s / self.disk_mb_s


def _chunks(size: int, chunk: int) -> Iterator[bytes]:
    """The file's content, chunk by chunk: random bytes, a PDF by its first bytes."""
    block = bytearray(os.urandom(chunk))
    for index, offset in enumerate(range(0, size, chunk)):
        # Each chunk differs from the others, so nothing along the way can deduplicate them.
        block[:16] = b"%PDF-1.7\n".ljust(16, b"\n") if index == 0 else index.to_bytes(16, "big")
        yield bytes(block[: min(chunk, size - offset)])


def disk_write_seconds(folder: Path, size: int, chunk: int) -> float:
    """Write ``size`` bytes in writes of ``chunk`` bytes, each followed by fsync; return the
    seconds."""
    path = folder / "raw-disk-write.bin"
    data = list(_chunks(min(size, 4 * chunk), chunk))  # generated before the clock starts
    started = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        written = 0
        index = 0
        while written < size:
            piece = data[index % len(data)][: size - written]
            os.write(fd, piece)
            os.fsync(fd)
            written += len(piece)
            index += 1
    finally:
        os.close(fd)
    seconds = time.perf_counter() - started
    path.unlink()
    return seconds


def measure_upload(
    tool_url: str,
    token: str,
    attempt_id: int,
    part_key: str,
    scratch: Path,
    size: int = 500 * MB,
    cpu: Callable[[], float] | None = None,
) -> UploadFigures:
    """Upload ``size`` bytes through the chunked API and write as much to ``scratch`` (the
    evidence store's disk); ``cpu`` reads the tool's CPU seconds so far, if given."""
    http = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    cpu_before = cpu() if cpu else None
    started = time.perf_counter()
    answer = http.post(
        f"{tool_url}/api/evidence/attempts/{attempt_id}/parts/{part_key}/files",
        json={"name": "classroom-video.pdf", "size": size},
        headers=headers,
        timeout=60,
    )
    if answer.status_code != 201:
        raise SystemExit(f"upload refused: {answer.status_code} {answer.text[:300]}")
    file_id, chunk = answer.json()["id"], answer.json()["chunk_size"]
    announce_seconds = time.perf_counter() - started
    # The content is made between the announcement and the first chunk, off the clock: the
    # chunk size is the server's to say.
    data = list(_chunks(size, chunk))
    digest = hashlib.sha256()
    for piece in data:
        digest.update(piece)
    started = time.perf_counter() - announce_seconds
    offset = 0
    for piece in data:
        put = http.put(
            f"{tool_url}/api/evidence/files/{file_id}/content",
            params={"offset": offset},
            data=piece,
            headers={**headers, "Content-Type": "application/octet-stream"},
            timeout=120,
        )
        if put.status_code != 200:
            raise SystemExit(f"chunk at {offset} refused: {put.status_code} {put.text[:300]}")
        offset += len(piece)
    completing = time.perf_counter()
    done = http.post(
        f"{tool_url}/api/evidence/files/{file_id}/complete", headers=headers, timeout=600
    )
    complete_seconds = time.perf_counter() - completing
    upload_seconds = time.perf_counter() - started
    cpu_after = cpu() if cpu else None
    if done.status_code != 200 or done.json()["sha256"] != digest.hexdigest():
        raise SystemExit(f"completion failed: {done.status_code} {done.text[:300]}")
    del data
    return UploadFigures(
        size=size,
        upload_seconds=upload_seconds,
        disk_seconds=disk_write_seconds(scratch, size, chunk),
        chunks=-(-size // chunk),
        chunk_size=chunk,
        complete_seconds=complete_seconds,
        cpu_seconds=(cpu_after - cpu_before)
        if cpu_after is not None and cpu_before is not None
        else None,
    )


def upload_lines(figures: UploadFigures) -> list[str]:
    """The lines every benchmark prints for an upload."""
    mib = figures.chunk_size // (1024 * 1024)
    lines = [
        f"Upload of {figures.size / MB:.0f} MB in {figures.chunks} chunks of {mib} MiB: "
        f"{figures.upload_mb_s:.1f} MB/s ({figures.upload_seconds:.1f} s, of which "
        f"{figures.complete_seconds:.2f} s completing: the file read back for its SHA-256)",
        f"Raw disk write, same amount, fsync per {mib} MiB: {figures.disk_mb_s:.1f} MB/s "
        f"({figures.disk_seconds:.1f} s)",
        f"Upload / disk: {figures.ratio:.2f} (goal >= 0.5: "
        f"{'met' if figures.ratio >= 0.5 else 'NOT met'})",
    ]
    if figures.cpu_seconds is not None:
        lines.append(
            f"Tool CPU per chunk request: {figures.cpu_seconds / figures.chunks * 1000:.1f} ms "
            f"({figures.cpu_seconds:.2f} s in all, gunicorn master and workers)"
        )
    return lines


def make_attempt(app: Flask, sub: str) -> int:
    """Give the launched educator a draft attempt at a credential with a file part."""
    from sqlalchemy import select

    from app.catalog.cli import seed_sample_catalog
    from app.catalog.models import Credential, CredentialVersion
    from app.db import get_db
    from app.evidence.models import Attempt
    from app.lti.models import LtiUser

    with get_db(app).begin() as session:
        seed_sample_catalog(session)
        session.flush()
        user = session.scalars(select(LtiUser).where(LtiUser.sub == sub)).one()
        version = session.scalars(
            select(CredentialVersion)
            .join(Credential)
            .where(Credential.slug == "questioning-to-check-for-understanding")
        ).first()
        assert version is not None
        attempt = Attempt(
            registration_id=user.registration_id,
            user_id=user.id,
            credential_id=version.credential_id,
            version_id=version.id,
            number=1,
        )
        session.add(attempt)
        session.flush()
        return attempt.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=500)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from bench.catalog import seed
    from bench.launch import SECRET, cpu_seconds, serve, stop, wait_up
    from tests.support.lms import bridge_data, forms, submit
    from tests.support.postgres import free_port, start_postgres

    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-uploads-"))
    pg = start_postgres() if args.database == "postgresql" else None
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        tool_port, lms_port = free_port(), free_port()
        tool, lms = f"http://127.0.0.1:{tool_port}", f"http://127.0.0.1:{lms_port}"
        config = {
            "MICROCRED_DATABASE_URL": pg.create_database("microcred_bench")
            if pg
            else f"sqlite:///{folder}/bench.sqlite",
            "MICROCRED_INSTANCE_PATH": str(folder),
            "MICROCRED_SECRET_KEY": SECRET,
            "MICROCRED_BASE_URL": tool,
            "MICROCRED_DEVLMS_URL": lms,
            "MICROCRED_UPLOAD_MAX_BYTES": str(max(args.megabytes * MB, 1024**3)),
        }
        env = {**os.environ, **config, "MICROCRED_LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT)}
        app = create_app({**config, "MICROCRED_LOG_LEVEL": "WARNING"})
        user_id, link_id = seed(app)
        options = ["-w", str(args.workers), "--timeout", "600"]
        for name, port, target in (
            ("tool", tool_port, "app:create_app()"),
            ("devlms", lms_port, "app.devlms:create_devlms_app()"),
        ):
            serve(processes, name, port, target, options, env, folder / f"{name}.log")
        wait_up(f"{tool}/healthz")
        wait_up(f"{lms}/")
        http = requests.Session()
        http.post(f"{lms}/act-as", data={"user_id": user_id}, timeout=60).raise_for_status()
        start = http.get(f"{lms}/launch/link/{link_id}", timeout=60)
        login = submit(http, lms, forms(start.text)[0])
        auth = http.get(bridge_data(login.text)["next"], timeout=60)
        page = submit(http, auth.url, forms(auth.text)[0])
        found = re.search(r"[?&]lt=([^\"&]+)", page.text)
        if page.status_code != 200 or not found:
            raise SystemExit(f"launch failed: {page.status_code} {page.text[:300]}")
        token = unescape(found.group(1))
        from sqlalchemy import select

        from app.db import get_db
        from app.devlms.models import DevUser

        with get_db(app).begin() as session:
            sub = session.scalars(select(DevUser.sub).where(DevUser.id == user_id)).one()
        attempt_id = make_attempt(app, sub)
        devlms = processes.pop("devlms")  # only the launch needed it
        devlms.terminate()
        devlms.wait(timeout=20)
        tool_pid = processes["tool"].pid
        print(
            f"Microcred upload benchmark: the tool under gunicorn ({args.workers} workers), "
            f"{args.database}, local evidence store on {folder} (the disk of the raw write "
            f"test), loopback, {os.cpu_count()} CPUs"
        )
        figures = measure_upload(
            tool,
            token,
            attempt_id,
            "lesson-plan",
            folder,
            args.megabytes * MB,
            cpu=lambda: cpu_seconds(tool_pid),
        )
        for line in upload_lines(figures):
            print(line)
    finally:
        stop(processes)
        if pg:
            pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
