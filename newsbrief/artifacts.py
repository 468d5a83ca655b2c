"""Versioned model artifacts: a registry directory, a pointer to the current version, and loading
that never unpickles anything whose hash and library versions were not checked first.

Registry layout (e.g. models/):

    models/
      CURRENT                                  text: the name of the current version directory
      history.jsonl                            append-only log of promotions and rollbacks
      topics-20261125T113000Z-3f2a9c1b/        one directory per version, never modified
        model.joblib                           the estimator (joblib pickle)
        metadata.json                          name, version, created_at, model_sha256, libraries, ...
        <extra files>                          report.md, pictures, ... (their SHA-256 in metadata)

Version names are `<name>-<UTC time>Z-<first 8 hex of the model SHA-256>`: they sort by creation
time and never collide (a clash gets a `-2`, `-3` ... suffix; an existing directory is never
replaced). A version is written into a hidden temporary directory inside the registry, fsynced,
then renamed into place, so a crash leaves no half-written version.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import platform
import re
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import metadata as _importlib_metadata
from pathlib import Path
from typing import Sequence

import numpy as np

from newsbrief.errors import ArtifactError

POINTER = "CURRENT"
HISTORY = "history.jsonl"
METADATA = "metadata.json"
MODEL_FILE = "model.joblib"
FORMAT = "joblib"
LIBRARIES = ("python", "scikit-learn", "numpy", "scipy", "joblib", "sumy")
SCORE_DIGITS = 4  # decimals of a published score
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# -- library versions ----------------------------------------------------------------------------

def library_versions() -> dict[str, str]:
    """Versions of the libraries a pickled model depends on, as installed now."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES[1:]:
        try:
            versions[name] = _importlib_metadata.version(name)
        except _importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _release(version: str) -> tuple[int, ...]:
    numbers = re.match(r"^(\d+)(?:\.(\d+))?", str(version))
    if not numbers:
        return ()
    return tuple(int(n) for n in numbers.groups() if n is not None)


def check_libraries(recorded: dict, installed: dict | None = None) -> None:
    """Raise ArtifactError unless scikit-learn major.minor and numpy major match the installed ones."""
    installed = installed or library_versions()
    if not isinstance(recorded, dict):
        raise ArtifactError("metadata.json has no 'libraries' record, so the model's scikit-learn and numpy "
                            "versions cannot be checked; retrain it with python -m training.train.")
    rules = (("scikit-learn", 2, "joblib pickles are not portable across scikit-learn versions"),
             ("numpy", 1, "numpy arrays pickled under another major version may not load"))
    for library, parts, why in rules:
        want, have = recorded.get(library), installed.get(library)
        if want is None:
            raise ArtifactError(f"metadata.json does not record the {library} version the model was trained "
                                f"with; retrain it with python -m training.train under {library} {have}.")
        if _release(want)[:parts] != _release(have)[:parts] or len(_release(want)) < parts:
            level = "major.minor" if parts == 2 else "major"
            pin = ".".join(str(n) for n in _release(want)[:parts])
            raise ArtifactError(
                f"The model was trained with {library} {want} but {library} {have} is installed; the "
                f"{level} versions must match ({why}). Retrain with the installed {library} {have} "
                f"(python -m training.train ...) or install {library}=={pin}.*")


# -- reading -------------------------------------------------------------------------------------

def resolve_version(path) -> Path:
    """The version directory `path` designates: itself if it holds metadata.json, else the version
    named by its CURRENT pointer. Nothing is unpickled."""
    path = Path(path)
    if not path.is_dir():
        raise ArtifactError(f"Model directory {path} does not exist (or is not a directory); set MODEL_DIR "
                            "to a registry such as models/ or to one of its version directories.")
    if (path / METADATA).is_file():
        return path
    pointer = path / POINTER
    if not pointer.is_file():
        versions = list_versions(path)
        hint = (f"; it holds {', '.join(versions)}: choose one with "
                f"python -m training.promote --models {path} --rollback VERSION" if versions
                else "; train one with python -m training.train --output " + str(path))
        raise ArtifactError(f"{path} is neither a model version (no {METADATA}) nor a registry with a "
                            f"{POINTER} pointer{hint}")
    name = pointer.read_text(encoding="utf-8").strip()
    if not _SAFE_NAME.match(name):
        raise ArtifactError(f"{pointer} must hold the name of a version directory, found {name!r}; "
                            f"repair it with python -m training.promote --models {path} --rollback VERSION")
    version_dir = path / name
    if not (version_dir / METADATA).is_file():
        raise ArtifactError(f"{pointer} names {name!r}, but {version_dir} is not a model version (no {METADATA}); "
                            f"choose an existing one with python -m training.promote --models {path} "
                            "--rollback VERSION")
    return version_dir


