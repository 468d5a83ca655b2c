"""Words for the summarizers: an offline tokenizer sumy accepts, cached stemming, stop words.

sumy's own Tokenizer needs NLTK's punkt data downloaded at run time; this one is a regular
expression. Words follow sumy's rule (start with a letter, then letters, apostrophes or hyphens).
Stemming with NLTK's Snowball stemmer costs ~10 µs a word, so stems are cached.

Each language has its own `Vocabulary` (for_language("fr"): sumy's French stemmer and stop
words, when sumy ships them). The module functions below use the vocabulary of the current
context, English unless a caller chose another with `using(...)`; summarize() sets it once per
call, so the scorers keep their plain (texts, count) signature.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Callable, Iterator

from sumy.nlp.stemmers import Stemmer, null_stemmer
from sumy.utils import get_stop_words

LANGUAGE = "english"
STOP_WORDS: frozenset[str] = frozenset(w.lower() for w in get_stop_words(LANGUAGE))
# Distinct words cached; each cache is emptied when it reaches this. Both caches full hold
# ~19 MB (measured with random words); 1,500 BBC articles use ~26,000 distinct words.
STEM_CACHE_SIZE = 100_000

_WORD = re.compile(r"\b[^\W\d_](?:[^\W\d_]|['\u2019-](?=[^\W\d_]))*")
# Scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar): each
# character is a word, the language-neutral choice; other scripts as _WORD.
_UNSPACED = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACED_LETTER = f"(?![{_UNSPACED}])[^\\W\\d_]"
_WORD_OR_CHARACTER = re.compile(f"[{_UNSPACED}]|{_SPACED_LETTER}(?:{_SPACED_LETTER}|['\u2019-](?={_SPACED_LETTER}))*")

# ISO 639-1 code -> sumy's language name (its stemmer and stop-word list go by this name)
SUMY_LANGUAGES = {
    "ar": "arabic", "cs": "czech", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "fi": "finnish", "fr": "french", "he": "hebrew", "hu": "hungarian",
    "it": "italian", "ja": "japanese", "ko": "korean", "nl": "dutch", "no": "norwegian",
    "nb": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sk": "slovak",
    "sv": "swedish", "uk": "ukrainian", "zh": "chinese", "zh-Hant": "chinese",
}


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


class Vocabulary:
    """How sentences of one language become words, stems and content stems."""

    def __init__(self, name: str, stemmer: Callable[[str], str], stop_words: frozenset[str],
                 pattern: re.Pattern = _WORD, stemmed: bool = True):
        self.name = name                  # sumy's language name, or "neutral"
        self.stop_words = stop_words
        self.stemmed = stemmed            # a real stemmer (not just lower-casing)?
        self._pattern = pattern
        self._stem = _Cache(stemmer)                                                      # word -> stem
        self._content_stem = _Cache(lambda w: "" if w in stop_words else self._stem[w])  # "" for stop words

    def words(self, sentence: str) -> list[str]:
        return self._pattern.findall(sentence)

    def stem(self, word: str) -> str:
        return self._stem[word.lower()]

    def content_stems(self, sentence: str) -> list[str]:
        return [s for s in map(self._content_stem.__getitem__, self._pattern.findall(sentence.lower())) if s]

    def analyse(self, sentence: str) -> tuple[int, list[str]]:
        tokens = self._pattern.findall(sentence.lower())
        return len(tokens), [s for s in map(self._content_stem.__getitem__, tokens) if s]


ENGLISH = Vocabulary(LANGUAGE, Stemmer(LANGUAGE), STOP_WORDS)
_current: ContextVar[Vocabulary] = ContextVar("newsbrief_vocabulary", default=ENGLISH)


@lru_cache(maxsize=None)
def for_language(code: str) -> Vocabulary:
    """The vocabulary for an ISO 639-1 code ("und" and "en": English). sumy's stemmer and stop
    words when it ships them; otherwise lower-cased words, no stop words, and one word per
    character in scripts written without spaces."""
    if code in ("en", "und"):
        return ENGLISH
    name = SUMY_LANGUAGES.get(code)
    stemmer, stemmed, stop_words = null_stemmer, False, frozenset()
    if name is not None:
        try:
            candidate = Stemmer(name)
            candidate("probe")  # sumy's Greek stemmer fails only when called (needs an extra package)
            stemmer, stemmed = candidate, candidate._stemmer is not null_stemmer
        except (LookupError, ImportError, ValueError):
            pass
        try:
            stop_words = frozenset(w.lower() for w in get_stop_words(name))
        except LookupError:
            pass
    return Vocabulary(name or "neutral", stemmer, stop_words, _WORD_OR_CHARACTER, stemmed)


def current() -> Vocabulary:
    return _current.get()


@contextmanager
def using(vocabulary: Vocabulary) -> Iterator[Vocabulary]:
    """Make `vocabulary` the one the functions below use, inside the `with` block."""
    token = _current.set(vocabulary)
    try:
        yield vocabulary
    finally:
        _current.reset(token)


def words(sentence: str) -> list[str]:
    """Words of a sentence, as written ('U.S.' -> 'U', 'S'; "Egypt's" -> "Egypt's")."""
    return _current.get().words(sentence)


def stem(word: str) -> str:
    """Stem of the lower-cased word (sumy's normalize_word + stem), cached."""
    return _current.get().stem(word)


def content_stems(sentence: str) -> list[str]:
    """Stems of the non-stop words, in order (what sumy's LexRank and TextRank compare)."""
    return _current.get().content_stems(sentence)


def analyse(sentence: str) -> tuple[int, list[str]]:
    """(number of words, content stems) in one pass."""
    return _current.get().analyse(sentence)


class Tokenizer:
    """Duck-typed tokenizer for sumy's document model (it only needs these two methods)."""

    language = LANGUAGE

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return (paragraph,)  # sentences are split by newsbrief.text, never by sumy

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(words(sentence))
