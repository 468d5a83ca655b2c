"""Words for the summarizers: an offline tokenizer sumy accepts, cached stemming, stop words.

sumy's own Tokenizer needs NLTK's punkt data downloaded at run time; this one is a regular
expression. Words follow sumy's rule (start with a letter, then letters, apostrophes or hyphens).
Stemming with NLTK's Snowball stemmer costs ~10 µs a word, so stems are cached.
"""
from __future__ import annotations

import re
from functools import lru_cache

from sumy.nlp.stemmers import Stemmer
from sumy.utils import get_stop_words

LANGUAGE = "english"
STOP_WORDS: frozenset[str] = frozenset(w.lower() for w in get_stop_words(LANGUAGE))

_WORD = re.compile(r"\b[^\W\d_](?:[^\W\d_]|['\u2019-](?=[^\W\d_]))*")
_snowball = Stemmer(LANGUAGE)


def words(sentence: str) -> list[str]:
    """Words of a sentence, as written ('U.S.' -> 'U', 'S'; "Egypt's" -> "Egypt's")."""
    return _WORD.findall(sentence)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball stem of the lower-cased word (sumy's normalize + stem), cached."""
    return _snowball(word.lower())


def content_stems(sentence: str) -> list[str]:
    """Stems of the non-stop words, in order (what sumy's LexRank/TextRank compare)."""
    return [stem(w) for w in (w.lower() for w in words(sentence)) if w not in STOP_WORDS]


class Tokenizer:
    """Duck-typed tokenizer for sumy's document model (it only needs these two methods)."""

    language = LANGUAGE

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return (paragraph,)  # sentences are split by newsbrief.text, never by sumy

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(words(sentence))
