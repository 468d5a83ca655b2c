"""Clean scraped article text and split it into sentences, offline.

`prepare(text, title)` removes page furniture (repeated headline and caption lines, photo
credits, stray tokens, dateline-only lines, bylines, "Read more" boilerplate) and splits what
is left into sentences. Every `Sentence` keeps exact code-point offsets into the text the
client sent: ``article.original[s.start:s.end] == s.text``.

Furniture is recognised line by line (a scraper puts each page element on its own line);
sentences never cross a line break. Rules are deliberately conservative: a line that ends
like a sentence is kept unless it is a caption (it carries a photo credit, or a credit line
follows it) or a repeat. A line that occurs more than once is furniture wherever it stands
(captions, pull quotes, teasers), unless repeats make up most of the text (an article pasted
twice keeps one copy). Photo credits are recognised by their form (see `_credit_tail`), so a
sentence that only mentions an agency stays.
"""
from __future__ import annotations

import functools
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

# Photo credits are recognised by their form, not by a list of agencies: capitalised names joined
# by "/" ("REUTERS/Omar Sanadiki", "AP Photo/Efrem Lukatsky", "Aris Messinis/AFP via Getty Images"),
# a credit label ("Photograph: Sean Smith", "(Credit: Osama Jaber / Pool)"), a "|" ("... | Getty
# Images"), "©", or a "File photo" tag, closing a line. Only names may follow the credit's start,
# so a sentence that merely mentions an agency ("Reuters reported on Tuesday that ...") never matches.
_UPPER = "A-Z" + "".join(c for c in map(chr, range(0xC0, 0x250)) if c.isupper())
# "Efrem", "REUTERS", "S.", "U.S.", "Jr.", "O'Neil", "Al-Sharaa"; not "Kharkiv." (a sentence's end)
_NAME = rf"(?:[{_UPPER}][a-z]?\.(?:[{_UPPER}]\.)*|[{_UPPER}](?:[\w'\u2019&\-]|\.(?=\w))*)"
_PARTICLES = ("via for and of de del della da di du dos van von der den al el bin ibn la le y "
              "file files photo photos image images picture handout pool staff").split()
# a name, "al-Okili", or a particle ("via", "de", "file")
_TOKEN = rf"(?:{_NAME}|[a-z]{{1,3}}[-'\u2019]{_NAME}|(?:{'|'.join(_PARTICLES)})\b)"
_PHRASE = rf"{_TOKEN}(?:[ \t]+{_TOKEN}){{0,6}}"
_SLASHED = rf"{_PHRASE}(?:[ \t]*/[ \t]*{_PHRASE})+"
_LABEL = (r"(?i:(?:(?:photo|image|picture)[ \t]+)?(?:caption|source))[ \t]*[:,]"
          r"|(?i:(?:photo|image|picture)[ \t]+credit(?:[ \t]+should[ \t]+read)?|photo(?:graph)?s?|pictures?"
          r"|images?|credits?|illustration|graphic|video)[ \t]*(?::|\.\.\.|\u2026|\bby\b)|(?i:courtesy(?:[ \t]+of)?)\b")
_LABELLED = rf"(?:{_LABEL})(?:[^.!?()\[\]|]|(?<=[{_UPPER}])\.){{1,80}}"
_CREDIT = (rf"(?P<label>{_LABELLED})|(?P<copyright>\u00a9[^!?()\[\]|]{{1,80}})|(?P<slashed>{_SLASHED})"
           rf"|(?P<file>(?i:file)[ \t]+(?i:photo|image|picture|footage))|(?P<via>{_PHRASE}[ \t]+via[ \t]+{_PHRASE})"
           # "Getty Images", "Alamy Stock Photo", "AFP photo": names ending in a picture word
           rf"|(?P<named>(?:{_NAME}[ \t]+){{1,5}}(?i:images|photos?|pictures|photography))"
           # "REUTERS/Hamad l Mohammed": an agency, then anything name-like
           rf"|(?P<agency>{_NAME}[ \t]*/[ \t]*[^\W\d_][\w.'\u2019\- ]{{0,40}}(?<![a-z]{{2}}\.))")
