"""The training command on small corpora written on the spot: artifact, figures, determinism, errors."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from newsbrief.artifacts import load_model
from training import train
from training.corpus import load_corpus

from test_topics import ALLIANCES, CONFLICT, DIPLOMACY, NONE

POOLS = {"conflict": CONFLICT, "diplomacy": DIPLOMACY, "alliances": ALLIANCES}
LABEL_SETS = [(), ("conflict",), ("diplomacy",), ("alliances",), ("conflict", "alliances"),
              ("diplomacy", "alliances"), ("conflict", "diplomacy")]


def make_records(seed: int = 1, per_source: int = 28, sources=("wire-a", "wire-b", "paper-c")):
    """Articles assembled from the sentence pools of their labels, from several sources, plus a few
    synthetic ones; Reuters-style ids so that two versions of a story share a group."""
    rng = random.Random(seed)
    rows = []
    for source in sources:
        for i in range(per_source):
            labels = LABEL_SETS[i % len(LABEL_SETS)]
            sentences = [rng.choice(POOLS[label]) for label in labels for _ in range(2)]
            sentences += rng.sample(NONE, 2 if labels else 3)
            rng.shuffle(sentences)
            rows.append({"id": f"{source}-{i:03d}", "source": source, "title": "",
                         "text": " ".join(sentences) + f" Story {source} {i}.", "labels": list(labels)})
    for i in range(12):
        labels = LABEL_SETS[3 + i % 3]
        text = " ".join(rng.choice(POOLS[label]) for label in labels for _ in range(3))
        rows.append({"id": f"synth-{i:02d}", "source": "synthetic", "title": "", "text": text + f" Synthetic {i}.",
                     "labels": list(labels)})
    # two versions of one story (same Reuters code): they must land in the same fold
    rows.append({"id": "reut-REUT-2020-02-25-idUSKCN20J0J5-aaaaaa", "source": "wire-a", "title": "",
                 "text": CONFLICT[0] + " " + ALLIANCES[0] + " First version.", "labels": ["conflict", "alliances"]})
    rows.append({"id": "reut-REUT-2020-02-25-idUSKCN20J0J5-bbbbbb", "source": "wire-a", "title": "",
                 "text": CONFLICT[0] + " " + ALLIANCES[0] + " Second version, updated.",
                 "labels": ["conflict", "alliances"]})
    return rows


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp("corpus") / "tiny.jsonl", make_records())


@pytest.fixture(scope="module")
def trained(corpus_file, tmp_path_factory):
    registry = tmp_path_factory.mktemp("models")
    code = train.main(["--corpus", str(corpus_file), "--output", str(registry)])
    return code, registry


def test_training_writes_a_servable_version_with_its_metadata_and_report(trained):
    code, registry = trained
    assert code == 0
    model = load_model(registry)          # through the pointer, hash-checked
    meta = model.metadata
    assert model.labels == ("conflict", "diplomacy", "alliances")
    assert set(meta["thresholds"]) == set(model.labels)
    assert all(0 < t < 1 for t in meta["thresholds"].values())
    for key in ("libraries", "model_sha256", "trained_at", "name", "version", "search"):
        assert key in meta
    assert len(meta["corpus"]["sha256"]) == 64
    cv = meta["evaluation"]["cv"]
    for label in model.labels:
        assert set(cv[label]) >= {"precision", "recall", "f1", "support"}
    assert 0 <= cv["macro_f1"] <= 1
    assert meta["evaluation"]["leave_one_source_out"]["per_source"].keys() == {"wire-a", "wire-b", "paper-c"}
    report = (model.path / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in report and "http://" not in report and "https://" not in report


def test_the_trained_model_separates_the_topics_it_was_taught(trained):
    model = load_model(trained[1])
    scores = model.scores([CONFLICT[1] + " " + CONFLICT[2], NONE[0] + " " + NONE[2]])
    assert model.decide(scores) == [("conflict",), ()]


def test_synthetic_records_train_but_are_never_scored(corpus_file):
    records = load_corpus([corpus_file])
    result = train.evaluate_and_fit(records)
    real = [r for r in records if r.source != "synthetic"]
    for j, label in enumerate(result["labels"]):
        assert result["cv"][label]["support"] == sum(label in r.labels for r in real)
    assert np.isnan(result["oof"][result["data"].synthetic]).all()


def test_same_corpus_and_seed_give_the_same_thresholds_and_figures(corpus_file):
    records = load_corpus([corpus_file])
    first = train.evaluate_and_fit(records, seed=3)
    second = train.evaluate_and_fit(records, seed=3)
    assert first["thresholds"] == second["thresholds"]
    assert first["cv"] == second["cv"] and first["loso"] == second["loso"]
    assert first["search"] == second["search"]


def test_versions_of_one_story_stay_in_one_fold(corpus_file):
    records = load_corpus([corpus_file])
    data = train.build_data(records, ("conflict", "diplomacy", "alliances"))
    for train_idx, test_idx in train.story_folds(data, data.real, 5):
        assert not set(data.groups[train_idx]) & set(data.groups[test_idx])
        assert not set(data.synthetic) & set(test_idx)


def test_hard_negatives_weigh_more_only_for_their_label_and_only_when_real(corpus_file):
    labels = ("conflict", "diplomacy", "alliances")
    data = train.build_data(load_corpus([corpus_file]), labels)
    other, factor = train.HARD_NEGATIVES["alliances"]
    weights = data.weight_matrix({"conflict": 4.0, "diplomacy": 4.0, "alliances": 16.0}, labels)
    real = data.sources != train.SYNTHETIC_SOURCE
    hard = real & (data.y[:, labels.index(other)] == 1) & (data.y[:, 2] == 0)
    assert hard.any()
    assert np.all(weights[hard, 2] == factor) and np.all(weights[real & ~hard, 2] == 1.0)
    assert np.all(weights[~real, 2] == 16.0)
    assert np.all(weights[real, :2] == 1.0) and np.all(weights[~real, :2] == 4.0)
    # without the other label in the label set there is nothing to count up
    only = ("diplomacy", "alliances")
    data = train.build_data(load_corpus([corpus_file]), only)
    assert set(data.label_weights(1, 16.0, only)) == {1.0, 16.0}


def test_C_is_chosen_per_label_from_the_search_and_synthetic_weights_are_the_fixed_ones(corpus_file):
    result = train.evaluate_and_fit(load_corpus([corpus_file]))
    assert set(result["synthetic_weight"]) == set(result["labels"]) == set(result["params"]["C"])
    for label in result["labels"]:
        assert result["synthetic_weight"][label] == train.SYNTHETIC_WEIGHT[label]
        assert result["params"]["C"][label] in train.SEARCH_C
        best = max(row[f"ap_{label}"] for row in result["search"])
        assert [row[f"ap_{label}"] for row in result["search"] if row["C"] == result["params"]["C"][label]] == [best]


@pytest.mark.parametrize("min_df, max_df", [(1, 1.0), (2, 0.9), (3, 0.5), (2, 20)])
def test_term_counts_give_exactly_the_features_of_a_vectorizer_fitted_on_the_training_rows(corpus_file, min_df, max_df):
    from newsbrief.topics import TopicClassifier
    data = train.build_data(load_corpus([corpus_file]), ("conflict", "diplomacy", "alliances"))
    params = dict(train.BASE_PARAMS, min_df=min_df, max_df=max_df)
    counts = train.TermCounts(data.texts, params)
    train_idx, test_idx = np.arange(0, len(data.texts), 2), np.arange(1, len(data.texts), 2)
    X_train, X_test = counts.features(train_idx, test_idx)
    vectorizer = TopicClassifier(**params).build_vectorizer()
    expected_train = vectorizer.fit_transform([data.texts[i] for i in train_idx])
    expected_test = vectorizer.transform([data.texts[i] for i in test_idx])
    assert X_train.shape == expected_train.shape and X_test.shape == expected_test.shape
    np.testing.assert_allclose(X_train.toarray(), expected_train.toarray(), atol=1e-6)
    np.testing.assert_allclose(X_test.toarray(), expected_test.toarray(), atol=1e-6)


def test_platt_recovers_the_sigmoid_that_generated_the_labels():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, 20000)
    y = (rng.uniform(size=z.size) < 1 / (1 + np.exp(-(0.5 * z - 1.0)))).astype(int)
    a, b = train.platt(z, y)
    assert abs(a - 0.5) < 0.03 and abs(b + 1.0) < 0.06


def test_reliability_bins_count_every_article_once():
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.12, 0.55, 0.95, 1.0, 0.58])
    bins = train.reliability(y, p)
    assert sum(b["count"] for b in bins) == len(y)
    top = [b for b in bins if b["low"] == 0.9][0]
    assert top["count"] == 2 and top["share_with_label"] == 1.0 and top["mean_score"] == 0.975
    middle = [b for b in bins if b["low"] == 0.5][0]
    assert middle["count"] == 2 and middle["share_with_label"] == 0.5


def test_held_out_scores_are_calibrated_and_published_with_brier_scores(trained):
    meta = load_model(trained[1]).metadata
    assert set(meta["scores"]["calibration"]) == {"conflict", "diplomacy", "alliances"}
    for label, figures in meta["evaluation"]["calibration"].items():
        assert 0 <= figures["brier"] <= 1
        assert sum(b["count"] for b in figures["reliability"]) == meta["corpus"]["scored_records"]
    pooled = meta["evaluation"]["leave_one_source_out"]["pooled"]
    assert all(0 <= pooled[label]["brier"] <= 1 for label in ("conflict", "diplomacy", "alliances"))
    report = (load_model(trained[1]).path / "report.html").read_text(encoding="utf-8")
    assert "reliability diagrams" in report and "Brier" in report


def test_best_threshold_separates_cleanly_separable_scores():
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.7, 0.9])
    assert 0.3 < train.best_threshold(y, p) <= 0.7


def test_a_broken_corpus_exits_non_zero_names_every_line_and_writes_nothing(tmp_path, capsys):
    rows = make_records()
    lines = [json.dumps(row) for row in rows]
    lines[2] = '{"id": "broken", "text": '                                   # line 3
    rows[4]["labels"] = ["friendship"]
    lines[4] = json.dumps(rows[4])                                           # line 5
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = tmp_path / "models"
    code = train.main(["--corpus", str(corpus), "--output", str(output)])
    err = capsys.readouterr().err
    assert code != 0
    assert f"{corpus}:3" in err and f"{corpus}:5" in err and "friendship" in err
    assert "Traceback" not in err
    assert not output.exists()


def test_a_missing_required_argument_exits_2_with_usage_and_no_traceback(capsys):
    code = train.main(["--corpus", "x.jsonl"])
    err = capsys.readouterr().err
    assert code == 2 and "--output" in err and "Traceback" not in err


def test_labels_can_be_given_space_or_comma_separated():
    spaced = train.parse_args(["--corpus", "a", "--output", "b", "--labels", "conflict", "diplomacy"])
    commas = train.parse_args(["--corpus", "a", "--output", "b", "--labels", "conflict,diplomacy"])
    assert spaced.labels == commas.labels == ("conflict", "diplomacy")


def test_a_corpus_from_one_source_is_searched_by_story_grouped_cv_instead(tmp_path):
    rows = [r for r in make_records(per_source=40, sources=("only-wire",)) if r["source"] != "wire-a"]
    corpus = write_jsonl(tmp_path / "one.jsonl", rows)
    registry = tmp_path / "models"
    assert train.main(["--corpus", str(corpus), "--output", str(registry)]) == 0
    meta = load_model(registry).metadata
    assert meta["evaluation"]["leave_one_source_out"] is None
    assert meta["search"]["criterion"].startswith("story-grouped")


def test_without_matplotlib_it_says_what_to_install_before_reading_anything(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)  # as if the [train] extra were absent
    code = train.main(["--corpus", str(tmp_path / "not-read.jsonl"), "--output", str(tmp_path / "models")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "matplotlib" in err and "pip install -e '.[train]'" in err
    assert "--no-report" in err and "Traceback" not in err and "not-read.jsonl" not in err
    assert not (tmp_path / "models").exists()


def test_the_version_records_the_ids_and_text_hashes_it_was_trained_on(trained, corpus_file):
    code, registry = trained
    version = next(p for p in registry.iterdir() if p.is_dir() and not p.name.startswith("."))
    recorded = json.loads((version / "training_records.json").read_text(encoding="utf-8"))
    records = load_corpus([corpus_file])
    assert code == 0 and recorded["ids"] == sorted(r.id for r in records)
    assert len(recorded["texts"]) == len(records) and all(len(h) == 16 for h in recorded["texts"])


def test_held_out_data_split_from_the_training_corpus_is_refused_by_promote(trained, corpus_file, tmp_path, capsys):
    from training import corpus as corpus_cli
    from training import promote

    code, registry = trained
    version = next(p for p in registry.iterdir() if p.is_dir() and not p.name.startswith("."))
    held = tmp_path / "held_out.jsonl"
    assert corpus_cli.main([str(corpus_file), "--min-per-label", "1", "--split", "0.3",
                            "--train-out", str(tmp_path / "train.jsonl"), "--held-out-out", str(held)]) == 0
    served = tmp_path / "served"
    assert promote.main(["--models", str(served), "--candidate", str(version), "--data", str(held)]) == 1
    err = capsys.readouterr().err
    assert "held-out articles have a training id" in err and "Refused" in err
