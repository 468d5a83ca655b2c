"""GET /metrics: Prometheus text that counts what was sent, by URL rule and status, documents
of batches included; and one consistent view over several gunicorn workers."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.config import Settings

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "NATO allies agreed on Tuesday to send more troops to the alliance's eastern flank."


def samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(found: list, name: str, **labels) -> float:
    return sum(s.value for s in found
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


@pytest.fixture()
def client(shipped_store):
    return create_app(shipped_store, Settings()).test_client()


def scrape(client) -> list:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return samples(response.get_data(as_text=True))


def test_metrics_parse_as_prometheus_text_and_name_every_family(client):
    names = {s.name for s in scrape(client)}
    for family in ("newsbrief_http_requests_in_flight", "newsbrief_model_info", "newsbrief_model_ready",
                   "newsbrief_worker_memory_bytes"):
        assert family in names


def test_requests_are_counted_by_url_rule_and_status_never_by_raw_path(client):
    for _ in range(3):
        client.get("/healthz")
    client.get("/no/such/article-42")
    client.post("/healthz")
    found = scrape(client)
    assert value(found, "newsbrief_http_requests_total", method="GET", route="/healthz", status="200") == 3
    assert value(found, "newsbrief_http_requests_total", route="<unmatched>", status="404") == 1
    assert value(found, "newsbrief_http_requests_total", route="<unmatched>", status="405") == 1
    assert not any("article-42" in v for s in found for v in s.labels.values())


def test_every_document_of_a_batch_is_counted_and_rejected_ones_apart(client):
    documents = [{"id": i, "text": ARTICLE} for i in range(3)] + [{"id": "empty", "text": "  \n"}]
    assert client.post("/v1/analyze", json={"documents": documents}).status_code == 200
    assert client.post("/v1/analyze", json={"text": ARTICLE}).status_code == 200
    found = scrape(client)
    assert value(found, "newsbrief_documents_total", outcome="analysed") == 4
    assert value(found, "newsbrief_documents_total", outcome="rejected") == 1
    assert value(found, "newsbrief_http_requests_total", method="POST", route="/v1/analyze", status="200") == 2


def test_a_single_article_refused_for_its_text_counts_as_rejected(client):
    assert client.post("/v1/analyze", json={"text": " TT \n 20 "}).status_code == 422
    assert client.post("/v1/analyze", json={"text": "  "}).status_code == 422
    found = scrape(client)
    assert value(found, "newsbrief_documents_total", outcome="rejected") == 2
    assert value(found, "newsbrief_documents_total", outcome="analysed") == 0


def test_metrics_are_served_as_prometheus_text_with_one_content_type(client):
    content_type = client.get("/metrics").headers["Content-Type"]
    assert content_type.startswith("text/plain; version=") and content_type.count("charset") == 1


def test_a_refused_request_analyses_no_document(client):
    assert client.post("/v1/analyze", json={"title": "no text"}).status_code == 400
    assert client.post("/v1/analyze", data="x", content_type="text/plain").status_code == 415
    found = scrape(client)
    assert value(found, "newsbrief_documents_total") == 0
    assert value(found, "newsbrief_http_requests_total", route="/v1/analyze", status="400") == 1
    assert value(found, "newsbrief_http_requests_total", route="/v1/analyze", status="415") == 1


def test_latency_histogram_observes_each_request_once(client):
    for _ in range(2):
        client.post("/v1/analyze", json={"text": ARTICLE})
    found = scrape(client)
    labels = dict(method="POST", route="/v1/analyze")
    assert value(found, "newsbrief_http_request_duration_seconds_count", **labels) == 2
    assert value(found, "newsbrief_http_request_duration_seconds_sum", **labels) > 0
    assert value(found, "newsbrief_http_request_duration_seconds_bucket", le="+Inf", **labels) == 2


def test_methods_outside_http_are_grouped_so_labels_stay_bounded(client):
    client.open("/healthz", method="BREW")
    found = scrape(client)
    assert value(found, "newsbrief_http_requests_total", method="OTHER") == 1
    assert not any(s.labels.get("method") == "BREW" for s in found)


def test_model_info_names_the_served_model_and_ready_is_one(client, shipped_store):
    found = scrape(client)
    info = [s.labels for s in found if s.name == "newsbrief_model_info" and s.value == 1]
    assert info == [shipped_store.analyzer.model_info]
    assert value(found, "newsbrief_model_ready") == 1


def test_without_a_model_ready_is_zero_and_no_model_is_named(tmp_path):
    from service.store import ModelStore

    client = create_app(ModelStore(tmp_path), Settings()).test_client()
    found = scrape(client)
    assert value(found, "newsbrief_model_ready") == 0
    assert not [s for s in found if s.name == "newsbrief_model_info" and s.value == 1]


def test_in_flight_counts_only_the_scrape_itself_once_requests_are_done(client):
    client.get("/healthz")
    assert value(scrape(client), "newsbrief_http_requests_in_flight") == 1


def test_worker_memory_is_reported_in_bytes(client):
    assert value(scrape(client), "newsbrief_worker_memory_bytes") > 10 * 2 ** 20


# --- several gunicorn workers ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status


@pytest.fixture()
def metrics_dir(tmp_path):
    """A PROMETHEUS_MULTIPROC_DIR holding a previous run's counter, which must not show."""
    path = tmp_path / "prometheus"
    path.mkdir()
    stale = ("from prometheus_client import Counter; Counter('newsbrief_http_requests', 'x', "
             "['method', 'route', 'status']).labels('GET', '/stale', '200').inc(7)")
    subprocess.run([sys.executable, "-c", stale], env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(path)},
                   check=True)
    assert list(path.glob("counter_*.db"))
    return path