# a credit closing a line, in brackets or after a sentence, "|", ":" or a word
_CREDIT_TAIL = re.compile(rf"(?:^|(?<=[\s(\[|.,;:!?\"\u201d\u2019\u2014\u2013-]))[(\[]?[ \t]*(?:{_CREDIT})[ \t]*[)\]]?(?:[ \t]+[-\u2013][ \t]+[A-Z0-9]{{8,}})?$")
# "... Drew Angerer | Getty Images", "| Spencer Platt/Getty Images ...": a "|" before capitalised names
_PIPE_CREDIT = re.compile(rf"\|[ \t]*(?:{_PHRASE}[ \t]*[)\]]?$|{_SLASHED})")
# "(AP Photo) Smoke rises over ...": a bracketed credit glued in front of a line
_CREDIT_OPENING = re.compile(rf"[(\[][ \t]*(?:{_CREDIT}|{_PHRASE})[ \t]*[)\]][ \t]*")
# words that make a slashed run of names a credit ("REUTERS/Stringer", "NATO/handout") where it
# has no two-word name ("Yao Dawei/AP"); without one, "US/UK" is not a credit
_CREDIT_WORDS = frozenset(
    "photo photos photograph photographer image images picture pool handout file files stringer staff "
    "agency press news wire service supplied courtesy contributor reuters ap afp epa efe getty xinhua "
    "anadolu sipa shutterstock alamy bloomberg dpa ansa tass sputnik upi aap kyodo yonhap zuma".split())
_SOURCE_LINKS = frozenset(_PARTICLES) | {"in", "the", "at"}
_PHOTO_WORDS = frozenset("photo photos photograph image images picture handout pool courtesy supplied "
                         "credit file".split())


def _credit_words(s: str) -> set[str]:
    return {w.lower().strip(".") for w in re.findall(r"[^\W\d_][\w.]*", s)}


@functools.lru_cache(maxsize=4096)  # asked for each line's repeat key and again for the line itself
def _credit_tail(s: str) -> tuple[int, bool] | None:
    """Where the photo credit that closes line `s` starts ('... AP Photo/Efrem Lukatsky', '...
    (Photo: AFP)'), and whether it credits a picture (rather than a source: '(Source: X)')."""
    offset = max(0, len(s) - 160)
    tail = s[offset:]
    if not _may_hold_credit(tail):
        return None
    pos = 0
    while (m := _CREDIT_TAIL.search(tail, pos)) is not None:
        if _is_signed(m):
            label = m.group("label") or ""
            weak = (m.group("via") and not _credit_words(m.group("via")) & _PHOTO_WORDS
                    or label[:1] in "sScC" and label[:6].lower() in ("source", "courte")
                    # people's names alone ("Rasha Raslan/ Haifa Said": a wire's reporter and
                    # editor) may sign a text, not a picture
                    or m.group("slashed") and not _credit_words(m.group("slashed")) & _CREDIT_WORDS)
            return offset + m.start(), not weak
        pos = m.start() + 1
    if "|" in tail and (m := _PIPE_CREDIT.search(tail)):
        return offset + m.start(), False
    return None


def _may_hold_credit(tail: str) -> bool:
    """A cheap test first: a line's end without any of these holds no credit."""
    if "/" in tail or "|" in tail or "\u00a9" in tail or "\u2026" in tail or "..." in tail or tail[-1:] in ")]":
        return True
    low = tail.lower()
    return ("via " in low or "file " in low or "courtesy" in low or "caption" in low or "source" in low
            or low.endswith(("images", "photo", "photos", "pictures", "photography"))
            or (":" in tail or " by " in low) and any(w in low for w in _LABEL_WORDS))


_LABEL_WORDS = ("photo", "image", "picture", "credit", "illustration", "graphic")


def _is_signed(m: re.Match) -> bool:
    """Does a run of names joined by '/' or 'via' name a picture's source? 'Yao Dawei/AP' (a
    two-word name), 'NATO/handout' (a credit word): yes; 'US/UK': no."""
    if m.group("agency"):
        return bool(_credit_words(m.group("agency").split("/")[0]) & _CREDIT_WORDS)
    names = m.group("slashed") or m.group("via")
    if not names:
        return True  # a label, "©" or "File photo"
    chunks = re.split(r"[ \t]*/[ \t]*", names) if m.group("slashed") else []
    return any(" " in c or "\t" in c for c in chunks) or bool(_credit_words(names) & _CREDIT_WORDS)


def _is_credit(s: str) -> bool:
    """Is `s` nothing but a photo credit ('REUTERS/Elias Marcou', 'Photo: AFP', '| Getty Images')?"""
    found = _credit_tail(s)
    return found is not None and not s[:found[0]].strip(" \t([|")


