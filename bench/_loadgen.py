"""A small HTTP load generator for loopback servers, used by bench/http_throughput.py without `wrk`.

Run as its own process (so the load does not share the server's interpreter):
`python bench/_loadgen.py` with a JSON job on standard input::

    {"host": "127.0.0.1", "port": 5000, "method": "GET", "path": "/", "headers": {},
     "bodies": [], "connections": 4, "seconds": 10, "max_requests": 100000}

Each of ``connections`` threads keeps one HTTP/1.1 connection open and sends requests one after
another (bodies, if any, in turn) until ``seconds`` have passed or ``max_requests`` were sent in
all. Prints one JSON line: requests, errors (non-2xx or failed), seconds, p50_ms, p99_ms. It
refuses any host but a loopback address.
"""

from __future__ import annotations

import http.client
import ipaddress
import itertools
import json
import sys
import threading
import time
from typing import Any

from _common import percentile


def run_job(job: dict[str, Any]) -> dict[str, float]:
    """Run one bounded load job; return its counts and latency percentiles."""
    host = str(job["host"])
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"load is only ever sent to loopback addresses, not {host}")
    bodies = [b.encode() for b in job.get("bodies") or []] or [None]
    budget = itertools.count()  # shared request counter: next() is atomic under the GIL
    max_requests = int(job.get("max_requests", 100_000))
    deadline = time.monotonic() + float(job["seconds"])
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection(host, int(job["port"]), timeout=30)
        mine: list[float] = []
        failed = 0
        for n in itertools.count(offset):
            if time.monotonic() >= deadline or next(budget) >= max_requests:
                break
            started = time.perf_counter()
            try:
                conn.request(job["method"], job["path"], body=bodies[n % len(bodies)], headers=job.get("headers", {}))
                response = conn.getresponse()
                response.read()
                ok = 200 <= response.status < 300
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, int(job["port"]), timeout=30)
                ok = False
            mine.append((time.perf_counter() - started) * 1000)
            failed += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(int(job["connections"]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    timed = latencies or [0.0]
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "seconds": elapsed,
        "p50_ms": percentile(timed, 50),
        "p99_ms": percentile(timed, 99),
    }


if __name__ == "__main__":
    print(json.dumps(run_job(json.load(sys.stdin))))
