"""Train the topic classifier and write a new model version.

    python -m training.train --corpus FILE [FILE ...] --output DIR [--labels L ...] [--seed N]

Steps (progress on stderr):
1. load and validate the corpus (training.corpus.load_corpus); every problem is listed, exit 1;
2. turn each record into what the service will classify: classification_text(prepare(text, title)),
   and count its terms once (every fold's TF-IDF is derived from these counts, exactly as a
   vectorizer fitted on that fold's texts would compute it);
3. leave one source out: each real source (e.g. all BBC 2004-2005 articles, all Gaza-war articles)
   is held out in turn and scored by models trained without it, one per C in SEARCH_C and label;
   records whose source is "synthetic" train every model and are never scored. C is chosen per
   label by the average precision of these out-of-source scores;
4. calibration: per label, a sigmoid (Platt scaling) fitted on the out-of-source decision values,
   so that a published score estimates the probability that the label applies on an outlet the
   model has not seen; each label's threshold is the best-F1 cut of those calibrated probabilities;
5. figures, on real articles only: per held-out source, with the calibration and threshold fitted
   without that source (nothing about it is used to score it but the choice of C); Brier scores and
   reliability bins; story-grouped CV at the chosen settings (in-corpus, flattering, for contrast);
6. fit on everything, save a version (newsbrief.artifacts.save_version) with metadata and report.html.

Fixed by measurement on held-out sources (docs/topics.md): place-name masking, the weight of
synthetic records (SYNTHETIC_WEIGHT) and of alliances' hard negatives (HARD_NEGATIVES), min_df, and
max_words (only the first 700 words are read: annotators labelled by the headline and first 700).
"""
from __future__ import annotations

import argparse
import os
import datetime as _dt
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import normalize

from newsbrief.errors import ArtifactError, CorpusError, EmptyText
from newsbrief.text import prepare
from newsbrief.topics import LABELS, TopicClassifier, classification_text, label_matrix, logistic

SYNTHETIC_SOURCE = "synthetic"   # records with this source train but are never scored
# Sample weight of a synthetic record per label (a real one weighs 1).
SYNTHETIC_WEIGHT = {"conflict": 4.0, "diplomacy": 16.0, "alliances": 4.0}
# Hard negatives: for `label`, real records that have `other` but not `label` weigh `weight`, so
# that war vocabulary alone is not taken for alliance evidence.
HARD_NEGATIVES = {"alliances": ("conflict", 3.0)}
BASE_PARAMS = dict(ngram_range=(1, 2), min_df=5, max_df=0.9, sublinear_tf=True, max_words=700, mask_places=True,
                   class_weight="balanced")
SEARCH_C = (2.0, 8.0, 32.0)
FOLDS = 5
RELIABILITY_BINS = 10
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


class TermCounts:
    """Term counts of every text, computed once. features() gives, for any split, exactly the
    TF-IDF rows a TopicClassifier's vectorizer fitted on the training rows would give (same terms,
    min_df/max_df pruning, smoothed idf, sublinear tf, l2 norm) without tokenising again."""

    def __init__(self, texts, params: dict):
        self.params = params
        self.matrix = TopicClassifier(**params).build_counter().fit_transform(texts).tocsr()

    def features(self, train_idx, test_idx):
        train = self.matrix[train_idx]
        n = len(train_idx)
        df = np.bincount(train.indices, minlength=train.shape[1])
        min_df, max_df = self.params["min_df"], self.params["max_df"]
        most = max_df if isinstance(max_df, (int, np.integer)) else max_df * n
        keep = np.flatnonzero((df >= min_df) & (df <= most))
        idf = (np.log((1 + n) / (1 + df[keep])) + 1).astype(np.float32)
        return self._tfidf(train[:, keep], idf), self._tfidf(self.matrix[test_idx][:, keep], idf)

    def _tfidf(self, counts, idf):
        counts = counts.tocsr(copy=True)
        if self.params.get("sublinear_tf", True):
            np.log(counts.data, out=counts.data)
            counts.data += 1
        counts.data *= idf[counts.indices]
        return normalize(counts, norm="l2", copy=False)


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


