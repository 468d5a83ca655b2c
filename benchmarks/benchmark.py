"""Speed of newsbrief against stock sumy LexRank, on the same articles, in one run.

    python -m benchmarks.benchmark                       # 300 real articles, about 2 minutes
    python -m benchmarks.benchmark --articles 50 --repeats 1 --json figures.json

Measured, each on the same articles (a seeded sample of ../shared/corpus/articles.jsonl, or
--input FILE, JSON Lines with a "text" field):

1. stock sumy: PlaintextParser with an offline Punkt tokenizer, LexRankSummarizer with sumy's
   English stemmer and stop words, 3 sentences; one process.
2. the analysis core: Analyzer(load_model(MODEL_DIR)).handle({"text": ...}), i.e. cleanup,
   classification and the default summary; one process.
3. the service (`python -m service`, WORKERS=2, 127.0.0.1) over HTTP: batch requests (up to 64
   documents, 2 in flight so both workers work), and single-article requests at concurrency 4
   (one thread and one keep-alive connection each) with p50/p99 latency.
4. the batch command's engine (pipelines.batch: worker processes, each loading the model once, in
   this process's pool) over the articles as JSON Lines records, writing a JSON Lines output
   (flushed and fsynced per batch) in a temporary directory; warm, like the service (its start-up,
   a second or two to start the workers and load the model, is not in the row).

Each one-process measurement runs in a fresh child process (so its peak RSS is its own); every
measurement is warmed up, then repeated; the table shows the best repeat (the machine is shared,
so the best is the least disturbed), the JSON keeps all of them. Beside wall-clock throughput it
shows CPU time per article (steadier than wall time on a busy machine). The HTTP client runs on
the same cores as the server, so HTTP figures include its cost. The service takes its other
settings from the environment, e.g. `THREADS=1 python -m benchmarks.benchmark`.
"""
from __future__ import annotations

import argparse
import concurrent.futures as futures
import http.client
import json
import multiprocessing
import os
import platform
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

from service.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = ROOT.parent / "shared" / "corpus" / "articles.jsonl"
DEFAULT_MODELS = ROOT / "models"
SEED = 20261125
WARMUP = 10            # articles run before timing, in each process
MAX_BATCH = 64         # the API's limit on documents per request
READY_TIMEOUT = 60.0   # seconds to wait for /readyz
VERSIONS = ("sumy", "nltk", "numpy", "scipy", "scikit-learn", "flask", "gunicorn")


# ----------------------------------------------------------------------------- articles

def load_articles(path: Path, count: int, seed: int = SEED) -> list[dict]:
    """`count` articles with non-blank text drawn from a JSON Lines file by a seeded sample,
    in file order (all of them if the file holds fewer)."""
    articles = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                if isinstance(record.get("text"), str) and record["text"].strip():
                    articles.append({"id": str(record.get("id", len(articles))), "text": record["text"]})
    if count < len(articles):
        keep = sorted(random.Random(seed).sample(range(len(articles)), count))
        articles = [articles[i] for i in keep]
    return articles


def median_words(articles: list[dict]) -> float:
    return statistics.median(len(a["text"].split()) for a in articles)


# ----------------------------------------------------------------------------- one process

# Each one-process setup lives in its own spawned child process (nothing inherited, so its peak
# RSS is its own): set up once, warmed up, then asked for one timed pass per round.
_CHILD: dict = {}


def _stock_sumy_runner(model_dir: str):
    from benchmarks._stock_sumy import StockLexRank

    summarizer = StockLexRank()

    def run(text):
        summarizer(text)
        return 0

    return run, {}


def _core_runner(model_dir: str):
    from newsbrief.analyze import Analyzer
    from newsbrief.artifacts import load_model
    from newsbrief.errors import RequestError

    analyzer = Analyzer(load_model(model_dir))

    def handle(text):
        try:
            analyzer.handle({"text": text})
            return 0
        except RequestError:  # e.g. 422, nothing left after cleanup: refusing is work done too
            return 1

    return handle, {"model": analyzer.model_info}


RUNNERS = {"stock-sumy": _stock_sumy_runner, "core": _core_runner}


def _child_setup(kind: str, texts: list[str], model_dir: str) -> None:
    run, info = RUNNERS[kind](model_dir)
    for text in texts[:WARMUP]:
        run(text)
    _CHILD.update(run=run, texts=texts, info=info)


