"""Extractive summaries of a prepared article.

    summarize(article, count, algorithm) -> [(Sentence, score), ...]   in article order

Algorithms (see ALGORITHMS):
- "news"      the default: the lede, then sentences ranked by position, length, TextRank
              centrality and quoting (chosen with benchmarks/evaluate_summaries.py; README)
- "lead"      the first sentences
- "lexrank", "textrank"   sumy's LexRank/TextRank computed with numpy/scipy: the same sentences
              as sumy's own classes on all 1,500 BBC development articles, 2.4-3.9x faster
- "lsa", "luhn"           sumy's LsaSummarizer / LuhnSummarizer
- "sumy-lexrank", "sumy-textrank"   sumy's own LexRankSummarizer / TextRankSummarizer

Every algorithm sees the same sentences (split by newsbrief.text, never by sumy's NLTK
tokenizer), with repeated sentences removed so a summary never holds the same sentence twice.
The centrality algorithms consider at most MAX_SENTENCES sentences from the start of the article.
"""
from __future__ import annotations

import re
import warnings
from typing import Callable, Sequence

import numpy as np
from sumy.models.dom import ObjectDocumentModel, Paragraph
from sumy.models.dom import Sentence as SumySentence
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer

from . import _centrality, _words
from .errors import InvalidRequest
from .text import Article, Sentence

__all__ = ["ALGORITHMS", "DEFAULT_ALGORITHM", "MAX_SENTENCES", "NEWS_FEATURES", "NEWS_WEIGHTS",
           "news_features", "summarize"]

# Every algorithm but "lead" looks at the first MAX_SENTENCES distinct sentences only:
# the similarity matrices grow with the square of the count (300 sentences ~ 12,000 words,
# far beyond a news article; 10,000 sentences would need 800 MB per matrix).
MAX_SENTENCES = 300

# "news" (the default): the lede, then the sentences with the best
#     LENGTH * ln(words) + CENTRALITY * TextRank/max(TextRank) - POSITION * ln(1 + index) - QUOTE * is_quote
# A logistic regression of the two editors' picks in keysentences_dev on these four features
# gave weights 0.85 / 1.21 / 1.38 / 1.36 (5-fold cross-validation by article: +4.0 ROUGE-2 over
# lead on held-out folds, -0.2 to +4.7 with one source left out;
# `python -m benchmarks.evaluate_summaries --cv`). They are rounded, and LENGTH is halved so that
# summaries stay about as long as lead's (longer picks lose ROUGE precision against one-sentence
# references).
NEWS_WEIGHTS = {"length": 0.5, "centrality": 1.0, "position": 1.5, "quote": 1.5}
_NEWS_OFFSET = -1.0   # only shifts the logistic that maps scores to 0..1
_QUOTE = re.compile(r"^[\"'\u201c\u2018\u00ab]|[\"'\u201d\u2019\u00bb]$")

ALGORITHMS: tuple[str, ...] = (
    "news", "lead", "lexrank", "textrank", "lsa", "luhn", "sumy-lexrank", "sumy-textrank",
)
DEFAULT_ALGORITHM = "news"

_TOKENIZER = _words.Tokenizer()


def summarize(article: Article, count: int, algorithm: str = DEFAULT_ALGORITHM,
              language: str = "en") -> list[tuple[Sentence, float]]:
    """The `count` best sentences of `article` by `algorithm`, in article order, with scores.
    An article with fewer distinct sentences than `count` returns all of them. `language`
    (ISO 639-1, e.g. from newsbrief.language) picks sumy's stemmer and stop words for it."""
    if algorithm not in _SCORERS:
        raise InvalidRequest(
            f"summary.algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}.",
            field="summary.algorithm")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InvalidRequest(f"summary.sentences must be a positive integer, not {count!r}.",
                             field="summary.sentences")
    candidates = _distinct(article.sentences, count if algorithm == "lead" else MAX_SENTENCES)
    if not candidates:
        return []
    with _words.using(_words.for_language(language)):
        scores = _SCORERS[algorithm]([s.text for s in candidates], count)
    best = sorted(range(len(candidates)), key=lambda i: scores[i], reverse=True)[:count]
    return [(candidates[i], float(scores[i])) for i in sorted(best)]