def _credit_opening(text: str, ls: int, le: int) -> int:
    """Where a paragraph starts once a credit glued in front of it is skipped ('(AP Photo) ...',
    'Photo: AFP New Delhi: US President ...'); else `ls`. (A shorter line is a caption.)"""
    if le - ls <= 150:
        return ls
    m = _CREDIT_OPENING.match(text, ls, le)
    if m and _opens_with_photo_credit(m) and len(text[ls:le].split()) > _CAPTION_WORDS:
        return m.end()
    if m := _CREDIT_PREFIX.match(text, ls, le):
        return m.end()
    return ls


def _opens_with_photo_credit(m: re.Match) -> bool:
    return bool(m.group("slashed") or m.group("label") or m.group("copyright")
                or _credit_words(m.group(0)) & _PHOTO_WORDS)


_CREDIT_LINE = re.compile(
    r"^[(\[]?\s*(?:(?:(?:photo|image|picture)\s+)?(?:caption|source)\s*[:,]"
    r"|(?:photo|photograph|picture|image|file photo|credit|photos?\s+by|pictured)\s*(?::|by\b|\)|$))",
    re.IGNORECASE,
)
_AGENCIES = (
    r"REUTERS|Reuters|AFP|AP|EPA|EPA-EFE|Getty\s+Images|Getty|ANADOLU|Anadolu|Xinhua|SANA|"
    r"UPI|TT|NTB|DPA|dpa|ANSA|Sputnik|TASS|Shutterstock|Bloomberg|Pool|Handout"
)
# a line that is nothing but an agency name: "AFP", "(Reuters)", "Getty Images"
_AGENCY_ONLY = re.compile(r"^\(?\s*(?:" + _AGENCIES + r")\s*\)?\s*$")
_PAREN_TAIL = re.compile(r"[(\[]([^()\[\]]{2,60})[)\]]\s*$")
_BOILERPLATE = re.compile(
    r"^(?:read more|related:|related coverage|subscribe|sign up|follow us|follow @|click here|"
    r"send your story|if you have a story|share this|advertisement|slideshow|watch:|listen:|"
    r"video:|graphic:|photos?:|image:|print this page|view comments|\u2014|--|by:|by\s+[A-Z]|"
    r"copyright\b|\u00a9|all rights reserved)",
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
_CJK_TERMINAL = ("\u3002", "\uff01", "\uff1f", "\uff61", "\u300d", "\u300f")  # 。！？｡」』 end a line like "."
_TERMINAL = (".", "!", "?", "\u2026", "\"", "\u201d", "'", "\u2019", ":", ")", "]", ",", ";", "-", "\u2014",
             *_CJK_TERMINAL)


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
# a longer line ending in a source (60 words) or photo credit (120) is a paragraph with it glued on
_CAPTION_WORDS, _PHOTO_CAPTION_WORDS = 60, 120


def _caption_credit(s: str) -> tuple[int, bool] | None:
    """If line `s` is a caption or carries a credit: where the credit starts, and whether it
    credits a picture (then the whole line is a caption, whatever its length). '... April 20,
    2018. REUTERS/Omar Sanadiki', '... Kharkiv. AP Photo/Efrem Lukatsky', 'Photo: AFP', '(AP
    Photo) Smoke rises ...', '... | Getty Images', '... ties (Turkish Embassy in Cairo)'."""
    if _CREDIT_LINE.match(s) or (len(s) <= _SHORT and _AGENCY_ONLY.match(s)):
        return 0, True
    if s[:1] in "([" and (m := _CREDIT_OPENING.match(s)) and _opens_with_photo_credit(m):
        return 0, True
    if (found := _credit_tail(s)) is not None:
        return found
    if "|" in s and (m := _PIPE_CREDIT.search(s)) and _credit_tail(m.group(0)):
        return m.start(), True  # "caption. | Name/AP Photo section Related headline"
    # "... promoting Egypt-NATO ties (Turkish Embassy in Cairo)", "... in Lekki. (Company handout)":
    # capitalised names in brackets closing a line that has no sentence punctuation of its own, or
    # naming a picture's source
    m = _PAREN_TAIL.search(s[-70:]) if s.endswith((")", "]")) else None
    if m:
        words = _words(m.group(1))
        names = bool(words) and len(words) <= 8 and all(w[0].isupper() or w.lower() in _SOURCE_LINKS for w in words)
        before = s[:len(s) - len(m.group(0))].rstrip()
        photo = bool(_credit_words(m.group(1)) & _PHOTO_WORDS)
        if names and (photo or not before.endswith((".", "!", "?", ",", ";", ":", "\"", "\u201d", ")", "]"))):
            return len(before), photo
    return None


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
    lines = [(_credit_opening(text, s, e), e) for s, e in _lines(text)]
    line_texts = [text[s:e] for s, e in lines]
    norms = [_norm(t) for t in line_texts]
    keys = [_repeat_key(t, n) for t, n in zip(line_texts, norms)]
    counts: dict[str, int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    # A line that occurs more than once (captions, pull quotes, teasers) is furniture: every copy
    # goes. Unless repeats make up most of the text: then the scraper pasted the article twice,
    # and the first copy of each line is kept.
    repeated = sum(len(t) for t, k in zip(line_texts, keys) if counts[k] > 1)
    pasted_twice = 2 * repeated > sum(map(len, line_texts))
    title_norm = _norm(title) if title else ""
    any_terminal = any(t.rstrip().endswith((".", "!", "?", "\"", "\u201d", *_CJK_TERMINAL)) for t in line_texts)
    title_re = _title_regex(title) if title else None

    kept: list[tuple[int, int]] = []
    captions: list[tuple[int, int]] = []  # lines dropped for their credit: kept if nothing else is
    seen: set[str] = set()
    for i, ((ls, le), t, n, k) in enumerate(zip(lines, line_texts, norms, keys)):
        if not n:
            continue  # punctuation only
        n_words = len(t.split())
        short = len(t) <= _SHORT
        bullet = _BULLET.match(t) is not None
        if title_norm and n == title_norm:
            continue
        if counts[k] > 1 and (not pasted_twice or k in seen or _is_heading(t, n_words)):
            continue  # repeated caption, heading or line
        if short and (_is_stray(t) or _is_dateline(t)):
            continue
        if (credit := _caption_credit(t)) is not None:
            start, photo = credit
            if start == 0 or n_words <= (_PHOTO_CAPTION_WORDS if photo else _CAPTION_WORDS):
                if start > 0:
                    captions.append((ls, ls + _before_credit(t, start)))
                continue  # a caption, or a credit on its own
            le = ls + _before_credit(t, start)  # a paragraph with its source glued to its end
            t = text[ls:le]
        if n_words <= 15 and _BOILERPLATE.match(t) and not (_BYLINE.match(t) and t.endswith(_TERMINAL)):
            continue
        if any_terminal and not bullet and _is_heading(t, n_words) and not (
                _continues(line_texts, i) or (i == 0 and title_norm and n_words >= 8)):
            continue
        # a caption: a dated or unpunctuated line directly followed by a bare credit line (a credit
        # line after an ordinary paragraph is common too: it belongs to a picture the scrape lost)
        if i + 1 < len(lines) and len(line_texts[i + 1]) <= _SHORT and _is_bare_credit(line_texts[i + 1]) and (
                _CAPTION_DATE.search(t) or not t.endswith(_TERMINAL)):
            continue
        seen.add(k)
        if i < 3 and title_re is not None:
            ls = _skip_title_prefix(text, ls, le, title_re)
        if ls < le:
            kept.append((ls, le))

    found: list[Sentence] = []
    for ls, le in kept or captions:  # a text that is one caption-like paragraph is still an article
        _line_sentences(text, ls, le, found)
    sentences = tuple(s for s in found if len(s.text) > _SHORT or not (
        _is_stray(s.text) or _is_dateline(s.text) or _AGENCY_ONLY.match(s.text) or _is_credit(s.text)))
    return Article(original=text, sentences=sentences, title=title)


def _before_credit(line: str, credit: int) -> int:
    """Where the text before a credit ends, leaving out a bracket the credit is inside."""
    head = line[:credit]
    opening = max(head.rfind("("), head.rfind("["))
    if opening > max(head.rfind(")"), head.rfind("]")):
        head = head[:opening]
    return len(head.rstrip())


def _repeat_key(line: str, norm: str) -> str:
    """What makes two lines copies of each other: their words, less a closing photo credit
    ('Caption. REUTERS/Name' repeats 'Caption.')."""
    found = _credit_tail(line)
    return (_norm(line[:found[0]]) or norm) if found else norm


def _continues(line_texts: list[str], i: int) -> bool:
    """Is line i broken off mid-sentence (next line starts in lower case) or a list's intro?"""
    if i + 1 >= len(line_texts):
        return False
    following = line_texts[i + 1]
    return following[:1].islower() or _BULLET.match(following) is not None


def _is_bare_credit(s: str) -> bool:
    """A line that is only a photo credit: 'REUTERS/Elias Marcou', 'Photo: AFP'.
    (A bare agency name such as 'AFP' or 'TT' is not enough: it also ends ordinary stories.)"""
    return len(_words(s)) <= 8 and bool(_CREDIT_LINE.match(s) or _is_credit(s))
