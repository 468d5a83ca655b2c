"""Worker classes side by side, in one sitting: single articles at concurrency 4 (as in
benchmarks/benchmark.py), one pass on each server in turn, repeated, so every variant samples the
same moments of a noisy machine.

    python -m benchmarks.workers --rounds 6
    python -m benchmarks.workers --before /tmp/main-export    # also the code of another checkout

Variants: this checkout with WORKER_CLASS=gevent and WORKER_CLASS=gthread (THREADS=2), and with
--before DIR the checkout in DIR (e.g. `git archive main | tar -x -C DIR`) as it is configured.
"""
from __future__ import annotations

import argparse
import concurrent.futures as futures
import http.client
import json
import statistics
import sys
import time
from pathlib import Path

import benchmarks.benchmark as bench

CORPUS = bench.DEFAULT_INPUT


def one_pass(port: int, texts: list[str], concurrency: int = 4) -> tuple[float, list[float]]:
    latencies: list[float] = []

    def client(part):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for text in part:
            started = time.perf_counter()
            connection.request("POST", "/v1/analyze", body=json.dumps({"text": text}).encode(),
                               headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                raise RuntimeError(f"status {answer.status}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with futures.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client, [texts[i::concurrency] for i in range(concurrency)]))
    return len(texts) / (time.perf_counter() - started), latencies


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workers", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--before", type=Path, help="another checkout to compare (its own code and settings)")
    parser.add_argument("--input", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    texts = [a["text"] for a in bench.load_articles(args.input, args.articles)]
    variants = {"gevent (this checkout)": (bench.ROOT, {"WORKER_CLASS": "gevent"}),
                "gthread, THREADS=2 (this checkout)": (bench.ROOT, {"WORKER_CLASS": "gthread"})}
    if args.before:
        variants = {f"{args.before} as configured": (args.before.resolve(), {}), **variants}
    here, servers = bench.ROOT, {}
    try:
        for name, (root, env) in variants.items():
            bench.ROOT = root  # Service starts `python -m service` in bench.ROOT
            servers[name] = bench.Service(bench.DEFAULT_MODELS, env={**env, "PYTHONPATH": str(root)})
            servers[name].wait_ready()
        bench.ROOT = here
        runs: dict[str, list] = {name: [] for name in servers}
        for _ in range(args.rounds):
            for name, service in servers.items():
                runs[name].append(one_pass(service.port, texts))
    finally:
        bench.ROOT = here
        for service in servers.values():
            service.stop()
    print(f"single articles at concurrency 4, {len(texts)} articles per pass, {args.rounds} rounds\n")
    print("| server | articles/s, median of passes | passes | p50 ms | p99 ms |\n|---|---|---|---|---|")
    for name, passes in runs.items():
        rates = [rate for rate, _ in passes]
        latencies = [l for _, ls in passes for l in ls]
        print(f"| {name} | {statistics.median(rates):.1f} | {', '.join(f'{r:.0f}' for r in rates)} | "
              f"{1000 * bench.percentile(latencies, 50):.1f} | {1000 * bench.percentile(latencies, 99):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
