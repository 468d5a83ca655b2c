"""Train the topic classifier and write a new model version.

    python -m training.train --corpus FILE [FILE ...] --output DIR [--labels L ...] [--seed N]

Steps (progress on stderr):
1. load and validate the corpus (training.corpus.load_corpus); every problem is listed, exit 1;
2. turn each record into what the service will classify: classification_text(prepare(text, title));
3. bounded search over min_df (shared) and, per label, the weight of synthetic records and C;
   real records that are hard negatives for a label (HARD_NEGATIVES) weigh more for that label.
   Each candidate is scored on real articles only:
   - leave-one-source-out (train without one source, e.g. all BBC articles, score that source):
     the proxy for outlets the model has never seen, and the search criterion (average precision);
   - story-grouped K-fold cross-validation (versions of one story stay in one fold);
   records whose source is "synthetic" are added to every training fold and never scored;
4. per-label thresholds: the best-F1 cut on the story-grouped out-of-fold probabilities;
5. figures: story-grouped CV precision/recall/F1 per label at those thresholds, and
   leave-one-source-out figures with thresholds chosen without the held-out source;
6. fit on everything, save a version (newsbrief.artifacts.save_version) with metadata and report.html.
"""
from __future__ import annotations

import argparse
import os
import datetime as _dt
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GroupKFold

from newsbrief.errors import ArtifactError, CorpusError, EmptyText
from newsbrief.text import prepare
from newsbrief.topics import LABELS, TopicClassifier, classification_text, label_matrix, logistic

SYNTHETIC_SOURCE = "synthetic"   # records with this source train but are never scored
SEARCH_SYNTHETIC_WEIGHT = (4.0, 16.0, 48.0)   # sample weight of a synthetic record (a real one weighs 1), per label
# Hard negatives: for `label`, real records that have `other` but not `label` weigh `weight`. Most
# synthetic conflict articles are also alliances articles, so without this the alliances model
# learns "war vocabulary means alliances" and fires on every war report from an unseen outlet.
HARD_NEGATIVES = {"alliances": ("conflict", 10.0)}
BASE_PARAMS = dict(ngram_range=(1, 2), max_df=0.9, sublinear_tf=True, mask_places=True,
                   class_weight="balanced")
SEARCH_MIN_DF = (3, 5)
SEARCH_C = (1.0, 4.0, 16.0)
FOLDS = 5
INNER_FOLDS = 3
MODEL_NAME = "topics"


