"""HTTP throughput and latency of the quiz pages and the recommendations API, against a bare Flask app.

Run: `.venv/bin/python bench/http_throughput.py [--seconds 15] [--connections 4] [--record]`
(`--smoke`: 2 seconds per target, for CI).

Serves Attune the way `make run` does (`flask --app app run`, werkzeug threaded, with
ATTUNE_WARM_UP=true) on 127.0.0.1 and a free port, on a throwaway instance prepared with
`flask --app app db upgrade` and `flask --app app demo load`; beside it, in the same server
configuration, `bench/_minimal_app.py` (a Flask app whose only view returns "ok"). Then, one
target after another, a second process sends keep-alive load over loopback for a bounded time:
  minimal          GET / of the bare Flask app: the baseline
  explainer        GET /m/demo/ (the consent explainer, no session)
  quiz section     GET /m/demo/quiz/about with a consented session cookie
  recommendations  POST /api/v1/m/demo/recommendations with the bearer token, JSON bodies
                   taking turns over distinct shopper needs
The load generator is `wrk` (Debian package `wrk`) when installed, else bench/_loadgen.py
(threads, http.client). Prints req/s, p50 and p99 of each, and the ratios to the minimal app.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

from _common import (
    DEMO_SLUG,
    ROOT,
    free_port,
    http,
    machine_summary,
    needs,
    prepare_with_flask_cli,
    record_run,
    start_server,
    stop_server,
    subject_token,
    throwaway_instance,
    today,
    wait_for_recommendation,
    wait_until,
)

MINIMAL_APP = "bench/_minimal_app.py"
BASE_ANSWERS = {"age_band": "25-34", "categories": ["any"], "budget": [0, 1000]}
MAX_REQUESTS = 200_000  # per target, on top of the time bound
BODIES = 200  # distinct shopper needs the recommendations load takes turns over
DOC_KEY = "http-throughput"
DOC_HEADING = "HTTP throughput (`bench/http_throughput.py`)"
DOC_INTRO = """
Quiz pages and the recommendations API served as `make run` serves them (`flask run`, werkzeug
threaded), loaded over loopback from a second process (`wrk` when installed), next to a bare
Flask app returning "ok" served the same way. Ratios are to the bare app. Rows appended by `--record`:
"""
DOC_COLUMNS = [
    "date",
    "machine",
    "client",
    "connections x seconds",
    "minimal req/s",
    "explainer req/s",
    "section req/s",
    "recommendations req/s",
    "recommendations p50 / p99 ms",
]
WRK_SCRIPT = """
local bodies = {}
local method = "%(method)s"
local next_body = 0
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end

request = function()
  if #bodies == 0 then return wrk.format(method, nil) end
  next_body = next_body %% #bodies + 1
  return wrk.format(method, nil, nil, bodies[next_body])
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format('{"requests": %%d, "errors": %%d, "seconds": %%f, "p50_ms": %%f, "p99_ms": %%f}\\n',
    summary.requests, errors, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
"""


@dataclass(frozen=True)
class Target:
    """One thing to load: a method and URL on a port, with headers and bodies."""

    name: str
    port: int
    method: str
    path: str
    headers: dict[str, str]
    bodies: list[str]


@dataclass(frozen=True)
class LoadResult:
    """What one bounded load run measured."""

    target: Target
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        """Return the requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def run_load(target: Target, connections: int, seconds: float, client: str, work: Path) -> LoadResult:
    """Load ``target`` from a second process for ``seconds``; return what was measured."""
    if client == "wrk":
        bodies = work / f"{target.name.replace(' ', '-')}.bodies"
        bodies.write_text("".join(f"{b}\n" for b in target.bodies))
        script = work / f"{target.name.replace(' ', '-')}.lua"
        script.write_text(WRK_SCRIPT % {"method": target.method, "bodies": bodies})
        command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "30s"]
        command += ["-s", str(script)]
        for name, value in target.headers.items():
            command += ["-H", f"{name}: {value}"]
        command.append(f"http://127.0.0.1:{target.port}{target.path}")
        out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
    else:
        job = {
            "host": "127.0.0.1",
            "port": target.port,
            "method": target.method,
            "path": target.path,
            "headers": target.headers,
            "bodies": target.bodies,
            "connections": connections,
            "seconds": seconds,
            "max_requests": MAX_REQUESTS,
        }
        out = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "_loadgen.py")],
            input=json.dumps(job),
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return LoadResult(
        target,
        requests=int(figures["requests"]),
        errors=int(figures["errors"]),
        seconds=float(figures["seconds"]),
        p50_ms=float(figures["p50_ms"]),
        p99_ms=float(figures["p99_ms"]),
    )