def _child_pass() -> dict:
    """One timed pass over every text: wall and CPU seconds, articles refused."""
    run, texts = _CHILD["run"], _CHILD["texts"]
    start, start_cpu = time.perf_counter(), time.process_time()
    refused = sum(bool(run(text)) for text in texts)
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - start_cpu,
            "rejected": refused}


def _child_info() -> dict:
    return {**_CHILD["info"], "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


class OneProcess:
    """A setup measured in a child process of its own."""

    def __init__(self, kind: str, texts: list[str], model_dir: str):
        self.pool = futures.ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_setup, initargs=(kind, texts, model_dir))
        self.runs: list[dict] = []
        try:
            self.pool.submit(int).result()  # wait until set up and warmed up
        except BaseException:
            self.pool.shutdown(cancel_futures=True)
            raise

    def one_pass(self) -> None:
        self.runs.append(self.pool.submit(_child_pass).result())

    def result(self) -> dict:
        info = self.pool.submit(_child_info).result()
        self.pool.shutdown()
        return {"seconds": [r["seconds"] for r in self.runs], "cpu_seconds": [r["cpu"] for r in self.runs],
                "rejected": self.runs[-1]["rejected"], **info}


# ----------------------------------------------------------------------------- service

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """`python -m service` in a subprocess on 127.0.0.1: started, waited for, stopped by SIGTERM."""

    def __init__(self, model_dir: Path, workers: int = 2, env: dict | None = None):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="newsbrief-bench-", suffix=".log", delete=False)
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), "WORKERS": str(workers),
               "MODEL_DIR": str(model_dir), **(env or {})}
        env.pop(
            "PROMETHEUS_MULTIPROC_DIR", None)  # the launcher makes its own
        self.workers = workers
        self.process = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)

    def request(self, method: str, path: str, body: bytes | None = None, timeout: float = 60.0):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                status, _ = self.request("GET", "/readyz", timeout=2.0)
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the service was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """Processes whose parent is the gunicorn master (the server process)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def worker_peak_kb(self) -> dict[int, int]:
        """VmHWM (peak resident memory) of each worker, in kB."""
        return _proc_peak_kb(self.worker_pids())

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the master and its live workers."""
        return _proc_cpu_seconds([self.process.pid, *self.worker_pids()])

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.log.closed:
            self.log.close()
            os.unlink(self.log.name)

    def __enter__(self):
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()


