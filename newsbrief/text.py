"""Clean scraped article text and split it into sentences, offline.

`prepare(text, title)` removes page furniture (repeated headline and caption lines, photo
credits, stray tokens, dateline-only lines, bylines, "Read more" boilerplate) and splits what
is left into sentences. Every `Sentence` keeps exact code-point offsets into the text the
client sent: ``article.original[s.start:s.end] == s.text``.

Furniture is recognised line by line (a scraper puts each page element on its own line);
sentences never cross a line break. Rules are deliberately conservative: a line that ends
like a sentence is kept unless it is a caption (a credit follows it) or a repeat.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Sentence", "Article", "prepare", "split_sentences"]


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Article:
    original: str
    sentences: tuple[Sentence, ...]
    title: str | None = None

    @property
    def body(self) -> str:
        """The cleaned content (furniture removed), one sentence after another."""
        return " ".join(s.text for s in self.sentences)


# --------------------------------------------------------------------------- sentence splitting

# Abbreviations after which a full stop never ends a sentence (a name follows).
_TITLES = frozenset(
    "mr mrs ms messrs dr prof sen sens rep reps gov gen lt col maj capt cpt sgt cpl pvt adm cmdr "
    "brig rev hon pres supt insp det st mt ft gens sr jr".split()
)
# Abbreviations that may end a sentence: split only when a typical sentence opener follows.
_ABBREVIATIONS = frozenset(
    "jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun "
    "inc corp ltd co plc bros no nos vs v etc al approx dept univ ave blvd rd est fig vol ed eds "
    "ala ariz ark calif colo conn del fla ga ill ind kan kans ky la md mass mich minn miss mo mont "
    "neb nev okla ore pa penn tenn tex va vt wash wis wyo".split()
)
# Words that typically open a sentence; used after ambiguous abbreviations and initials.
_OPENERS = frozenset(
    "the a an he she it they we i you his her its their our this that these those there then "
    "but and or so yet however meanwhile also as after before when while if since although though "
    "in on at for from by with to of some many most one two three several last earlier later "
    "officials police no not what who why how where mr mrs ms dr".split()
)

# Full stops that end a sentence with no space after them: Chinese and Japanese 。！？ (and
# the half-width ｡), with any closing quotes and brackets: 「…。」 “…？”
_CJK_END = "\u3002\uff01\uff1f\uff61"
_CJK_CLOSING = "\u300d\u300f\u3011\u3015\u3009\u300b\uff09\u201d\u2019\"'"
# after a closing quote, these continue the sentence: 「…？」と聞いた, “…。”，
_CJK_CONTINUING = "\u3068\u3063\u3001\uff0c\uff1a\uff1b,:;)\uff09"
_END = re.compile(
    # ".", "!", "?", "...", Arabic "؟" and "۔", Devanagari "।" and "॥", then a space
    r"(?:[.!?\u2026\u203c\u2047-\u2049\u061f\u06d4\u0964\u0965]+)[\"'\u201d\u2019\u00bb)\]]*(?=\s)"
    f"|[{_CJK_END}]+[{_CJK_CLOSING}]*"
    # glued: 'to me."Resolution 1636', 'this year.She said'
    r"|(?<=[.!?])[\"\u201d](?=[\"\u201c]?[A-Z])|(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])"
)
_OPENING = "\"'\u201c\u2018\u00ab([\u2014\u2013-"
_OPENING_BRACKETS = "\"'\u201c\u2018\u00ab(["
_WORD_AFTER = re.compile(r"[^\W\d_]+")


def _is_boundary(line: str, m: re.Match) -> bool:
    """Does the punctuation run in `m` end a sentence?"""
    end = len(line)
    if m.end() < end and not line[m.end()].isspace():
        # glued boundary: a CJK full stop, or matched by the last two patterns
        run = m.group(0)
        return not (run and run[0] in _CJK_END and run[-1] in _CJK_CLOSING and line[m.end()] in _CJK_CONTINUING)
    j = m.end()
    while j < end and line[j].isspace():
        j += 1
    if j == end:
        return True
    i = j
    while i < end and line[i] in _OPENING:
        i += 1
    if i == end:
        return False
    first = line[i]
    if (first.islower() and i == j) or first in ",;:)]}%":
        return False  # "e.g. lower-case", "... said.” he", continuation
    punct = m.group(0).rstrip("\"'\u201d\u2019\u00bb)]")
    if punct != ".":
        return True  # "?", "!", "..." followed by a capital
    if m.group(0) != ".":
        return True  # closing quote or bracket after the full stop: '... said."  Next'
    k = m.start()
    while k > 0 and not line[k - 1].isspace() and line[k - 1] not in _OPENING_BRACKETS:
        k -= 1
    token = line[k:m.start()]
    bare = token.rstrip(".").lower()
    word = _WORD_AFTER.match(line, i)
    opener = word is not None and word.group(0).lower() in _OPENERS
    if bare in _TITLES:
        return False
    if bare in _ABBREVIATIONS:
        return opener
    if "." in token or (len(token) == 1 and token.isalpha()):
        # "U.S." or an initial "W.": a name or noun usually follows.
        return opener
    return True


def _line_spans(text: str, start: int, end: int):
    """Sentence spans (start, end) inside one line, whitespace trimmed."""
    line = text[start:end]
    cuts = [0]
    for m in _END.finditer(line):
        if _is_boundary(line, m):
            cuts.append(m.end())
    cuts.append(len(line))
    for a, b in zip(cuts, cuts[1:]):
        piece = line[a:b]
        stripped = piece.strip()
        if not stripped:
            continue
        lead = len(piece) - len(piece.lstrip())
        s = start + a + lead
        yield s, s + len(stripped)


_LINES = re.compile(r"[^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_BULLET = re.compile(r"\s*(?:[-*\u2022\u25aa\u25cf\u2013\u2014\u00b7>]+|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+")


def _lines(text: str):
    """(start, end) of each non-blank line, whitespace trimmed."""
    for m in _LINES.finditer(text):
        piece = m.group(0)
        stripped = piece.strip()
        if stripped:
            s = m.start() + len(piece) - len(piece.lstrip())
            yield s, s + len(stripped)


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """Split text[start:end] into sentences; line breaks are hard boundaries."""
    end = len(text) if end is None else end
    out: list[Sentence] = []
    for m in _LINES.finditer(text, start, end):
        _line_sentences(text, m.start(), m.end(), out)
    return out


def _line_sentences(text: str, ls: int, le: int, out: list[Sentence]) -> None:
    """Append the sentences of the line text[ls:le] (bullet marker left out) to `out`."""
    b = _BULLET.match(text, ls, le)
    if b:
        ls = b.end()
    for s, e in _line_spans(text, ls, le):
        out.append(Sentence(text[s:e], s, e))


# --------------------------------------------------------------------------- furniture

_AGENCIES = (
    r"REUTERS|Reuters|AFP|AP|EPA|EPA-EFE|Getty\s+Images|Getty|ANADOLU|Anadolu|Xinhua|SANA|"
    r"UPI|TT|NTB|DPA|dpa|ANSA|Sputnik|TASS|Shutterstock|Bloomberg|Pool|Handout"
)
# "REUTERS/Omar Sanadiki", "AFP/Getty Images", "REUTERS/Nick Oxford/Files" at the end of a line.
_CREDIT_TAIL = re.compile(r"(?:^|\s)(?:" + _AGENCIES + r")\s*/\s*[\w.'\- ]+(?:/[\w.'\- ]+)*\s*\)?$")
_CREDIT_LINE = re.compile(
    r"^\(?\s*(?:photo|photograph|picture|image|file photo|credit|photos?\s+by|pictured)\s*(?::|by\b|\)|$)",
    re.IGNORECASE,
)
# a line that is nothing but an agency name or credit: "AFP", "(Reuters)", "Getty Images"
_AGENCY_ONLY = re.compile(r"^\(?\s*(?:" + _AGENCIES + r")(?:\s*/\s*[\w.' -]+)*\s*\)?\s*$")
_PAREN_TAIL = re.compile(r"\(([^()]{2,60})\)\s*$")
_BOILERPLATE = re.compile(
    r"^(?:read more|related:|related coverage|subscribe|sign up|follow us|follow @|click here|"
    r"send your story|if you have a story|share this|advertisement|slideshow|watch:|listen:|"
    r"video:|graphic:|photos?:|image:|print this page|view comments|\u2014|--|by:|by\s+[A-Z])",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^by\s", re.IGNORECASE)
_DATE_CORE = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri "
    "sat sun january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec gmt utc bst cet est edt pst pdt et am pm a.m "
    "p.m".split()
)
_DATE_WORDS = _DATE_CORE | frozenset("updated published posted last on at of the local time".split())
_SOURCE_WORDS = frozenset(
    "reuters afp ap upi sana xinhua sputnik tass dpa ansa staff agencies agency reporter "
    "correspondent bbc cnn monitor".split()
)
_PREFIX_WORDS = frozenset("updated breaking print this page news".split())
# a line ending like this is (part of) running text, never a headline
_TERMINAL = (".", "!", "?", "\u2026", "\"", "\u201d", "'", "\u2019", ":", ")", ",", ";", "-", "\u2014")


_WORD_CHARS = re.compile(r"\w+")


def _norm(s: str) -> str:
    """Comparison key: words only, case-folded."""
    s = s.lower() if s.isascii() else unicodedata.normalize("NFKC", s).casefold()
    return " ".join(_WORD_CHARS.findall(s))


def _words(s: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:\.[^\W_]+)*\.?", s)


def _is_dateline(s: str) -> bool:
    """Only dates, times, weekdays, months, numbers: '21 November 2016 19:18', 'Updated 2000 GMT'."""
    words = [w.lower().rstrip(".") for w in _words(s)]
    return bool(words) and all(w.isdigit() or w in _DATE_WORDS or re.fullmatch(r"\d+(st|nd|rd|th|h)", w) for w in words)


def _is_stray(s: str) -> bool:
    """A lone token: '20', 'TT', '|', 'AFP', 'NEW YORK', a number or short all-caps code."""
    words = _words(s)
    if not words:
        return True
    if len(words) <= 2 and all(w.isdigit() or (w.isupper() and len(w) <= 4) for w in words):
        return True
    return False


def _is_heading(s: str, n_words: int) -> bool:
    """A short line that does not end like a sentence: headline, sub-heading, caption.
    A line that starts in lower case continues a sentence broken by the scraper."""
    return n_words <= 14 and not s.rstrip().endswith(_TERMINAL) and not s.lstrip("\"'\u201c\u2018(")[:1].islower()


# "Photo: AFP New Delhi: US President ..." - a credit glued in front of the article's first line
_CREDIT_PREFIX = re.compile(
    r"(?:photo|picture|image|file photo)\s*:\s*(?:[A-Z]{2,}|" + _AGENCIES + r")(?:\s*/\s*[A-Z][\w.'-]*)*\s+(?=\S)",
    re.IGNORECASE,
)


_SHORT = 80  # characters: stray tokens, datelines and bare credits are never longer


def _is_caption_credit(s: str) -> bool:
    """Caption line ending in a credit: '... April 20, 2018. REUTERS/Omar Sanadiki',
    '... ties (Turkish Embassy in Cairo)', 'Photo: AFP'."""
    if _CREDIT_TAIL.search(s[-120:]) or _CREDIT_LINE.match(s) or (len(s) <= _SHORT and _AGENCY_ONLY.match(s)):
        return True
    # "... promoting Egypt-NATO ties (Turkish Embassy in Cairo)": a capitalised source in
    # brackets closing a line that has no sentence punctuation of its own
    m = _PAREN_TAIL.search(s[-70:]) if s.endswith(")") else None
    if m and not s[:len(s) - len(m.group(0))].rstrip().endswith((".", "!", "?", ",", ";", ":", "\"", "\u201d")):
        words = _words(m.group(1))
        return bool(words) and len(words) <= 8 and all(
            w[0].isupper() or w.lower() in ("in", "of", "the", "and", "for", "de", "via") for w in words)
    return False


_CAPTION_DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}\.?$", re.IGNORECASE)


def _title_regex(title: str) -> re.Pattern | None:
    words = re.findall(r"\w+", title)
    if len(words) < 2:
        return None
    return re.compile(r"\W*".join(re.escape(w) for w in words), re.IGNORECASE)


def _skip_title_prefix(text: str, ls: int, le: int, title_re: re.Pattern | None) -> int:
    """If a line opens with [dateline or 'Posted on DATE by NAME'] TITLE [.] [source/dateline
    words], return where the article's own text starts; else `ls`.
    ('Thu Sep 5 2013 Car bomb kills four in Damascus. A car bomb has killed ...')"""
    if title_re is None:
        return ls
    m = title_re.search(text, ls, min(le, ls + 300))
    if not m:
        return ls
    pre = [w.lower().rstrip(".") for w in _words(text[ls:m.start()])]
    byline = bool(pre) and pre[0] in ("posted", "published", "by", "date") and m.start() - ls <= 100
    if not byline and not all(w.isdigit() or w in _DATE_WORDS or w in _PREFIX_WORDS for w in pre):
        return ls
    pos = m.end()
    # skip " .", source names and a dateline after the title
    tail = re.compile(r"[\s.\-\u2013\u2014|:,]*([^\W_]+(?:\.[^\W_]+)*\.?)")
    while True:
        t = tail.match(text, pos, le)
        if not t:
            break
        w = t.group(1).lower().rstrip(".")
        if w.isdigit() or w in _DATE_CORE or w in _SOURCE_WORDS or re.fullmatch(r"\d{1,2}:\d{2}", w):
            pos = t.end()
            continue
        if re.match(r"\d{1,2}[:\-/]\d{1,2}", text[t.start(1):le]):
            nxt = re.match(r"[\d:\-/]+", text[t.start(1):le])
            pos = t.start(1) + nxt.end()
            continue
        break
    rest = re.compile(r"[\s.\-\u2013\u2014|:,]*").match(text, pos, le).end()
    return rest if rest < le else le


def prepare(text: str, title: str | None = None) -> Article:
    """Remove page furniture from scraped `text` and split the rest into sentences."""
    lines = list(_lines(text))
    line_texts = [text[s:e] for s, e in lines]
    norms = [_norm(t) for t in line_texts]
    counts: dict[str, int] = {}
    for n in norms:
        counts[n] = counts.get(n, 0) + 1
    title_norm = _norm(title) if title else ""
    first_norm = norms[0] if norms else ""
    any_terminal = any(t.rstrip().endswith((".", "!", "?", "\"", "\u201d")) for t in line_texts)
    title_re = _title_regex(title) if title else None

    kept: list[tuple[int, int]] = []
    seen: set[str] = set()
    for i, ((ls, le), t, n) in enumerate(zip(lines, line_texts, norms)):
        if not n:
            continue  # punctuation only
        n_words = len(t.split())
        short = len(t) <= _SHORT
        bullet = _BULLET.match(t) is not None
        if title_norm and n == title_norm:
            continue
        if n == first_norm and counts[n] > 1 and _is_heading(t, n_words):
            continue  # headline repeated
        if counts[n] > 1 and _is_heading(t, n_words):
            continue  # repeated caption or heading
        if n in seen and counts[n] > 1:
            continue  # later copy of a repeated line
        if n_words > 25 and (cp := _CREDIT_PREFIX.match(text, ls, le)):
            ls, t = cp.end(), text[cp.end():le]
        elif (short and (_is_stray(t) or _is_dateline(t))) or _is_caption_credit(t):
            continue
        if n_words <= 15 and _BOILERPLATE.match(t) and not (_BYLINE.match(t) and t.endswith(_TERMINAL)):
            continue
        if any_terminal and not bullet and _is_heading(t, n_words) and not (
                _continues(line_texts, i) or (i == 0 and title_norm and n_words >= 8)):
            continue
        # a caption: a dated or unpunctuated line directly followed by a bare credit line
        if i + 1 < len(lines) and len(line_texts[i + 1]) <= _SHORT and _is_bare_credit(line_texts[i + 1]) and (
                _CAPTION_DATE.search(t) or not t.endswith(_TERMINAL)):
            continue
        seen.add(n)
        if i < 3 and title_re is not None:
            ls = _skip_title_prefix(text, ls, le, title_re)
        if ls < le:
            kept.append((ls, le))

    found: list[Sentence] = []
    for ls, le in kept:
        _line_sentences(text, ls, le, found)
    sentences = tuple(s for s in found if len(s.text) > _SHORT or not (
        _is_stray(s.text) or _is_dateline(s.text) or _AGENCY_ONLY.match(s.text)))
    return Article(original=text, sentences=sentences, title=title)


def _continues(line_texts: list[str], i: int) -> bool:
    """Is line i broken off mid-sentence (next line starts in lower case) or a list's intro?"""
    if i + 1 >= len(line_texts):
        return False
    following = line_texts[i + 1]
    return following[:1].islower() or _BULLET.match(following) is not None


def _is_bare_credit(s: str) -> bool:
    """A line that is only a photo credit: 'REUTERS/Elias Marcou', 'Photo: AFP'.
    (A bare agency name such as 'AFP' or 'TT' is not enough: it also ends ordinary stories.)"""
    words = _words(s)
    return len(words) <= 6 and bool(_CREDIT_LINE.match(s) or _CREDIT_TAIL.search(" " + s))
