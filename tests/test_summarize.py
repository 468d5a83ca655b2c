"""newsbrief.summarize: every algorithm, odd inputs, the fast LexRank/TextRank against sumy's own."""
from __future__ import annotations

import importlib
import json
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbrief.errors import InvalidRequest
from newsbrief.summarize import ALGORITHMS, DEFAULT_ALGORITHM, MAX_SENTENCES, summarize
from newsbrief.text import prepare

SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared"
EXAMPLES = SHARED / "examples"
SUMMARIES = SHARED / "summaries"

ARTICLE = """Russian troops deployed near the Lebanese border this week, officials said.
The move caused friction with Iran-backed forces including Hezbollah, two officials told Reuters.
“Now it is resolved,” said a military commander.
Syrian army soldiers took over three positions where the Russians had deployed near Qusayr.
Israel has mounted numerous attacks against Hezbollah and other Iran-backed targets in Syria.
Russia and Iran-backed forces such as Hezbollah have worked together against the insurgency.
Israel wants Iranian and Iran-backed forces away from its border with Syria.
"""


def picked(text: str, count: int, algorithm: str) -> list[str]:
    return [s.text for s, _ in summarize(prepare(text), count, algorithm)]


def test_public_surface_is_pinned():
    module = importlib.import_module("newsbrief.summarize")

    assert sorted(module.__all__) == sorted([
        "ALGORITHMS", "DEFAULT_ALGORITHM", "MAX_SENTENCES", "NEWS_FEATURES", "NEWS_REDUNDANCY",
        "NEWS_WEIGHTS", "NEWS_WEIGHTS_UNTITLED", "REDUNDANCY_FROM", "news_features", "summarize"])


def test_the_documented_algorithms_are_offered_and_the_default_is_one_of_them():
    assert {"lead", "lexrank", "textrank", "lsa", "luhn"} <= set(ALGORITHMS)
    assert DEFAULT_ALGORITHM in ALGORITHMS


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_summary_sentences_come_from_the_article_in_article_order(algorithm):
    article = prepare(ARTICLE)
    chosen = summarize(article, 3, algorithm)
    assert len(chosen) == 3
    starts = [s.start for s, _ in chosen]
    assert starts == sorted(starts)
    for sentence, score in chosen:
        assert sentence in article.sentences
        assert ARTICLE[sentence.start:sentence.end] == sentence.text
        assert isinstance(score, float)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_an_article_shorter_than_the_request_returns_all_its_sentences(algorithm):
    text = "The talks resumed in Geneva. Diplomats expect a deal."
    assert picked(text, 5, algorithm) == ["The talks resumed in Geneva.", "Diplomats expect a deal."]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_one_sentence_article_returns_that_sentence(algorithm):
    assert picked("Troops withdrew from the border on Monday.", 3, algorithm) == [
        "Troops withdrew from the border on Monday."]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_an_article_without_full_stops_is_summarised_line_by_line(algorithm):
    text = "troops withdrew from the border on monday\nthe ceasefire held overnight\ntalks resume next week in geneva"
    chosen = picked(text, 2, algorithm)
    assert len(chosen) == 2 and set(chosen) <= set(text.split("\n"))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_bullet_list_is_summarised_without_its_markers(algorithm):
    text = ("Key points of the budget:\n- An increase in the stamp duty threshold\n"
            "- A freeze on petrol duty for pensioners\n* An extension of the tax credit scheme")
    for sentence in picked(text, 3, algorithm):
        assert not sentence.startswith(("-", "*"))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_repeated_sentences_are_never_picked_twice(algorithm):
    repeated = "Hezbollah objected to the uncoordinated Russian move near the border."
    text = " ".join([repeated, "Russian troops deployed near Qusayr.", repeated, repeated,
                     "Syrian soldiers took over the Russian positions.", repeated.upper()])
    chosen = picked(text, 3, algorithm)
    assert len({c.casefold() for c in chosen}) == len(chosen) == 3


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_non_ascii_articles_are_summarised(algorithm):
    text = ("Türkiye’s ambassador Salih Mutlu Şen met officials in Cairo. "
            "Ελλάδα and Türkiye discussed NATO’s southern neighbourhood. "
            "Москва declined to comment on the talks. 会谈将继续。")
    chosen = summarize(prepare(text), 2, algorithm)
    assert len(chosen) == 2
    assert all(text[s.start:s.end] == s.text for s, _ in chosen)


