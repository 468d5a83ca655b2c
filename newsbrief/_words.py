"""Words for the summarizers: an offline tokenizer sumy accepts, cached stemming, stop words.

sumy's own Tokenizer needs NLTK's punkt data downloaded at run time; this one is a regular
expression. Words follow sumy's rule (start with a letter, then letters, apostrophes or hyphens).
Stemming with NLTK's Snowball stemmer costs ~10 µs a word, so stems are cached.
"""
from __future__ import annotations

import re

from sumy.nlp.stemmers import Stemmer
from sumy.utils import get_stop_words

LANGUAGE = "english"
STOP_WORDS: frozenset[str] = frozenset(w.lower() for w in get_stop_words(LANGUAGE))
# Distinct words cached; each cache is emptied when it reaches this. Both caches full hold
# ~19 MB (measured with random words); 1,500 BBC articles use ~26,000 distinct words.
STEM_CACHE_SIZE = 100_000

_WORD = re.compile(r"\b[^\W\d_](?:[^\W\d_]|['\u2019-](?=[^\W\d_]))*")
_snowball = Stemmer(LANGUAGE)


class _Cache(dict):
    """A dict that computes missing values; emptied when it grows past STEM_CACHE_SIZE."""

    def __init__(self, compute):
        super().__init__()
        self._compute = compute

    def __missing__(self, word: str) -> str:
        if len(self) >= STEM_CACHE_SIZE:
            self.clear()
        value = self[word] = self._compute(word)
        return value


_stem = _Cache(_snowball)                                                  # word -> stem
_content_stem = _Cache(lambda w: "" if w in STOP_WORDS else _stem[w])      # "" for stop words


def words(sentence: str) -> list[str]:
    """Words of a sentence, as written ('U.S.' -> 'U', 'S'; "Egypt's" -> "Egypt's")."""
    return _WORD.findall(sentence)


def stem(word: str) -> str:
    """Snowball stem of the lower-cased word (sumy's normalize_word + stem), cached."""
    return _stem[word.lower()]


def content_stems(sentence: str) -> list[str]:
    """Stems of the non-stop words, in order (what sumy's LexRank and TextRank compare)."""
    return [s for s in map(_content_stem.__getitem__, _WORD.findall(sentence.lower())) if s]


def analyse(sentence: str) -> tuple[int, list[str]]:
    """(number of words, content stems) in one pass."""
    tokens = _WORD.findall(sentence.lower())
    return len(tokens), [s for s in map(_content_stem.__getitem__, tokens) if s]


class Tokenizer:
    """Duck-typed tokenizer for sumy's document model (it only needs these two methods)."""

    language = LANGUAGE

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return (paragraph,)  # sentences are split by newsbrief.text, never by sumy

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(words(sentence))
