"""A throwaway S3-compatible server (moto's server mode) on a free loopback port.

MinIO would be the closer stand-in for production object storage, but it is not installable
from the registries this project uses (PyPI, Debian, npm); ``moto[s3]`` is (its server mode
needs only flask-cors beside Flask), and it speaks the S3 REST API over real HTTP, multipart
uploads included."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests

from tests.support.postgres import free_port

ACCESS_KEY = "microcred-test"
SECRET_KEY = "microcred-test-secret"
REGION = "us-east-1"


@dataclass
class S3Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> str:
        """Create an empty bucket with a fresh name and return the name."""
        name = f"evidence-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str) -> dict[str, str]:
        """The tool's settings for storing evidence in ``bucket`` on this server."""
        return {
            "MICROCRED_EVIDENCE_STORE": "s3",
            "MICROCRED_S3_ENDPOINT_URL": self.endpoint_url,
            "MICROCRED_S3_BUCKET": bucket,
            "MICROCRED_S3_REGION": REGION,
            "MICROCRED_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "MICROCRED_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_s3() -> S3Server:
    """Start ``python -m moto.server`` on loopback and wait until it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = S3Server(process, port)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto.server exited with code {process.returncode}")
        try:
            # Connecting fails at once until it listens; its first answer (moto imports its
            # services then) may take seconds on a busy machine: wait for it, up to the deadline.
            left = max(deadline - time.monotonic(), 1.0)
            requests.get(server.endpoint_url, timeout=(1, left))
            return server
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("moto.server did not answer within 30 s")
