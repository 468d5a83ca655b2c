"""Prometheus metrics at GET /metrics, correct under several gunicorn workers.

Under gunicorn the launcher gives every worker one PROMETHEUS_MULTIPROC_DIR (a fresh directory,
made before the workers fork); each worker writes its figures there and the worker that answers
a scrape adds them all up (prometheus-client's multiprocess mode). Without that variable, as in
tests or `flask run`, each app keeps its figures in a registry of its own.

    newsbrief_http_requests_total{method,route,status}     counter; route is the URL rule
    newsbrief_http_request_duration_seconds{method,route}  histogram
    newsbrief_http_requests_in_flight                      gauge, summed over live workers
    newsbrief_documents_total{outcome}                     counter; "analysed" or "rejected"
    newsbrief_model_info{name,version}                     1 per model a live worker serves
    newsbrief_model_ready                                  1 if every live worker has a model
    newsbrief_worker_memory_bytes{pid}                     resident memory of each live worker
"""
from __future__ import annotations

import glob
import os
import shutil
import struct
import tempfile
import time
from pathlib import Path

from flask import Flask, Response, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest, multiprocess, values)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "<unmatched>"  # route label of a request that matched no route (404, 405)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MEMORY_EVERY = 5.0  # seconds between two readings of a worker's resident memory


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class Metrics:
    """The metrics of one app (one worker)."""

    def __init__(self, registry: CollectorRegistry | None):
        self.registry = registry  # None in multiprocess mode: values go to files

        def kw(**extra):
            return {"registry": registry, **extra}

        self.requests = Counter("newsbrief_http_requests", "HTTP requests answered.",
                                ["method", "route", "status"], **kw())
        self.latency = Histogram("newsbrief_http_request_duration_seconds",
                                 "Time from request start to response, by route.",
                                 ["method", "route"], **kw(buckets=LATENCY_BUCKETS))
        self.in_flight = Gauge("newsbrief_http_requests_in_flight", "Requests being handled now.",
                               **kw(multiprocess_mode="livesum"))
        self.documents = Counter("newsbrief_documents", "Articles analysed by POST /v1/analyze "
                                 "(each document of a batch counts), or rejected one by one.",
                                 ["outcome"], **kw())
        self.model_info = Gauge("newsbrief_model_info", "The model a live worker serves (value 1).",
                                ["name", "version"], **kw(multiprocess_mode="livemax"))
        self.model_ready = Gauge("newsbrief_model_ready", "1 when every live worker has a model.",
                                 **kw(multiprocess_mode="livemin"))
        self.memory = Gauge("newsbrief_worker_memory_bytes", "Resident memory of each worker.",
                            **kw(multiprocess_mode="liveall"))
        self._model: dict | None = None
        self._memory_at = 0.0

    def observe_model(self, store) -> None:
        """Keep model_info/model_ready in step with the store (a hot swap changes them)."""
        model = store.analyzer.model_info if store.ready else None
        if model == self._model:
            return
        if self._model is not None:
            self.model_info.labels(self._model["name"], self._model["version"]).set(0)
        if model is not None:
            self.model_info.labels(model["name"], model["version"]).set(1)
        self.model_ready.set(1 if model is not None else 0)
        self._model = model

    def observe_memory(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._memory_at >= MEMORY_EVERY:
            self.memory.set(resident_memory())
            self._memory_at = now


def resident_memory() -> int:
    """Resident set size of this process in bytes (peak size where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def route_of() -> str:
    """The URL rule that matched (never the raw path, which a client chooses freely)."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def method_of() -> str:
    return request.method if request.method in METHODS else "OTHER"


def note_documents(answer: dict) -> None:
    """Called by POST /v1/analyze with the answer it is about to send: remembers how many
    documents it analysed and rejected, so nothing has to parse the response again."""
    results = answer.get("results")
    if isinstance(results, list):
        rejected = sum(1 for r in results if "error" in r)
        g._newsbrief_documents = (len(results) - rejected, rejected)
    else:
        g._newsbrief_documents = (1, 0)


def note_rejected() -> None:
    """Called when the one article of a request is refused for what it holds (422, 413)."""
    g._newsbrief_documents = (0, 1)


def documents_of() -> tuple[int, int]:
    """(analysed, rejected) documents in the answer to this request; (0, 0) for other routes."""
    return g.get("_newsbrief_documents", (0, 0))


def _use_multiprocess_values() -> None:
    """prometheus-client chooses where values live when it is first imported, which in the
    gunicorn master happens before the launcher sets PROMETHEUS_MULTIPROC_DIR: choose again."""
    if multiprocess_dir() and not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()


class _WorkerFilesCollector:
    """prometheus-client's MultiProcessCollector, minus its known race: a worker starting (after
    a hot swap, say) creates its file and sizes it a moment later, and an empty file makes the
    whole scrape fail (client_python issue #1199). Empty files are skipped, and a scrape that
    meets a file mid-change is read again."""

    def __init__(self, path: str):
        self.path = path

    def collect(self):
        for attempt in range(3):
            files = []
            for name in glob.glob(os.path.join(self.path, "*.db")):
                try:
                    if os.path.getsize(name) > 0:
                        files.append(name)
                except OSError:  # removed since the glob (a dead worker's live gauges)
                    pass
            try:
                return list(multiprocess.MultiProcessCollector.merge(files, accumulate=True))
            except (struct.error, RuntimeError, OSError):
                if attempt == 2:
                    raise
                time.sleep(0.01)


def _scrape_registry(metrics: Metrics) -> CollectorRegistry:
    if metrics.registry is not None:
        return metrics.registry
    registry = CollectorRegistry()
    registry.register(_WorkerFilesCollector(multiprocess_dir()))
    return registry


def init_app(app: Flask) -> Metrics:
    """Count every request of `app` and serve GET /metrics."""
    if multiprocess_dir():
        _use_multiprocess_values()
        metrics = Metrics(registry=None)
    else:
        metrics = Metrics(registry=CollectorRegistry(auto_describe=True))
    store = app.extensions.get("newsbrief.store")
    app.extensions["newsbrief.metrics"] = metrics
    if store is not None:
        metrics.observe_model(store)
    metrics.observe_memory(force=True)

    @app.before_request
    def _start():
        g._newsbrief_started = time.perf_counter()
        metrics.in_flight.inc()
        g._newsbrief_in_flight = True

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.get("_newsbrief_started")
        if started is not None:
            route, method = route_of(), method_of()
            metrics.latency.labels(method, route).observe(time.perf_counter() - started)
            metrics.requests.labels(method, route, str(response.status_code)).inc()
            analysed, rejected = documents_of()
            if analysed:
                metrics.documents.labels("analysed").inc(analysed)
            if rejected:
                metrics.documents.labels("rejected").inc(rejected)
            if store is not None:
                metrics.observe_model(store)
            metrics.observe_memory()
        return response

    @app.teardown_request
    def _done(_error=None):
        if g.pop("_newsbrief_in_flight", False):
            metrics.in_flight.dec()

    @app.get("/metrics")
    def prometheus_metrics():
        metrics.observe_memory(force=True)
        return Response(generate_latest(_scrape_registry(metrics)),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})  # mimetype= would add a 2nd charset

    return metrics