def log(message: str) -> None:
    print(f"[train {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- data ------------------------------------------------------------------------------------------

@dataclass
class Data:
    """The corpus as arrays: texts as the classifier sees them, labels, groups, sources."""
    ids: list
    titles: list
    texts: list
    y: np.ndarray
    groups: np.ndarray
    sources: np.ndarray
    real: np.ndarray = field(init=False)        # indices of records that may be scored
    synthetic: np.ndarray = field(init=False)   # indices of training-only records

    def __post_init__(self):
        is_synthetic = self.sources == SYNTHETIC_SOURCE
        self.real = np.flatnonzero(~is_synthetic)
        self.synthetic = np.flatnonzero(is_synthetic)

    def weights(self, synthetic_weight: float) -> np.ndarray:
        """Sample weights: 1 for a real record, `synthetic_weight` for a synthetic one."""
        return np.where(self.sources == SYNTHETIC_SOURCE, float(synthetic_weight), 1.0)

    def label_weights(self, j: int, synthetic_weight: float, labels) -> np.ndarray:
        """Sample weights for label number j: weights(synthetic_weight), with that label's hard
        negatives (HARD_NEGATIVES: real records with the other label but not this one) counted up."""
        weight = self.weights(synthetic_weight)
        if labels[j] in HARD_NEGATIVES and HARD_NEGATIVES[labels[j]][0] in labels:
            other, factor = HARD_NEGATIVES[labels[j]]
            hard = (self.sources != SYNTHETIC_SOURCE) & (self.y[:, labels.index(other)] == 1) & (self.y[:, j] == 0)
            weight = np.where(hard, weight * factor, weight)
        return weight

    def weight_matrix(self, synthetic_weight: dict, labels) -> np.ndarray:
        """(n, labels) sample weights, one column per label (its own synthetic weight)."""
        return np.column_stack([self.label_weights(j, synthetic_weight[label], labels)
                                for j, label in enumerate(labels)])


def text_for(record) -> str:
    """What the classifier sees for a corpus record, through the same cleanup as the service."""
    try:
        return classification_text(prepare(record.text, record.title or None))
    except EmptyText:
        return f"{record.title or ''}\n{record.text}"


def build_data(records, labels) -> Data:
    sources = np.array([r.source or r.id.split("-")[0] for r in records], dtype=object)
    return Data(ids=[r.id for r in records], titles=[r.title or "" for r in records],
                texts=[text_for(r) for r in records], y=label_matrix([r.labels for r in records], labels),
                groups=np.array([r.group for r in records], dtype=object), sources=sources)


# -- folds -----------------------------------------------------------------------------------------

def story_folds(data: Data, scored: np.ndarray, k: int):
    """(train, test) index pairs: story-grouped folds over `scored`; synthetic records always train."""
    k = min(k, len(set(data.groups[scored])))
    if k < 2:
        return []
    splitter = GroupKFold(n_splits=k)
    return [(np.concatenate([scored[a], data.synthetic]), scored[b])
            for a, b in splitter.split(scored, groups=data.groups[scored])]


def source_folds(data: Data):
    """(source, train, test): each real source held out in turn (needs 3+ real sources)."""
    names = sorted(set(data.sources[data.real]))
    if len(names) < 3:
        return []
    return [(name, np.concatenate([data.real[data.sources[data.real] != name], data.synthetic]),
             data.real[data.sources[data.real] == name]) for name in names]


def fold_scores(data: Data, folds, min_df: int, combos, labels, seed: int) -> dict:
    """Out-of-fold probabilities {(synthetic_weight, C): array (n, labels)}, NaN where a record
    was never tested.

    The vectorizer is fitted once per fold (on that fold's training texts); only the logistic
    regressions are refitted per (synthetic weight, C), with exactly the settings TopicClassifier uses."""
    out = {combo: np.full((len(data.texts), len(labels)), np.nan) for combo in combos}
    for train_idx, test_idx in folds:
        probe = TopicClassifier(labels=labels, min_df=min_df, random_state=seed, **BASE_PARAMS)
        vectorizer = probe.build_vectorizer()
        try:
            X_train = vectorizer.fit_transform([data.texts[i] for i in train_idx])
        except ValueError:  # min_df leaves no terms in a very small fold
            for combo in combos:
                out[combo][test_idx] = 0.0
            continue
        X_test = vectorizer.transform([data.texts[i] for i in test_idx])
        for j in range(len(labels)):
            y_train = data.y[train_idx, j]
            if y_train.min() == y_train.max():   # no positive (or no negative) to learn from
                for combo in combos:
                    out[combo][test_idx, j] = float(y_train[0])
                continue
            for synthetic_weight, C in combos:
                model = logistic(C, BASE_PARAMS["class_weight"], seed)
                model.fit(X_train, y_train, sample_weight=data.label_weights(j, synthetic_weight, labels)[train_idx])
                out[(synthetic_weight, C)][test_idx, j] = model.predict_proba(X_test)[:, 1]
    return out


# -- thresholds and figures ------------------------------------------------------------------------

def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability cut with the best F1 on (y, p), placed midway to the next lower score."""
    if y.sum() == 0 or len(p) == 0:
        return 0.5
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    true_pos = np.cumsum(ys)
    predicted = np.arange(1, len(p) + 1)
    distinct = np.r_[ps[1:] != ps[:-1], True]            # cut only between different scores
    f1 = np.where(distinct, 2 * true_pos / (predicted + ys.sum()), -1.0)
    i = int(np.argmax(f1))
    lower = ps[i + 1] if i + 1 < len(ps) else 0.0
    return float(round((ps[i] + lower) / 2, 4))


def label_figures(y: np.ndarray, pred: np.ndarray, labels) -> dict:
    """Per-label precision/recall/F1/support and the macro-F1 over labels."""
    figures = {}
    for j, label in enumerate(labels):
        tp = int(((pred[:, j] == 1) & (y[:, j] == 1)).sum())
        fp = int(((pred[:, j] == 1) & (y[:, j] == 0)).sum())
        fn = int(((pred[:, j] == 0) & (y[:, j] == 1)).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        figures[label] = {"precision": round(precision, 4), "recall": round(recall, 4),
                          "f1": round(f1, 4), "support": int(y[:, j].sum())}
    figures["macro_f1"] = round(float(np.mean([figures[l]["f1"] for l in labels])), 4)
    return figures


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    return float(average_precision_score(y, p)) if 0 < y.sum() < len(y) else 0.0


# -- the whole procedure ---------------------------------------------------------------------------

def evaluate_and_fit(records, labels=LABELS, seed: int = 0) -> dict:
    """Search, thresholds, figures and the final model; returns everything train/report need."""
    labels = tuple(labels)
    started = time.perf_counter()
    log(f"preparing {len(records)} texts (cleanup + classification text)")
    data = build_data(records, labels)
    log(f"{len(data.real)} real records scored, {len(data.synthetic)} synthetic records for training only")
    if len(data.real) == 0:
        raise CorpusError([f"no real (non-'{SYNTHETIC_SOURCE}') records to evaluate on"])
    folds = story_folds(data, data.real, FOLDS)
    sources = source_folds(data)
    criterion = "leave-one-source-out average precision" if sources else "story-grouped CV average precision"
    search_rows, scores = [], {}
    combos = [(w, C) for w in SEARCH_SYNTHETIC_WEIGHT for C in SEARCH_C]
    for min_df in SEARCH_MIN_DF:
        log(f"search min_df={min_df}: {len(folds)} story folds, {len(sources)} source folds, "
            f"synthetic weight in {list(SEARCH_SYNTHETIC_WEIGHT)}, C in {list(SEARCH_C)}")
        cv = fold_scores(data, folds, min_df, combos, labels, seed)
        loso = fold_scores(data, [(tr, te) for _, tr, te in sources], min_df, combos, labels, seed) \
            if sources else None
        for combo in combos:
            row = {"min_df": min_df, "synthetic_weight": combo[0], "C": combo[1]}
            for j, label in enumerate(labels):
                row[f"cv_ap_{label}"] = round(average_precision(data.y[data.real, j], cv[combo][data.real, j]), 4)
                if loso is not None:
                    row[f"loso_ap_{label}"] = round(average_precision(data.y[data.real, j],
                                                                      loso[combo][data.real, j]), 4)
            search_rows.append(row)
            scores[(min_df,) + combo] = cv[combo]
    key = "loso_ap_" if sources else "cv_ap_"

    def best_for(label, min_df):
        rows = [r for r in search_rows if r["min_df"] == min_df]
        return max(rows, key=lambda r: (r[key + label], r["cv_ap_" + label], -r["C"], -r["synthetic_weight"]))

    # min_df is shared by all labels (one vocabulary); synthetic weight and C are chosen per label
    min_df = max(SEARCH_MIN_DF, key=lambda m: np.mean([best_for(l, m)[key + l] for l in labels]))
    synthetic_weight = {label: best_for(label, min_df)["synthetic_weight"] for label in labels}
    C = {label: best_for(label, min_df)["C"] for label in labels}
    log(f"chosen by {criterion}: min_df={min_df}, synthetic weight={synthetic_weight}, C={C}")

    oof = np.column_stack([scores[(min_df, synthetic_weight[label], C[label])][:, j]
                           for j, label in enumerate(labels)])
    y_real, p_real = data.y[data.real], oof[data.real]
    thresholds = {label: best_threshold(y_real[:, j], p_real[:, j]) for j, label in enumerate(labels)}
    cut = np.array([thresholds[label] for label in labels])
    cv_figures = label_figures(y_real, (p_real >= cut).astype(int), labels)
    for j, label in enumerate(labels):
        cv_figures[label]["average_precision"] = round(average_precision(y_real[:, j], p_real[:, j]), 4)
    log(f"story-grouped CV macro-F1 {cv_figures['macro_f1']} "
        + " ".join(f"{l}={cv_figures[l]['f1']}" for l in labels) + f"; thresholds {thresholds}")

    params = dict(BASE_PARAMS, labels=labels, min_df=min_df, C=C, random_state=seed)
    loso_figures = leave_one_source_out(data, sources, params, synthetic_weight, labels, seed) \
        if sources else None
    if loso_figures:
        log(f"leave-one-source-out macro-F1 {loso_figures['pooled']['macro_f1']} "
            + " ".join(f"{l}={loso_figures['pooled'][l]['f1']}" for l in labels))

    log("fitting the final model on every record")
    model = TopicClassifier(**params, thresholds=thresholds)
    model.fit(data.texts, data.y, sample_weight=data.weight_matrix(synthetic_weight, labels))
    seconds = round(time.perf_counter() - started, 1)
    log(f"done in {seconds} s; {len(model.feature_names_)} terms")
    return {"model": model, "data": data, "labels": labels, "thresholds": thresholds, "params": params,
            "synthetic_weight": synthetic_weight,
            "oof": oof, "cv": cv_figures, "loso": loso_figures, "search": search_rows,
            "criterion": criterion, "folds": len(folds), "seconds": seconds}


def leave_one_source_out(data: Data, sources, params, synthetic_weight, labels, seed) -> dict:
    """Train without each source (thresholds from inner story-grouped CV), score that source."""
    pred = np.zeros_like(data.y)
    per_source = {}
    for name, train_idx, test_idx in sources:
        log(f"leave-one-source-out: holding out {name!r} ({len(test_idx)} records)")
        inner_real = train_idx[data.sources[train_idx] != SYNTHETIC_SOURCE]
        inner = story_folds(data, inner_real, INNER_FOLDS)
        combos = sorted({(synthetic_weight[label], params["C"][label]) for label in labels})
        by_combo = fold_scores(data, inner, params["min_df"], combos, labels, seed)
        inner_oof = np.column_stack([by_combo[(synthetic_weight[label], params["C"][label])][:, j]
                                     for j, label in enumerate(labels)])
        cut = np.array([best_threshold(data.y[inner_real, j], inner_oof[inner_real, j])
                        for j in range(len(labels))])
        model = TopicClassifier(**params).fit([data.texts[i] for i in train_idx], data.y[train_idx],
                                              sample_weight=data.weight_matrix(synthetic_weight, labels)[train_idx])
        pred[test_idx] = model.predict_proba([data.texts[i] for i in test_idx]) >= cut
        per_source[name] = label_figures(data.y[test_idx], pred[test_idx], labels)
    return {"pooled": label_figures(data.y[data.real], pred[data.real], labels), "per_source": per_source}


# -- command line ----------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m training.train",
        description="Train the topic classifier on labelled corpus files and save a new model version.")
    parser.add_argument("--corpus", nargs="+", required=True, metavar="FILE",
                        help="JSON Lines or CSV files (records with source 'synthetic' train but are never scored)")
    parser.add_argument("--output", required=True, metavar="DIR",
                        help="model registry directory; a new version directory is written inside it")
    parser.add_argument("--labels", nargs="+", default=list(LABELS), metavar="LABEL",
                        help="label set, space- or comma-separated (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--name", default=MODEL_NAME, help="model name (default: %(default)s)")
    parser.add_argument("--no-report", action="store_true", help="skip report.html (faster)")
    args = parser.parse_args(argv)
    args.labels = tuple(part.strip() for item in args.labels for part in item.split(",") if part.strip())
    return args


def metadata_for(result: dict, records, args) -> dict:
    from training.corpus import corpus_sha256, file_sha256
    model = result["model"]
    params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in result["params"].items()}
    return {
        "name": args.name,
        "labels": list(result["labels"]),
        "thresholds": result["thresholds"],
        "trained_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "training_seconds": result["seconds"],
        "seed": args.seed,
        "corpus": {"sha256": corpus_sha256(records),
                   "files": {os.path.basename(path): file_sha256(path) for path in args.corpus},  # no build paths
                   "records": len(records), "scored_records": int(len(result["data"].real)),
                   "synthetic_records": int(len(result["data"].synthetic)),
                   "synthetic_weight": result["synthetic_weight"],
                   "label_counts": {l: int(result["data"].y[:, j].sum()) for j, l in enumerate(result["labels"])}},
        "estimator": {"class": f"{type(model).__module__}.{type(model).__name__}", "params": params,
                      "terms": int(len(model.feature_names_))},
        "evaluation": {
            "scored_on": "real articles only (synthetic records train every fold but are never scored)",
            "cv": {"method": f"story-grouped {result['folds']}-fold cross-validation, thresholds from "
                             "the same out-of-fold probabilities", **result["cv"]},
            "leave_one_source_out": ({"method": "each real source held out in turn; thresholds from "
                                                "inner story-grouped CV without it", **result["loso"]}
                                     if result["loso"] else None),
        },
        "search": {"criterion": result["criterion"], "min_df": list(SEARCH_MIN_DF), "C": list(SEARCH_C),
                   "synthetic_weight": list(SEARCH_SYNTHETIC_WEIGHT),
                   "hard_negatives": {label: {"other": other, "weight": weight}
                                      for label, (other, weight) in HARD_NEGATIVES.items()
                                      if label in result["labels"] and other in result["labels"]},
                   "chosen": {"min_df": result["params"]["min_df"], "C": result["params"]["C"],
                              "synthetic_weight": result["synthetic_weight"]},
                   "results": result["search"]},
    }


def missing_requirements(args) -> str | None:
    """What this run needs that is not installed, as a one-line message saying what to install."""
    if not args.no_report:
        try:
            import matplotlib  # noqa: F401  (the report's pictures)
        except ImportError:
            return ("the training report needs matplotlib, which is not installed; install the training extra "
                    "with .venv/bin/pip install -e '.[train]' (or make test), or pass --no-report to skip report.html")
    return None


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    missing = missing_requirements(args)
    if missing:  # before any work: training takes a minute or more
        print(f"error: {missing}", file=sys.stderr)
        return 2
    import json
    from training.corpus import FINGERPRINT_FILE, fingerprint, load_corpus
    from newsbrief.artifacts import save_version
    if os.path.exists(args.output) and not os.path.isdir(args.output):
        print(f"error: --output {args.output} is a file; give a model registry directory (e.g. models/)",
              file=sys.stderr)
        return 2
    try:
        records = load_corpus(args.corpus, labels=args.labels)
    except CorpusError as error:
        print(f"error: {len(error.problems)} problem(s) in the corpus; nothing was written:", file=sys.stderr)
        for problem in error.problems:
            print("  " + problem, file=sys.stderr)
        return 1
    for warning in getattr(records, "warnings", []):
        print("warning: " + warning, file=sys.stderr)
    try:
        result = evaluate_and_fit(records, labels=args.labels, seed=args.seed)
    except (CorpusError, ValueError) as error:
        print(f"error: cannot train on this corpus: {error}", file=sys.stderr)
        return 1
    metadata = metadata_for(result, records, args)
    # ids and text hashes of the training records: training.promote refuses held-out data that overlaps them
    extra = {FINGERPRINT_FILE: json.dumps(fingerprint(records)).encode("utf-8")}
    if not args.no_report:
        from training.report import render_report
        log("writing report.html")
        extra["report.html"] = render_report(result, metadata).encode("utf-8")
    try:
        version_dir = save_version(args.output, result["model"], metadata, extra_files=extra)
    except (OSError, ArtifactError) as error:
        print(f"error: cannot write the model into {args.output}: {error}", file=sys.stderr)
        return 1
    log(f"saved {version_dir}")
    from newsbrief.artifacts import current_version
    if current_version(args.output) == version_dir.name:
        log(f"it is the current version of {args.output}; to serve it from another registry (e.g. models): "
            f"python -m training.promote --models models --candidate {version_dir} --data HELD_OUT.jsonl")
    print(version_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
