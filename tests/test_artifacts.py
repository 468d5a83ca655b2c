"""newsbrief.artifacts: versions are written atomically, never overwritten, and loaded only verified."""
import json
import os
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest

from newsbrief import artifacts
from newsbrief.artifacts import (
    LoadedModel, current_version, library_versions, list_versions, load_model, read_history,
    resolve_version, save_version, set_current, verify,
)
from newsbrief.errors import ArtifactError

LABELS = ["conflict", "diplomacy", "alliances"]
ROOT = Path(__file__).resolve().parents[1]
META = {"labels": LABELS, "thresholds": {"conflict": 0.5, "diplomacy": 0.4, "alliances": 0.3}}


class StandIn:
    """A tiny estimator with the scoring interface of the topic model: score = share of label words."""

    words = {"conflict": "war", "diplomacy": "talks", "alliances": "nato"}

    def __init__(self, bias=0.0):
        self.bias = bias

    def predict_proba(self, texts):
        return np.array([[min(1.0, self.bias + (self.words[label] in text)) for label in LABELS]
                         for text in texts])

    def explain(self, text, top=8):
        return {label: [{"term": self.words[label], "weight": 1.0}] for label in LABELS
                if self.words[label] in text}


@pytest.fixture
def registry(tmp_path):
    return tmp_path / "models"


def metadata_of(version_dir):
    return json.loads((Path(version_dir) / "metadata.json").read_text())


def rewrite_metadata(version_dir, **changes):
    meta = metadata_of(version_dir)
    meta.update(changes)
    (Path(version_dir) / "metadata.json").write_text(json.dumps(meta))


def test_a_saved_version_holds_the_model_its_hash_library_versions_and_the_callers_metadata(registry):
    version = save_version(registry, StandIn(), dict(META, corpus_sha256="ab" * 32, metrics={"f1": np.float64(0.7)}),
                           {"report.md": b"# Report\n", "figures/pr.png": b"\x89PNG"})
    meta = metadata_of(version)
    assert meta["version"] == version.name and version.parent == registry
    assert meta["format"] == "joblib" and meta["model_file"] == "model.joblib"
    assert meta["model_sha256"] == artifacts._file_sha256(version / "model.joblib")
    assert meta["libraries"] == library_versions()
    assert set(meta["libraries"]) == {"python", "scikit-learn", "numpy", "scipy", "joblib", "sumy"}
    assert meta["labels"] == LABELS and meta["corpus_sha256"] == "ab" * 32 and meta["metrics"] == {"f1": 0.7}
    assert (version / "report.md").read_bytes() == b"# Report\n"
    assert (version / "figures" / "pr.png").read_bytes() == b"\x89PNG"
    assert set(meta["files"]) == {"report.md", "figures/pr.png"}


def test_the_first_version_becomes_current_and_later_ones_wait_as_candidates(registry, capsys):
    first = save_version(registry, StandIn(), META)
    assert current_version(registry) == first.name
    assert capsys.readouterr().err == ""
    second = save_version(registry, StandIn(bias=0.1), META)
    assert current_version(registry) == first.name
    err = capsys.readouterr().err
    assert second.name in err and "training.promote" in err
    assert list_versions(registry) == [first.name, second.name]
    assert [entry["action"] for entry in read_history(registry)] == ["initial"]


def test_version_names_sort_in_creation_order_and_never_collide(registry):
    names = [save_version(registry, StandIn(), META).name for _ in range(4)]  # same model, same second
    assert len(set(names)) == 4
    assert list_versions(registry) == names
    assert all(metadata_of(registry / name)["model_sha256"] == metadata_of(registry / names[0])["model_sha256"]
               for name in names)


def test_a_crash_while_writing_leaves_no_version_and_no_pointer(registry, monkeypatch):
    save_calls = []

    def crash(*args, **kwargs):
        save_calls.append(args)
        raise OSError("disk full")

    monkeypatch.setattr(artifacts, "_rename_into_place", crash)
    with pytest.raises(OSError, match="disk full"):
        save_version(registry, StandIn(), META, {"report.md": b"x"})
    assert save_calls  # the crash happened after the model and extra files were written
    assert list_versions(registry) == []
    assert current_version(registry) is None
    assert list(registry.iterdir()) == []  # the staging directory is gone too