def fold_decisions(data: Data, counts: TermCounts, folds, Cs, labels, seed: int) -> dict:
    """Out-of-fold decision values {C: array (n, labels)}, NaN where a record was never tested,
    from logistic regressions with exactly the settings TopicClassifier uses."""
    out = {C: np.full((len(data.texts), len(labels)), np.nan) for C in Cs}
    weights = data.weight_matrix(synthetic_weights(labels), labels)
    for train_idx, test_idx in folds:
        X_train, X_test = counts.features(train_idx, test_idx)
        for j in range(len(labels)):
            y_train = data.y[train_idx, j]
            if y_train.min() == y_train.max() or X_train.shape[1] == 0:   # nothing to learn from
                for C in Cs:
                    out[C][test_idx, j] = 10.0 if y_train.min() == 1 else -10.0
                continue
            for C in Cs:
                model = logistic(C, BASE_PARAMS["class_weight"], seed)
                model.fit(X_train, y_train, sample_weight=weights[train_idx, j])
                out[C][test_idx, j] = model.decision_function(X_test)
    return out


def synthetic_weights(labels) -> dict:
    return {label: SYNTHETIC_WEIGHT.get(label, 1.0) for label in labels}


# -- calibration, thresholds and figures -----------------------------------------------------------

def platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) with expit(a * z + b) the probability that y = 1 (a nearly unregularised fit)."""
    if y.min() == y.max():
        return 1.0, 0.0
    model = LogisticRegression(C=1e4).fit(z.reshape(-1, 1), y)
    return round(float(model.coef_[0, 0]), 6), round(float(model.intercept_[0]), 6)


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


def reliability(y: np.ndarray, p: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict]:
    """Per probability bin: how many articles, their mean score and the share that had the label."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    return [{"low": round(b / bins, 2), "high": round((b + 1) / bins, 2), "count": int((which == b).sum()),
             "mean_score": round(float(p[which == b].mean()), 4),
             "share_with_label": round(float(y[which == b].mean()), 4)}
            for b in range(bins) if (which == b).any()]


def held_out_figures(data: Data, z: np.ndarray, sources, labels) -> dict:
    """Per held-out source and pooled: figures from calibration and thresholds fitted on the OTHER
    sources' out-of-source decision values, so nothing about a source decides how it is scored."""
    real = data.real
    proba = np.full(z.shape, np.nan)
    pred = np.zeros(z.shape, dtype=int)
    per_source = {}
    for name, _, test_idx in sources:
        others = real[data.sources[real] != name]
        for j in range(len(labels)):
            a, b = platt(z[others, j], data.y[others, j])
            cut = best_threshold(data.y[others, j], expit(a * z[others, j] + b))
            proba[test_idx, j] = expit(a * z[test_idx, j] + b)
            pred[test_idx, j] = proba[test_idx, j] >= cut
        per_source[name] = label_figures(data.y[test_idx], pred[test_idx], labels)
    pooled = label_figures(data.y[real], pred[real], labels)
    for j, label in enumerate(labels):
        y, p = data.y[real, j], proba[real, j]
        pooled[label]["average_precision"] = round(average_precision(y, p), 4)
        pooled[label]["brier"] = round(float(np.mean((p - y) ** 2)), 4)
    return {"pooled": pooled, "per_source": per_source, "proba": proba}


# -- the whole procedure ---------------------------------------------------------------------------

