"""Quality of every summary algorithm on the development sets, as a Markdown table.

    python -m benchmarks.evaluate_summaries                 # full table (~2 minutes)
    python -m benchmarks.evaluate_summaries --limit 200     # quicker, first 200 BBC articles
    python -m benchmarks.evaluate_summaries --equivalence   # fast LexRank/TextRank vs sumy's own
    python -m benchmarks.evaluate_summaries --timing        # CPU ms per article, each algorithm
    python -m benchmarks.evaluate_summaries --cv            # does the default's fitting hold on unseen outlets?

Articles go through newsbrief.text.prepare and newsbrief.summarize.summarize exactly as the
service runs them. ROUGE-1/2/L F1 (rouge-score, stemmed), in percent:

- key sentences: keysentences_dev (100 articles) and keysentences_2019_2026 (300 articles, 42
  outlets), 3 sentences, averaged over the two editors' references.
- BBC @3 and @ref: 1,500 BBC articles at 3 sentences and at the reference's own sentence count.
- one-sentence references (the service must stay at least as good as lead there): the
  article's human-written headline, for all sets, against 1 and 3 sentences from each system;
  and the first sentence of the BBC reference summary against 1 sentence.
- besides the algorithms: "news (no title)" (the default on requests without a title)
  and "news (before)" (the default as it was before issue 13), in the same run.
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

from newsbrief.summarize import ALGORITHMS, DEFAULT_ALGORITHM, MAX_SENTENCES, summarize
from newsbrief.text import prepare

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "summaries"
METRICS = ("rouge1", "rouge2", "rougeL")
KEYSENTENCES_NEW = "keysentences_2019_2026.jsonl"
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
    if algorithm == PREVIOUS:
        return " ".join(s.text for s, _ in previous_news(article, count))
    return " ".join(s.text for s, _ in summarize(article, count, algorithm))


# The default as shipped before issue 13 (lede kept, then 0.5 ln(words) + 1.0 centrality -
# 1.5 ln(1 + index) - 1.5 quote; no title, no redundancy penalty), for comparison in the same run.
PREVIOUS = "news (before)"
UNTITLED = "news (no title)"


def previous_news(article, count: int):
    from newsbrief.summarize import _distinct

    candidates = _distinct(article.sentences, MAX_SENTENCES)
    if not candidates:
        return []
    scores = previous_news_scores([s.text for s in candidates])
    best = sorted(range(len(candidates)), key=lambda i: scores[i], reverse=True)[:count]
    return [(candidates[i], float(scores[i])) for i in sorted(best)]


def previous_news_scores(texts: list[str]) -> np.ndarray:
    from newsbrief import _centrality, _words
    from newsbrief.summarize import _QUOTE

    analysed = [_words.analyse(t) for t in texts]
    centrality = _centrality.textrank_scores([stems for _, stems in analysed])
    top = centrality.max()
    centrality = centrality / top if top > 0 else centrality
    linear = (0.5 * np.log([max(n, 1) for n, _ in analysed]) + centrality
              - 1.5 * np.log1p(np.arange(len(texts)))
              - 1.5 * np.array([_QUOTE.search(t) is not None for t in texts]))
    scores = 1.0 / (1.0 + np.exp(-(linear - 1.0)))
    scores[0] = 1.0
    return scores


def evaluate(systems, key_sets: dict[str, list[dict]], bbc, rouge) -> dict[str, dict[str, np.ndarray]]:
    """results[system][setting] = per-article array (articles x 3 metrics). A system is an
    algorithm, PREVIOUS, or UNTITLED (the default with the title left out of the request)."""
    prepared = {}

    def article(row, system):
        titled = system != UNTITLED
        key = (id(row), titled)
        if key not in prepared:
            prepared[key] = prepare(row["text"], row.get("title") if titled else None)
        return prepared[key]

    bbc_refs = [reference_sentences(r["summary"]) for r in bbc]
    results: dict[str, dict[str, np.ndarray]] = {}
    for system in systems:
        algorithm = DEFAULT_ALGORITHM if system == UNTITLED else system
        started = time.perf_counter()
        res = {}
        for name, rows in key_sets.items():
            res[f"{name}@3"] = np.array([rouge(r["references"], system_text(article(r, system), 3, algorithm))
                                         for r in rows])
            for count in (1, 3):
                res[f"{name}-title@{count}"] = np.array([
                    rouge([r["title"]], system_text(article(r, system), count, algorithm)) for r in rows if r.get("title")])
        res["bbc@3"] = np.array([rouge([r["summary"]], system_text(article(r, system), 3, algorithm)) for r in bbc])
        res["bbc@ref"] = np.array([rouge([r["summary"]], system_text(article(r, system), max(1, len(refs)), algorithm))
                                   for r, refs in zip(bbc, bbc_refs)])
        res["bbc-title@3"] = np.array([rouge([r["title"]], system_text(article(r, system), 3, algorithm)) for r in bbc])
        ones = [system_text(article(r, system), 1, algorithm) for r in bbc]
        res["bbc-title@1"] = np.array([rouge([r["title"]], o) for r, o in zip(bbc, ones)])
        res["bbc-first@1"] = np.array([rouge([refs[0]], o) for refs, o in zip(bbc_refs, ones) if refs])
        results[system] = res
        print(f"{system}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return results


def markdown(results, key_sets: dict[str, list[dict]], n_bbc: int) -> str:
    def cell(arr):
        return " / ".join(f"{100 * v:.1f}" for v in arr.mean(axis=0))

    names = list(key_sets)
    sizes = ", ".join(f"{name} {len(rows)} articles" for name, rows in key_sets.items())
    lines = [
        f"ROUGE-1 / ROUGE-2 / ROUGE-L F1 (%), stemmed. Editors' key sentences ({sizes}): 3 sentences, "
        f"mean over both editors. BBC: {n_bbc} articles, at 3 sentences and at the reference's length.",
        "",
        "| system | " + " | ".join(f"key sentences {n} @3" for n in names) + " | BBC @3 | BBC @ref length |",
        "|---|" + "---|" * (len(names) + 2),
    ]
    for system, res in results.items():
        lines.append(f"| {system} | " + " | ".join(cell(res[f"{n}@3"]) for n in names)
                     + f" | {cell(res['bbc@3'])} | {cell(res['bbc@ref'])} |")
    lines += [
        "",
        "One-sentence references: the article's human-written headline, with 1 and with 3 sentences "
        "from each system, and the first sentence of the BBC reference summary (1 sentence).",
        "",
        "| system | " + " | ".join(f"headline ({n}) @1" for n in names) + " | headline (BBC) @1 | "
        + " | ".join(f"headline ({n}) @3" for n in names) + " | headline (BBC) @3 | first BBC reference sentence @1 |",
        "|---|" + "---|" * (2 * len(names) + 3),
    ]
    for system, res in results.items():
        lines.append(f"| {system} | " + " | ".join(cell(res[f"{n}-title@1"]) for n in names)
                     + f" | {cell(res['bbc-title@1'])} | " + " | ".join(cell(res[f"{n}-title@3"]) for n in names)
                     + f" | {cell(res['bbc-title@3'])} | {cell(res['bbc-first@1'])} |")
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


def source(row: dict) -> str:
    """The outlet (keysentences_2019_2026) or the source prefix of the id (keysentences_dev)."""
    return row.get("outlet") or row["id"].split("-")[0]


class Editors:
    """One key-sentence article as the "news" fitting sees it: our distinct sentences, their
    features and cosine similarities, and the share of editors' votes each sentence got."""

    def __init__(self, row: dict, rouge: "Rouge", title: bool = True):
        from newsbrief.summarize import _distinct, news_features

        self.id, self.source, self.references, self.rouge = row["id"], source(row), row["references"], rouge
        self.set = "2019-2026" if "outlet" in row else "dev"
        self.heading = heading = row.get("title") if title else None
        self.texts = [s.text for s in _distinct(prepare(row["text"], heading).sentences, MAX_SENTENCES)]
        self.features, self.overlap = news_features(self.texts, heading, overlap=True)
        words = [set(re.findall(r"\w+", t.lower())) for t in self.texts]
        self.votes = np.zeros(len(self.texts))
        for picks in row["picks"]:                    # each editor's sentence, matched to ours
            for p in picks:
                theirs = set(re.findall(r"\w+", row["sentences"][p].lower()))
                overlap = [len(theirs & w) / max(1, len(theirs | w)) for w in words]
                if overlap and max(overlap) > 0.5:
                    self.votes[int(np.argmax(overlap))] += 1 / len(row["picks"])
        self._scores: dict[tuple, float] = {}

    def rouge2(self, chosen) -> float:
        chosen = tuple(sorted(chosen))
        if chosen not in self._scores:
            self._scores[chosen] = self.rouge(self.references, " ".join(self.texts[i] for i in chosen))[1]
        return self._scores[chosen]

    def pick(self, values: np.ndarray, redundancy: float = 0.0, count: int = 3) -> list[int]:
        """summarize's greedy choice (same code) for given values and redundancy weight."""
        from newsbrief.summarize import _Ranking, _repeat_penalty, _select

        return _select(_Ranking(values, values, _repeat_penalty(self.overlap, redundancy)), count, None, None)

    def shipped(self, count: int = 3) -> list[int]:
        """What the "news" algorithm picks (with or without the title, as prepared)."""
        from newsbrief.summarize import _news, _select

        return _select(_news(self.texts, self.heading), count, None, None)


