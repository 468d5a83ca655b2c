"""newsbrief.text: page furniture is removed, genuine sentences stay, offsets index the input."""
from __future__ import annotations

import functools
import importlib
import json
import pathlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsbrief.text import Article, Sentence, prepare, split_sentences

SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared"
EXAMPLES = SHARED / "examples"
KEYSENTENCES = SHARED / "summaries" / "keysentences_dev.jsonl"
CORPUS = SHARED / "corpus" / "articles.jsonl"

BODY = "The talks resumed on Monday in Geneva after a week of delays."


def sentence_texts(text: str, title: str | None = None) -> list[str]:
    return [s.text for s in prepare(text, title).sentences]


# input line (placed between two genuine sentences) -> is it kept as content?
CLEANUP_CASES = [
    ("TT", False),
    ("20", False),
    ("AFP", False),
    ("REUTERS/Omar Sanadiki", False),
    ("Photo: Getty Images", False),
    ("File photo", False),
    ("(Reuters)", False),
    ("Slideshow (7 Images)", False),
    ("Tuesday, 1 March", False),
    ("Monday 21 November 2016 19:18", False),
    ("2000 GMT", False),
    ("Read more: Trump campaigns in crucial Senate battleground", False),
    ("By: Julien FANCIULLI | Kate WILLIAMS 1 min", False),
    ("Part of the event promoting Egypt-NATO ties (Turkish Embassy in Cairo)", False),
    ("A Russian soldier holds his weapon at the city of Douma, Syria, April 20, 2018. REUTERS/Omar Sanadiki", False),
    ("BONDS BET ON RATE CUTS", False),
    ("“Now it is resolved.”", True),
    ("Now it is resolved.", True),
    ("He said no.", True),
    ("It was 20 degrees in Cairo on Thursday.", True),
    ("(Reuters) - China and Vietnam avoided conflict over the South China Sea on Sunday.", True),
    ("By Monday, the ceasefire had collapsed.", True),
    ("Sultan Hashem Ahmed, military commander of the campaign;", True),
    ("- A freeze on petrol duty", True),
]


@pytest.mark.parametrize("line, kept", CLEANUP_CASES)
def test_furniture_lines_are_removed_and_genuine_sentences_kept(line, kept):
    text = f"{BODY}\n\n{line}\n\nDiplomats said a deal was close."
    texts = sentence_texts(text)
    stripped = line.lstrip("- ")
    assert BODY in texts and "Diplomats said a deal was close." in texts
    assert (stripped in texts or any(stripped in t for t in texts)) is kept


def test_caption_followed_by_a_credit_line_is_removed():
    text = f"{BODY}\nCrude oil storage tanks are seen in Cushing, Oklahoma, March 24, 2016.\nREUTERS/Nick Oxford/Files\nPrices rose."
    assert sentence_texts(text) == [BODY, "Prices rose."]


def test_repeated_headline_and_captions_are_removed_everywhere():
    text = (
        "Talks Resume in Geneva\n\nDelegates at the opening session (UN Photo)\nTT\n20\n\n"
        "Talks Resume in Geneva\n\nDelegates at the opening session (UN Photo)\n\n" + BODY
    )
    assert sentence_texts(text) == [BODY]


def test_headline_given_as_title_is_removed_from_the_body():
    text = f"Talks resume in Geneva\n{BODY}"
    assert sentence_texts(text, title="Talks resume in Geneva") == [BODY]


def test_dateline_and_headline_glued_to_the_first_sentence_are_skipped():
    text = "Thu Sep 5 2013 Car bomb kills four in Damascus. A car bomb has killed four people in Damascus."
    assert sentence_texts(text, title="Car bomb kills four in Damascus") == ["A car bomb has killed four people in Damascus."]


def test_a_line_broken_mid_sentence_or_introducing_a_list_is_kept():
    text = (f"{BODY}\nThe men's 800m went to form in Sheffield as\ndominated the race from the start.\n"
            "The government had claimed tobacco firms\n - manipulated nicotine levels\n - targeted teenagers")
    texts = sentence_texts(text)
    assert "The men's 800m went to form in Sheffield as" in texts
    assert "The government had claimed tobacco firms" in texts
    assert "manipulated nicotine levels" in texts


def test_an_unpunctuated_standfirst_is_kept_when_the_title_differs():
    text = f"Japanese brewers are making money from beer-flavoured drinks rather than beer\n{BODY}"
    assert sentence_texts(text, title="Japan's brewers rethink beer")[0].startswith("Japanese brewers")
    assert sentence_texts(text)[0] == BODY  # without a title it reads as the headline


