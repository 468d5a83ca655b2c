"""Sustained load for 30 s (locust, concurrency 32, the mix of benchmarks/locustfile.py) against a
real `python -m service`: no failed request, valid or invalid, and workers that neither grow nor
leak file descriptors. The 5-minute run with figures is `python -m benchmarks.load`."""
from __future__ import annotations

import pytest
from _tools import require_tool

from benchmarks.benchmark import DEFAULT_MODELS, Service
from benchmarks.load import markdown, run

pytestmark = pytest.mark.slow


def test_thirty_seconds_at_concurrency_32_fail_nothing_and_leak_nothing(tmp_path):
    require_tool("locust")
    with Service(DEFAULT_MODELS) as service:
        figures = run(30, 32, service, tmp_path)
    print(markdown(figures))
    total = figures["stats"]["Aggregated"]
    assert total["failures"] == 0, figures["stats"]
    assert total["requests"] >= 300, total  # about 10/s even on a busy 2-core machine
    for kind in ("single", "batch of 8", "/metrics"):
        assert figures["stats"][kind]["requests"] > 0, kind
    assert any(name.startswith("invalid") for name in figures["stats"]), figures["stats"]
    workers = figures["workers"]
    assert not figures["workers_replaced"], "a worker died or was replaced under load"
    for pid, warm in workers["after_warm_up"].items():
        end = workers["end"][pid]
        assert end["rss_mb"] <= warm["rss_mb"] * 1.25 + 30, (pid, warm, end)  # growth beyond noise
        before = workers["before"][pid]
        assert end["sockets"] <= before["sockets"] + 2, (pid, before, end)  # connections all closed
        # other fds (prometheus-client opens one file per metric kind on first use): as after warm-up
        assert end["fds"] - end["sockets"] <= warm["fds"] - warm["sockets"] + 2, (pid, warm, end)
