"""Extractive summaries of a prepared article.

    summarize(article, count, algorithm) -> [(Sentence, score), ...]   in article order
    summarize(article, None, algorithm, words=60)                     a word budget instead

Algorithms (see ALGORITHMS):
- "news"      the default: sentences ranked by position, length, TextRank centrality, quoting
              and likeness to the title, a repeat of a chosen sentence penalised (fitted to
              editors' picks with benchmarks/evaluate_summaries.py; docs/summaries.md)
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

import math
import re
import warnings
from typing import Callable, NamedTuple, Sequence

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

__all__ = ["ALGORITHMS", "DEFAULT_ALGORITHM", "MAX_SENTENCES", "NEWS_FEATURES", "NEWS_REDUNDANCY",
           "NEWS_WEIGHTS", "NEWS_WEIGHTS_UNTITLED", "REDUNDANCY_FROM", "news_features", "summarize"]

# Every algorithm but "lead" looks at the first MAX_SENTENCES distinct sentences only:
# the similarity matrices grow with the square of the count (300 sentences ~ 12,000 words,
# far beyond a news article; 10,000 sentences would need 800 MB per matrix).
MAX_SENTENCES = 300

# "news" (the default): greedily, the sentence with the highest
#     sum(NEWS_WEIGHTS[f] * feature f)   over NEWS_FEATURES (see news_features)
# less its redundancy with the sentences already chosen (_repeat_penalty). The weights are a
# logistic regression of the two editors' picks on all 400 articles of keysentences_dev and
# keysentences_2019_2026 (46 sources/outlets), rounded. Fitted with one outlet left out they
# beat lead by +4.3 ROUGE-2 on that outlet's articles (`python -m benchmarks.evaluate_summaries
# --cv`; docs/summaries.md). A request without a title (or whose title shares no word with the
# article) uses NEWS_WEIGHTS_UNTITLED, fitted the same way on the articles without their titles.
NEWS_WEIGHTS = {"length": 3.0, "centrality": 2.0, "position": -1.0, "quote": -1.0, "title": 2.0}
NEWS_WEIGHTS_UNTITLED = {"length": 3.0, "centrality": 2.5, "position": -1.25, "quote": -1.0}
# The redundancy penalty grows from 0 at cosine REDUNDANCY_FROM to NEWS_REDUNDANCY at 1 (a repeat).
NEWS_REDUNDANCY = 4.0
REDUNDANCY_FROM = 0.5
_NEWS_OFFSET = -9.0   # fitted intercept: a score is roughly the share of editors who would pick the sentence
_QUOTE = re.compile(r"^[\"'\u201c\u2018\u00ab]|[\"'\u201d\u2019\u00bb]$")

ALGORITHMS: tuple[str, ...] = (
    "news", "lead", "lexrank", "textrank", "lsa", "luhn", "sumy-lexrank", "sumy-textrank",
)
DEFAULT_ALGORITHM = "news"

_TOKENIZER = _words.Tokenizer()


def summarize(article: Article, count: int | None = 3, algorithm: str = DEFAULT_ALGORITHM,
              language: str = "en", *, words: int | None = None) -> list[tuple[Sentence, float]]:
    """The best sentences of `article` by `algorithm`, in article order, with scores: the
    `count` best, or with `words` (and count None) the best whose lengths add up to at most
    `words` words (whitespace-separated), the best sentence always, even if longer.
    An article with fewer distinct sentences than asked for returns all of them. The article's
    title, if it has one, is evidence for the "news" algorithm. `language` (ISO 639-1, e.g. from
    newsbrief.language) picks sumy's stemmer and stop words for it."""
    if algorithm not in _SCORERS:
        raise InvalidRequest(
            f"summary.algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}.",
            field="summary.algorithm")
    if words is not None:
        if count is not None:
            raise InvalidRequest("Ask for summary.sentences or summary.words, not both.", field="summary")
        _check_positive(words, "summary.words")
    else:
        _check_positive(count, "summary.sentences")
    limit = count if algorithm == "lead" and words is None else MAX_SENTENCES
    candidates = _distinct(article.sentences, limit)
    if not candidates:
        return []
    texts = [s.text for s in candidates]
    with _words.using(_words.for_language(language)):
        ranking = _SCORERS[algorithm](texts, article.title)
    lengths = np.array([len(t.split()) for t in texts]) if words is not None else None
    chosen = _select(ranking, count, lengths, words)
    return [(candidates[i], float(ranking.scores[i])) for i in sorted(chosen)]


