"""Schema-driven fuzzing: schemathesis against a real `python -m service` on 127.0.0.1, driven by
the service's own /openapi.json (whatever routes and fields it documents when the test runs).

Every documented route and method, positive and negative data, with checks that no answer is a
5xx, that status codes, bodies, headers and content types are the documented ones, that a method
a route lacks gets 405 with Allow, and that the admin route wants its header. The server's own
/metrics counts the requests it answered, so the test knows the fuzzer really sent them.
"""
from __future__ import annotations

import subprocess

import pytest
from _tools import require_tool

from benchmarks.benchmark import DEFAULT_MODELS, Service
from benchmarks.fuzz import CHECKS, EXCLUDED_CHECKS, requests_answered, schemathesis_command

pytestmark = pytest.mark.slow

MIN_REQUESTS = 1000
TIME_LIMIT = 150  # seconds for the whole schemathesis run (CI budget)


def test_schemathesis_finds_no_5xx_and_no_answer_off_the_documented_schema(tmp_path):
    require_tool("schemathesis")
    with Service(DEFAULT_MODELS, env={"NEWSBRIEF_ADMIN_TOKEN": "fuzz-token-not-sent"}) as service:
        base = f"http://127.0.0.1:{service.port}"
        before = requests_answered(base)
        command = schemathesis_command(base, max_examples=450, seed=20261203, report=tmp_path / "report")
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIME_LIMIT + 60,
                              cwd=tmp_path)
        after = requests_answered(base)
        log = service.log_text()
    sent = sum(after.values()) - sum(before.values())
    server_errors = {status: n - before.get(status, 0) for status, n in after.items() if status.startswith("5")}
    summary = "\n".join(done.stdout.splitlines()[-40:])
    print(f"schemathesis: {sent} requests answered; by status {after}\n{summary}")
    assert done.returncode == 0, f"schemathesis failed (checks {CHECKS}, excluded {EXCLUDED_CHECKS}):\n" \
                                 f"{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
    assert sent >= MIN_REQUESTS, f"only {sent} requests reached the service"
    assert not any(server_errors.values()), f"5xx answers: {server_errors}"
    assert '"level": "error"' not in log, [l for l in log.splitlines() if '"level": "error"' in l][:3]