def _post(connection: http.client.HTTPConnection, body: dict, accept=(200,)) -> tuple[int, dict]:
    """POST /v1/analyze on a kept-alive connection (http.client reconnects if the server closed it)."""
    data = json.dumps(body).encode()
    try:
        connection.request("POST", "/v1/analyze", body=data, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        connection.close()  # the server closed an idle kept-alive connection: retry once
        connection.request("POST", "/v1/analyze", body=data, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
    payload = response.read()
    if response.status not in accept:
        raise RuntimeError(f"POST /v1/analyze answered {response.status}: {payload[:300]!r}")
    return response.status, json.loads(payload)


def _concurrently(jobs: list, threads: int, service: Service, send) -> dict:
    """Send every job with `threads` client threads, each on its own connection: wall seconds,
    per-job latencies, CPU seconds of the server and of this (client) process."""
    port = service.port
    lock = threading.Lock()
    position = iter(range(len(jobs)))
    latencies: list[float] = []
    errors: list[BaseException] = []

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            while True:
                with lock:
                    index = next(position, None)
                if index is None or errors:
                    return
                start = time.perf_counter()
                send(connection, jobs[index])
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
        except BaseException as error:  # reported by the caller
            errors.append(error)
        finally:
            connection.close()

    pool = [threading.Thread(target=client) for _ in range(threads)]
    server_cpu, client_cpu = service.cpu_seconds(), time.process_time()
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - start
    if errors:
        raise errors[0]
    return {"seconds": wall, "latencies": latencies, "server_cpu": service.cpu_seconds() - server_cpu,
            "client_cpu": time.process_time() - client_cpu}


def _collect(runs: list[dict]) -> dict:
    return {"seconds": [r["seconds"] for r in runs], "cpu_seconds": [r["server_cpu"] for r in runs],
            "client_cpu_seconds": [r["client_cpu"] for r in runs]}


def batches_of(texts: list[str], limit: int, parallel: int) -> list[list[str]]:
    """Equal batches of at most `limit` texts, their count a multiple of `parallel`."""
    count = -(-len(texts) // limit)
    count = min(-(-count // parallel) * parallel, len(texts))
    size, extra = divmod(len(texts), count)
    bounds = [i * size + min(i, extra) for i in range(count + 1)]
    return [texts[a:b] for a, b in zip(bounds, bounds[1:])]


class BatchLoad:
    """Batch requests of up to `limit` documents, `parallel` in flight (one per worker)."""

    def __init__(self, service: Service, texts: list[str], limit: int, parallel: int):
        self.service, self.parallel = service, parallel
        self.batches = batches_of(texts, limit, parallel)
        self.bodies = [{"documents": [{"id": str(i), "text": t} for i, t in enumerate(batch)]}
                       for batch in self.batches]
        self.runs: list[dict] = []
        self.rejected: list[int] = []
        _concurrently(self.bodies[:parallel], parallel, service, self._send)  # warm-up

    def _send(self, connection, body):
        results = _post(connection, body)[1]["results"]
        if len(results) != len(body["documents"]):
            raise RuntimeError("a batch came back with missing results")
        self.rejected.append(sum("error" in r for r in results))

    def one_pass(self) -> None:
        self.runs.append(_concurrently(self.bodies, self.parallel, self.service, self._send))

    def result(self) -> dict:
        return {**_collect(self.runs), "batches": len(self.batches), "batch_size": max(map(len, self.batches)),
                "in_flight": self.parallel, "rejected": sum(self.rejected[-len(self.batches):])}


class SingleLoad:
    """One article per request, `threads` clients each on a kept-alive connection."""

    def __init__(self, service: Service, texts: list[str], threads: int):
        self.service, self.texts, self.threads = service, texts, threads
        self.runs: list[dict] = []
        self.statuses: list[int] = []
        _concurrently(texts[:WARMUP * threads], threads, service, self._send)  # warm-up

    def _send(self, connection, text):
        self.statuses.append(_post(connection, {"text": text}, accept=(200, 422))[0])

    def one_pass(self) -> None:
        self.runs.append(_concurrently(self.texts, self.threads, self.service, self._send))

    def result(self) -> dict:
        return {**_collect(self.runs), "latencies": [r["latencies"] for r in self.runs],
                "concurrency": self.threads, "rejected": self.statuses[-len(self.texts):].count(422)}


def _proc_cpu_seconds(pids) -> float:
    """User + system CPU time used so far by the live processes `pids`."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def _proc_peak_kb(pids) -> dict[int, int]:
    """VmHWM (peak resident memory) of each live process of `pids`, in kB."""
    peaks = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1])
        except OSError:
            continue
    return peaks


class BatchCommand:
    """The batch command's engine, warm: JSON Lines records in, a JSON Lines file out, in order."""

    def __init__(self, texts: list[str], model_dir: Path, workers: int, batch_size: int):
        from newsbrief.artifacts import resolve_version
        from pipelines.answers import Record
        from pipelines.batch import Engine

        self.records = [Record("benchmark", i + 1, json.dumps({"id": str(i), "text": t}).encode())
                        for i, t in enumerate(texts)]
        self.engine = Engine(resolve_version(model_dir), {}, workers, parquet=False)
        self.workers, self.batch_size = workers, batch_size
        self.folder = tempfile.TemporaryDirectory(prefix="newsbrief-bench-batch-")
        self.runs: list[dict] = []
        self.rejected = 0
        self._pass()  # warm-up: every worker loads the model

    def _pass(self) -> dict:
        from pipelines.outputs import JsonlOutput

        path = Path(self.folder.name) / "out.jsonl"
        path.unlink(missing_ok=True)
        batches = [self.records[i:i + self.batch_size] for i in range(0, len(self.records), self.batch_size)]
        pids = self.pids()
        start, cpu = time.perf_counter(), time.process_time() + _proc_cpu_seconds(pids)
        output = JsonlOutput(str(path), resume=False)
        rejected = 0
        for lines, table, refused in self.engine.run(batches):
            output.append(lines, table)
            rejected += refused
        output.close()
        self.rejected = rejected
        return {"seconds": time.perf_counter() - start,
                "server_cpu": time.process_time() + _proc_cpu_seconds(pids) - cpu, "client_cpu": 0.0}

    def pids(self) -> list[int]:
        pool = self.engine.pool
        return [p.pid for p in pool._pool] if pool is not None else []  # noqa: SLF001

    def one_pass(self) -> None:
        self.runs.append(self._pass())

    def result(self) -> dict:
        peaks = _proc_peak_kb(self.pids())
        return {"seconds": [r["seconds"] for r in self.runs], "cpu_seconds": [r["server_cpu"] for r in self.runs],
                "rejected": self.rejected, "worker_peak_kb": peaks}

    def close(self) -> None:
        self.engine.close()
        self.folder.cleanup()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


# ----------------------------------------------------------------------------- report

def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for name in VERSIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": model, "load_average": os.getloadavg(),
            "platform": platform.platform(), "versions": versions}


def summarise(name: str, measured: dict, articles: int, base: float | None, **extra) -> dict:
    """One table row from the runs of one setup: the best (fastest) run, and CPU per article."""
    seconds, cpu = measured["seconds"], measured["cpu_seconds"]
    best = min(range(len(seconds)), key=seconds.__getitem__)
    rate = articles / seconds[best]
    row = {"name": name, "articles_per_second": rate, "ms_per_article": 1000 * seconds[best] / articles,
           "ratio_vs_stock_sumy": rate / base if base else 1.0,
           "median_articles_per_second": articles / statistics.median(seconds),
           "cpu_ms_per_article": 1000 * cpu[best] / articles,
           "seconds": seconds, "cpu_seconds": cpu}
    if "client_cpu_seconds" in measured:
        row["client_cpu_ms_per_article"] = 1000 * measured["client_cpu_seconds"][best] / articles
        row["client_cpu_seconds"] = measured["client_cpu_seconds"]
    row.update(extra)
    return row


def cpu_per_article(row: dict) -> float:
    """CPU ms per article of a row, the HTTP client's included."""
    return row["cpu_ms_per_article"] + row.get("client_cpu_ms_per_article", 0.0)


def markdown(figures: dict) -> str:
    m, run = figures["machine"], figures["run"]
    lines = [
        f"{run['articles']} articles from {run['input']} (seed {run['seed']}), median "
        f"{run['median_words']:.0f} words; best of {run['repeats']} runs; model {run.get('model', '?')}; "
        f"service {run['service']} (other settings from the environment).",
        "",
        "| what | articles/s | × stock sumy | ms/article | CPU ms/article | p50 ms | p99 ms | peak memory |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in figures["results"]:
        p50 = f"{row['p50_ms']:.1f}" if "p50_ms" in row else ""
        p99 = f"{row['p99_ms']:.1f}" if "p99_ms" in row else ""
        cpu = f"{row['cpu_ms_per_article']:.2f}"
        if "client_cpu_ms_per_article" in row:
            cpu += f" + {row['client_cpu_ms_per_article']:.2f} client"
        lines.append(f"| {row['name']} | {row['articles_per_second']:.1f} | {row['ratio_vs_stock_sumy']:.1f}× | "
                     f"{row['ms_per_article']:.2f} | {cpu} | {p50} | {p99} | {row['memory']} |")
    base_cpu = figures["results"][0]["cpu_ms_per_article"]
    less = [f"{row['name']}: {base_cpu / cpu_per_article(row):.1f}×" for row in figures["results"][1:]]
    if less:
        lines += ["", "CPU per article, stock sumy's divided by each setup's (server + client; steadier than "
                  "wall time on a shared machine; each service worker has a core of its own only if "
                  "the machine is otherwise idle): " + "; ".join(less) + "."]
    refused = [f"{row['rejected']} in {row['name']}" for row in figures["results"] if row.get("rejected")]
    lines += [
        "",
        "ms/article = wall time / articles. CPU ms/article = CPU time of the measured process(es) "
        "(for the service: gunicorn master and workers; the HTTP client's own CPU is shown after +).",
    ]
    if refused:
        lines.append("Articles refused with 422 (nothing left once page furniture is removed), counted "
                     "as done: " + "; ".join(refused) + ".")
    lines += [
        "",
        f"Machine: {m['nproc']} CPUs, {m['cpu']}; load average at start "
        f"{' '.join(f'{x:.2f}' for x in m['load_average'])}; {m['platform']}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
    ]
    return "\n".join(lines)


def write_json(path: Path, figures: dict) -> None:
    """Write atomically: a temporary file beside the target, fsynced, then renamed over it."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


def progress(message: str) -> None:
    print(f"[benchmark] {message}", file=sys.stderr, flush=True)


def run(args) -> dict:
    articles = load_articles(args.input, args.articles, args.seed)
    if not articles:
        raise SystemExit(f"benchmark: no article with a non-blank 'text' in {args.input}")
    texts = [a["text"] for a in articles]
    n = len(texts)
    figures = {"machine": machine(),
               "run": {"articles": n, "input": str(args.input), "seed": args.seed, "repeats": args.repeats,
                       "median_words": median_words(articles),
                       "service": f"WORKERS={args.workers} THREADS={Settings.from_env().threads}"},
               "results": []}
    results = figures["results"]

    # Every setup is prepared and warmed up first; then each round times one pass of each setup
    # in turn, so that all of them sample the same moments of a shared, noisy machine.
    setups: list = []
    service = None
    try:
        progress("starting stock sumy and the analysis core in child processes")
        sumy = OneProcess("stock-sumy", texts, str(args.model_dir))
        setups.append(sumy)
        core = OneProcess("core", texts, str(args.model_dir))
        setups.append(core)
        if not args.no_service:
            progress(f"starting the service, WORKERS={args.workers}")
            service = Service(args.model_dir, args.workers)
            service.wait_ready()
            batch = BatchLoad(service, texts, args.batch_size, args.workers)
            single = SingleLoad(service, texts, args.concurrency)
            setups += [batch, single]
        progress(f"starting the batch command's {args.workers} worker processes")
        command = BatchCommand(texts, args.model_dir, args.workers, args.batch_size)
        setups.append(command)
        for round_ in range(args.repeats):
            progress(f"round {round_ + 1} of {args.repeats}: {n} articles through each setup")
            for setup in setups:
                setup.one_pass()
        peaks = service.worker_peak_kb() if service else {}
        sumy_result, core_result, command_result = sumy.result(), core.result(), command.result()
    finally:
        if service:
            service.stop()
        for setup in setups:
            if isinstance(setup, OneProcess):
                setup.pool.shutdown(cancel_futures=True)
            if isinstance(setup, BatchCommand):
                setup.close()

    base = n / min(sumy_result["seconds"])
    results.append(summarise("stock sumy LexRank, 1 process", sumy_result, n, None,
                             memory=_mb(sumy_result["peak_rss_kb"]), peak_rss_kb=sumy_result["peak_rss_kb"]))
    figures["run"]["model"] = core_result["model"]["version"]
    results.append(summarise("newsbrief core (topics + default summary), 1 process", core_result, n, base,
                             memory=_mb(core_result["peak_rss_kb"]), peak_rss_kb=core_result["peak_rss_kb"],
                             rejected=core_result["rejected"]))
    if service is not None:
        _service_rows(results, batch.result(), single.result(), peaks, n, base, args)
    peaks = command_result["worker_peak_kb"]
    results.append(summarise(
        f"batch command (pipelines.batch), {args.workers} worker processes, batches of {args.batch_size}, "
        "JSON Lines out", command_result, n, base,
        memory="per worker: " + ", ".join(map(_mb, peaks.values())),
        worker_peak_kb=list(peaks.values()), rejected=command_result["rejected"]))
    return figures


def _service_rows(results: list, batch: dict, single: dict, peaks: dict, n: int, base: float, args) -> None:
    memory = "per worker: " + ", ".join(_mb(kb) for kb in peaks.values())
    results.append(summarise(
        f"service over HTTP, {args.workers} workers, {batch['batches']} batches of ≤{batch['batch_size']} "
        f"({batch['in_flight']} in flight)", batch, n, base,
        memory=memory, worker_peak_kb=list(peaks.values()), batches=batch["batches"],
        rejected=batch["rejected"]))
    best = min(range(len(single["seconds"])), key=single["seconds"].__getitem__)
    latencies = single["latencies"][best]
    results.append(summarise(
        f"service over HTTP, {args.workers} workers, single articles at concurrency {single['concurrency']}",
        single, n, base, memory=memory, worker_peak_kb=list(peaks.values()),
        rejected=single["rejected"],
        p50_ms=1000 * percentile(latencies, 50), p99_ms=1000 * percentile(latencies, 99)))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.benchmark", description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="how many articles (default 300)")
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT,
                        help="JSON Lines file with a 'text' field (default: the shared corpus)")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the article sample")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (the best is shown; default 5)")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODELS, help="model registry or version dir")
    parser.add_argument("--workers", type=int, default=2,
                        help="service workers, and the batch command's worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads for single requests")
    parser.add_argument("--batch-size", type=int, default=MAX_BATCH, help="most documents per batch request (and per batch of the batch command)")
    parser.add_argument("--no-service", action="store_true", help="only the one-process measurements")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    if args.articles < 1 or args.repeats < 1 or args.concurrency < 1 or args.workers < 1:
        parser.error("--articles, --repeats, --workers and --concurrency must be at least 1")
    if not 1 <= args.batch_size <= MAX_BATCH:
        parser.error(f"--batch-size must be between 1 and {MAX_BATCH}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    figures = run(args)
    print(markdown(figures))
    if args.json:
        write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
