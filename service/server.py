"""The production server: gunicorn, configured from Settings, one model per worker.

Before gunicorn starts, the model the registry points at must prove servable (file hash and
library versions verified, then loaded and answering in a child process, so the master never
unpickles it); its version directory is pinned in the environment that workers inherit. On
SIGHUP the same check runs on the version now current: a good one is pinned and gunicorn rolls
the workers gracefully onto it; a bad one is refused and the workers it starts keep serving the
version pinned before.
"""
from __future__ import annotations

import logging
import os
import sys

from gunicorn.app.base import BaseApplication

from newsbrief.errors import ArtifactError

from . import logs, metrics
from .app import MASTER_PID_ENV, create_app
from .config import Settings, SettingsError
from .store import PINNED_VERSION_ENV, ModelStore, servable_version

log = logging.getLogger("newsbrief.server")


def pin_model(settings: Settings) -> None:
    """On SIGHUP: pin the version MODEL_DIR now designates for the workers, once it proves
    servable (store.servable_version); a refused one leaves the old pin in place."""
    try:
        version_dir = servable_version(settings.model_dir)
    except ArtifactError as error:
        kept = os.environ.get(PINNED_VERSION_ENV)
        log.error("model refused: %s%s", error, f"; workers keep {kept}" if kept else "")
        return
    os.environ[PINNED_VERSION_ENV] = str(version_dir)
    log.info("model pinned: %s", version_dir)


def build_app(settings: Settings):
    """Called in each worker: load the pinned model once, then serve."""
    store = ModelStore(settings.model_dir)
    try:
        store.load()
    except ArtifactError:
        pass  # /readyz answers 503 with the reason; the error is logged
    return create_app(store, settings)


def worker_class(settings: Settings) -> str:
    """gevent by default: each connection is a greenlet, so slow or stalled clients wait in the
    worker without holding it, while the analysis itself runs one request at a time per worker
    (it is CPU-bound: threads would only share the GIL). gthread/sync for a buffering proxy."""
    if settings.worker_class == "gthread" and settings.threads == 1:
        return "sync"
    return settings.worker_class


class Server(BaseApplication):
    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self):
        s = self.settings
        host = f"[{s.host}]" if ":" in s.host else s.host
        options = {
            "bind": f"{host}:{s.port}",
            "workers": s.workers,
            "threads": s.threads,
            "worker_class": worker_class(s),
            "timeout": s.timeout,
            "graceful_timeout": s.timeout,
            "loglevel": s.log_level,
            "preload_app": False,
            "on_starting": self._on_starting,
            "on_reload": lambda server: pin_model(self.settings),
        }
        options.update(metrics.gunicorn_options())  # multiprocess metrics dir, child_exit
        options.update(logs.gunicorn_options())     # JSON log lines, no second access log
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25: no gunicornc socket
            options["control_socket_disable"] = True      # (it needs a writable HOME; unused here)
        for key, value in options.items():
            self.cfg.set(key, value)

    def _on_starting(self, server):
        os.environ[MASTER_PID_ENV] = str(os.getpid())

    def load(self):
        return build_app(self.settings)


def main(argv: list[str] | None = None) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"newsbrief: {error}", file=sys.stderr)
        return 2
    try:  # a model that cannot be served stops the start (exit 2) instead of a never-ready service
        version_dir = servable_version(settings.model_dir)
    except ArtifactError as error:
        print(f"newsbrief: MODEL_DIR={settings.model_dir}: {error}", file=sys.stderr)
        return 2
    os.environ[PINNED_VERSION_ENV] = str(version_dir)  # what every worker loads, until a SIGHUP
    logs.setup(settings.log_level)  # JSON lines on stderr
    log.info("model pinned: %s", version_dir)
    sys.argv = sys.argv[:1]  # gunicorn must not parse our arguments
    Server(settings).run()
    return 0