def test_a_byline_and_headline_glued_to_the_first_sentence_are_skipped():
    text = ("Posted on April 4 2017 by Asharq Al-Awsat English 58 Killed in Suspected Gas Attack in Syria "
            "Dozens of people have been killed in Idlib.")
    assert sentence_texts(text, title="58 Killed in Suspected Gas Attack in Syria") == [
        "Dozens of people have been killed in Idlib."]


def test_a_repeated_genuine_line_is_kept_once():
    text = f"{BODY}\nUltimately, it did.\nUltimately, it did.\nThe end came soon."
    assert sentence_texts(text) == [BODY, "Ultimately, it did.", "The end came soon."]


SPLIT_CASES = [
    ("U.S. senators met on Tuesday. They left.", ["U.S. senators met on Tuesday.", "They left."]),
    ("He moved to the U.S. The move was quick.", ["He moved to the U.S.", "The move was quick."]),
    ("Dr. Smith arrived. Mr. Jones left.", ["Dr. Smith arrived.", "Mr. Jones left."]),
    ("It began on Jan. 5 in Paris. It ended soon.", ["It began on Jan. 5 in Paris.", "It ended soon."]),
    ("George W. Bush spoke. Then he left.", ["George W. Bush spoke.", "Then he left."]),
    ("Prices rose 2.5 percent. Rates fell.", ["Prices rose 2.5 percent.", "Rates fell."]),
    ("He paused... Then he spoke.", ["He paused...", "Then he spoke."]),
    ('"It is over." The crowd cheered.', ['"It is over."', "The crowd cheered."]),
    ("“Now it is resolved. We rejected the step,” said the commander.",
     ["“Now it is resolved.", "We rejected the step,” said the commander."]),
    ("“Why now?” he asked. Nobody knew.", ["“Why now?” he asked.", "Nobody knew."]),
    ("a line without a full stop\nanother line without one", ["a line without a full stop", "another line without one"]),
    ("- first point\n- second point\n* third point", ["first point", "second point", "third point"]),
    ("1. First item.\n2. Second item.", ["First item.", "Second item."]),
    ('cooperate fully."Resolution 1636 passed.', ['cooperate fully."', "Resolution 1636 passed."]),
]


# Chinese and Japanese put no space after 。！？; Arabic and Hindi have their own full stops.
SPLIT_CASES_OTHER_SCRIPTS = [
    ("国务院周二举行发布会。发言人表示经济增长！就业稳定吗？是的。",
     ["国务院周二举行发布会。", "发言人表示经济增长！", "就业稳定吗？", "是的。"]),
    ("政府は閣議で計画を決定した。野党は批判している。", ["政府は閣議で計画を決定した。", "野党は批判している。"]),
    ("気象庁によると台風が接近する｡各社は欠航を決めた｡", ["気象庁によると台風が接近する｡", "各社は欠航を決めた｡"]),
    ("本当に？！まさか。", ["本当に？！", "まさか。"]),
    # a quoted sentence closes with its quote mark; a quotative particle or comma continues it
    ("他说：“我们会继续努力。”随后离开。", ["他说：“我们会继续努力。”", "随后离开。"]),
    ("「本当ですか？」と彼は聞いた。首相は「必要だ。」と述べた。",
     ["「本当ですか？」と彼は聞いた。", "首相は「必要だ。」と述べた。"]),
    ("发言人说。 Reuters reported the talks.", ["发言人说。", "Reuters reported the talks."]),
    ("هل انتهت الحرب؟ قال المتحدث إن الوسطاء يبذلون جهوداً.", ["هل انتهت الحرب؟", "قال المتحدث إن الوسطاء يبذلون جهوداً."]),
    ("सरकार ने घोषणा की। विपक्ष ने आलोचना की।", ["सरकार ने घोषणा की।", "विपक्ष ने आलोचना की।"]),
]


@pytest.mark.parametrize("text, expected", SPLIT_CASES + SPLIT_CASES_OTHER_SCRIPTS)
def test_sentence_splitting(text, expected):
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == expected
    assert all(text[s.start:s.end] == s.text for s in sentences)