def test_centrality_algorithms_consider_only_the_first_max_sentences():
    sentences = [f"Report number {i} says the border talks in city {i % 97} continue." for i in range(10_000)]
    article = prepare(" ".join(sentences))
    assert len(article.sentences) == 10_000
    for algorithm in ALGORITHMS:
        chosen = summarize(article, 3, algorithm)
        assert len(chosen) == 3
        assert all(article.sentences.index(s) < MAX_SENTENCES for s, _ in chosen)


def test_an_article_without_sentences_gives_an_empty_summary():
    assert summarize(prepare("TT\n20"), 3) == []


@pytest.mark.parametrize("algorithm, count", [("bogus", 3), ("LexRank", 3), ("lead", 0), ("lead", -1), ("lead", 2.5)])
def test_bad_options_raise_invalid_request_naming_the_choices(algorithm, count):
    with pytest.raises(InvalidRequest) as error:
        summarize(prepare(ARTICLE), count, algorithm)
    assert ("lexrank" in error.value.message) or ("positive integer" in error.value.message)


# ------------------------------------------------------------------------------ word budget

def _words_in(chosen) -> int:
    return sum(len(s.text.split()) for s, _ in chosen)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("budget", [1, 12, 25, 40, 60, 500])
def test_a_word_budget_gives_the_best_sentences_that_fit_at_least_one(algorithm, budget):
    article = prepare(ARTICLE)
    chosen = summarize(article, None, algorithm, words=budget)
    assert len(chosen) >= 1
    assert len(chosen) == 1 or _words_in(chosen) <= budget
    starts = [s.start for s, _ in chosen]
    assert starts == sorted(starts)
    assert all(ARTICLE[s.start:s.end] == s.text for s, _ in chosen)
    # the best sentence is the one a one-sentence summary gives, and it is always there
    assert summarize(article, 1, algorithm)[0][0] in [s for s, _ in chosen]
    if budget == 500:
        assert len(chosen) == len(article.sentences)


def test_a_word_budget_skips_a_sentence_too_long_for_what_is_left_and_takes_a_shorter_one():
    text = ("Troops withdrew from the border town on Monday after a week of talks. "
            "The defence ministry said the withdrawal would be complete by the end of the month under the deal. "
            "Talks resume in Geneva.")
    chosen = [s.text for s, _ in summarize(prepare(text), None, "lead", words=17)]
    assert chosen == ["Troops withdrew from the border town on Monday after a week of talks.", "Talks resume in Geneva."]
    one = [s.text for s, _ in summarize(prepare(text), None, "lead", words=3)]
    assert one == ["Troops withdrew from the border town on Monday after a week of talks."]


@pytest.mark.parametrize("count, words, hint", [
    (3, 60, "not both"), (None, 0, "summary.words must be a positive integer"),
    (None, True, "positive integer"), (None, 2.5, "positive integer"), (None, None, "summary.sentences")])
def test_bad_word_budgets_raise_invalid_request(count, words, hint):
    with pytest.raises(InvalidRequest) as error:
        summarize(prepare(ARTICLE), count, DEFAULT_ALGORITHM, words=words)
    assert hint in error.value.message


# ------------------------------------------------------------------------------ the default

@pytest.mark.parametrize("name", ["qusayr_deployment.txt", "egypt_nato_ties.txt"])
def test_default_takes_the_lede_of_an_ordinary_article(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert picked(text, 1, DEFAULT_ALGORITHM) == picked(text, 1, "lead")


LIVE_PAGE = """Fighting resumed near the town of Qusayr on Monday, a monitoring group said.
Fighting resumed near the town of Qusayr on Monday, the monitoring group said in a statement.
Fighting resumed near the town of Qusayr on Monday, a monitoring group reported.
The United Nations said 4,000 families had fled to camps across the border in Lebanon.
"""


def test_default_prefers_a_new_fact_to_a_repeat_of_a_chosen_sentence():
    chosen = picked(LIVE_PAGE, 2, DEFAULT_ALGORITHM)
    assert chosen[1].startswith("The United Nations said 4,000 families")
    assert sum(c.startswith("Fighting resumed") for c in chosen) == 1


def test_default_uses_the_title_as_evidence_and_works_without_one():
    text = ("Officials from six countries met in the capital on Tuesday to discuss the economy of the region. "
            "The central bank raised its main interest rate by two points to fight inflation, officials said. "
            "Traders said prices of bread and fuel rose again this week in the capital's markets. "
            "Shoppers queued outside bakeries before dawn in the old city.")
    title = "Central bank raises interest rate to fight inflation"
    assert [s.text for s, _ in summarize(prepare(text, title), 1)] == [
        "The central bank raised its main interest rate by two points to fight inflation, officials said."]
    without = [s.text for s, _ in summarize(prepare(text), 1)]
    assert without == [text.split(". ")[0] + "."]
    # a title that shares no word with the article is no evidence: the title-less choice stands
    assert [s.text for s, _ in summarize(prepare(text, "Zzz qqq"), 1)] == without


def _rows(name: str, limit: int) -> list[dict]:
    path = SUMMARIES / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for _, line in zip(range(limit), fh)]


