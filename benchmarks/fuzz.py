"""Schemathesis against `python -m service` on 127.0.0.1, from the service's own /openapi.json.

    python -m benchmarks.fuzz                          # 1,000 examples per operation (minutes)
    python -m benchmarks.fuzz --max-examples 120       # what CI runs (tests/test_fuzz.py)

Checks: every schemathesis check except two that judge the request data rather than the answer
(EXCLUDED_CHECKS): `positive_data_acceptance` expects a 2xx for every schema-valid body, but a
valid body may hold a text that is empty once cleaned (422, documented), and
`negative_data_rejection` expects a 4xx for every schema-violating body, but a batch answers 200
with a per-document error for a document that breaks the rules (documented in API.md). The
admin route is fuzzed without its token (401/403 answers); real reloads are in test_server.py.
"""
from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.benchmark import DEFAULT_MODELS, Service

CHECKS = "all"
EXCLUDED_CHECKS = "positive_data_acceptance,negative_data_rejection"
PHASES = "examples,coverage,fuzzing"


def schemathesis_command(base: str, max_examples: int, seed: int, report: Path,
                         max_time: int | None = None) -> list[str]:
    executable = Path(sys.executable).parent / "schemathesis"
    command = [str(executable), "run", f"{base}/openapi.json", "--checks", CHECKS,
               "--exclude-checks", EXCLUDED_CHECKS, "--phases", PHASES,
               "--max-examples", str(max_examples), "--seed", str(seed), "--workers", "2",
               "--request-timeout", "30", "--suppress-health-check", "all",
               "--report", "junit", "--report-dir", str(report)]
    if max_time:
        command += ["--max-time", str(max_time)]
    return command


def requests_answered(base: str) -> dict[str, float]:
    """newsbrief_http_requests_total summed by status, from the service's /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    host, port = base.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "newsbrief_http_requests_total":
                status = sample.labels["status"]
                totals[status] = totals.get(status, 0) + sample.value
    return totals


def main(argv=None) -> int:
    import subprocess

    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--max-examples", type=int, default=1000, help="per operation (default 1000)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--report", type=Path, default=Path("schemathesis-report"))
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    with Service(DEFAULT_MODELS, env={"NEWSBRIEF_ADMIN_TOKEN": "fuzz-token-not-sent"}) as service:
        base = f"http://127.0.0.1:{service.port}"
        before = requests_answered(base)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="newsbrief-fuzz-") as workdir:  # schemathesis keeps a cache in its cwd
            done = subprocess.run(schemathesis_command(base, args.max_examples, args.seed, args.report.resolve()),
                                  cwd=workdir)
        seconds = time.monotonic() - started
        after = requests_answered(base)
    by_status = {s: int(n - before.get(s, 0)) for s, n in sorted(after.items()) if n - before.get(s, 0)}
    figures = {"max_examples": args.max_examples, "seed": args.seed, "exit_code": done.returncode,
               "seconds": round(seconds, 1), "requests": sum(by_status.values()), "by_status": by_status,
               "5xx": sum(n for s, n in by_status.items() if s.startswith("5"))}
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
