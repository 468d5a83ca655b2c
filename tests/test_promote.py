"""training.promote: a candidate replaces the current model only if it is not worse on held-out data."""
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline

from newsbrief import artifacts
from newsbrief.artifacts import current_version, load_model, read_history, save_version
from training import promote
from training.corpus import corpus_sha256, load_corpus

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["conflict", "diplomacy", "alliances"]
VOCABULARY = {"conflict": "troops shelling killed offensive", "diplomacy": "talks ambassador envoy summit",
              "alliances": "nato alliance treaty members"}
FILLER = "the a city people said on monday officials report week year market".split()
GOOD = {"conflict": 0.5, "diplomacy": 0.5, "alliances": 0.5}
BLIND_TO_ALLIANCES = dict(GOOD, alliances=1.01)  # same estimator, never predicts alliances
SLIGHTLY_OFF = dict(GOOD, alliances=0.75)  # misses a few alliances articles


def articles(n, seed):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        labels = [label for label in LABELS if rng.random() < 0.4]
        words = rng.choices(FILLER, k=12)
        for label in labels:
            words += rng.sample(VOCABULARY[label].split(), 2)
        rng.shuffle(words)
        rows.append({"id": f"s{seed}-{i}", "text": " ".join(words) + f" story {seed} {i}.", "labels": labels})
    return rows


@pytest.fixture(scope="module")
def estimator():
    rows = articles(120, seed=1)
    y = np.array([[label in row["labels"] for label in LABELS] for row in rows], dtype=int)
    return make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LogisticRegression(C=10))).fit(
        [row["text"] for row in rows], y)


@pytest.fixture
def held_out(tmp_path):
    path = tmp_path / "held_out.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in articles(60, seed=2)), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def plain_text_inputs(monkeypatch):
    """The tiny models here read the raw text; the real pipeline is exercised by the service tests."""
    monkeypatch.setattr(promote, "model_inputs", lambda records: [record.text for record in records])


@pytest.fixture
def registry(tmp_path):
    return tmp_path / "models"


def save(registry, estimator, thresholds):
    return save_version(registry, estimator, {"labels": LABELS, "thresholds": thresholds}).name


def run(*args):
    return promote.main([str(arg) for arg in args])


def test_evaluation_uses_each_models_own_thresholds_and_matches_sklearn(registry, estimator, held_out):
    records = load_corpus([held_out], min_per_label=1)
    texts = [r.text for r in records]
    truth = np.array([[label in r.labels for label in LABELS] for r in records])
    for thresholds in (GOOD, BLIND_TO_ALLIANCES):
        model = load_model(registry / save(registry, estimator, thresholds))
        scores = promote.evaluate(model, records, texts)
        predicted = model.scores(texts) >= np.array([thresholds[label] for label in LABELS])
        expected = f1_score(truth, predicted, average=None, zero_division=0)
        assert [scores.f1[label] for label in LABELS] == pytest.approx(list(expected))
        assert scores.macro_f1 == pytest.approx(expected.mean())
        assert scores.support == {label: int(truth[:, i].sum()) for i, label in enumerate(LABELS)}


def test_a_better_candidate_is_promoted_and_the_decision_logged(registry, estimator, held_out, capsys):
    old = save(registry, estimator, BLIND_TO_ALLIANCES)
    new = save(registry, estimator, GOOD)
    assert run("--models", registry, "--candidate", new, "--data", held_out) == 0
    assert current_version(registry) == new
    out = capsys.readouterr().out
    assert old in out and new in out and "macro-F1" in out and "alliances" in out
    entry = read_history(registry)[-1]
    assert (entry["action"], entry["from"], entry["to"], entry["forced"]) == ("promote", old, new, False)
    assert entry["metrics"]["candidate"]["macro_f1"] > entry["metrics"]["current"]["macro_f1"]


def test_a_worse_candidate_is_refused_and_current_stays(registry, estimator, held_out, capsys):
    old = save(registry, estimator, GOOD)
    new = save(registry, estimator, BLIND_TO_ALLIANCES)
    assert run("--models", registry, "--candidate", new, "--data", held_out) == 1
    assert current_version(registry) == old
    err = capsys.readouterr().err
    assert "Refused" in err and "alliances F1" in err and "macro-F1" in err and "--force" in err
    assert "diplomacy F1" not in err  # labels that did not get worse are not blamed
    assert read_history(registry)[-1]["action"] == "refused"


