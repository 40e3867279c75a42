"""`make run` (``flask serve``) stops on Ctrl+C: the terminal sends SIGINT, and the tool, the
development LMS and the embedded workers stop and the command exits 0.

(A process started in the background by a non-interactive shell inherits SIGINT *ignored*, so
``flask serve &`` in a script can only be stopped with SIGTERM; that is the shell's doing.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.support.postgres import free_port


def test_ctrl_c_stops_flask_serve_and_it_exits_cleanly(tmp_path: Path) -> None:
    tool, lms = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("MICROCRED_")}
    env.update(
        MICROCRED_INSTANCE_PATH=str(tmp_path),
        MICROCRED_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
        MICROCRED_BASE_URL=f"http://127.0.0.1:{tool}",
        MICROCRED_DEVLMS_URL=f"http://127.0.0.1:{lms}",
        MICROCRED_LOG_LEVEL="WARNING",
    )
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*flask, "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # as from a terminal: SIGINT's default action, whatever this process inherited
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert server.stdout is not None
        said = []
        for line in server.stdout:  # it says when it is ready
            said.append(line)
            if "Press Ctrl+C to stop." in line:
                break
        else:
            raise AssertionError(f"flask serve ended early (exit {server.wait()})")
        # Issue 28 item 13: served over http, its badges verify on its own pages only.
        assert "wallets cannot check the badges" in "".join(said), said
        assert requests.get(f"http://127.0.0.1:{lms}/", timeout=10).status_code == 200
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()