@pytest.mark.parametrize("name, titled", [("keysentences_dev.jsonl", True), ("keysentences_dev.jsonl", False),
                                          ("keysentences_2019_2026.jsonl", True), ("keysentences_2019_2026.jsonl", False)])
def test_default_beats_lead_on_the_editors_key_sentences(name, titled):
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rouge_scorer.RougeScorer(["rouge2"], use_stemmer=True)
    totals = {"lead": 0.0, DEFAULT_ALGORITHM: 0.0}
    rows = _rows(name, 300)[::3]  # 34 or 100 articles spread over the sources
    for row in rows:
        article = prepare(row["text"], row["title"] if titled else None)
        for algorithm in totals:
            summary = " ".join(s.text for s, _ in summarize(article, 3, algorithm))
            totals[algorithm] += sum(scorer.score(r, summary)["rouge2"].fmeasure for r in row["references"]) / 2
    # in-sample (the weights were fitted on these articles): a floor, not the held-out figure
    assert (totals[DEFAULT_ALGORITHM] - totals["lead"]) / len(rows) > 0.01


# ------------------------------------------------------------- fast implementations vs sumy

@pytest.mark.parametrize("fast, stock", [("lexrank", "sumy-lexrank"), ("textrank", "sumy-textrank")])
def test_fast_implementation_picks_the_same_sentences_as_sumy(fast, stock):
    rows = _rows("bbc_dev.jsonl", 1500)[::25]  # 60 articles spread over the categories
    same = 0
    for row in rows:
        article = prepare(row["text"], row["title"])
        fast_scores = summarize(article, 3, fast)
        stock_scores = summarize(article, 3, stock)
        same += [s for s, _ in fast_scores] == [s for s, _ in stock_scores]
        for (_, a), (_, b) in zip(fast_scores, stock_scores):
            assert a == pytest.approx(b, rel=1e-6, abs=1e-9) or [s for s, _ in fast_scores] != [s for s, _ in stock_scores]
    assert same == len(rows)  # the issue asks for 95%; on these articles they agree on every one


# ------------------------------------------------------------------ any text (property)

_pieces = st.sampled_from([
    "The talks resumed.", "U.S.", "Dr.", "...", "“", "”", "\n", "\n\n", " ", "TT", "20", "-", "* ",
    "REUTERS/Omar Sanadiki", "Şen", "王毅", "🙂", "a", "A.", "the the the", "123.", "!", "?", "'s",
])


@settings(max_examples=150, deadline=None)
@given(text=st.lists(st.one_of(_pieces, st.text(max_size=8)), max_size=40).map("".join),
       count=st.integers(1, 6), algorithm=st.sampled_from(ALGORITHMS))
def test_any_text_gives_at_most_count_distinct_sentences_in_order(text, count, algorithm):
    article = prepare(text)
    chosen = summarize(article, count, algorithm)
    assert len(chosen) <= count
    assert len(chosen) == min(count, len({" ".join(s.text.casefold().split()) for s in article.sentences}))
    starts = [s.start for s, _ in chosen]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(text[s.start:s.end] == s.text for s, _ in chosen)


@settings(max_examples=100, deadline=None)
@given(text=st.lists(st.one_of(_pieces, st.text(max_size=8)), max_size=40).map("".join),
       budget=st.integers(1, 40), algorithm=st.sampled_from(ALGORITHMS))
def test_any_text_within_a_word_budget_gives_fitting_distinct_sentences_in_order(text, budget, algorithm):
    article = prepare(text)
    chosen = summarize(article, None, algorithm, words=budget)
    assert bool(chosen) == bool(article.sentences)
    assert len(chosen) <= 1 or sum(len(s.text.split()) for s, _ in chosen) <= budget
    starts = [s.start for s, _ in chosen]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(text[s.start:s.end] == s.text for s, _ in chosen)
