"""Holds the model a worker serves and swaps it without failing a request in flight."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from newsbrief.analyze import Analyzer
from newsbrief.artifacts import load_model, resolve_version, verify
from newsbrief.errors import ArtifactError, ModelNotLoaded

log = logging.getLogger("newsbrief.store")

# Set by the gunicorn master to the version directory it verified; workers load exactly that.
PINNED_VERSION_ENV = "NEWSBRIEF_PINNED_VERSION"


class ModelStore:
    """The current Analyzer, or the reason there is none. Requests read `analyzer` once and keep
    that object, so a swap never changes the model under a request that already started."""

    def __init__(self, model_dir: Path | str):
        self.model_dir = Path(model_dir)
        self._analyzer: Analyzer | None = None
        self.error: str | None = None
        self._lock = threading.Lock()

    @property
    def analyzer(self) -> Analyzer:
        analyzer = self._analyzer
        if analyzer is None:
            raise ModelNotLoaded(
                f"No model is loaded ({self.error or 'still loading'}); retry shortly, "
                "or check GET /readyz and the service log.")
        return analyzer

    @property
    def ready(self) -> bool:
        return self._analyzer is not None

    def load(self, path: Path | str | None = None) -> Analyzer:
        """Load and verify `path` (default: the pinned version, else MODEL_DIR) and swap it in.
        On failure keep the model already loaded and raise ArtifactError."""
        target = Path(path or os.environ.get(PINNED_VERSION_ENV) or self.model_dir)
        with self._lock:
            try:
                analyzer = Analyzer(load_model(target))
                analyzer.analyze("Ministers met in Geneva on Monday for talks on a ceasefire.")
            except Exception as error:  # a model that cannot answer is refused, whatever broke
                self.error = str(error)
                kept = f"; keeping {self._analyzer.model.version}" if self._analyzer else ""
                log.error("model refused: %s%s", error, kept)
                if isinstance(error, ArtifactError):
                    raise
                raise ArtifactError(f"The model at {target} failed its self-check: {error}") from error
            self._analyzer, self.error = analyzer, None
        log.info("model loaded: %s %s from %s", analyzer.model.name, analyzer.model.version, target)
        return analyzer


def check_loads(version_dir: Path | str, timeout: float = 120.0) -> None:
    """Load `version_dir` and run the self-check in a child process (so the caller, e.g. the
    gunicorn master, never unpickles a model itself); raise ArtifactError with the reason."""
    code = ("import sys; from service.store import ModelStore; "
            "ModelStore(sys.argv[1]).load(sys.argv[1])")
    try:
        done = subprocess.run([sys.executable, "-c", code, str(version_dir)], capture_output=True,
                              text=True, timeout=timeout, env={**os.environ, PINNED_VERSION_ENV: ""})
    except subprocess.TimeoutExpired:
        raise ArtifactError(f"Loading {version_dir} took more than {timeout:.0f} s; refused.") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise ArtifactError(f"The model at {version_dir} failed to load: {reason}")


def servable_version(model_dir: Path | str) -> Path:
    """The version directory `model_dir` designates, once its file hash and library versions are
    verified and a child process has loaded it and answered; else ArtifactError with the reason."""
    version_dir = resolve_version(model_dir)
    verify(version_dir)
    check_loads(version_dir)
    return version_dir
