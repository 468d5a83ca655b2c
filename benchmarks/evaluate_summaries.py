"""Quality of every summary algorithm on the development sets, as a Markdown table.

    python -m benchmarks.evaluate_summaries                 # full table (~2 minutes)
    python -m benchmarks.evaluate_summaries --limit 200     # quicker, first 200 BBC articles
    python -m benchmarks.evaluate_summaries --equivalence   # fast LexRank/TextRank vs sumy's own
    python -m benchmarks.evaluate_summaries --timing        # CPU ms per article, each algorithm
    python -m benchmarks.evaluate_summaries --cv            # does the default's fitting generalise?

Articles go through newsbrief.text.prepare and newsbrief.summarize.summarize exactly as the
service runs them. ROUGE-1/2/L F1 (rouge-score, stemmed), in percent:

- keysentences: 100 real articles, 3 sentences, averaged over the two editors' references.
- BBC @3 and @ref: 1,500 BBC articles at 3 sentences and at the reference's own sentence count.
- one-sentence references (the service must stay at least as good as lead there): the
  article's human-written headline, for both sets, against 1 and 3 sentences from each system;
  and the first sentence of the BBC reference summary against 1 sentence.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
import time
from statistics import mean

import numpy as np

from newsbrief.summarize import ALGORITHMS, MAX_SENTENCES, NEWS_WEIGHTS, summarize
from newsbrief.text import prepare

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "summaries"
METRICS = ("rouge1", "rouge2", "rougeL")
# BBC references glue sentences together: "...this year.She said ..."
_REFERENCE_SENTENCE_END = re.compile(r"(?<=[a-z0-9%)'\"][.!?])(?=[A-Z\"])")


def load(path: pathlib.Path, limit: int | None = None) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


def reference_sentences(summary: str) -> list[str]:
    return [s.strip() for s in _REFERENCE_SENTENCE_END.split(summary) if s.strip()]


class Rouge:
    """F1 of rouge-score's RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True).

    ROUGE-1/2 come from rouge-score itself; ROUGE-L uses the same tokens and formula with a
    bit-parallel LCS length (rouge-score's pure-Python LCS table took 70% of the run time;
    tests/test_summarize.py checks the two agree). Each text is tokenised once.
    """

    def __init__(self):
        from rouge_score import rouge_scorer, scoring, tokenizers  # pip install -e '.[eval]'

        self._ngrams = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
        self._tokenizer = tokenizers.DefaultTokenizer(use_stemmer=True)
        self._fmeasure = scoring.fmeasure
        self._tokens: dict[str, list[str]] = {}
        self._ngrams._tokenizer = self  # rouge-score accepts any object with tokenize()

    def tokenize(self, text: str) -> list[str]:
        tokens = self._tokens.get(text)
        if tokens is None:
            tokens = self._tokens[text] = self._tokenizer.tokenize(text)
        return tokens

    def rouge_l(self, reference: str, candidate: str) -> float:
        ref, can = self.tokenize(reference), self.tokenize(candidate)
        if not ref or not can:
            return 0.0
        lcs = lcs_length(ref, can)
        return self._fmeasure(lcs / len(can), lcs / len(ref))

    def __call__(self, references: list[str], candidate: str) -> np.ndarray:
        """F1 per metric, averaged over the references."""
        rows = []
        for reference in references:
            scores = self._ngrams.score(reference, candidate)
            rows.append([scores["rouge1"].fmeasure, scores["rouge2"].fmeasure, self.rouge_l(reference, candidate)])
        return np.mean(rows, axis=0)


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (Hyyrö's bit-vector algorithm)."""
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def system_text(article, count: int, algorithm: str) -> str:
    return " ".join(s.text for s, _ in summarize(article, count, algorithm))