def fit_news_weights(articles: list[Editors], columns: list[int], top: int = 40) -> np.ndarray:
    """Logistic regression of the editors' votes (0..1 per sentence, first `top` sentences) on
    the chosen feature columns; returns the weights (the intercept only shifts every score)."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([a.features[:top, columns] for a in articles])
    y = np.clip(np.concatenate([a.votes[:top] for a in articles]), 0, 1)
    model = LogisticRegression().fit(np.vstack([x, x]), np.r_[np.ones(len(y)), np.zeros(len(y))],
                                     sample_weight=np.r_[y, 1 - y] + 1e-9)
    return model.coef_[0]


def cross_validation(rows: list[dict], rouge: "Rouge") -> str:
    """Do the "news" weights fitted on editors' picks hold on outlets the fit did not see?
    Leave one source/outlet out: fit on all the others, score the left-out one's articles
    (ROUGE-2 F1 at 3 sentences, mean over the two editors), for each variant of the features
    and of the redundancy penalty; then the shipped weights (fitted on all, so in-sample)."""
    from newsbrief.summarize import NEWS_FEATURES, NEWS_REDUNDANCY, NEWS_WEIGHTS, NEWS_WEIGHTS_UNTITLED

    with_title = [Editors(r, rouge) for r in rows]
    without_title = [Editors(r, rouge, title=False) for r in rows]
    sources = sorted({a.source for a in with_title})
    sets = np.array([a.set for a in with_title])
    everything = list(range(len(NEWS_FEATURES)))
    no_title = [i for i, f in enumerate(NEWS_FEATURES) if f != "title"]
    lead = np.array([a.rouge2(range(min(3, len(a.texts)))) for a in with_title])
    lead_untitled = np.array([a.rouge2(range(min(3, len(a.texts)))) for a in without_title])

    def held_out(articles, columns, redundancy):
        out = np.zeros(len(articles))
        for src in sources:
            weights = np.zeros(len(NEWS_FEATURES))
            weights[columns] = fit_news_weights([a for a in articles if a.source != src], columns)
            for i, a in enumerate(articles):
                if a.source == src:
                    out[i] = a.rouge2(a.pick(a.features @ weights, redundancy))
        return out

    def row(name, scores, base):
        gain = 100 * (scores - base)
        per_source = {src: gain[[a.source == src for a in with_title]].mean() for src in sources}
        worst = min(per_source, key=per_source.get)
        return (f"| {name} | {100 * scores.mean():.1f} | {gain.mean():+.1f} (se {gain.std() / np.sqrt(len(gain)):.1f}) | "
                f"{gain[sets == 'dev'].mean():+.1f} | {gain[sets == '2019-2026'].mean():+.1f} | "
                f"{sum(v > 0 for v in per_source.values())} / {sum(v < 0 for v in per_source.values())} | "
                f"{per_source[worst]:+.1f} ({worst}) |")

    variants = [
        ("lead", lead, lead),
        ("all features, no penalty", held_out(with_title, everything, 0.0), lead),
        ("without the title feature", held_out(with_title, no_title, 0.0), lead),
    ]
    for redundancy in sorted({1.0, 2.0, 4.0, 8.0, NEWS_REDUNDANCY} - {0.0}):
        variants.append((f"all features, redundancy {redundancy}", held_out(with_title, everything, redundancy), lead))
    variants += [
        ("title withheld from the request (weights fitted without title)",
         held_out(without_title, no_title, NEWS_REDUNDANCY), lead_untitled),
        ("title withheld: lead", lead_untitled, lead_untitled),
    ]
    lines = [f"ROUGE-2 F1 (%) at 3 sentences, mean over both editors; {len(rows)} articles from "
             f"{len(sources)} sources/outlets. Held out: weights fitted with one source left out, "
             "scored on that source's articles.", "",
             "| variant (held out by source) | ROUGE-2 | gain over lead | on dev | on 2019-2026 | "
             "sources better / worse | worst source |", "|---|---|---|---|---|---|---|"]
    lines += [row(name, scores, base) for name, scores, base in variants]
    shipped_scores = np.array([a.rouge2(a.shipped()) for a in with_title])
    lines.append(row(f"shipped (in-sample): {NEWS_WEIGHTS}, redundancy {NEWS_REDUNDANCY}", shipped_scores, lead))
    untitled = np.array([a.rouge2(a.shipped()) for a in without_title])
    lines.append(row(f"shipped (in-sample), title withheld: {NEWS_WEIGHTS_UNTITLED}", untitled, lead_untitled))
    before = np.array([a.rouge2(np.argsort(-previous_news_scores(a.texts), kind="stable")[:3]) for a in with_title])
    lines.append(row(f"{PREVIOUS} (fitted on dev: in-sample there, held out on 2019-2026)", before, lead))
    for name, articles, columns in (("with title", with_title, everything), ("title withheld", without_title, no_title)):
        weights = fit_news_weights(articles, columns)
        lines.append(f"\nWeights fitted on all {len(rows)}, {name}: "
                     f"{dict(zip([NEWS_FEATURES[c] for c in columns], np.round(weights, 2).tolist()))}")

    best = held_out(with_title, everything, NEWS_REDUNDANCY)
    lines += ["", f"Per source: lead, the shipped choice held out (weights fitted without the source, "
              f"redundancy {NEWS_REDUNDANCY}) and in-sample, and {PREVIOUS}.", "",
              f"| source | set | articles | lead | news held out | news in-sample | {PREVIOUS} |",
              "|---|---|---|---|---|---|---|"]
    for src in sorted(sources, key=lambda x: (-sum(a.source == x for a in with_title), x)):
        mask = np.array([a.source == src for a in with_title])
        lines.append(f"| {src} | {with_title[int(np.argmax(mask))].set} | {mask.sum()} | {100 * lead[mask].mean():.1f} | "
                     f"{100 * best[mask].mean():.1f} | {100 * shipped_scores[mask].mean():.1f} | "
                     f"{100 * before[mask].mean():.1f} |")
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
        if algorithm == DEFAULT_ALGORITHM:
            before = per_article(lambda text, title: previous_news(prepare(text, title), count))
            untitled = per_article(lambda text, title: summarize(prepare(text), count, algorithm))
            budget = per_article(lambda text, title: summarize(prepare(text, title), None, algorithm, words=60))
            lines += [f"| prepare + {PREVIOUS} ({count} sentences) | {before:.2f} |",
                      f"| prepare + {algorithm} without the title ({count} sentences) | {untitled:.2f} |",
                      f"| prepare + {algorithm} (60 words) | {budget:.2f} |"]
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
    parser.add_argument("--algorithms", default=",".join((*ALGORITHMS[:1], UNTITLED, PREVIOUS, *ALGORITHMS[1:])),
                        help=f"comma-separated (default: all the service offers, {UNTITLED!r} and {PREVIOUS!r})")
    parser.add_argument("--equivalence", action="store_true",
                        help="compare the fast LexRank/TextRank with sumy's classes instead")
    parser.add_argument("--cv", action="store_true",
                        help="cross-validate the fitting of the default's weights on editors' picks instead")
    parser.add_argument("--timing", action="store_true",
                        help="print CPU time per article of prepare + each algorithm instead")
    args = parser.parse_args(argv)
    for name in ("keysentences_dev.jsonl", KEYSENTENCES_NEW, "bbc_dev.jsonl"):
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
        rows = load(args.data / "keysentences_dev.jsonl") + load(args.data / KEYSENTENCES_NEW)
        print(cross_validation(rows, Rouge()))
        return 0
    systems = [a.strip() for a in args.algorithms.split(",") if a.strip()]
    unknown = [a for a in systems if a not in (*ALGORITHMS, PREVIOUS, UNTITLED)]
    if unknown:
        parser.error(f"unknown algorithm(s) {unknown}; choose from {', '.join(ALGORITHMS)}, "
                     f"{PREVIOUS!r}, {UNTITLED!r}")
    key_sets = {"dev": load(args.data / "keysentences_dev.jsonl"), "2019-2026": load(args.data / KEYSENTENCES_NEW)}
    results = evaluate(systems, key_sets, bbc, Rouge())
    print(markdown(results, key_sets, len(bbc)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