def test_force_promotes_a_worse_candidate_and_records_that_it_was_forced(registry, estimator, held_out):
    save(registry, estimator, GOOD)
    new = save(registry, estimator, BLIND_TO_ALLIANCES)
    assert run("--models", registry, "--candidate", new, "--data", held_out, "--force") == 0
    assert current_version(registry) == new
    entry = read_history(registry)[-1]
    assert entry["forced"] is True and any("alliances" in reason for reason in entry["reasons"])


def test_a_loss_within_the_tolerance_passes_and_a_loss_beyond_it_does_not(registry, estimator, held_out):
    records = load_corpus([held_out], min_per_label=1)
    texts = [r.text for r in records]
    old = save(registry, estimator, GOOD)
    new = save(registry, estimator, SLIGHTLY_OFF)
    current = promote.evaluate(load_model(registry / old), records, texts)
    candidate = promote.evaluate(load_model(registry / new), records, texts)
    loss = max(current.f1[label] - candidate.f1[label] for label in LABELS)
    assert 0 < loss < 0.5
    args = ["--models", registry, "--candidate", new, "--data", held_out, "--tolerance"]
    assert run(*args, f"{loss * 0.9:.6f}") == 1
    assert current_version(registry) == old
    assert run(*args, f"{loss * 1.1:.6f}") == 0
    assert current_version(registry) == new


def test_an_equal_candidate_is_promoted(registry, estimator, held_out):
    save(registry, estimator, GOOD)
    twin = save(registry, estimator, GOOD)
    assert run("--models", registry, "--candidate", twin, "--data", held_out, "--tolerance", "0") == 0
    assert current_version(registry) == twin


def test_a_tampered_candidate_is_refused_even_with_force(registry, estimator, held_out, capsys):
    old = save(registry, estimator, GOOD)
    new = save(registry, estimator, GOOD)
    with open(registry / new / "model.joblib", "ab") as handle:
        handle.write(b"x")
    assert run("--models", registry, "--candidate", new, "--data", held_out, "--force") == 1
    assert current_version(registry) == old
    assert "SHA-256" in capsys.readouterr().err


def test_a_broken_current_model_blocks_the_gate_unless_forced(registry, estimator, held_out, capsys):
    old = save(registry, estimator, GOOD)
    new = save(registry, estimator, GOOD)
    with open(registry / old / "model.joblib", "ab") as handle:
        handle.write(b"x")
    assert run("--models", registry, "--candidate", new, "--data", held_out) == 1
    assert "cannot be loaded" in capsys.readouterr().err
    assert current_version(registry) == old
    assert run("--models", registry, "--candidate", new, "--data", held_out, "--force") == 0
    assert current_version(registry) == new


def promoted_chain(registry, estimator, held_out, count=3):
    """`count` versions, each promoted through the gate in turn (the first is the initial one)."""
    names = [save(registry, estimator, GOOD)]
    for _ in range(count - 1):
        names.append(save(registry, estimator, GOOD))
        assert run("--models", registry, "--candidate", names[-1], "--data", held_out) == 0
    return names


def test_rollback_previous_walks_back_along_the_promotion_history_instead_of_flipping(
        registry, estimator, held_out, capsys):
    first, second, third = promoted_chain(registry, estimator, held_out)
    assert run("--models", registry, "--rollback", "previous") == 0
    assert current_version(registry) == second
    assert run("--models", registry, "--rollback", "previous") == 0
    assert current_version(registry) == first
    capsys.readouterr()
    assert run("--models", registry, "--rollback", "previous") == 2  # nothing before the initial version
    assert "no version before" in capsys.readouterr().err and current_version(registry) == first
    assert [e["action"] for e in read_history(registry)] == ["initial", "promote", "promote", "rollback", "rollback"]


def test_rollback_to_a_named_earlier_version_forgets_the_steps_after_it(registry, estimator, held_out):
    first, second, third = promoted_chain(registry, estimator, held_out)
    assert run("--models", registry, "--rollback", first) == 0
    assert current_version(registry) == first
    assert promote.promotion_chain(registry) == [first]


def test_a_promotion_after_a_rollback_is_a_new_step(registry, estimator, held_out):
    first, second = promoted_chain(registry, estimator, held_out, count=2)
    assert run("--models", registry, "--rollback", "previous") == 0
    third = save(registry, estimator, GOOD)
    assert run("--models", registry, "--candidate", third, "--data", held_out) == 0
    assert run("--models", registry, "--rollback", "previous") == 0
    assert current_version(registry) == first  # not back to the rolled-back second