def evaluate_and_fit(records, labels=LABELS, seed: int = 0) -> dict:
    """Search, calibration, thresholds, figures and the final model; returns everything train/report need."""
    labels = tuple(labels)
    started = time.perf_counter()
    log(f"preparing {len(records)} texts (cleanup + classification text)")
    data = build_data(records, labels)
    log(f"{len(data.real)} real records scored, {len(data.synthetic)} synthetic records for training only")
    if len(data.real) == 0:
        raise CorpusError([f"no real (non-'{SYNTHETIC_SOURCE}') records to evaluate on"])
    params = dict(BASE_PARAMS, labels=labels, random_state=seed)
    counts = TermCounts(data.texts, params)
    log(f"counted {counts.matrix.shape[1]} distinct terms")
    folds = story_folds(data, data.real, FOLDS)
    sources = source_folds(data)
    held_out = [(tr, te) for _, tr, te in sources] if sources else folds
    criterion = ("leave-one-source-out average precision" if sources
                 else "story-grouped CV average precision (fewer than 3 real sources)")
    log(f"{'leave-one-source-out' if sources else 'story-grouped CV'}: {len(held_out)} folds, C in {list(SEARCH_C)}")
    by_C = fold_decisions(data, counts, held_out, SEARCH_C, labels, seed)
    real = data.real
    search_rows = [{"C": C, **{f"ap_{label}": round(average_precision(data.y[real, j], by_C[C][real, j]), 4)
                               for j, label in enumerate(labels)}} for C in SEARCH_C]
    C = {label: max(search_rows, key=lambda r: (r[f"ap_{label}"], -r["C"]))["C"] for label in labels}
    z = np.column_stack([by_C[C[label]][:, j] for j, label in enumerate(labels)])
    calibration = {label: platt(z[real, j], data.y[real, j]) for j, label in enumerate(labels)}
    oof = np.column_stack([expit(calibration[l][0] * z[:, j] + calibration[l][1]) for j, l in enumerate(labels)])
    thresholds = {label: best_threshold(data.y[real, j], oof[real, j]) for j, label in enumerate(labels)}
    log(f"chosen by {criterion}: C={C}; calibration {calibration}; thresholds {thresholds}")

    loso = None
    if sources:
        loso = held_out_figures(data, z, sources, labels)
        log(f"leave-one-source-out macro-F1 {loso['pooled']['macro_f1']} "
            + " ".join(f"{l}={loso['pooled'][l]['f1']}" for l in labels))
        loso_proba = loso.pop("proba")
    else:
        loso_proba = oof
    cv_z = fold_decisions(data, counts, folds, sorted(set(C.values())), labels, seed) if sources else by_C
    cv_p = np.column_stack([expit(calibration[l][0] * cv_z[C[l]][:, j] + calibration[l][1])
                            for j, l in enumerate(labels)])
    cut = np.array([thresholds[label] for label in labels])
    cv_figures = label_figures(data.y[real], (cv_p[real] >= cut).astype(int), labels)
    for j, label in enumerate(labels):
        cv_figures[label]["average_precision"] = round(average_precision(data.y[real, j], cv_p[real, j]), 4)
    log(f"story-grouped CV macro-F1 {cv_figures['macro_f1']} " + " ".join(f"{l}={cv_figures[l]['f1']}" for l in labels))
    calibration_figures = {label: {"brier": round(float(np.mean((loso_proba[real, j] - data.y[real, j]) ** 2)), 4),
                                   "reliability": reliability(data.y[real, j], loso_proba[real, j])}
                           for j, label in enumerate(labels)}

    log("fitting the final model on every record")
    params = dict(params, C=C)
    synthetic_weight = synthetic_weights(labels)
    model = TopicClassifier(**params, thresholds=thresholds, calibration=calibration)
    model.fit(data.texts, data.y, sample_weight=data.weight_matrix(synthetic_weight, labels))
    seconds = round(time.perf_counter() - started, 1)
    log(f"done in {seconds} s; {len(model.feature_names_)} terms")
    return {"model": model, "data": data, "labels": labels, "thresholds": thresholds, "params": params,
            "synthetic_weight": synthetic_weight, "calibration": calibration,
            "oof": loso_proba, "cv": cv_figures, "loso": loso, "calibration_figures": calibration_figures,
            "search": search_rows, "criterion": criterion, "folds": len(folds), "seconds": seconds}


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
    loso = result["loso"]
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
        "scores": {"meaning": "calibrated: the estimated probability that the label applies to an article "
                              "from an outlet the model has not seen (Platt scaling fitted on "
                              "leave-one-source-out decision values); a label is given when its score "
                              "reaches its threshold",
                   "calibration": {label: {"a": a, "b": b} for label, (a, b) in result["calibration"].items()}},
        "evaluation": {
            "scored_on": "real articles only (synthetic records train every fold but are never scored)",
            "leave_one_source_out": ({"method": "each real source held out in turn; its scores calibrated "
                                                "and thresholded by what the other sources' held-out "
                                                "scores gave", **loso} if loso else None),
            "calibration": result["calibration_figures"],
            "cv": {"method": f"story-grouped {result['folds']}-fold cross-validation at the shipped "
                             "calibration and thresholds (in-corpus: flatters, see leave_one_source_out)",
                   **result["cv"]},
        },
        "search": {"criterion": result["criterion"], "C": list(SEARCH_C),
                   "fixed": {"min_df": BASE_PARAMS["min_df"], "max_words": BASE_PARAMS["max_words"],
                             "mask_places": BASE_PARAMS["mask_places"],
                             "synthetic_weight": result["synthetic_weight"],
                             "hard_negatives": {label: {"other": other, "weight": weight}
                                                for label, (other, weight) in HARD_NEGATIVES.items()
                                                if label in result["labels"] and other in result["labels"]}},
                   "chosen": {"C": result["params"]["C"]},
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