def evaluate(algorithms, keysentences, bbc, rouge) -> dict[str, dict[str, np.ndarray]]:
    """results[algorithm][setting] = per-article array (articles x 3 metrics)."""
    ks_articles = [prepare(r["text"], r.get("title")) for r in keysentences]
    bbc_articles = [prepare(r["text"], r.get("title")) for r in bbc]
    bbc_refs = [reference_sentences(r["summary"]) for r in bbc]
    results: dict[str, dict[str, np.ndarray]] = {}
    for algorithm in algorithms:
        started = time.perf_counter()
        res = {}
        res["ks@3"] = np.array([rouge(r["references"], system_text(a, 3, algorithm))
                                for r, a in zip(keysentences, ks_articles)])
        res["ks-title@1"] = np.array([rouge([r["title"]], system_text(a, 1, algorithm))
                                      for r, a in zip(keysentences, ks_articles) if r.get("title")])
        res["bbc@3"] = np.array([rouge([r["summary"]], system_text(a, 3, algorithm))
                                 for r, a in zip(bbc, bbc_articles)])
        res["bbc@ref"] = np.array([rouge([r["summary"]], system_text(a, max(1, len(refs)), algorithm))
                                   for r, a, refs in zip(bbc, bbc_articles, bbc_refs)])
        res["ks-title@3"] = np.array([rouge([r["title"]], system_text(a, 3, algorithm))
                                      for r, a in zip(keysentences, ks_articles) if r.get("title")])
        res["bbc-title@3"] = np.array([rouge([r["title"]], system_text(a, 3, algorithm)) for r, a in zip(bbc, bbc_articles)])
        ones = [system_text(a, 1, algorithm) for a in bbc_articles]
        res["bbc-title@1"] = np.array([rouge([r["title"]], o) for r, o in zip(bbc, ones)])
        res["bbc-first@1"] = np.array([rouge([refs[0]], o) for refs, o in zip(bbc_refs, ones) if refs])
        results[algorithm] = res
        print(f"{algorithm}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return results


def markdown(results, n_ks: int, n_bbc: int) -> str:
    def cell(arr):
        return " / ".join(f"{100 * v:.1f}" for v in arr.mean(axis=0))

    lines = [
        f"ROUGE-1 / ROUGE-2 / ROUGE-L F1 (%), stemmed. Editors' key sentences: {n_ks} articles, 3 sentences, "
        f"mean over both editors. BBC: {n_bbc} articles, at 3 sentences and at the reference's length.",
        "",
        "| algorithm | key sentences @3 | BBC @3 | BBC @ref length |",
        "|---|---|---|---|",
    ]
    for algorithm, res in results.items():
        lines.append(f"| {algorithm} | {cell(res['ks@3'])} | {cell(res['bbc@3'])} | {cell(res['bbc@ref'])} |")
    lines += [
        "",
        "One-sentence references: the article's human-written headline (key-sentence and BBC "
        "articles), with 1 and with 3 sentences from each system, and the first sentence of the "
        "BBC reference summary (1 sentence).",
        "",
        "| algorithm | headline (key sent.) @1 | headline (BBC) @1 | headline (key sent.) @3 | headline (BBC) @3 | first BBC reference sentence @1 |",
        "|---|---|---|---|---|---|",
    ]
    for algorithm, res in results.items():
        lines.append(f"| {algorithm} | {cell(res['ks-title@1'])} | {cell(res['bbc-title@1'])} | "
                     f"{cell(res['ks-title@3'])} | {cell(res['bbc-title@3'])} | {cell(res['bbc-first@1'])} |")
    return "\n".join(lines)


def equivalence(bbc, counts=(1, 3, 5)) -> str:
    """Share of articles where the fast implementation picks exactly sumy's sentences."""
    lines = ["| fast | sumy | sentences | same sentences | articles | fast ms/article | sumy ms/article |",
             "|---|---|---|---|---|---|---|"]
    articles = [prepare(r["text"], r.get("title")) for r in bbc]
    for count in counts:
        for fast, stock in (("lexrank", "sumy-lexrank"), ("textrank", "sumy-textrank")):
            timings = {}
            picks = {}
            for name in (fast, stock):
                started = time.process_time()
                picks[name] = [[s.start for s, _ in summarize(a, count, name)] for a in articles]
                timings[name] = 1000 * (time.process_time() - started) / len(articles)
            same = sum(a == b for a, b in zip(picks[fast], picks[stock]))
            lines.append(f"| {fast} | {stock} | {count} | {100 * same / len(articles):.1f}% | {len(articles)} | "
                         f"{timings[fast]:.2f} | {timings[stock]:.2f} |")
    return "\n".join(lines)


def cross_validation(keysentences, rouge, repeats: int = 6, folds: int = 5, seed: int = 0) -> str:
    """Does fitting the "news" weights on editors' picks generalise? A logistic regression of
    the editors' picks on summarize.news_features is fitted on some articles and judged (ROUGE-2
    at 3 sentences, lede always kept) on the others: k-fold by article (an article's sentences
    stay together), then leave-one-source-out."""
    from sklearn.linear_model import LogisticRegression

    from newsbrief.summarize import NEWS_FEATURES, _distinct, news_features

    def key(text):
        return " ".join(re.findall(r"\w+", text.lower()))

    data = []  # (texts, features, editor votes 0..1, references, source)
    for row in keysentences:
        sentences = [s.text for s in _distinct(prepare(row["text"], row.get("title")).sentences, MAX_SENTENCES)]
        index = {key(t): i for i, t in enumerate(sentences)}
        votes = np.zeros(len(sentences))
        for picks in row["picks"]:
            for p in picks:
                if key(row["sentences"][p]) in index:
                    votes[index[key(row["sentences"][p])]] += 1 / len(row["picks"])
        data.append((sentences, news_features(sentences), votes, row["references"], row["id"].split("-")[0]))

    def fit(ids):
        x = np.vstack([data[i][1][1:30] for i in ids])          # the lede is always kept: leave it out
        y = np.concatenate([data[i][2][1:30] for i in ids])
        model = LogisticRegression().fit(np.vstack([x, x]), np.r_[np.ones(len(y)), np.zeros(len(y))],
                                         sample_weight=np.r_[y, 1 - y] + 1e-9)
        return model.coef_[0]

    def rouge2(i, scores):
        texts, refs = data[i][0], data[i][3]
        scores = np.array(scores, dtype=float)
        scores[0] = np.inf
        best = sorted(sorted(range(len(texts)), key=lambda j: scores[j], reverse=True)[:3])
        return rouge(refs, " ".join(texts[j] for j in best))[1]

    lead = np.array([rouge2(i, -np.arange(len(d[0]))) for i, d in enumerate(data)])
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(repeats):
        order = rng.permutation(len(data))
        for test in np.array_split(order, folds):
            weights = fit(np.setdiff1d(order, test))
            gains.append(np.mean([rouge2(i, data[i][1] @ weights) for i in test]) - lead[test].mean())
    lines = [f"Editors' picks ~ logistic({', '.join(NEWS_FEATURES)}); ROUGE-2 F1 gain over lead at 3 sentences "
             "on articles the weights were not fitted on.", "",
             "| split | held-out articles | gain over lead | fitted weights |", "|---|---|---|---|",
             f"| {folds}-fold x {repeats} | {len(data) // folds} per fold | {100 * np.mean(gains):+.1f} "
             f"(sd over folds {100 * np.std(gains):.1f}) | {np.round(fit(range(len(data))), 2).tolist()} (all articles) |"]
    sources = sorted({d[4] for d in data})
    for source in sources:
        test = [i for i, d in enumerate(data) if d[4] == source]
        weights = fit([i for i, d in enumerate(data) if d[4] != source])
        gain = np.mean([rouge2(i, data[i][1] @ weights) for i in test]) - lead[test].mean()
        lines.append(f"| source {source} left out | {len(test)} | {100 * gain:+.1f} | {np.round(weights, 2).tolist()} |")
    weights = np.array([NEWS_WEIGHTS[f] * (1 if f in ("length", "centrality") else -1) for f in NEWS_FEATURES])
    shipped = np.array([rouge2(i, d[1] @ weights) for i, d in enumerate(data)])
    lines.append(f"| shipped weights {NEWS_WEIGHTS} (chosen on all {len(data)}) | {len(data)} | "
                 f"{100 * (shipped - lead).mean():+.1f} (se {100 * (shipped - lead).std() / np.sqrt(len(data)):.1f}) | |")
    return "\n".join(lines)


def timing(bbc, count: int = 3, repeats: int = 3) -> str:
    """CPU time per article of prepare() and prepare() + summarize() for each algorithm, on
    the BBC articles of 300-500 words (best of `repeats` passes; stem cache warm after pass 1)."""
    texts = [(r["text"], r.get("title")) for r in bbc if 300 <= len(r["text"].split()) <= 500]
    words = mean(len(t.split()) for t, _ in texts)

    def per_article(fn) -> float:
        best = float("inf")
        for _ in range(repeats):
            started = time.process_time()
            for text, title in texts:
                fn(text, title)
            best = min(best, time.process_time() - started)
        return 1000 * best / len(texts)

    lines = [f"{len(texts)} BBC articles of 300-500 words (mean {words:.0f}); CPU ms per article, one process.", "",
             "| step | ms/article |", "|---|---|",
             f"| prepare (cleanup + sentence splitting) | {per_article(prepare):.2f} |"]
    for algorithm in ALGORITHMS:
        ms = per_article(lambda text, title: summarize(prepare(text, title), count, algorithm))
        lines.append(f"| prepare + {algorithm} ({count} sentences) | {ms:.2f} |")
    lines.append(f"| prepare + sumy LexRankSummarizer as documented (uncached Stemmer) | {per_article(_stock_lexrank(count)):.2f} |")
    return "\n".join(lines)


def _stock_lexrank(count: int):
    """sumy's LexRank with its own uncached Stemmer('english'), over our sentences."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.utils import get_stop_words

    from newsbrief._words import Tokenizer

    summarizer = LexRankSummarizer(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    tokenizer = Tokenizer()

    def run(text, title):
        article = prepare(text, title)
        document = ObjectDocumentModel([Paragraph([Sentence(s.text, tokenizer) for s in article.sentences])])
        return summarizer(document, count)

    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=pathlib.Path, default=DEFAULT_DATA,
                        help="folder with keysentences_dev.jsonl and bbc_dev.jsonl (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N BBC articles")
    parser.add_argument("--algorithms", default=",".join(ALGORITHMS),
                        help="comma-separated (default: all the service offers)")
    parser.add_argument("--equivalence", action="store_true",
                        help="compare the fast LexRank/TextRank with sumy's classes instead")
    parser.add_argument("--cv", action="store_true",
                        help="cross-validate the fitting of the default's weights on editors' picks instead")
    parser.add_argument("--timing", action="store_true",
                        help="print CPU time per article of prepare + each algorithm instead")
    args = parser.parse_args(argv)
    for name in ("keysentences_dev.jsonl", "bbc_dev.jsonl"):
        if not (args.data / name).exists():
            parser.error(f"{args.data / name} not found; pass --data FOLDER holding the development sets")
    bbc = load(args.data / "bbc_dev.jsonl", args.limit)
    if args.equivalence:
        print(equivalence(bbc))
        return 0
    if args.timing:
        print(timing(bbc))
        return 0
    if args.cv:
        print(cross_validation(load(args.data / "keysentences_dev.jsonl"), Rouge()))
        return 0
    algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()]
    unknown = [a for a in algorithms if a not in ALGORITHMS]
    if unknown:
        parser.error(f"unknown algorithm(s) {unknown}; choose from {', '.join(ALGORITHMS)}")
    keysentences = load(args.data / "keysentences_dev.jsonl")
    results = evaluate(algorithms, keysentences, bbc, Rouge())
    print(markdown(results, len(keysentences), len(bbc)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
