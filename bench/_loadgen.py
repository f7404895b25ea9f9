"""A small HTTP load generator for loopback servers, used by bench/http_throughput.py without `wrk`.

Run as its own process (so the load does not share the server's interpreter):
`python bench/_loadgen.py` with a JSON job on standard input::

    {"host": "127.0.0.1", "port": 5000, "method": "GET", "path": "/", "headers": {},
     "bodies": [], "connections": 4, "seconds": 10, "max_requests": 100000}

Each of ``connections`` threads keeps one HTTP/1.1 connection open and sends requests one after
another (bodies, if any, in turn) until ``seconds`` have passed or ``max_requests`` were sent in
all. Prints one JSON line: requests, errors (non-2xx or failed), seconds, p50_ms, p99_ms. It
refuses any host but a loopback address.

With ``"rate": R`` in the job the load is open-loop instead: requests are sent at R per second
on a schedule, whatever the server's answers (each on a new connection, from a pool of up to
``max_in_flight`` threads, default 512), and each latency counts from the request's scheduled time, so
waiting behind a slow server is measured rather than skipped. Prints counts by status (``0``: no
answer), how many 503s carried ``Retry-After``, and p50/p99 per status.
"""

from __future__ import annotations

import http.client
import ipaddress
import itertools
import json
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
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


def run_open(job: dict[str, Any]) -> dict[str, Any]:
    """Send requests at ``job["rate"]`` per second for ``job["seconds"]``; return figures by status."""
    host, port = str(job["host"]), int(job["port"])
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"load is only ever sent to loopback addresses, not {host}")
    bodies = [b.encode() for b in job.get("bodies") or []] or [None]
    rate, seconds = float(job["rate"]), float(job["seconds"])
    by_status: dict[int, list[float]] = defaultdict(list)
    retry_after = [0]
    lock = threading.Lock()

    def send(scheduled: float, body: bytes | None) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=float(job.get("timeout", 30)))
        try:
            conn.request(job["method"], job["path"], body=body, headers=job.get("headers", {}))
            response = conn.getresponse()
            response.read()
            status, has_retry = response.status, response.getheader("Retry-After") is not None
        except (OSError, http.client.HTTPException):
            status, has_retry = 0, False
        finally:
            conn.close()
        with lock:
            by_status[status].append((time.perf_counter() - scheduled) * 1000)
            retry_after[0] += status == 503 and has_retry

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=int(job.get("max_in_flight", 512))) as pool:
        for n in range(int(rate * seconds)):
            scheduled = started + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, scheduled, bodies[n % len(bodies)])
    return {
        "offered_per_s": rate,
        "seconds": time.perf_counter() - started,
        "statuses": {
            str(status): {
                "count": len(times),
                "p50_ms": percentile(times, 50),
                "p99_ms": percentile(times, 99),
            }
            for status, times in sorted(by_status.items())
        },
        "retry_after_503": retry_after[0],
    }


if __name__ == "__main__":
    job = json.load(sys.stdin)
    print(json.dumps(run_open(job) if "rate" in job else run_job(job)))