def read_metadata(version_dir) -> dict:
    """metadata.json of a version directory, as a dict (ArtifactError if missing or invalid)."""
    meta_path = Path(version_dir) / METADATA
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{meta_path} is missing; {version_dir} is not a model version.") from None
    except (OSError, ValueError) as error:
        raise ArtifactError(f"{meta_path} cannot be read as JSON ({error}); the version is damaged, "
                            "retrain or roll back to another version.") from None
    if not isinstance(meta, dict):
        raise ArtifactError(f"{meta_path} must hold a JSON object; the version is damaged.")
    return meta


def _verified_model_bytes(version_dir) -> tuple[dict, bytes]:
    """Metadata and the model file's bytes, after checking format, hash and library versions."""
    version_dir = Path(version_dir)
    meta = read_metadata(version_dir)
    if meta.get("format") != FORMAT:
        raise ArtifactError(f"{version_dir / METADATA} declares format {meta.get('format')!r}; only {FORMAT!r} "
                            "models written by python -m training.train can be loaded.")
    model_file = meta.get("model_file")
    if not isinstance(model_file, str) or not _SAFE_NAME.match(model_file):
        raise ArtifactError(f"{version_dir / METADATA} has model_file {model_file!r}; expected a file name "
                            f"inside the version directory such as {MODEL_FILE!r}.")
    expected = meta.get("model_sha256")
    if not isinstance(expected, str) or not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise ArtifactError(f"{version_dir / METADATA} has no valid model_sha256, so {model_file} cannot be "
                            "verified; it will not be loaded. Retrain with python -m training.train.")
    check_libraries(meta.get("libraries"))
    try:
        data = (version_dir / model_file).read_bytes()
    except OSError as error:
        raise ArtifactError(f"Cannot read {version_dir / model_file}: {error.strerror or error}.") from None
    found = hashlib.sha256(data).hexdigest()
    if found != expected:
        raise ArtifactError(
            f"{version_dir / model_file} has SHA-256 {found}, but {METADATA} records {expected}: the file "
            "was changed or corrupted after training, so it will not be unpickled. Restore the version "
            "from a clean copy, retrain, or roll back to another version.")
    return meta, data


def verify(version_dir) -> dict:
    """The version's metadata if its model file hash and library versions check out; else ArtifactError."""
    meta, _ = _verified_model_bytes(version_dir)
    return meta


@dataclass
class LoadedModel:
    """A verified, unpickled model with what the service needs to use and describe it."""

    name: str
    version: str
    labels: tuple[str, ...]
    thresholds: dict[str, float]
    metadata: dict
    path: Path
    estimator: object = field(repr=False)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities in 0..1, one row per text and one column per label (in `labels` order),
        rounded to SCORE_DIGITS decimals: the scores the service shows are the ones decided on."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.labels)))
        result = self.estimator.predict_proba(texts)
        if isinstance(result, list):  # one (n, 2) array per label, as sklearn's multi-output wrappers return
            result = np.column_stack([np.asarray(column)[:, -1] for column in result])
        result = np.asarray(result, dtype=float)
        if result.shape != (len(texts), len(self.labels)):
            raise ArtifactError(f"Model {self.version} returned scores of shape {result.shape}, expected "
                                f"{(len(texts), len(self.labels))}; the artifact does not match its metadata.")
        return np.round(result, SCORE_DIGITS)

    def decide(self, scores: np.ndarray) -> list[tuple[str, ...]]:
        """The labels whose score reaches their threshold, per row of `scores`."""
        return [tuple(label for label, p in zip(self.labels, row) if p >= self.thresholds[label])
                for row in np.asarray(scores)]

    def explain(self, text: str, top: int = 8) -> dict[str, list[dict]]:
        """The terms that pushed each label's score for `text` (delegated to the estimator)."""
        explain = getattr(self.estimator, "explain", None)
        if explain is None:
            raise ArtifactError(f"Model {self.version} cannot explain its scores (its estimator has no explain()).")
        return explain(text, top=top)


