"""Benchmark: full LTI launches through the development LMS, over loopback.

Starts the tool and the development LMS as two separate server processes (so each one's CPU
time can be read from /proc), seeds the demo, then runs complete launches — login initiation on
the LMS, the tool's OIDC login redirect, the LMS's signed id_token, the tool's launch
validation — from several simulated browsers at once. It prints throughput, latency, and the
CPU time each server spent per launch, next to the CPU time of a trivial request (/healthz)
measured in the same run, as a ratio.

    .venv/bin/python bench/launch.py [--launches 200] [--concurrency 1,4]

On a 2-core machine the load generator shares the cores with both servers: latency at high
concurrency is bounded by Little's law (latency ≈ concurrency ÷ throughput), so the CPU time
per launch is the figure to compare between runs.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent

SERVER = """
import sys
from werkzeug.serving import run_simple
from app import create_app
from app.devlms import create_devlms_app
factory = create_app if sys.argv[1] == "tool" else create_devlms_app
run_simple("127.0.0.1", int(sys.argv[2]), factory(), threaded=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_up(url: str) -> None:
    for _ in range(200):
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def one_launch(lms: str, user_id: int, link_id: int) -> float:
    from tests.support.lms import forms, submit

    started = time.perf_counter()
    http = requests.Session()
    http.post(f"{lms}/act-as", data={"user_id": user_id}, timeout=30)
    initiation = forms(http.get(f"{lms}/launch/link/{link_id}", timeout=30).text)[0]
    auth_page = submit(http, lms, initiation)
    page = submit(http, auth_page.url, forms(auth_page.text)[0])
    if page.status_code != 200 or "Welcome," not in page.text:
        raise SystemExit(f"launch failed: {page.status_code} {page.text[:300]}")
    return time.perf_counter() - started


def run(lms: str, user_ids: list[int], link_id: int, launches: int, concurrency: int
        ) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(launches))

    def worker(index: int) -> None:
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            took = one_launch(lms, user_ids[index % len(user_ids)], link_id)
            with lock:
                latencies.append(took)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def main() -> None:
    sys.path.insert(0, str(ROOT))  # the HTML form helpers of the integration tests
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=200)
    parser.add_argument("--concurrency", default="1,4")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-"))
    tool_port, lms_port = free_port(), free_port()
    env = {**os.environ, "MICROCRED_INSTANCE_PATH": str(folder),
           "MICROCRED_BASE_URL": f"http://127.0.0.1:{tool_port}",
           "MICROCRED_DEVLMS_URL": f"http://127.0.0.1:{lms_port}", "MICROCRED_LOG_LEVEL": "WARNING"}
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "seed"], env=env, cwd=ROOT, check=True, capture_output=True)
    servers = {
        name: subprocess.Popen([sys.executable, "-c", SERVER, name, str(port)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, port in (("tool", tool_port), ("devlms", lms_port))
    }
    tool, lms = f"http://127.0.0.1:{tool_port}", f"http://127.0.0.1:{lms_port}"
    try:
        wait_up(f"{tool}/healthz")
        wait_up(f"{lms}/")
        from sqlalchemy import create_engine, text

        engine = create_engine(f"sqlite:///{folder}/microcred.sqlite")
        with engine.connect() as conn:
            user_ids = [r[0] for r in conn.execute(text(
                "SELECT u.id FROM devlms_user u JOIN devlms_enrolment e ON e.user_id = u.id "
                "WHERE e.role = 'Learner'"))]
            link_id = conn.execute(text("SELECT id FROM devlms_link ORDER BY id LIMIT 1")).scalar()
        engine.dispose()
        one_launch(lms, user_ids[0], link_id)  # warm up: keys made, JWKS cached

        http = requests.Session()
        before = cpu_seconds(servers["tool"].pid)
        for _ in range(args.launches):
            http.get(f"{tool}/healthz", timeout=30)
        healthz_cpu = (cpu_seconds(servers["tool"].pid) - before) / args.launches

        print(f"Microcred launch benchmark — {args.launches} launches per row, SQLite, loopback, "
              f"{os.cpu_count()} CPUs")
        print(f"tool CPU per /healthz request: {healthz_cpu * 1000:.2f} ms (baseline)")
        print(f"{'conc':>4} {'launch/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'tool CPU ms':>12} "
              f"{'LMS CPU ms':>11} {'tool CPU ÷ healthz':>19}")
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            cpu_before = {n: cpu_seconds(p.pid) for n, p in servers.items()}
            started = time.perf_counter()
            latencies = run(lms, user_ids, link_id, args.launches, concurrency)
            elapsed = time.perf_counter() - started
            cpu = {
                n: (cpu_seconds(p.pid) - cpu_before[n]) / args.launches
                for n, p in servers.items()
            }
            latencies.sort()
            p95 = latencies[int(0.95 * (len(latencies) - 1))]
            print(f"{concurrency:>4} {args.launches / elapsed:>9.1f} "
                  f"{statistics.median(latencies) * 1000:>8.1f} {p95 * 1000:>8.1f} "
                  f"{cpu['tool'] * 1000:>12.1f} {cpu['devlms'] * 1000:>11.1f} "
                  f"{cpu['tool'] / healthz_cpu if healthz_cpu else float('nan'):>19.1f}")
        print("A launch is 4 LMS requests and 2 tool requests (login redirect, id_token POST).")
        print("Latency at concurrency > cores is bounded by Little's law: "
              "latency ≈ concurrency ÷ throughput.")
    finally:
        for process in servers.values():
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
