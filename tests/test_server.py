"""The production server for real: gunicorn with two workers on 127.0.0.1, model hot swap under
load (SIGHUP and the admin route), refusal of a tampered model, graceful stop."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from newsbrief.artifacts import resolve_version, set_current

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-admin-token"
ARTICLE = {"text": "NATO allies agreed on Tuesday to send more troops to the alliance's eastern flank."}

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url, body=None, headers=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def copy_version(source: Path, registry: Path, name: str) -> str:
    """A second servable version: same verified model file, its own version name."""
    target = registry / name
    shutil.copytree(source, target)
    meta = json.loads((target / "metadata.json").read_text())
    meta["version"] = name
    (target / "metadata.json").write_text(json.dumps(meta))
    return name


def unloadable(registry: Path, name: str) -> None:
    """A version that passes verification (hash and libraries match) but is no classifier."""
    import hashlib
    import joblib

    target = registry / name
    shutil.copytree(resolve_version(ROOT / "models"), target)
    joblib.dump({"not": "a model"}, target / "model.joblib")
    meta = json.loads((target / "metadata.json").read_text())
    meta["version"] = name
    meta["model_sha256"] = hashlib.sha256((target / "model.joblib").read_bytes()).hexdigest()
    (target / "metadata.json").write_text(json.dumps(meta))


@pytest.fixture()
def registry(tmp_path):
    shipped = resolve_version(ROOT / "models")
    registry = tmp_path / "models"
    registry.mkdir()
    for name in ("topics-a", "topics-b", "topics-tampered"):
        copy_version(shipped, registry, name)
    with open(registry / "topics-tampered" / "model.joblib", "ab") as handle:
        handle.write(b"tampered")
    unloadable(registry, "topics-broken")
    set_current(registry, "topics-a")
    return registry


@pytest.fixture()
def server(registry, tmp_path):
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "2", "MODEL_DIR": str(registry),
           "NEWSBRIEF_ADMIN_TOKEN": TOKEN, "LOG_LEVEL": "info"}
    log = open(tmp_path / "server.log", "w+")
    process = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if call(base + "/readyz")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("server not ready within 60 s:\n" + (tmp_path / "server.log").read_text())
    yield base, process, tmp_path / "server.log"
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    log.close()


class Load:
    """Requests in a loop from two threads until stopped; records every status and version seen."""

    def __init__(self, base):
        self.base, self.stop, self.results = base, threading.Event(), []
        self.threads = [threading.Thread(target=self.run) for _ in range(2)]

    def run(self):
        while not self.stop.is_set():
            try:
                status, body = call(self.base + "/v1/analyze", ARTICLE, timeout=30)
                self.results.append((status, body.get("model", {}).get("version")))
            except OSError as error:  # a refused or reset connection is a failed request too
                self.results.append((repr(error), None))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def wait_for_version(base, version, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if call(base + "/v1/model")[1].get("version") == version:
            return True
        time.sleep(0.2)
    return False


def test_sighup_swaps_the_model_under_load_without_failing_a_request(server, registry):
    base, process, _ = server
    with Load(base) as load:
        time.sleep(1)
        set_current(registry, "topics-b")
        process.send_signal(signal.SIGHUP)
        assert wait_for_version(base, "topics-b", seconds=60)
        time.sleep(1)
    statuses = [status for status, _ in load.results]
    assert len(statuses) > 20
    assert set(statuses) == {200}, [s for s in statuses if s != 200][:5]
    versions = [v for _, v in load.results]
    assert versions[-1] == "topics-b" and "topics-a" in versions
    assert call(base + "/v1/analyze", ARTICLE)[1]["model"]["version"] == "topics-b"


def test_a_tampered_model_is_refused_and_the_service_keeps_its_model(server, registry):
    base, process, log = server
    set_current(registry, "topics-tampered")
    process.send_signal(signal.SIGHUP)
    time.sleep(3)
    assert call(base + "/readyz")[0] == 200
    assert call(base + "/v1/model")[1]["version"] == "topics-a"
    assert "SHA-256" in log.read_text()


def test_a_model_that_verifies_but_cannot_load_is_refused_before_any_worker_is_rolled(server, registry):
    base, process, log = server
    set_current(registry, "topics-broken")
    status, body = call(base + "/admin/reload", {}, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 409 and "predict_proba" in body["error"]["message"]
    with Load(base) as load:
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while "failed to load" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)
    assert "failed to load" in log.read_text()
    assert {status for status, _ in load.results} == {200}
    assert {version for _, version in load.results} == {"topics-a"}
    assert call(base + "/v1/model")[1]["version"] == "topics-a"


def test_the_admin_route_needs_the_token_refuses_a_tampered_model_and_swaps_a_good_one(server, registry):
    base, _, _ = server
    assert call(base + "/admin/reload", {})[0] == 401
    assert call(base + "/admin/reload", {}, {"Authorization": "Bearer wrong"})[0] == 403
    set_current(registry, "topics-tampered")
    status, body = call(base + "/admin/reload", {}, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 409 and "SHA-256" in body["error"]["message"]
    set_current(registry, "topics-b")
    with Load(base) as load:  # the check loads the model in a child process: slow on a busy machine
        status, body = call(base + "/admin/reload", {}, {"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        assert status == 202 and body["version"] == "topics-b"
        assert wait_for_version(base, "topics-b", seconds=60)
    assert {status for status, _ in load.results} == {200}


def test_sigterm_drains_and_stops_the_server(server):
    base, process, _ = server
    assert call(base + "/v1/analyze", ARTICLE)[0] == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


@pytest.mark.parametrize("current, reason", [("topics-tampered", "SHA-256"), ("topics-broken", "predict_proba"),
                                             (None, "does not exist")])
def test_a_model_dir_that_cannot_be_served_stops_the_start_with_exit_2(registry, tmp_path, current, reason):
    if current:
        set_current(registry, current)
        model_dir = registry
    else:
        model_dir = tmp_path / "no-such-dir"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(free_port()), "MODEL_DIR": str(model_dir)}
    done = subprocess.run([sys.executable, "-m", "service"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("newsbrief: MODEL_DIR=") and reason in done.stderr


def test_the_master_pid_is_logged_and_in_the_pid_file_and_service_reload_signals_it(server, registry):
    import tempfile

    base, process, log = server
    port = base.rsplit(":", 1)[1]
    pid_file = Path(tempfile.gettempdir()) / f"newsbrief-{port}.pid"
    assert int(pid_file.read_text()) == process.pid  # gunicorn's master is the `python -m service` process
    assert f"gunicorn master pid {process.pid}" in log.read_text()
    set_current(registry, "topics-b")
    env = {**os.environ, "PORT": port}
    done = subprocess.run([sys.executable, "-m", "service", "reload"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and f"SIGHUP to the gunicorn master {process.pid}" in done.stdout
    deadline = time.monotonic() + 30  # the master checked and pinned the new version: workers roll onto it
    while "topics-b" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert f"model pinned: {registry / 'topics-b'}" in log.read_text()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not pid_file.exists()  # removed on a clean stop


def test_service_reload_without_a_running_server_says_what_to_check(tmp_path, monkeypatch, capsys):
    from service.server import main

    monkeypatch.setenv("PID_FILE", str(tmp_path / "newsbrief.pid"))
    assert main(["reload"]) == 1
    err = capsys.readouterr().err
    assert "no server PID file" in err and "kill -HUP" in err and err.count("\n") == 1


def test_a_busy_port_stops_the_start_at_once_with_one_line(tmp_path, monkeypatch, capsys):
    from service.server import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for name, value in {"HOST": "127.0.0.1", "PORT": str(port), "PID_FILE": str(tmp_path / "pid")}.items():
            monkeypatch.setenv(name, value)
        assert main([]) == 2  # before the model check and gunicorn: no "Retrying in 1 second" for 5 s
    assert capsys.readouterr().err == f"newsbrief: port {port} is in use; set PORT (e.g. PORT={port + 1} make serve)\n"


def test_unknown_arguments_get_the_usage(capsys):
    from service.server import main

    assert main(["--port", "9000"]) == 2
    assert "python -m service reload" in capsys.readouterr().err
