"""Settings of the HTTP service, read from the environment once at start-up."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# gevent: every connection is a greenlet, so slow clients cannot hold the workers (the default);
# gthread/sync: THREADS threads per worker, for running behind a buffering proxy (docs/reliability.md).
WORKER_CLASSES = ("gevent", "gthread", "sync")


class SettingsError(ValueError):
    """An environment variable with a value the service cannot use."""


def _integer(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {value}.")
    return value


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 2
    timeout: int = 30
    max_body: int = 5 * 1024 * 1024
    body_timeout: int = 15
    worker_class: str = "gevent"
    model_dir: Path = DEFAULT_MODEL_DIR
    log_level: str = "info"
    admin_token: str | None = None
    pid_file: Path | None = None  # the gunicorn master's PID; default: <temp dir>/newsbrief-<PORT>.pid

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        log_level = environ.get("LOG_LEVEL", cls.log_level).strip().lower() or cls.log_level
        if log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}.")
        worker_class = environ.get("WORKER_CLASS", cls.worker_class).strip().lower() or cls.worker_class
        if worker_class not in WORKER_CLASSES:
            raise SettingsError(f"WORKER_CLASS must be one of {', '.join(WORKER_CLASSES)}, not {worker_class!r}.")
        port = _integer(environ, "PORT", cls.port, 1, 65535)
        pid_file = environ.get("PID_FILE", "").strip() or os.path.join(tempfile.gettempdir(), f"newsbrief-{port}.pid")
        return cls(
            host=environ.get("HOST", cls.host).strip() or cls.host,
            port=port,
            workers=_integer(environ, "WORKERS", cls.workers, 1, 64),
            threads=_integer(environ, "THREADS", cls.threads, 1, 64),
            timeout=_integer(environ, "TIMEOUT", cls.timeout, 1, 3600),
            max_body=_integer(environ, "MAX_BODY", cls.max_body, 1024, 1024 ** 3),
            body_timeout=_integer(environ, "BODY_TIMEOUT", cls.body_timeout, 1, 3600),
            worker_class=worker_class,
            model_dir=Path(environ.get("MODEL_DIR", "").strip() or DEFAULT_MODEL_DIR),
            log_level=log_level,
            admin_token=environ.get("NEWSBRIEF_ADMIN_TOKEN") or None,
            pid_file=Path(pid_file),
        )
