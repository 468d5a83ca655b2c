"""A self-contained HTML report of one training run (pictures embedded as base64 PNG).

render_report(result, metadata) takes what training.train.evaluate_and_fit returned and the
metadata it saves, and returns the HTML text. Every figure in it comes from held-out predictions
on real articles (synthetic records are never scored): leave-one-source-out where the corpus has
3+ real sources, story-grouped cross-validation otherwise.
"""
from __future__ import annotations

import base64
import html
import io

import numpy as np


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(figure)
    return '<img alt="" src="data:image/png;base64,' + base64.b64encode(buffer.getvalue()).decode("ascii") + '">'


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _table(header, rows) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figures_table(figures: dict, labels, thresholds=None) -> str:
    header = ["label", "precision", "recall", "F1", "support"] + (["threshold"] if thresholds else [])
    rows = []
    for label in labels:
        f = figures[label]
        row = [label, f"{f['precision']:.3f}", f"{f['recall']:.3f}", f"{f['f1']:.3f}", f["support"]]
        rows.append(row + ([f"{thresholds[label]:.3f}"] if thresholds else []))
    rows.append(["macro-F1", "", "", f"{figures['macro_f1']:.3f}", ""] + ([""] if thresholds else []))
    return _table(header, rows)


def cooccurrence(y: np.ndarray, pred: np.ndarray, labels) -> np.ndarray:
    """Rows: true label (plus 'none'); columns: predicted label (plus 'none'); cells: article counts."""
    n = len(labels)
    matrix = np.zeros((n + 1, n + 1), dtype=int)
    for truth, guess in zip(y, pred):
        rows = list(np.flatnonzero(truth)) or [n]
        cols = list(np.flatnonzero(guess)) or [n]
        for r in rows:
            for c in cols:
                matrix[r, c] += 1
    return matrix


def _cooccurrence_picture(matrix: np.ndarray, labels) -> str:
    plt = _pyplot()
    names = list(labels) + ["(none)"]
    figure, axis = plt.subplots(figsize=(5.2, 4.4))
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for r in range(len(names)):
        for c in range(len(names)):
            axis.text(c, r, str(matrix[r, c]), ha="center", va="center",
                      color="white" if shares[r, c] > 0.6 else "black", fontsize=10)
    axis.set_xticks(range(len(names)), names, rotation=30, ha="right")
    axis.set_yticks(range(len(names)), names)
    axis.set_xlabel("predicted label (out of fold)")
    axis.set_ylabel("true label")
    axis.set_title("Articles with true label (row) given predicted label (column)", fontsize=10)
    return _png(figure)


def _frame(axis, title: str, xlabel: str, ylabel: str) -> None:
    axis.set_title(title)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_xlim(0, 1.02)
    axis.set_ylim(0, 1.02)
    axis.grid(alpha=0.3)


def _pr_picture(y: np.ndarray, p: np.ndarray, labels, thresholds) -> str:
    from sklearn.metrics import precision_recall_curve
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(labels), figsize=(4.2 * len(labels), 3.8), squeeze=False)
    for j, label in enumerate(labels):
        axis = axes[0, j]
        if 0 < y[:, j].sum() < len(y):
            precision, recall, cuts = precision_recall_curve(y[:, j], p[:, j])
            axis.plot(recall, precision, color="tab:blue")
            pred = p[:, j] >= thresholds[label]
            tp = int((pred & (y[:, j] == 1)).sum())
            r = tp / max(int(y[:, j].sum()), 1)
            q = tp / max(int(pred.sum()), 1)
            axis.plot([r], [q], "o", color="tab:red", label=f"threshold {thresholds[label]:.2f}")
            axis.axhline(y[:, j].mean(), color="grey", linestyle=":", label="chance (prevalence)")
            axis.legend(loc="lower left", fontsize=8)
        _frame(axis, f"{label} (support {int(y[:, j].sum())})", "recall", "precision")
    figure.suptitle("Precision-recall of held-out (out-of-source) calibrated scores, real articles", fontsize=11)
    return _png(figure)


def _reliability_picture(calibration: dict, labels) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(labels), figsize=(4.2 * len(labels), 3.9), squeeze=False)
    for j, label in enumerate(labels):
        axis, bins = axes[0, j], calibration[label]["reliability"]
        axis.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
        axis.plot([b["mean_score"] for b in bins], [b["share_with_label"] for b in bins], "o-", color="tab:blue",
                  label="held-out articles")
        for b in bins:
            axis.annotate(str(b["count"]), (b["mean_score"], b["share_with_label"]), fontsize=7,
                          textcoords="offset points", xytext=(3, -9))
        _frame(axis, f"{label} (Brier {calibration[label]['brier']:.3f})", "published score (bin mean)",
               "share of articles with the label")
        axis.legend(loc="upper left", fontsize=8)
    figure.suptitle("Reliability: scores of articles from held-out sources, in 10 bins (numbers: articles)",
                    fontsize=11)
    return _png(figure)


def _terms_section(model, labels, count=20) -> str:
    columns = [model.top_terms(label, count) for label in labels]
    rows = [[f"{columns[j][i][0]} ({columns[j][i][1]:.2f})" for j in range(len(labels))] for i in range(count)]
    return _table(list(labels), rows)