def test_a_writer_killed_mid_save_leaves_no_version_and_the_registry_keeps_serving(registry, tmp_path):
    first = save_version(registry, StandIn(), META)
    script = tmp_path / "killed.py"
    script.write_text(
        "import os, sys\n"
        "from newsbrief import artifacts\n"
        "real_write = artifacts._write_file\n"
        "def write_then_die(path, data):\n"
        "    real_write(path, data)\n"
        "    os._exit(9)  # killed after the model and metadata.json are on disk, before the rename\n"
        "artifacts._write_file = write_then_die\n"
        "artifacts.save_version(sys.argv[1], {'any': 'object'}, {'labels': ['x']})\n")
    result = subprocess.run([sys.executable, str(script), str(registry)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 9
    leftovers = [p for p in registry.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers and (leftovers[0] / "metadata.json").exists()  # it really died mid-save
    assert list_versions(registry) == [first.name]
    assert resolve_version(registry) == first


def test_an_existing_version_directory_is_never_overwritten(registry, monkeypatch):
    first = save_version(registry, StandIn(), META)
    before = (first / "model.joblib").read_bytes()

    class Frozen(artifacts._dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return artifacts._dt.datetime.fromisoformat(metadata_of(first)["created_at"])

    monkeypatch.setattr(artifacts._dt, "datetime", Frozen)
    second = save_version(registry, StandIn(), META)  # same model, same timestamp: same base name
    assert second != first and second.name.startswith(first.name)
    assert (first / "model.joblib").read_bytes() == before
    assert metadata_of(first)["version"] == first.name


def test_load_model_from_the_registry_serves_the_current_version(registry):
    first = save_version(registry, StandIn(), META)
    save_version(registry, StandIn(bias=0.5), META)
    model = load_model(registry)
    assert isinstance(model, LoadedModel)
    assert (model.version, model.path, model.labels) == (first.name, first, tuple(LABELS))
    assert model.thresholds == META["thresholds"]
    scores = model.scores(["war and talks", "nothing"])
    assert scores.shape == (2, 3) and scores.tolist() == [[1, 1, 0], [0, 0, 0]]
    assert model.decide(scores) == [("conflict", "diplomacy"), ()]
    assert model.explain("nato summit") == {"alliances": [{"term": "nato", "weight": 1.0}]}


def test_load_model_accepts_a_version_directory_directly(registry):
    save_version(registry, StandIn(), META)
    second = save_version(registry, StandIn(bias=0.5), META)
    assert resolve_version(second) == second
    assert load_model(second).version == second.name


def test_set_current_moves_the_pointer_and_refuses_unknown_versions(registry):
    first = save_version(registry, StandIn(), META)
    second = save_version(registry, StandIn(bias=0.5), META)
    set_current(registry, second.name)
    assert resolve_version(registry) == second
    assert (registry / "CURRENT").read_text().strip() == second.name
    with pytest.raises(ArtifactError, match="is not a version in") as caught:
        set_current(registry, "../elsewhere")
    assert first.name in str(caught.value)
    assert resolve_version(registry) == second
    assert not [p for p in registry.iterdir() if p.name.startswith(".CURRENT")]  # no temp pointer left


def test_a_tampered_model_file_is_refused_before_unpickling(registry, monkeypatch):
    version = save_version(registry, StandIn(), META)
    with open(version / "model.joblib", "ab") as handle:
        handle.write(b"\0")
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled an unverified file"))
    with pytest.raises(ArtifactError) as caught:
        load_model(registry)
    message = str(caught.value)
    assert "model.joblib has SHA-256" in message and metadata_of(version)["model_sha256"] in message
    assert "changed or corrupted" in message
    with pytest.raises(ArtifactError):
        verify(version)


def test_a_model_trained_with_another_scikit_learn_minor_version_is_refused(registry, monkeypatch):
    version = save_version(registry, StandIn(), META)
    installed = library_versions()["scikit-learn"]
    major, minor = (int(n) for n in installed.split(".")[:2])
    old = f"{major}.{minor + 1}.0"
    rewrite_metadata(version, libraries=dict(library_versions(), **{"scikit-learn": old}))
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled an incompatible file"))
    with pytest.raises(ArtifactError) as caught:
        load_model(version)
    message = str(caught.value)
    assert f"trained with scikit-learn {old} but scikit-learn {installed} is installed" in message
    assert f"Retrain with the installed scikit-learn {installed}" in message
    assert f"install scikit-learn=={major}.{minor + 1}.*" in message


def test_a_different_scikit_learn_patch_release_is_accepted(registry):
    version = save_version(registry, StandIn(), META)
    installed = library_versions()["scikit-learn"]
    patched = ".".join(installed.split(".")[:2]) + ".99"
    rewrite_metadata(version, libraries=dict(library_versions(), **{"scikit-learn": patched}))
    assert verify(version)["libraries"]["scikit-learn"] == patched


def test_a_model_from_another_numpy_major_version_is_refused(registry):
    version = save_version(registry, StandIn(), META)
    rewrite_metadata(version, libraries=dict(library_versions(), numpy="1.26.4" if np.__version__[0] != "1" else "2.0.0"))
    with pytest.raises(ArtifactError, match="numpy .* is installed; the major versions must match"):
        verify(version)


@pytest.mark.parametrize("change, expected", [
    ({"libraries": None}, "no 'libraries' record"),
    ({"model_sha256": None}, "no valid model_sha256"),
    ({"format": "pickle"}, "declares format 'pickle'"),
    ({"model_file": "../elsewhere.joblib"}, "expected a file name inside the version directory"),
])
def test_incomplete_or_suspicious_metadata_is_refused(registry, change, expected):
    version = save_version(registry, StandIn(), META)
    rewrite_metadata(version, **change)
    with pytest.raises(ArtifactError, match=expected):
        load_model(version)


def test_metadata_whose_labels_differ_from_the_fitted_models_columns_is_refused(registry):
    fitted = StandIn()
    fitted.labels_ = ("conflict", "alliances", "diplomacy")
    version = save_version(registry, fitted, META)
    with pytest.raises(ArtifactError, match="does not describe this model"):
        load_model(version)


def test_metadata_without_a_threshold_per_label_is_refused(registry):
    version = save_version(registry, StandIn(), dict(META, thresholds={"conflict": 0.5}))
    with pytest.raises(ArtifactError, match=r"no decision threshold for \['diplomacy', 'alliances'\]"):
        load_model(version)


@pytest.mark.parametrize("setup, expected", [
    (lambda root: None, "does not exist"),
    (lambda root: root.mkdir(), "neither a model version"),
    (lambda root: (root.mkdir(), (root / "CURRENT").write_text("missing-version\n")), "names 'missing-version'"),
    (lambda root: (root.mkdir(), (root / "CURRENT").write_text("../../etc\n")), "must hold the name of a version"),
])
def test_paths_that_designate_no_version_are_refused_with_a_hint(registry, setup, expected):
    setup(registry)
    with pytest.raises(ArtifactError, match=expected):
        resolve_version(registry)


def test_a_registry_without_pointer_names_its_versions_in_the_error(registry):
    version = save_version(registry, StandIn(), META)
    (registry / "CURRENT").unlink()
    with pytest.raises(ArtifactError, match=version.name):
        load_model(registry)


def test_versions_are_readable_by_other_users(registry):
    version = save_version(registry, StandIn(), META, {"report.md": b"x"})
    for path in [version, version / "model.joblib", version / "metadata.json", version / "report.md",
                 registry / "CURRENT"]:
        assert os.stat(path).st_mode & 0o004, path


def test_extra_file_names_cannot_escape_the_version_or_replace_its_own_files(registry):
    for bad in ["../x", "/abs", "metadata.json", "model.joblib", ""]:
        with pytest.raises(ValueError):
            save_version(registry, StandIn(), META, {bad: b"x"})
    assert list_versions(registry) == []