def load_model(path) -> LoadedModel:
    """Resolve `path` (registry or version directory), verify it, and only then unpickle it."""
    import joblib  # imported here: verification above needs no unpickling machinery

    version_dir = resolve_version(path)
    meta, data = _verified_model_bytes(version_dir)
    try:
        # unpickle exactly the bytes that were hashed, not a second read of the file
        estimator = joblib.load(io.BytesIO(data))
    except Exception as error:
        raise ArtifactError(f"{version_dir / meta['model_file']} passed verification but could not be loaded "
                            f"({type(error).__name__}: {error}); retrain with the installed libraries.") from None
    if not callable(getattr(estimator, "predict_proba", None)):
        raise ArtifactError(f"{version_dir / meta['model_file']} holds a {type(estimator).__name__}, which has no "
                            "predict_proba(); it is not a newsbrief topic model.")
    fitted = getattr(estimator, "labels_", None)
    labels = meta.get("labels") or fitted
    if not labels or not all(isinstance(label, str) for label in labels):
        raise ArtifactError(f"{version_dir / METADATA} lists no labels; retrain with python -m training.train.")
    labels = tuple(labels)
    if fitted is not None and tuple(fitted) != labels:
        raise ArtifactError(f"{version_dir / METADATA} lists labels {list(labels)} but the model scores "
                            f"{list(fitted)}; the metadata does not describe this model. Retrain.")
    thresholds = meta.get("thresholds") or getattr(estimator, "thresholds_", None) or {}
    missing = [label for label in labels if label not in thresholds]
    if missing:
        raise ArtifactError(f"{version_dir / METADATA} has no decision threshold for {missing}; expected one per "
                            f"label {list(labels)}. Retrain with python -m training.train.")
    return LoadedModel(
        name=str(meta.get("name", "topics")),
        version=str(meta.get("version", version_dir.name)),
        labels=labels,
        thresholds={label: float(thresholds[label]) for label in labels},
        metadata=meta,
        path=version_dir,
        estimator=estimator,
    )