def test_rollback_to_a_version_never_promoted_is_refused_and_promotion_is_the_way(
        registry, estimator, held_out, capsys):
    first = save(registry, estimator, GOOD)
    never = save(registry, estimator, BLIND_TO_ALLIANCES)
    assert run("--models", registry, "--rollback", never) == 2
    err = capsys.readouterr().err
    assert "is not a rollback" in err and f"--candidate {never}" in err
    assert current_version(registry) == first
    assert run("--models", registry, "--candidate", never, "--data", held_out) == 1  # the gate refuses it
    assert run("--models", registry, "--candidate", never, "--force") == 0  # or --force, without data
    assert current_version(registry) == never
    entry = read_history(registry)[-1]
    assert entry["action"] == "promote" and entry["forced"] is True and "no held-out data" in entry["reasons"][0]


def test_rollback_to_a_version_that_fails_verification_is_refused(registry, estimator):
    first = save(registry, estimator, GOOD)
    second = save(registry, estimator, GOOD)
    artifacts.set_current(registry, second)
    with open(registry / first / "model.joblib", "ab") as handle:
        handle.write(b"x")
    assert run("--models", registry, "--rollback", first) == 1
    assert current_version(registry) == second


@pytest.mark.parametrize("args, message", [
    (["--candidate", "no-such-version", "--data", "{data}"], "'no-such-version' is not a version"),
    (["--rollback", "no-such-version"], "'no-such-version' is not a version"),
    (["--rollback", "previous"], "records no version before"),
])
def test_names_that_designate_nothing_are_usage_errors(registry, estimator, held_out, capsys, args, message):
    save(registry, estimator, GOOD)
    args = [a.replace("{data}", str(held_out)) for a in args]
    assert run("--models", registry, *args) == 2
    assert message in capsys.readouterr().err


def test_held_out_data_with_problems_is_a_usage_error_that_lists_them(registry, estimator, held_out, capsys):
    save(registry, estimator, GOOD)
    new = save(registry, estimator, GOOD)
    lines = held_out.read_text().splitlines()
    lines[2] = "{broken"
    held_out.write_text("\n".join(lines) + "\n")
    assert run("--models", registry, "--candidate", new, "--data", held_out) == 2
    assert f"{held_out}:3: not valid JSON" in capsys.readouterr().err
    assert read_history(registry)[-1]["action"] == "initial"


def test_a_missing_registry_and_missing_data_argument_are_usage_errors(tmp_path, capsys):
    assert run("--models", tmp_path / "nowhere", "--rollback", "v1") == 2
    with pytest.raises(SystemExit) as caught:
        run("--models", tmp_path, "--candidate", "v1")
    assert caught.value.code == 2
    assert "--candidate needs --data" in capsys.readouterr().err


