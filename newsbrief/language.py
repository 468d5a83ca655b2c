"""The language of an article, offline: Google's Compact Language Detector 2 (CLD2) through
pycld2, whose tables are compiled into the package (nothing is downloaded, same text, same answer).

    detect(text) -> Detection(language="fr", reliable=True, english_share=0.0)

The topic classifier reads English only, so `Detection.topics_apply` says whether its labels
mean anything for the text. The rule, chosen to never call an English text non-English
(`python -m benchmarks.language`; docs/api.md):

- CLD2 reads the first SAMPLE_CHARS characters of the cleaned text (about 170 words, 0.07 ms);
  samples of 200 to 2,000 characters called no English article of the corpus non-English either.
- `language` is "en" whenever English is CLD2's main language; another language only when CLD2
  calls its answer reliable; else "und" (undetermined: too short, no letters, an even mix),
  which is treated as English.
- A text in the Latin script needs MIN_LATIN_LETTERS letters before it may be called
  non-English: CLD2 calls English headlines Scots, Danish or Kinyarwanda, reliably. A text in
  another script (Cyrillic, Arabic, CJK, ...) cannot be English whatever its length.
- Mixed text: topics apply when at least MIN_ENGLISH_SHARE of the sample is English, whatever
  the main language (an English story quoting a long French statement keeps its labels).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pycld2

from . import _words

__all__ = ["ENGLISH", "UNDETERMINED", "Detection", "detect", "language_name", "warnings"]

ENGLISH = "en"
UNDETERMINED = "und"   # BCP 47 / ISO 639-2 "undetermined"
SAMPLE_CHARS = 1000
MIN_LATIN_LETTERS = 150
MIN_ENGLISH_SHARE = 0.25

# CLD2's codes that are not today's BCP 47 tags
_CODES = {"un": UNDETERMINED, "iw": "he", "jw": "jv", "in": "id", "ji": "yi", "mo": "ro"}
_NAMES = {code: name for name, code in pycld2.LANGUAGES}
_CLD2_CODES = {tag: code for code, tag in _CODES.items()}
# CLD2 accepts "interchange valid" UTF-8 only: no control characters but tab and line breaks,
# no noncharacters. Surrogates never reach here (the request schema refuses them).
_REFUSED_BY_CLD2 = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_LETTER = re.compile("[A-Za-z\u00aa\u00b5\u00ba\u00c0-\u024f\u1e00-\u1eff]")


@dataclass(frozen=True)
class Detection:
    language: str           # "en", "fr", "zh", "zh-Hant", ...; "und" when undetermined
    reliable: bool          # CLD2's own verdict (False for "und")
    english_share: float    # 0..1: the part of the sample CLD2 reads as English

    @property
    def topics_apply(self) -> bool:
        """Can the English-only topic classifier label this text?"""
        return self.language in (ENGLISH, UNDETERMINED) or self.english_share >= MIN_ENGLISH_SHARE


def sample(text: str) -> str:
    """The first SAMPLE_CHARS characters, cut at a space, without what CLD2 refuses."""
    if len(text) > SAMPLE_CHARS:
        cut = text.rfind(" ", SAMPLE_CHARS // 2, SAMPLE_CHARS)
        text = text[:cut if cut > 0 else SAMPLE_CHARS]
    return _REFUSED_BY_CLD2.sub(" ", text)


def detect(text: str) -> Detection:
    """The language of `text` (cleaned article text, e.g. title and body)."""
    piece = sample(text)
    try:
        reliable, _, details = pycld2.detect(piece)
    except pycld2.error:  # input CLD2 cannot read: say so rather than guess
        return Detection(UNDETERMINED, False, 0.0)
    code = _CODES.get(details[0][1], details[0][1])
    english = sum(percent for _, c, percent, _ in details if c == ENGLISH) / 100
    if code == ENGLISH:
        return Detection(ENGLISH, reliable, english)
    if code == UNDETERMINED or not reliable or _short_latin(piece):
        return Detection(UNDETERMINED, False, english)
    return Detection(code, True, english)


def _short_latin(piece: str) -> bool:
    """Mostly Latin letters, and fewer than MIN_LATIN_LETTERS of them?"""
    latin = len(_LATIN_LETTER.findall(piece))
    return latin < MIN_LATIN_LETTERS and 2 * latin >= len(_LETTER.findall(piece))


def language_name(code: str) -> str:
    """'fr' -> 'French', 'zh-Hant' -> 'Chinese (traditional)'; the code itself when unknown."""
    if code == "zh-Hant":
        return "Chinese (traditional)"
    name = _NAMES.get(_CLD2_CODES.get(code, code))
    return name.replace("_", " ").title() if name else code


def warnings(detected: Detection) -> list[dict]:
    """What a client should know about the article's language: [] for English text."""
    code = detected.language
    if code == ENGLISH:
        return []
    if code == UNDETERMINED:
        return [{"code": "language_undetermined", "message": (
            "The language of this text could not be told reliably (too short, too few letters, "
            "or several languages); topics and summary treat it as English.")}]
    name = f"{language_name(code)} ({code})"
    if detected.topics_apply:
        return [{"code": "mixed_language", "message": (
            f"The text is mostly {name}, with about {detected.english_share:.0%} English; "
            "topics were computed on it as for English text and may be less reliable.")}]
    return [{"code": "not_english", "message": (
        f"The text is in {name}. Topic labels are given for English text only, so 'labels' is "
        "empty; 'scores' are what the English model computed and mean little here. "
        f"The summary uses {_summary_words(code)}.")}]


def _summary_words(code: str) -> str:
    vocabulary = _words.for_language(code)
    if vocabulary.stemmed and vocabulary.stop_words:
        return f"sumy's {vocabulary.name.title()} stemmer and stop words"
    if vocabulary.stemmed:
        return f"sumy's {vocabulary.name.title()} stemmer (sumy has no stop words for it)"
    if vocabulary.stop_words:
        return f"sumy's {vocabulary.name.title()} stop words (no stemming)"
    return "no language-specific stemming or stop words"
