"""Requests a second under concurrent clients, against gunicorn as `make serve` runs it (issue
17: a cached pack and its 304 should stand 500 requests a second on 2 workers).

Loads the demo into a fresh SQLite database, publishes nothing new, warms the July meeting's
pack, then has CLIENTS threads ask for each URL for SECONDS and prints requests/s and the p50
and p95 latency. Run: .venv/bin/python scripts/bench_serve.py [--workers 2] [--clients 20]
[--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), body


def _hammer(port: int, path: str, headers: dict, clients: int, seconds: float):
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else 0
    return len(latencies) / elapsed, statistics.median(latencies or [0]), p95, statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--port", type=int, default=5091)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    env = {
        **os.environ,
        "MINUTEBOOK_ENV": "production",
        "MINUTEBOOK_INSTANCE": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "SESSION_COOKIE_SECURE": "0",
        "HSTS_SECONDS": "0",
        "WEB_CONCURRENCY": str(args.workers),
        "PORT": str(args.port),
    }
    flask = [str(BIN / "flask"), "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "load"], env=env, cwd=ROOT, check=True, capture_output=True)
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--config",
            "gunicorn.conf.py",
            "--access-logfile",
            "/dev/null",
            "wsgi:app",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(args.port, "/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        pack = "/meetings/3/pack.pdf"
        for _ in range(60):  # built off the request: wait until it is there
            status, headers, _body = _get(args.port, pack)
            if status == 200:
                break
            time.sleep(1)
        etag = headers.get("ETag", "")
        print(
            f"gunicorn, {args.workers} workers, {args.clients} clients, {args.seconds:.0f} s each"
        )
        for label, path, extra in (
            ("cached pack", pack, {}),
            ("pack, 304", pack, {"If-None-Match": etag}),
            ("meeting page", "/meetings/3/", {}),
            ("home page", "/", {}),
        ):
            rate, p50, p95, statuses = _hammer(args.port, path, extra, args.clients, args.seconds)
            print(
                f"{label:14} {rate:7.0f} requests/s  p50 {p50 * 1000:6.1f} ms  "
                f"p95 {p95 * 1000:6.1f} ms  {statuses}"
            )
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