def _distinct(sentences: Sequence[Sentence], limit: int) -> list[Sentence]:
    """The first `limit` distinct sentences (compared case- and space-insensitively)."""
    seen: set[str] = set()
    out = []
    for s in sentences:
        key = " ".join(s.text.casefold().split())
        if key not in seen:
            seen.add(key)
            out.append(s)
            if len(out) == limit:
                break
    return out


# ----------------------------------------------------------------------------- scorers
# Each takes the sentence texts (and the requested count) and returns one score per sentence;
# the highest `count` scores win, ties going to the earlier sentence (as in sumy).

def _lead_scores(texts: list[str], count: int) -> np.ndarray:
    return 1.0 - np.arange(len(texts)) / len(texts)


def _stems(texts: list[str]) -> list[list[str]]:
    return [_words.content_stems(t) for t in texts]


def _lexrank_scores(texts: list[str], count: int) -> np.ndarray:
    return _centrality.lexrank_scores(_stems(texts))


def _textrank_scores(texts: list[str], count: int) -> np.ndarray:
    return _centrality.textrank_scores(_stems(texts))


NEWS_FEATURES = ("length", "centrality", "position", "quote")


def news_features(texts: list[str]) -> np.ndarray:
    """(sentences x 4) ln(words), TextRank / max TextRank, ln(1 + index), starts/ends with a quote."""
    analysed = [_words.analyse(t) for t in texts]
    centrality = _centrality.textrank_scores([stems for _, stems in analysed])
    top = centrality.max() if len(centrality) else 0.0
    centrality = centrality / top if top > 0 else centrality
    return np.column_stack([
        np.log([max(n, 1) for n, _ in analysed]),
        centrality,
        np.log1p(np.arange(len(texts))),
        [_QUOTE.search(t) is not None for t in texts],
    ]).astype(float)


def _news_scores(texts: list[str], count: int) -> np.ndarray:
    """A 0..1 score from length, TextRank centrality, position and quoting; the first
    sentence (the lede) is always kept and scores 1."""
    weights = np.array([NEWS_WEIGHTS["length"], NEWS_WEIGHTS["centrality"],
                        -NEWS_WEIGHTS["position"], -NEWS_WEIGHTS["quote"]])
    linear = news_features(texts) @ weights
    scores = 1.0 / (1.0 + np.exp(-(linear + _NEWS_OFFSET)))
    scores[0] = 1.0
    return scores


def _sumy(summarizer_class) -> Callable[[list[str], int], np.ndarray]:
    """Scores from sumy's own summarizer class, read from its rating step."""

    def scores(texts: list[str], count: int) -> np.ndarray:
        vocabulary = _words.current()
        summarizer = summarizer_class(vocabulary.stem)
        summarizer.stop_words = vocabulary.stop_words
        document = ObjectDocumentModel([Paragraph([SumySentence(t, _TOKENIZER) for t in texts])])
        ratings = np.zeros(len(texts))

        def keep(infos):  # sumy passes every (sentence, order, rating), best first
            infos = list(infos)
            for info in infos:
                ratings[info.order] = info.rating
            return infos[:count]

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # LSA warns on short articles; harmless
            summarizer(document, keep)
        return ratings

    return scores


_SCORERS: dict[str, Callable[[list[str], int], np.ndarray]] = {
    "news": _news_scores,
    "lead": _lead_scores,
    "lexrank": _lexrank_scores,
    "textrank": _textrank_scores,
    "lsa": _sumy(LsaSummarizer),
    "luhn": _sumy(LuhnSummarizer),
    "sumy-lexrank": _sumy(LexRankSummarizer),
    "sumy-textrank": _sumy(TextRankSummarizer),
}
assert set(_SCORERS) == set(ALGORITHMS)
