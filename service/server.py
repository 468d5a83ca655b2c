"""The production server: gunicorn, configured from Settings, one model per worker.

Before gunicorn starts, the model the registry points at must prove servable (file hash and
library versions verified, then loaded and answering in a child process, so the master never
unpickles it); its version directory is pinned in the environment that workers inherit. On
SIGHUP the same check runs on the version now current: a good one is pinned and gunicorn rolls
the workers gracefully onto it; a bad one is refused and the workers it starts keep serving the
version pinned before.

The master's PID goes to PID_FILE (default <temp dir>/newsbrief-<PORT>.pid) and into the start-up
log line; `python -m service reload` sends it SIGHUP. A port already in use stops the start with
one line instead of gunicorn's retries.
"""
from __future__ import annotations

import errno
import logging
import os
import signal
import socket
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
            "pidfile": str(s.pid_file) if s.pid_file else None,
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
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["reload"]:
        return reload()
    if argv:
        print("usage: python -m service          start the server (settings from the environment)\n"
              "       python -m service reload   send SIGHUP to the running server's gunicorn master "
              "(found through PID_FILE)", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"newsbrief: {error}", file=sys.stderr)
        return 2
    busy = port_in_use(settings.host, settings.port)
    if busy:
        print(f"newsbrief: {busy}", file=sys.stderr)
        return 2
    try:  # a model that cannot be served stops the start (exit 2) instead of a never-ready service
        version_dir = servable_version(settings.model_dir)
    except ArtifactError as error:
        print(f"newsbrief: MODEL_DIR={settings.model_dir}: {error}", file=sys.stderr)
        return 2
    os.environ[PINNED_VERSION_ENV] = str(version_dir)  # what every worker loads, until a SIGHUP
    if settings.pid_file and settings.pid_file.exists():
        settings.pid_file.unlink()  # the port is free, so no server of ours owns it: stale
    logs.setup(settings.log_level)  # JSON lines on stderr
    log.info("model pinned: %s", version_dir)
    # gunicorn runs its master in this process: this is the PID that SIGHUP must reach
    log.info("starting on %s:%d, gunicorn master pid %d (pid file %s): reload the model with "
             "python -m service reload or kill -HUP %d", settings.host, settings.port, os.getpid(),
             settings.pid_file, os.getpid())
    sys.argv = sys.argv[:1]  # gunicorn must not parse our arguments
    Server(settings).run()
    return 0


def port_in_use(host: str, port: int) -> str | None:
    """A one-line reason if (host, port) cannot be bound, checked before gunicorn (which would retry
    for 5 s and end with "Can't connect"); None if it is free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"port {port} is in use; set PORT (e.g. PORT={port + 1 if port < 65535 else 8000} make serve)"
            return f"cannot listen on {host}:{port}: {error.strerror or error}; set HOST and PORT"
    return None


def reload() -> int:
    """`python -m service reload`: SIGHUP to the gunicorn master named by PID_FILE (same PORT or
    PID_FILE as the server's environment), so that it checks and loads the current model."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"newsbrief: {error}", file=sys.stderr)
        return 2
    pid_file = settings.pid_file
    try:
        pid = int(pid_file.read_text().strip())
    except FileNotFoundError:
        print(f"newsbrief: no server PID file at {pid_file}; is the server running with this PORT "
              "(or PID_FILE)? Its start-up log line names the master PID for kill -HUP.", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"newsbrief: cannot read a PID from {pid_file}: {error}", file=sys.stderr)
        return 1
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        print(f"newsbrief: {pid_file} names PID {pid}, which is not running; the server has stopped.",
              file=sys.stderr)
        return 1
    except PermissionError:
        print(f"newsbrief: not allowed to signal PID {pid} (from {pid_file}); run as the server's user.",
              file=sys.stderr)
        return 1
    print(f"Sent SIGHUP to the gunicorn master {pid} (from {pid_file}): it checks the current model and "
          "rolls the workers onto it; GET /v1/model names the version served.")
    return 0
