"""Sustained load on `python -m service` (127.0.0.1) with locust, headless, and what it does to the workers.

    python -m benchmarks.load                        # 5 minutes at concurrency 32 (the report's run)
    python -m benchmarks.load --seconds 30           # what CI runs (tests/test_load.py)

The mix is benchmarks/locustfile.py: single articles, batches of 8, invalid requests (which must
get their documented 4xx) and /metrics scrapes. Prints requests/s, p50/p95/p99 per kind and in all,
failures, and for each worker its resident memory and open file descriptors before the load, after
a warm-up (the first 10% of the run) and at the end (after the clients have gone).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.benchmark import DEFAULT_MODELS, Service

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def worker_state(service: Service) -> dict[int, dict]:
    """{pid: {"rss_mb", "fds", "sockets"}} for each live worker (sockets: open connections and
    listeners; the other fds are files, pipes and prometheus-client's per-metric files)."""
    state = {}
    for pid in service.worker_pids():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rss_kb = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmRSS:"))
            targets = []
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
                except OSError:
                    pass
        except (OSError, StopIteration):
            continue
        state[pid] = {"rss_mb": round(rss_kb / 1024, 1), "fds": len(targets),
                      "sockets": sum(t.startswith("socket:") for t in targets)}
    return state


def read_stats(path: Path) -> dict[str, dict]:
    rows = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 1),
                "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"]),
                "max_ms": round(float(row["Max Response Time"]), 1),
            }
    return rows


def run(seconds: int, users: int, service: Service, workdir: Path) -> dict:
    locust = Path(sys.executable).parent / "locust"
    prefix = workdir / "load"
    command = [str(locust), "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(users),
               "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{service.port}", "--csv", str(prefix),
               "--only-summary", "--stop-timeout", "10", "--exit-code-on-error", "0", "--loglevel", "WARNING"]
    before = worker_state(service)
    samples, stop = [], threading.Event()

    def sample():
        while not stop.wait(1.0):
            samples.append((time.monotonic(), worker_state(service)))

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    sampler.start()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    stop.set()
    sampler.join()
    time.sleep(3)  # idle keep-alive connections close (gunicorn keepalive is 2 s)
    after = worker_state(service)
    warm_at = started + max(3.0, seconds * 0.1)
    warm = next((state for at, state in samples if at >= warm_at), before)
    if done.returncode != 0 or not Path(f"{prefix}_stats.csv").is_file():
        raise RuntimeError(f"locust failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return {
        "seconds": seconds, "users": users, "stats": read_stats(Path(f"{prefix}_stats.csv")),
        "workers": {"before": before, "after_warm_up": warm, "end": after},
        "peak_fds": max((s["fds"] for _, st in samples for s in st.values()), default=None),
        "workers_replaced": sorted(set(after) ^ set(before)),
    }


def markdown(figures: dict) -> str:
    lines = [f"{figures['users']} users for {figures['seconds']} s", "",
             "| request | count | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |", "|---|---|---|---|---|---|---|---|"]
    for name, row in figures["stats"].items():
        lines.append(f"| {name} | {row['requests']} | {row['failures']} | {row['rps']} | {row['p50_ms']:g} | "
                     f"{row['p95_ms']:g} | {row['p99_ms']:g} | {row['max_ms']:g} |")
    lines += ["", "| worker | RSS before | after warm-up | end | fds (sockets) before | after warm-up | end | "
              "peak fds (any worker) |", "|---|---|---|---|---|---|---|---|"]
    w = figures["workers"]
    for pid, state in w["before"].items():
        warm, end = w["after_warm_up"].get(pid, {}), w["end"].get(pid, {})
        lines.append(f"| {pid} | {state['rss_mb']} MB | {warm.get('rss_mb')} MB | {end.get('rss_mb')} MB | "
                     f"{state['fds']} ({state['sockets']}) | {warm.get('fds')} ({warm.get('sockets')}) | "
                     f"{end.get('fds')} ({end.get('sockets')}) | {figures['peak_fds']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--users", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODELS)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newsbrief-load-") as workdir, Service(args.model_dir) as service:
        figures = run(args.seconds, args.users, service, Path(workdir))
        figures["worker_class"] = os.environ.get("WORKER_CLASS", "gevent")
    print(markdown(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
