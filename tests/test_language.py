"""The language check: English text is never called non-English, other languages lose their
topic labels with a warning, and their summaries use sumy's words for that language."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sumy.nlp.stemmers import Stemmer
from sumy.utils import get_stop_words

from newsbrief import _words, language, summarize
from newsbrief.text import prepare
from newsbrief.topics import classification_text

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
summarize_module = importlib.import_module("newsbrief.summarize")  # the package re-exports the function
MULTILINGUAL = ROOT / "benchmarks" / "languages.jsonl"
ENGLISH_FILES = sorted((SHARED / "corpus").glob("*.jsonl")) + sorted((SHARED / "summaries").glob("*.jsonl"))


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def english_records() -> list[dict]:
    if not ENGLISH_FILES:
        pytest.skip(f"{SHARED} is absent (the project expects ../shared beside the checkout)")
    return [r for path in ENGLISH_FILES for r in _jsonl(path)]


@pytest.fixture(scope="module")
def multilingual() -> list[dict]:
    return _jsonl(MULTILINGUAL)


def _by_id(items: list[dict], item_id: str) -> str:
    return next(i["text"] for i in items if i["id"] == item_id)


# ------------------------------------------------------------------ English stays English

def test_no_english_article_title_or_first_line_loses_its_labels(english_records):
    # raw scraped text (furniture included), the title alone, the first line alone: all 6,167
    wrong = []
    for record in english_records:
        first_line = next((line for line in record["text"].splitlines() if line.strip()), "")
        for text in (record["text"], record.get("title") or "", first_line):
            if not language.detect(text).topics_apply:
                wrong.append(text[:80])
    assert len(english_records) > 6000
    assert wrong == []


def test_cleaned_english_articles_are_english(english_records):
    # what the service checks: title + cleaned body (every 10th article; the benchmark does all)
    sample = english_records[::10]
    detected = [language.detect(classification_text(prepare(r["text"], r.get("title")))) for r in sample]
    assert all(d.topics_apply for d in detected)
    assert sum(d.language == "en" for d in detected) == len(sample)


@pytest.mark.parametrize("headline", [
    # short English texts CLD2 by itself calls Scots, Kinyarwanda, Tatar, Indonesian...
    "McConnell details Scots wave toll", "Train strike grips Buenos Aires",
    "Yukos bankruptcy 'not US matter'", "US-led airstrikes target ISIS stronghold Raqqa",
    "Trump says American warship destroyed Iranian drone", "Dundee Utd 4-1 Aberdeen",
    "NATO summit opens in Vilnius", "Youssef Diab", "", "12 34 56", "!!!",
])
def test_short_latin_texts_are_never_called_non_english(headline):
    detected = language.detect(headline)
    assert detected.language in ("en", "und")
    assert detected.topics_apply


# ------------------------------------------------------------------ other languages

def test_every_non_english_article_of_the_multilingual_set_is_recognised(multilingual):
    articles = [i for i in multilingual if i["kind"] == "article"]
    assert len({i["language"] for i in articles}) >= 25
    for item in articles:
        detected = language.detect(item["text"])
        assert (item["id"], detected.language) == (item["id"], item["language"])
        assert not detected.topics_apply


@pytest.mark.parametrize("text, code", [
    ("Президент подписал указ о новых санкциях.", "ru"),
    ("外交部发言人就中美关系答记者问。", "zh"),
    ("مجلس الأمن يدعو إلى وقف فوري لإطلاق النار.", "ar"),
])
def test_a_short_text_in_another_script_is_recognised(text, code):
    detected = language.detect(text)
    assert detected.language == code and not detected.topics_apply


def test_a_short_latin_text_in_another_language_is_undetermined_and_keeps_its_labels():
    detected = language.detect("Le Parlement adopte la réforme des retraites après un vote serré.")
    assert detected.language == "und" and detected.topics_apply


ENGLISH = ("The French president defended the decision on Tuesday in a televised address to the "
           "nation, saying the reform was needed to keep the pension system afloat. ")
FRENCH = ("« Nous ne reculerons pas, nous irons jusqu'au bout de cette réforme, parce que c'est "
          "l'intérêt du pays et de nos enfants, et je ne laisserai personne bloquer la France », "
          "a-t-il déclaré. ")


def test_an_english_story_quoting_a_long_french_statement_keeps_its_labels():
    detected = language.detect(ENGLISH + FRENCH * 4 + ENGLISH)
    assert detected.language == "fr"                      # most of the sample is French
    assert detected.english_share >= language.MIN_ENGLISH_SHARE
    assert detected.topics_apply


def test_a_french_story_with_an_english_sentence_is_french():
    detected = language.detect(FRENCH * 5 + ENGLISH)
    assert detected.language == "fr" and not detected.topics_apply


@pytest.mark.parametrize("text", [
    "Troops\x00 entered\x07 the\x1b town\x7f on\x85 Monday \ufdd0 after \uffff heavy \ufffe shelling. " * 5,
    "\x9f" * 50, "\t\n\r" * 20,
])
def test_characters_cld2_refuses_do_not_break_detection(text):
    assert language.detect(text).language in ("en", "und")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300))
def test_any_text_gets_a_language_and_the_same_one_twice(text):
    first, second = language.detect(text), language.detect(text)
    assert first == second
    assert first.language and 0.0 <= first.english_share <= 1.0


# ------------------------------------------------------------------ summaries

@pytest.mark.parametrize("code, name", [("fr", "french"), ("de", "german"), ("es", "spanish"),
                                        ("ru", "russian"), ("ar", "arabic")])
def test_a_language_sumy_knows_gets_its_stemmer_and_stop_words(code, name):
    vocabulary = _words.for_language(code)
    for word in ("négociations", "Verhandlungen", "negociaciones", "переговоры", "المفاوضات"):
        assert vocabulary.stem(word) == Stemmer(name)(word.lower())
    try:
        expected = frozenset(w.lower() for w in get_stop_words(name))
    except LookupError:
        expected = frozenset()
    assert vocabulary.stop_words == expected
    assert vocabulary.stemmed


def test_a_language_sumy_does_not_know_gets_plain_words():
    vocabulary = _words.for_language("tr")
    assert not vocabulary.stemmed and vocabulary.stop_words == frozenset()
    assert vocabulary.content_stems("Cumhurbaşkanı Ankara'da konuştu") == ["cumhurbaşkanı", "ankara'da", "konuştu"]


def test_chinese_and_japanese_are_read_one_character_a_word():
    assert _words.for_language("zh").words("联合国安理会USA") == ["联", "合", "国", "安", "理", "会", "USA"]
    assert _words.for_language("ja").words("政府は閣議で") == ["政", "府", "は", "閣", "議", "で"]


def test_english_and_undetermined_text_keep_the_english_words():
    assert _words.for_language("en") is _words.for_language("und") is _words.ENGLISH


@pytest.mark.parametrize("algorithm", ["news", "lexrank", "luhn"])
def test_summarize_ranks_with_the_vocabulary_of_the_language_it_is_given(monkeypatch, algorithm):
    seen = []
    original = summarize_module._SCORERS[algorithm]

    def spy(texts, count):
        seen.append(_words.current().name)
        return original(texts, count)

    monkeypatch.setitem(summarize_module._SCORERS, algorithm, spy)
    article = prepare("Premier paragraphe du texte. Deuxième phrase ici. Troisième phrase là-bas.")
    summarize(article, 1, algorithm, "fr")
    summarize(article, 1, algorithm)
    assert seen == ["french", "english"]
    assert _words.current() is _words.ENGLISH  # nothing leaks out of the call


def test_french_lexrank_picks_the_same_sentences_as_sumys_with_french_words(multilingual):
    for item in (i for i in multilingual if i["language"] in ("fr", "de", "es", "it", "pt")):
        article = prepare(item["text"])
        fast = summarize(article, 2, "lexrank", item["language"])
        stock = summarize(article, 2, "sumy-lexrank", item["language"])
        assert [s for s, _ in fast] == [s for s, _ in stock]


# ------------------------------------------------------------------ the answer

def test_a_french_article_gets_no_labels_a_warning_and_a_summary(client, multilingual):
    text = _by_id(multilingual, "fr-article-1")
    response = client.post("/v1/analyze", json={"text": text, "summary": {"sentences": 2}})
    assert response.status_code == 200
    body = response.get_json()
    assert body["labels"] == [] and body["language"] == "fr"
    assert set(body["scores"]) == {"conflict", "diplomacy", "alliances"}  # the contract keeps them
    assert [w["code"] for w in body["warnings"]] == ["not_english"]
    assert "French (fr)" in body["warnings"][0]["message"]
    assert "French stemmer and stop words" in body["warnings"][0]["message"]
    assert len(body["summary"]["sentences"]) == 2
    for sentence in body["summary"]["sentences"]:
        assert text[sentence["start"]:sentence["end"]] == sentence["text"]


def test_each_document_of_a_batch_gets_its_own_language(client, multilingual, examples):
    documents = [{"id": "en", "text": examples["qusayr_deployment"]},
                 {"id": "zh", "text": _by_id(multilingual, "zh-article-1")},
                 {"id": "short", "text": "NATO summit opens in Vilnius"},
                 {"id": "empty", "text": "TT"}]
    results = client.post("/v1/analyze", json={"documents": documents}).get_json()["results"]
    en, zh, short, empty = results
    assert (en["language"], en["warnings"]) == ("en", []) and "conflict" in en["labels"]
    assert zh["language"] == "zh" and zh["labels"] == [] and zh["warnings"][0]["code"] == "not_english"
    assert "。" in zh["summary"]["sentences"][0]["text"][-1]
    assert short["language"] == "und" and short["warnings"][0]["code"] == "language_undetermined"
    assert "error" in empty and "language" not in empty


def test_a_mixed_text_keeps_its_labels_and_says_so(client):
    body = client.post("/v1/analyze", json={"text": ENGLISH + FRENCH * 4 + ENGLISH}).get_json()
    assert body["language"] == "fr"
    assert [w["code"] for w in body["warnings"]] == ["mixed_language"]


def test_a_chinese_article_with_a_quoted_line_keeps_all_its_lines():
    text = ("联合国安理会周五就中东局势召开紧急会议。多国代表呼吁有关各方立即停火。\n"
            "中国常驻联合国代表在发言中强调，政治解决是唯一出路。\n"
            "他说：“国际社会应当推动重启和谈。”\n"
            "会议持续了三个小时。")
    assert len(prepare(text).sentences) == 5