def test_a_chinese_article_is_split_at_each_full_stop():
    text = ("联合国安理会周五就中东局势召开紧急会议。多国代表呼吁有关各方立即停火。"
            "中国代表强调，政治解决是唯一出路。")
    assert [s.text for s in prepare(text).sentences] == [
        "联合国安理会周五就中东局势召开紧急会议。", "多国代表呼吁有关各方立即停火。", "中国代表强调，政治解决是唯一出路。"]


@pytest.mark.parametrize("name, furniture", [
    ("qusayr_deployment.txt", ["REUTERS/Omar Sanadiki", "A Russian soldier holds his weapon", "Causes Friction with Hezbollah"]),
    ("egypt_nato_ties.txt", ["Part of the event promoting", "What Closer Egypt-NATO Ties Could Mean"]),
])
def test_example_articles_keep_no_furniture(name, furniture):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    article = prepare(text)
    assert len(article.sentences) >= 15
    for s in article.sentences:
        assert text[s.start:s.end] == s.text
        assert s.text not in ("TT", "20")
        assert not any(f in s.text for f in furniture)
    for f in furniture:
        assert f not in article.body


def test_example_article_keeps_the_short_genuine_quote():
    text = (EXAMPLES / "qusayr_deployment.txt").read_text(encoding="utf-8")
    assert "“Now it is resolved." in sentence_texts(text)


def test_public_surface_is_pinned():
    module = importlib.import_module("newsbrief.text")

    assert sorted(module.__all__) == ["Article", "Sentence", "prepare", "split_sentences"]


def test_body_is_the_cleaned_content():
    article = prepare(f"TT\n{BODY}\n20")
    assert isinstance(article, Article) and article.body == BODY
    assert article.sentences == (Sentence(BODY, 3, 3 + len(BODY)),)


def test_empty_and_blank_text_give_no_sentences():
    assert prepare("").sentences == ()
    assert prepare(" \n\t\n ").sentences == ()


def test_non_ascii_text_keeps_code_point_offsets():
    text = "Türkiye’s envoy Şen met 王毅 in Cairo. “Très bien,” he said. 🙂 Talks went on."
    article = prepare(text)
    assert [s.text for s in article.sentences][:2] == ["Türkiye’s envoy Şen met 王毅 in Cairo.", "“Très bien,” he said."]
    assert all(text[s.start:s.end] == s.text for s in article.sentences)


# ------------------------------------------------------------------ offset invariant (property)

@functools.lru_cache(maxsize=None)
def _real_texts(limit: int = 400) -> list[tuple[str, str | None]]:
    texts = []
    for path in (KEYSENTENCES, CORPUS):
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    row = json.loads(line)
                    texts.append((row["text"], row.get("title")))
    return texts[:limit]


def _check_offsets(text: str, title: str | None) -> None:
    article = prepare(text, title)
    previous_end = 0
    for s in article.sentences:
        assert text[s.start:s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert s.start >= previous_end
        previous_end = s.end


@pytest.mark.skipif(not KEYSENTENCES.exists(), reason="shared data not present")
def test_offsets_index_the_original_for_real_articles():
    texts = _real_texts()
    assert len(texts) > 100
    for text, title in texts:
        _check_offsets(text, title)


_pieces = st.sampled_from([
    "U.S.", "Dr.", "Jan.", "W.", "3.5", "...", "…", ".", "!", "?", "“", "”", '"', "'", "(", ")",
    "\n", "\n\n", "\r\n", " ", "  ", "\t", "\u00a0", "\u2028", "TT", "20", "REUTERS/Omar Sanadiki",
    "Photo: AFP", "- ", "* ", "1. ", "The", "talks", "resumed", "Şen", "王毅", "🙂", "e\u0301",
    "said.", "Now it is resolved.", "Monday 21 November 2016", "(Turkish Embassy in Cairo)",
])
_generated = st.lists(st.one_of(_pieces, st.text(max_size=6)), max_size=60).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_generated, title=st.one_of(st.none(), _generated))
def test_offsets_index_the_original_for_generated_text(text, title):
    _check_offsets(text, title)


@pytest.mark.skipif(not CORPUS.exists(), reason="shared data not present")
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_offsets_survive_cutting_and_pasting_real_articles(data):
    texts = _real_texts(2000)
    a, _ = data.draw(st.sampled_from(texts))
    b, title = data.draw(st.sampled_from(texts))
    i = data.draw(st.integers(0, len(a)))
    j = data.draw(st.integers(0, len(b)))
    _check_offsets(a[:i] + data.draw(_generated) + b[j:], title)