@contextlib.contextmanager
def running_server(tmp_path, **env):
    """`python -m service` with two workers on 127.0.0.1; yields its base URL once ready."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "2",
           "MODEL_DIR": str(ROOT / "models"), "LOG_LEVEL": "warning", **env}
    with open(tmp_path / "server.log", "w+") as log:
        server = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if get(base + "/readyz")[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.2)
            yield base, server
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def view(base: str) -> list:
    status, text = get(base + "/metrics")
    assert status == 200
    return samples(text)


def memory(found: list) -> dict:
    return {s.labels["pid"]: s.value for s in found if s.name == "newsbrief_worker_memory_bytes"}


def wait_until(condition, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@pytest.mark.slow
def test_two_gunicorn_workers_report_one_sum_and_drop_a_dead_worker(tmp_path, metrics_dir):
    with running_server(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)) as (base, _):
        for _ in range(40):
            get(base + "/healthz")
        batch = b'{"documents": [{"text": "Troops crossed the border."}, {"text": "Ministers met."}]}'
        for _ in range(3):
            assert post(base + "/v1/analyze", batch) == 200
        # the second worker may still be loading the model
        wait_until(lambda: len(memory(view(base))) == 2, "one worker never reported")
        views = [view(base) for _ in range(6)]  # whichever worker answers, the figures are the sum
        for found in views:
            assert value(found, "newsbrief_http_requests_total", route="/healthz", status="200") == 40
            assert value(found, "newsbrief_documents_total", outcome="analysed") == 6
            assert value(found, "newsbrief_http_requests_total", route="/stale") == 0
            assert len(memory(found)) == 2 and all(v > 10 * 2 ** 20 for v in memory(found).values())

        killed = next(iter(memory(views[-1])))
        os.kill(int(killed), signal.SIGKILL)  # gunicorn replaces it; its live gauges must go

        def replaced():
            pids = set(memory(view(base)))
            return len(pids) == 2 and killed not in pids
        wait_until(replaced, f"memory still reported for {killed}")
        found = view(base)
        assert value(found, "newsbrief_http_requests_total", route="/healthz", status="200") == 40
        assert value(found, "newsbrief_http_requests_in_flight") == 1


def two_versions(tmp_path) -> Path:
    """A registry with the shipped model under two version names, the first one current."""
    from newsbrief.artifacts import resolve_version, set_current

    registry = tmp_path / "models"
    registry.mkdir()
    for name in ("topics-a", "topics-b"):
        shutil.copytree(resolve_version(ROOT / "models"), registry / name)
        meta = json.loads((registry / name / "metadata.json").read_text())
        meta["version"] = name
        (registry / name / "metadata.json").write_text(json.dumps(meta))
    set_current(registry, "topics-a")
    return registry


def served_versions(found: list) -> list:
    return sorted(s.labels["version"] for s in found if s.name == "newsbrief_model_info" and s.value == 1)


def test_a_model_swapped_in_process_replaces_the_info(tmp_path):
    from service.store import ModelStore

    registry = two_versions(tmp_path)
    store = ModelStore(registry)
    store.load()
    client = create_app(store, Settings()).test_client()
    assert served_versions(scrape(client)) == ["topics-a"]
    store.load(registry / "topics-b")
    client.get("/healthz")
    assert served_versions(scrape(client)) == ["topics-b"]


@pytest.mark.slow
def test_after_a_hot_swap_by_sighup_only_the_new_version_is_served(tmp_path):
    from newsbrief.artifacts import set_current

    registry = two_versions(tmp_path)
    with running_server(tmp_path, MODEL_DIR=str(registry)) as (base, server):
        wait_until(lambda: served_versions(view(base)) == ["topics-a"], "topics-a never reported")
        set_current(registry, "topics-b")
        server.send_signal(signal.SIGHUP)
        wait_until(lambda: served_versions(view(base)) == ["topics-b"] and len(memory(view(base))) == 2,
                   f"still serving {served_versions(view(base))}")
        assert value(view(base), "newsbrief_model_ready") == 1


def test_a_scrape_skips_the_empty_file_of_a_worker_that_is_just_starting(tmp_path):
    """prometheus-client's own collector fails the whole scrape on it (client_python #1199)."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.mmap_dict import MmapedDict, mmap_key

    from service.metrics import _WorkerFilesCollector

    written = MmapedDict(str(tmp_path / "counter_101.db"))
    written.write_value(mmap_key("newsbrief_documents", "newsbrief_documents_total", ["outcome"],
                                 ["analysed"], "Articles analysed."), 7.0, 0.0)
    written.close()
    (tmp_path / "counter_102.db").touch()  # created, not yet sized

    ours = CollectorRegistry()
    ours.register(_WorkerFilesCollector(str(tmp_path)))
    found = list(text_string_to_metric_families(generate_latest(ours).decode()))
    assert value([s for f in found for s in f.samples], "newsbrief_documents_total", outcome="analysed") == 7