def _check_positive(value, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequest(f"{field} must be a positive integer, not {value!r}.", field=field)


class _Ranking(NamedTuple):
    """What a scorer returns: a score per sentence (returned with the summary); what the
    selection maximises, if not the score; and a redundancy penalty: penalty(j)[i] is what
    choosing sentence j takes off sentence i's value (the largest over the chosen j counts)."""
    scores: np.ndarray
    values: np.ndarray | None = None
    penalty: Callable[[int], np.ndarray] | None = None


def _select(ranking: _Ranking, count: int | None, lengths: np.ndarray | None, words: int | None) -> list[int]:
    """Greedy choice: the highest value (less its redundancy with what is already chosen) among
    the sentences that still fit; ties go to the earlier sentence."""
    values = ranking.scores if ranking.values is None else ranking.values
    values = np.nan_to_num(values.astype(float), nan=-_HUGE, posinf=_HUGE, neginf=-_HUGE)
    limit = len(values) if count is None else min(count, len(values))
    if ranking.penalty is None and words is None:
        return np.argsort(-values, kind="stable")[:limit].tolist()
    chosen: list[int] = []
    drop = np.zeros(len(values))
    left = words
    while len(chosen) < limit:
        if left is not None and chosen:
            values[lengths > left] = -np.inf          # no longer fits
        best = int(np.argmax(values - drop))
        if values[best] == -np.inf:
            break
        chosen.append(best)
        values[best] = -np.inf
        if left is not None:
            left -= int(lengths[best])
        if ranking.penalty is not None and len(chosen) < limit:
            drop = np.maximum(drop, ranking.penalty(best))
    return chosen


_HUGE = 1e300   # stands for scores that are not finite numbers; -inf marks a sentence out of the running


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
# Each takes the sentence texts and the article's title (or None) and returns a _Ranking.

def _lead(texts: list[str], title: str | None) -> _Ranking:
    return _Ranking(1.0 - np.arange(len(texts)) / len(texts))


def _stems(texts: list[str]) -> list[list[str]]:
    return [_words.content_stems(t) for t in texts]


def _lexrank(texts: list[str], title: str | None) -> _Ranking:
    return _Ranking(_centrality.lexrank_scores(_stems(texts)))


def _textrank(texts: list[str], title: str | None) -> _Ranking:
    return _Ranking(_centrality.textrank_scores(_stems(texts)))


NEWS_FEATURES = ("length", "centrality", "position", "quote", "title")
# Short sentences ("It has come to this.", "War, huh?") are rarely an editor's pick; beyond
# LENGTH_CAP words length earns nothing (long picks lose precision against short references,
# and scraped run-on junk is long).
LENGTH_CAP = 15


def news_features(texts: list[str], title: str | None = None, *, overlap: bool = False):
    """(sentences x 5): ln(min(words, LENGTH_CAP)), TextRank / max TextRank, ln(1 + index),
    starts or ends with a quote mark, and the cosine similarity of the sentence's content stems
    to the title's (0 without a title). With `overlap`, also _centrality.overlap_matrix."""
    analysed = [_words.analyse(t) for t in texts]
    stems = [s for _, s in analysed]
    shared = _centrality.overlap_matrix(stems)
    centrality = _centrality.textrank_scores(stems, overlap=shared)
    top = centrality.max() if len(centrality) else 0.0
    centrality = centrality / top if top > 0 else centrality
    features = np.column_stack([
        np.log([min(max(n, 1), LENGTH_CAP) for n, _ in analysed]),
        centrality,
        np.log1p(np.arange(len(texts))),
        [_QUOTE.search(t) is not None for t in texts],
        _title_similarity(stems, title),
    ]).astype(float)
    return (features, shared) if overlap else features


def _title_similarity(stems: list[list[str]], title: str | None) -> np.ndarray:
    """|S & T| / sqrt(|S| |T|) over the distinct content stems of each sentence S and the title T."""
    heading = set(_words.content_stems(title)) if title else set()
    if not heading:
        return np.zeros(len(stems))
    out = []
    for sentence in stems:
        distinct = set(sentence)
        out.append(len(distinct & heading) / math.sqrt(len(distinct) * len(heading)) if distinct else 0.0)
    return np.array(out)


_NEWS_VECTOR = np.array([NEWS_WEIGHTS[f] for f in NEWS_FEATURES])
_NEWS_VECTOR_UNTITLED = np.array([NEWS_WEIGHTS_UNTITLED.get(f, 0.0) for f in NEWS_FEATURES])


def _news(texts: list[str], title: str | None) -> _Ranking:
    """A 0..1 score from length, centrality, position, quoting and likeness to the title (the
    title-less weights when no sentence shares a word with the title); each chosen sentence
    lowers the value of the sentences that repeat it."""
    features, overlap = news_features(texts, title, overlap=True)
    weights = _NEWS_VECTOR if features[:, -1].any() else _NEWS_VECTOR_UNTITLED
    linear = features @ weights + _NEWS_OFFSET
    return _Ranking(1.0 / (1.0 + np.exp(-linear)), linear, _repeat_penalty(overlap, NEWS_REDUNDANCY))


def _repeat_penalty(overlap: np.ndarray, weight: float) -> Callable[[int], np.ndarray]:
    """penalty(j): what choosing sentence j takes off every sentence's value: 0 up to cosine
    similarity REDUNDANCY_FROM, rising to `weight` for a sentence that repeats j."""
    norms = np.sqrt(np.diag(overlap))
    norms[norms == 0] = 1.0

    def penalty(j: int) -> np.ndarray:
        cosine = overlap[:, j] / (norms * norms[j])
        return weight * np.clip((cosine - REDUNDANCY_FROM) / (1.0 - REDUNDANCY_FROM), 0.0, None)

    return penalty


def _sumy(summarizer_class) -> Callable[[list[str], str | None], _Ranking]:
    """Scores from sumy's own summarizer class, read from its rating step."""

    def scores(texts: list[str], title: str | None) -> _Ranking:
        vocabulary = _words.current()
        summarizer = summarizer_class(vocabulary.stem)
        summarizer.stop_words = vocabulary.stop_words
        document = ObjectDocumentModel([Paragraph([SumySentence(t, _TOKENIZER) for t in texts])])
        ratings = np.zeros(len(texts))

        def keep(infos):  # sumy passes every (sentence, order, rating), best first
            infos = list(infos)
            for info in infos:
                ratings[info.order] = info.rating
            return infos[:1]

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # LSA warns on short articles; harmless
            summarizer(document, keep)
        return _Ranking(ratings)

    return scores


_SCORERS: dict[str, Callable[[list[str], str | None], _Ranking]] = {
    "news": _news,
    "lead": _lead,
    "lexrank": _lexrank,
    "textrank": _textrank,
    "lsa": _sumy(LsaSummarizer),
    "luhn": _sumy(LuhnSummarizer),
    "sumy-lexrank": _sumy(LexRankSummarizer),
    "sumy-textrank": _sumy(TextRankSummarizer),
}
assert set(_SCORERS) == set(ALGORITHMS)