# --- gunicorn master side -------------------------------------------------------------------

_prepared: str | None = None   # the directory this process prepared
_owned_dir: str | None = None  # a temporary directory this process made, removed at exit


def prepare_multiprocess_dir() -> str:
    """In the gunicorn master, before workers fork: empty PROMETHEUS_MULTIPROC_DIR of a previous
    run's files, or make a fresh temporary directory and set the variable. Once per process:
    a configuration reload (SIGHUP) keeps the directory the live workers write to."""
    global _owned_dir, _prepared
    path = multiprocess_dir()
    if path and path == _prepared:
        return path
    if path:
        os.makedirs(path, exist_ok=True)
        for old in Path(path).glob("*.db"):
            old.unlink()
    else:
        path = _owned_dir = tempfile.mkdtemp(prefix="newsbrief-metrics-")
        os.environ[MULTIPROC_ENV] = path
    _prepared = path
    return path


def child_exit(server, worker) -> None:
    """A worker ended: drop its live gauges (in flight, memory, model); counters stay summed."""
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _owned_dir:
        shutil.rmtree(_owned_dir, ignore_errors=True)


def gunicorn_options() -> dict:
    """Settings for the gunicorn launcher: call in the master before the workers fork."""
    prepare_multiprocess_dir()
    return {"child_exit": child_exit, "on_exit": on_exit}