def list_versions(root) -> list[str]:
    """Names of the version directories in a registry, oldest first (hidden temp dirs excluded)."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        if child.name.startswith(".") or not (child / METADATA).is_file():
            continue
        try:
            created = str(read_metadata(child).get("created_at", ""))
        except ArtifactError:
            created = ""
        found.append((created, child.name))
    return [name for _, name in sorted(found)]


def current_version(root) -> str | None:
    """The name CURRENT holds, or None if the registry has no pointer yet."""
    try:
        return (Path(root) / POINTER).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


# -- writing -------------------------------------------------------------------------------------

def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (Path, _dt.datetime)):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"metadata value of type {type(value).__name__} is not JSON serialisable")


def _check_extra_name(name: str) -> None:
    parts = name.split("/")
    if not name or any(not _SAFE_NAME.match(part) for part in parts) or name in (MODEL_FILE, METADATA):
        raise ValueError(f"extra file name {name!r} must be a relative path of plain names "
                         f"(letters, digits, '_', '-', '.') other than {MODEL_FILE} and {METADATA}")


def save_version(root, model_object, metadata: dict, extra_files: dict[str, bytes] | None = None) -> Path:
    """Write a new version directory into the registry `root` atomically and return its path.

    The first version of a registry becomes current; later ones are candidates for
    python -m training.promote (a note says so on stderr)."""
    import joblib

    root = Path(root)
    extra_files = dict(extra_files or {})
    for name in extra_files:
        _check_extra_name(name)
    name = str(metadata.get("name", "topics"))
    if not _SAFE_NAME.match(name):
        raise ValueError(f"model name {name!r} must consist of letters, digits, '_', '-' and '.'")
    root.mkdir(parents=True, exist_ok=True)
    created = _dt.datetime.now(_dt.timezone.utc)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a service user other than the trainer must read it
        model_path = staging / MODEL_FILE
        with open(os.open(model_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "wb") as handle:
            joblib.dump(model_object, handle)
            handle.flush()
            os.fsync(handle.fileno())
        model_sha = _file_sha256(model_path)
        files = {}
        for extra, data in extra_files.items():
            target = staging / extra
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            _write_file(target, data)
            files[extra] = hashlib.sha256(data).hexdigest()
        for folder in {(staging / extra).parent for extra in extra_files} - {staging}:
            _fsync_dir(folder)
        base = f"{name}-{created:%Y%m%dT%H%M%S}Z-{model_sha[:8]}"
        meta = dict(metadata)
        meta.update(name=name, created_at=created.isoformat(timespec="microseconds"), model_file=MODEL_FILE,
                    model_sha256=model_sha, format=FORMAT, libraries=library_versions())
        if files:
            meta["files"] = files
        final = _rename_into_place(root, staging, base, meta)
    except BaseException:
        _remove_tree(staging)
        raise
    _fsync_dir(root)
    if _create_pointer(root, final.name):
        append_history(root, {"action": "initial", "to": final.name})
    else:
        print(f"Saved candidate {final.name} in {root} (current is {current_version(root)}). Compare and "
              f"promote it with: python -m training.promote --models {root} --candidate {final.name} "
              "--data HELD_OUT.jsonl", file=sys.stderr)
    return final


def _rename_into_place(root: Path, staging: Path, base: str, meta: dict) -> Path:
    """Write metadata.json (whose `version` is the final name) and rename staging to that name."""
    for attempt in range(1, 1000):
        version = base if attempt == 1 else f"{base}-{attempt}"
        final = root / version
        if final.exists():
            continue
        meta["version"] = version
        meta_path = staging / METADATA
        if meta_path.exists():
            meta_path.unlink()
        _write_file(meta_path, (json.dumps(meta, indent=2, sort_keys=True, default=_json_default) + "\n").encode())
        _fsync_dir(staging)
        try:
            os.rename(staging, final)  # fails if `final` appeared meanwhile and is not empty
        except OSError:
            if final.exists():
                continue
            raise
        return final
    raise ArtifactError(f"Could not find a free version name for {base} in {root}.")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove_tree(path: Path) -> None:
    if not path.exists():
        return
    for child in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        child.rmdir() if child.is_dir() else child.unlink()
    path.rmdir()


def _write_pointer_temp(root: Path, version: str) -> Path:
    fd, temp = tempfile.mkstemp(prefix=f".{POINTER}.", dir=root)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write((version + "\n").encode())
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:  # e.g. a full disk: leave no stray temporary file in the registry
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def _create_pointer(root: Path, version: str) -> bool:
    """Make `version` current only if the registry has no pointer yet (atomic); True if it did."""
    temp = _write_pointer_temp(root, version)
    try:
        os.link(temp, root / POINTER)
    except FileExistsError:
        return False
    finally:
        temp.unlink()
    _fsync_dir(root)
    return True


def set_current(root, version: str) -> None:
    """Point CURRENT at an existing version, atomically (readers see the old or the new name)."""
    root = Path(root)
    if not _SAFE_NAME.match(version or "") or not (root / version / METADATA).is_file():
        known = ", ".join(list_versions(root)) or "none"
        raise ArtifactError(f"{version!r} is not a version in {root}; versions there: {known}")
    temp = _write_pointer_temp(root, version)
    try:
        os.replace(temp, root / POINTER)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(root)


def append_history(root, entry: dict) -> None:
    """Append one JSON line to the registry's history log (time added), fsynced."""
    record = {"time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    record.update(entry)
    line = (json.dumps(record, sort_keys=True, default=_json_default) + "\n").encode()
    fd = os.open(Path(root) / HISTORY, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_history(root) -> list[dict]:
    """The registry's history entries, oldest first (unreadable lines skipped)."""
    try:
        lines = (Path(root) / HISTORY).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries
