"""A throwaway Redis server (Debian's ``redis-server``) on a free loopback port.

Like a cache in production it keeps nothing on disk, so ``kill`` and ``restart`` give what a
crash gives: a server that comes back empty."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.postgres import free_port


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    host: str

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def settings(self) -> dict[str, str]:
        """The tool's settings for keeping its state store here."""
        return {"MICROCRED_STATE_STORE": "redis", "MICROCRED_REDIS_URL": self.url}

    def kill(self) -> None:
        """Stop this server as a crash would: SIGKILL to its own process, nothing saved."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def restart(self) -> None:
        """Kill this server and start it again, empty, on the same port."""
        self.kill()
        self.process = _spawn(self.host, self.port, self.folder)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


def _spawn(host: str, port: int, folder: Path) -> subprocess.Popen[bytes]:
    """Start ``redis-server`` on ``host:port`` and return it once it answers."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (Debian package redis-server).")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            host,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(host=host, port=port)
    deadline = time.monotonic() + 30  # it starts in milliseconds, but a busy machine is slow
    while time.monotonic() < deadline:
        try:
            client.ping()
            client.close()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    process.terminate()
    raise RuntimeError("redis-server did not answer within 30 s")


def start_redis() -> RedisServer:
    folder = Path(tempfile.mkdtemp(prefix="microcred-redis-"))
    port = free_port()
    # A loopback address of its own: between a kill and the restart its port is free, and no
    # other test's server can take it there.
    host = "127.{}.{}.{}".format(*(secrets.randbelow(254) + 1 for _ in range(3)))
    return RedisServer(process=_spawn(host, port, folder), port=port, folder=folder, host=host)