def _snippet(text: str, size: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[:size].rsplit(" ", 1)[0] + " ..."


def _mistakes(result, count=8) -> str:
    data, labels, oof, thresholds = result["data"], result["labels"], result["oof"], result["thresholds"]
    parts = []
    real = data.real
    for j, label in enumerate(labels):
        y, p = data.y[real, j], oof[real, j]
        for kind, mask, order in (("false positives (highest held-out scores among articles without the label)",
                                   (y == 0) & (p >= thresholds[label]), -1),
                                  ("false negatives (lowest scores among articles with the label)",
                                   (y == 1) & (p < thresholds[label]), 1)):
            picked = np.flatnonzero(mask)
            picked = picked[np.argsort(order * p[picked], kind="stable")][:count]
            rows = []
            for k in picked:
                i = real[k]
                true = ", ".join(l for l, v in zip(labels, data.y[i]) if v) or "(none)"
                rows.append([data.ids[i], f"{p[k]:.3f}", true, _snippet(data.titles[i] or "", 90),
                             _snippet(data.texts[i])])
            parts.append(f"<h3>{html.escape(label)}: {html.escape(kind)}, {int(mask.sum())} in all</h3>"
                         + (_table(["id", "score", "true labels", "title", "text (start)"], rows) if rows
                            else "<p>none</p>"))
    return "\n".join(parts)


STYLE = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;
font-size:13px;vertical-align:top;text-align:left}th{background:#f3f3f3}h2{border-bottom:1px solid #ddd;
margin-top:2em}code{background:#f3f3f3;padding:0 3px}"""


def render_report(result: dict, metadata: dict) -> str:
    """The whole report as one HTML string."""
    labels, data, thresholds = result["labels"], result["data"], result["thresholds"]
    y, p = data.y[data.real], result["oof"][data.real]
    cut = np.array([thresholds[label] for label in labels])
    pred = (p >= cut).astype(int)
    corpus = metadata["corpus"]
    loso = result.get("loso")
    sections = [
        f"<h1>Topic model report: {html.escape(str(metadata.get('name', 'topics')))}</h1>",
        f"<p>Trained {html.escape(metadata['trained_at'])} in {result['seconds']} s on {corpus['records']} "
        f"records ({corpus['scored_records']} real, scored; {corpus['synthetic_records']} synthetic, training "
        f"only, weight {corpus['synthetic_weight']}). Corpus SHA-256 <code>{corpus['sha256']}</code>. "
        f"Seed {metadata['seed']}.</p>",
    ]
    if loso:
        rows = [[name] + [f"{figs[l]['f1']:.3f} ({figs[l]['support']})" for l in labels] + [f"{figs['macro_f1']:.3f}"]
                for name, figs in loso["per_source"].items()]
        sections += ["<h2>Leave one source out (proxy for unseen outlets)</h2>",
                     "<p>Each real source is held out in turn: trained without it, its scores calibrated and "
                     "thresholded by what the other sources' held-out scores gave. Pooled over all held-out "
                     "sources:</p>",
                     figures_table(loso["pooled"], labels),
                     "<p>Per held-out source: F1 (support).</p>",
                     _table(["held-out source"] + list(labels) + ["macro-F1"], rows)]
    calibration = result["calibration_figures"]
    sections += [
        "<h2>Calibration: Brier scores and reliability diagrams</h2>",
        "<p>A published score is meant as the probability that the label applies to an article from an "
        "outlet the model has not seen. Per label: the sigmoid fitted on held-out decision values "
        "(score = 1 / (1 + exp(-(a z + b)))), the threshold, and the Brier score (mean squared error "
        "of the held-out scores; 0 is perfect, always answering the label's share would give "
        "share &times; (1 &minus; share)).</p>",
        _table(["label", "a", "b", "threshold", "Brier", "Brier of a constant"],
               [[l, result["calibration"][l][0], result["calibration"][l][1], f"{thresholds[l]:.3f}",
                 f"{calibration[l]['brier']:.4f}", f"{y[:, j].mean() * (1 - y[:, j].mean()):.4f}"]
                for j, l in enumerate(labels)]),
        _reliability_picture(calibration, labels),
        "<h2>Story-grouped cross-validation (in-corpus, for contrast)</h2>",
        f"<p>{html.escape(metadata['evaluation']['cv']['method'])}.</p>",
        figures_table(result["cv"], labels, thresholds),
        "<h2>Precision-recall curves</h2>", _pr_picture(y, p, labels, thresholds),
        "<h2>Confusion between labels</h2>",
        "<p>Held-out scores at the shipped thresholds. Each article counts once per (true label, predicted "
        "label) pair; an article with no label counts under (none).</p>",
        _cooccurrence_picture(cooccurrence(y, pred, labels), labels),
        "<h2>Most informative terms</h2>",
        "<p>Largest positive logistic-regression weights per label. <code>&lt;place&gt;</code> stands for "
        "any country, nationality or city name, which the model does not see individually.</p>",
        _terms_section(result["model"], labels),
        "<h2>Search</h2>",
        f"<p>Criterion: {html.escape(result['criterion'])}, C chosen per label. Fixed by earlier "
        f"measurement: {html.escape(str(metadata['search']['fixed']))}. Chosen: C "
        f"{html.escape(str(result['params']['C']))}.</p>",
        _table(list(result["search"][0].keys()), [list(r.values()) for r in result["search"]]),
        "<h2>Misclassified examples worth a look</h2>", _mistakes(result),
    ]
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Topic model report</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(sections) + "\n</body></html>\n")
