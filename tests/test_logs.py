"""Request logs: one JSON line per request with method, route, status, duration, documents and
request id (echoed in X-Request-ID); never the article text."""
from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from service import logs
from service.app import create_app
from service.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "Zanzibarquokka"  # a word that appears only in the article text we send
ARTICLE = f"NATO allies agreed on Tuesday to send more troops east. {SECRET} officials welcomed it."
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture()
def client(shipped_store):
    return create_app(shipped_store, Settings()).test_client()


@pytest.fixture()
def lines(caplog):
    """The request lines written so far, as the JSON the handler writes to stderr."""
    caplog.set_level(logging.INFO, logger="newsbrief.access")
    formatter = logs.JsonFormatter()

    def read():
        return [formatter.format(r) for r in caplog.records if r.name == "newsbrief.access"]
    return read


def test_one_json_line_per_request_with_the_agreed_fields(client, lines):
    client.post("/v1/analyze", json={"text": ARTICLE})
    client.get("/healthz")
    written = lines()
    assert len(written) == 2 and all("\n" not in line for line in written)
    entry = json.loads(written[0])
    assert entry["method"] == "POST" and entry["route"] == "/v1/analyze" and entry["status"] == 200
    assert entry["documents"] == 1 and entry["duration_ms"] > 0
    assert entry["remote_addr"] == "127.0.0.1" and entry["level"] == "info"
    assert GENERATED_ID.fullmatch(entry["request_id"])
    assert json.loads(written[1])["route"] == "/healthz"


def test_an_incoming_request_id_is_kept_echoed_and_logged(client, lines):
    response = client.get("/healthz", headers={"X-Request-ID": "pipeline-7:batch_3.a"})
    assert response.headers["X-Request-ID"] == "pipeline-7:batch_3.a"
    assert json.loads(lines()[-1])["request_id"] == "pipeline-7:batch_3.a"


@pytest.mark.parametrize("unsafe", ["has spaces", "x" * 129, "quote\"and{braces}", "ünïcode", "-leading-dash",
                                    "<script>"])
def test_an_unsafe_or_overlong_request_id_is_replaced_by_a_generated_one(client, lines, unsafe):
    response = client.get("/healthz", headers={"X-Request-ID": unsafe})
    echoed = response.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(echoed)
    assert json.loads(lines()[-1])["request_id"] == echoed


def test_every_answer_carries_a_request_id_even_errors(client):
    for response in (client.get("/nowhere"), client.post("/v1/analyze", data="{", content_type="application/json"),
                     client.post("/v1/analyze", json={"text": ARTICLE})):
        assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])


def test_the_article_text_never_reaches_the_log(client, lines):
    client.post("/v1/analyze", json={"text": ARTICLE, "title": SECRET})
    client.post("/v1/analyze", json={"documents": [{"text": ARTICLE}, {"text": SECRET, "title": 5}]})
    client.post("/v1/analyze", json={"text": ARTICLE, "summary": {"algorithm": SECRET}})
    client.post(f"/v1/analyze?text={SECRET}", json={"text": ARTICLE})
    written = lines()
    assert len(written) == 4
    assert not any(SECRET in line for line in written)


def test_a_batch_line_counts_its_documents_and_the_rejected_ones(client, lines):
    documents = [{"text": ARTICLE}, {"text": ARTICLE}, {"text": " TT "}]
    client.post("/v1/analyze", json={"documents": documents})
    entry = json.loads(lines()[-1])
    assert entry["documents"] == 3 and entry["documents_rejected"] == 1


def test_an_error_line_names_the_error_code_and_counts_the_refused_article_as_rejected(client, lines):
    client.post("/v1/analyze", json={"text": "   "})
    entry = json.loads(lines()[-1])
    assert entry["status"] == 422 and entry["error"] == "empty_text"
    assert entry["documents"] == 1 and entry["documents_rejected"] == 1


def test_a_malformed_request_counts_no_document(client, lines):
    client.post("/v1/analyze", json={"title": "no text"})
    entry = json.loads(lines()[-1])
    assert entry["status"] == 400 and entry["documents"] == 0 and "documents_rejected" not in entry


def test_an_unknown_route_is_logged_by_its_path_without_query(client, lines):
    client.get("/v2/analyse?token=abc")
    entry = json.loads(lines()[-1])
    assert entry["route"] == "<unmatched>" and entry["path"] == "/v2/analyse" and entry["status"] == 404


def test_a_failure_inside_a_request_is_one_json_line_with_its_traceback_and_request_id(shipped_store):
    app = create_app(shipped_store, Settings())

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaput")

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        response = app.test_client().get("/boom", headers={"X-Request-ID": "req-1"})
    finally:
        root.removeHandler(handler)
    assert response.status_code == 500
    written = [json.loads(line) for line in stream.getvalue().splitlines()]
    failure = next(entry for entry in written if "exception" in entry)
    assert "RuntimeError: kaput" in failure["exception"] and failure["level"] == "error"
    assert failure["request_id"] == "req-1"


# --- the real server: every line JSON, exactly one per request --------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_server_writes_json_only_and_exactly_one_line_per_request(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "2", "LOG_LEVEL": "info",
           "MODEL_DIR": str(ROOT / "models")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = tmp_path / "stderr.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(base + "/readyz", timeout=2)
                    break
                except OSError:
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.2)
            sent = [f"it-{n}" for n in range(12)]
            for request_id in sent:
                body = json.dumps({"text": ARTICLE}).encode() if request_id.endswith(("0", "5")) else None
                request = urllib.request.Request(base + ("/v1/analyze" if body else "/healthz"), body,
                                                 {"Content-Type": "application/json", "X-Request-ID": request_id})
                with urllib.request.urlopen(request, timeout=30) as answer:
                    assert answer.headers["X-Request-ID"] == request_id
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    ids = [r.get("request_id") for r in records if r.get("logger") == "newsbrief.access"]
    assert sorted(i for i in ids if i.startswith("it-")) == sorted(sent)
    assert not [r for r in records if r.get("logger") == "gunicorn.access"]
    assert any(r.get("logger") == "gunicorn.error" for r in records)  # gunicorn's own lines are JSON too
    assert SECRET not in log_path.read_text()