def consented_cookie(base: str) -> str:
    """Decide on the explainer page as a shopper would ("only what's needed"); return the Cookie header."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/m/{DEMO_SLUG}/", timeout=30).read().decode()
    fields = {}
    for name in ("csrf_token", "explainer_version"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
        value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
        if value is None:
            raise RuntimeError(f"the explainer page has no {name} field")
        fields[name] = value.group(1)
    fields["necessary_only"] = "Only what's needed"
    with opener.open(f"{base}/m/{DEMO_SLUG}/consent", urllib.parse.urlencode(fields).encode(), timeout=30) as answer:
        if not answer.url.endswith("/quiz/about") or answer.status != 200:
            raise RuntimeError(f"the consent form led to {answer.url} ({answer.status}), not the first quiz section")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def targets(app_port: int, minimal_port: int, requests: int) -> list[Target]:
    """Return the minimal baseline and Attune's targets, with a consented session and a token."""
    base = f"http://127.0.0.1:{app_port}"
    token = subject_token(base)
    bodies = [json.dumps({"answers": {**BASE_ANSWERS, "looking_for": text}}) for text in needs(requests)]
    json_auth = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return [
        Target("minimal", minimal_port, "GET", "/", {}, []),
        Target("explainer", app_port, "GET", f"/m/{DEMO_SLUG}/", {}, []),
        Target("quiz section", app_port, "GET", f"/m/{DEMO_SLUG}/quiz/about", {"Cookie": consented_cookie(base)}, []),
        Target("recommendations", app_port, "POST", f"/api/v1/m/{DEMO_SLUG}/recommendations", json_auth, bodies),
    ]


def wait_ready(app_port: int, minimal_port: int, timeout: float = 180) -> None:
    """Wait until both servers answer and Attune's first recommendation (model and index loaded) is served."""
    wait_until(lambda: http("GET", f"http://127.0.0.1:{minimal_port}/", timeout=2)[0] == 200, timeout)
    wait_until(lambda: http("GET", f"http://127.0.0.1:{app_port}/healthz", timeout=2)[0] == 200, timeout)
    wait_for_recommendation(f"http://127.0.0.1:{app_port}", timeout)


def print_results(results: list[LoadResult], client: str, connections: int, seconds: float) -> None:
    """Print req/s, p50 and p99 per target with the ratios to the minimal app."""
    baseline = results[0]
    print(f"client {client}, {connections} connections, {seconds:g} s per target, loopback")
    print(
        f"{'target':<17} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'req/s vs minimal':>17} {'p50 vs minimal':>15}"
    )
    for r in results:
        print(
            f"{r.target.name:<17} {r.requests:9d} {r.errors:7d} {r.rate:9.1f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
            f"{r.rate / baseline.rate:16.3f}x {r.p50_ms / baseline.p50_ms:14.1f}x"
        )


def doc_row(results: list[LoadResult], client: str, connections: int, seconds: float, machine: str) -> list[str]:
    """Return the dated docs row of one run."""
    by_name = {r.target.name: r for r in results}
    base = by_name["minimal"].rate

    def rate(name: str) -> str:
        return f"{by_name[name].rate:,.1f} ({by_name[name].rate / base:.3f}x)"

    rec = by_name["recommendations"]
    return [
        today(),
        machine,
        client,
        f"{connections} x {seconds:g} s",
        f"{base:,.1f}",
        rate("explainer"),
        rate("quiz section"),
        rate("recommendations"),
        f"{rec.p50_ms:.1f} / {rec.p99_ms:.1f}",
    ]


def main() -> None:
    """Prepare the instance, start both servers, load each target in turn, print and maybe record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="load time per target (default 15; smoke 2)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent keep-alive connections")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--smoke", action="store_true", help="2 seconds per target, for CI")
    parser.add_argument("--record", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()
    seconds = args.seconds or (2.0 if args.smoke else 15.0)
    client = ("wrk" if shutil.which("wrk") else "python") if args.client == "auto" else args.client
    machine = machine_summary()

    with throwaway_instance("attune-bench-http-") as instance, tempfile.TemporaryDirectory() as work:
        prepare_with_flask_cli(instance)
        app_port, minimal_port = free_port(), free_port()
        servers = [
            start_server(instance, app_port, log=instance / "server.log"),
            start_server(instance, minimal_port, app_target=MINIMAL_APP, warm_up=False),
        ]
        try:
            wait_ready(app_port, minimal_port)
            loads = targets(app_port, minimal_port, BODIES)
            results = [run_load(t, args.connections, seconds, client, Path(work)) for t in loads]
        finally:
            for server in servers:
                stop_server(server)
    print_results(results, client, args.connections, seconds)
    failed = [r.target.name for r in results if r.errors]
    if failed:
        print(f"non-2xx or failed requests in: {', '.join(failed)}")
    if args.record:
        path = record_run(
            DOC_KEY, DOC_HEADING, DOC_INTRO, DOC_COLUMNS, [doc_row(results, client, args.connections, seconds, machine)]
        )
        print(f"recorded in {path}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