def test_list_marks_the_current_version(registry, estimator, capsys):
    first = save(registry, estimator, GOOD)
    second = save(registry, estimator, GOOD)
    assert run("--models", registry, "--list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"* {first}") and lines[1].startswith(f"  {second}")


def test_the_command_compares_real_topic_models_through_the_service_text_pipeline(tmp_path):
    from newsbrief.text import prepare
    from newsbrief.topics import TopicClassifier, classification_text

    rows = articles(80, seed=3)
    train = load_corpus([_write(tmp_path / "train.jsonl", rows)], min_per_label=1)
    texts = [classification_text(prepare(r.text, r.title)) for r in train]
    model = TopicClassifier(min_df=1).fit(texts, [r.labels for r in train])
    registry = tmp_path / "models"
    save(registry, model, BLIND_TO_ALLIANCES)
    candidate = save(registry, model, GOOD)
    held_out = _write(tmp_path / "held_out.jsonl", articles(40, seed=4))
    result = subprocess.run(
        [sys.executable, "-m", "training.promote", "--models", str(registry), "--candidate", candidate,
         "--data", str(held_out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Promoted" in result.stdout and current_version(registry) == candidate
    again = subprocess.run(
        [sys.executable, "-m", "training.promote", "--models", str(registry), "--rollback", "previous"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and current_version(registry) != candidate


def _write(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _save_trained_on(registry, estimator, paths, **metadata):
    """A version whose metadata and training_records.json say it was trained on `paths`."""
    from training.corpus import FINGERPRINT_FILE, file_sha256, fingerprint

    records = load_corpus(paths, min_per_label=1)
    corpus = {"sha256": corpus_sha256(records), "files": {Path(p).name: file_sha256(p) for p in paths}}
    return save_version(registry, estimator, {"labels": LABELS, "thresholds": GOOD, "corpus": corpus, **metadata},
                        extra_files={FINGERPRINT_FILE: json.dumps(fingerprint(records)).encode()}).name


def test_held_out_data_that_is_a_training_file_is_refused_loudly_unless_forced(
        registry, estimator, held_out, tmp_path, capsys):
    other = _write(tmp_path / "other.jsonl", articles(40, seed=7))
    save(registry, estimator, GOOD)
    candidate = _save_trained_on(registry, estimator, [other, held_out])
    capsys.readouterr()
    assert run("--models", registry, "--candidate", candidate, "--data", held_out) == 1
    err = capsys.readouterr().err
    assert "Refused: the held-out data overlaps the corpus" in err and f"{held_out} is the training file" in err
    assert "--split" in err and read_history(registry)[-1]["action"] == "refused"
    assert run("--models", registry, "--candidate", candidate, "--data", held_out, "--force") == 0
    assert "WARNING: the held-out data overlaps" in capsys.readouterr().err


@pytest.mark.parametrize("change", ["same ids", "same texts"])
def test_held_out_articles_from_the_training_corpus_are_refused(registry, estimator, tmp_path, capsys, change):
    training_rows = articles(60, seed=8)
    training = _write(tmp_path / "train.jsonl", training_rows)
    save(registry, estimator, GOOD)
    candidate = _save_trained_on(registry, estimator, [training])
    held_rows = articles(40, seed=9)
    for i in range(3):  # three articles of the training corpus slip into the held-out file
        held_rows[i] = dict(training_rows[i]) if change == "same texts" else dict(held_rows[i], id=training_rows[i]["id"])
        if change == "same texts":
            held_rows[i]["id"] = f"renamed-{i}"
    held = _write(tmp_path / "held.jsonl", held_rows)
    capsys.readouterr()
    assert run("--models", registry, "--candidate", candidate, "--data", held) == 1
    err = capsys.readouterr().err
    expected = "3 of 40 held-out articles have a training id" if change == "same ids" else "3 a training text"
    assert expected in err


def test_disjoint_held_out_data_passes_the_overlap_check(registry, estimator, held_out, tmp_path):
    save(registry, estimator, GOOD)
    candidate = _save_trained_on(registry, estimator, [_write(tmp_path / "train.jsonl", articles(60, seed=8))])
    assert run("--models", registry, "--candidate", candidate, "--data", held_out) == 0


def test_a_version_trained_into_another_registry_is_copied_in_and_promoted(registry, estimator, held_out, tmp_path):
    save(registry, estimator, BLIND_TO_ALLIANCES)
    elsewhere = tmp_path / "elsewhere"
    trained = save_version(elsewhere, estimator, {"labels": LABELS, "thresholds": GOOD, "name": "retrained"})
    assert not (registry / trained.name).exists()  # current of its own registry only
    assert run("--models", registry, "--candidate", trained, "--data", held_out) == 0
    assert current_version(registry) == trained.name
    artifacts.verify(registry / trained.name)
    assert current_version(elsewhere) == trained.name  # the source registry is left as it was
    assert run("--models", registry, "--candidate", trained, "--data", held_out) == 0  # already current


def test_a_tampered_version_directory_from_elsewhere_is_not_copied(registry, estimator, held_out, tmp_path, capsys):
    save(registry, estimator, GOOD)
    trained = save_version(tmp_path / "elsewhere", estimator, {"labels": LABELS, "thresholds": GOOD, "name": "other"})
    with open(trained / "model.joblib", "ab") as handle:
        handle.write(b"x")
    assert run("--models", registry, "--candidate", trained, "--data", held_out) == 2
    assert "sha" in capsys.readouterr().err.lower() and not (registry / trained.name).exists()


def test_the_candidate_may_be_given_as_the_path_training_printed(registry, estimator, held_out, capsys):
    save(registry, estimator, BLIND_TO_ALLIANCES)
    printed = registry / save(registry, estimator, GOOD)
    assert run("--models", registry, "--candidate", printed, "--data", held_out) == 0
    assert current_version(registry) == printed.name and "Copied" not in capsys.readouterr().out
