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


# ------------------------------------------------------------- captions and credits, many styles
# Caption and credit lines in the forms news sites use (most are taken from ../shared/corpus and
# ../shared/summaries; the rest follow house styles of the Guardian, BBC, NYT, Al Jazeera, Xinhua,
# AFP and EPA). Each is furniture wherever it stands in an article, once or repeated.
CAPTIONS = [
    ("reuters-slash", "A Russian soldier holds his weapon at the city of Douma, Syria, April 20, 2018. REUTERS/Omar Sanadiki"),
    ("reuters-stringer-no-stop", "Afghan National Army (ANA) soldiers stand at a checkpost in Kunduz, Afghanistan March 4, 2020 REUTERS/Stringer"),
    ("reuters-file-picture-id", "U.S. President Donald Trump and China's President Xi Jinping meet business leaders in Beijing, China, November 9, 2017. REUTERS/Damir Sagolj/File Photo - RC1E974F0B70"),
    ("ap-photo-slash", "Firefighters at the site of a strike in Kharkiv, Ukraine, May 25, 2024. AP Photo/Efrem Lukatsky"),
    ("ap-photo-parenthesised", "People look at destroyed houses near the village of Barisha, in Idlib province, Syria, on Oct. 27, 2019. (AP Photo/Ghaith Alsayed)"),
    ("ap-photo-glued-space", "Secretary of State Mike Pompeo briefs reporters at the White House, Friday, Jan. 10, 2019, in Washington. (AP Photo/ Evan Vucci)"),
    ("ap-photo-glued-stop", "In this Feb. 26, 2020 photo, President Donald Trump speaks during a news conference at the White House in Washington.(AP Photo/Manuel Balce Ceneta)"),
    ("name-slash-ap", "Protesters and riot police in Almaty on Wednesday. Vladimir Tretyakov/AP"),
    ("name-slash-ap-file", "A pedestrian walks past graffiti calling for a rent strike in Seattle on April 1, 2020. Ted S. Warren / AP file"),
    ("pipe-name-slash-getty", "Former Vice President Joe Biden. | Spencer Platt/Getty Images"),
    ("name-pipe-getty", "Sen. Kamala Harris speaks during the first Democratic presidential debate on June 27, 2019 in Miami, Florida. Drew Angerer | Getty Images"),
    ("pipe-credit-then-teaser", "Iranian Foreign Minister Mohammad Javad Zarif. | Pavel Golovkin/AP Photo defense Iran's foreign minister threatens 'all-out war' in response to potential military strike"),
    ("via-getty-parenthesised", "President Donald Trump rallied with Kentucky Gov. Matt Bevin the night before the vote. (Mandel Ngan/AFP via Getty Images)"),
    ("afp-afp-via-getty-capitals", "Verstappen and Leclerc embrace after the Saudi GP. ANDREJ ISAKOVIC/AFP/AFP via Getty Images"),
    ("name-afp-getty", "Smoke rises over Severodonetsk during heavy fighting between Ukrainian and Russian forces. Aris Messinis/AFP/Getty Images"),
    ("no-stop-before-credit", "Pressure is mounting to provide Ukraine with S-300 air defense systems Andrey Rudakov/Bloomberg/Getty Images"),
    ("agency-chain", "Ukrainian soldiers patrol on the frontline in Zolote, Ukraine, on January 20, 2022. Wolfgang Schwan/Anadolu Agency/Getty Images"),
    ("source-label-slash", "The Stena Impero seized in Bandar Abbas, Iran. Source: Tasnim News Agency/Getty Images"),
    ("source-label-via", "An image grab taken from a video published on Jan. 16, 2019, shows people at the scene of the attack. Source: AFP via Getty Images"),
    ("credit-label-parenthesised", "Libyan government forces near Abu Qurain. (Credit: Osama Jaber / Pool)"),
    ("photo-label-line-with-credit", "Photo: A Danubia Airways Embraer 170 taxis at Bratislava's M.R. Stefanik airport. (Reuters/Petr Josek)"),
    ("photo-caption-label", "Photo caption: Smoke rises from the collapsed Varadin bridge in Novi Sad on Friday."),
    ("photo-label-source-in-brackets", "Photo: Turkish soldiers patrol near Semdinli, Hakkari province (DHA)"),
    ("image-credit-line", "Image credit: NATO/handout"),
    ("file-image-tag", "Israeli and U.S. officials meet in Washington. File image"),
    ("photo-label-in-brackets", "Workers pull the cable ashore at the landing station in Lekki. (Photo: Consortium handout)"),
    ("company-handout", "Shoppers at a Supermercados Miraflores store in Lima's San Isidro district. (Company handout)"),
    ("two-photo-labels", "Photo: A Russian Ilyushin Il-62 on the tarmac at Maiquetía airport. Photo: Social media / File"),
    ("square-bracket-label", "[Photo: Polish Ministry of National Defence]"),
    ("source-in-brackets-no-stop", "Part of the event promoting Egypt-NATO ties (Turkish Embassy in Cairo)"),
    ("credit-glued-in-front", "(AP Photo) Smoke rises over Serb positions near Lukavica"),
    ("courtesy-slash", "A 1950's magazine advertisement for Jell-O salads, a staple dish of mid-century America. Advertising Archive/Courtesy Everett Collection"),
    ("courtesy-word", "A Roblox avatar races in a kart within the Lunchables Racing game. Courtesy Lunchables"),
    ("copyright-line", "Copyright © 2020 The Washington Times, LLC. Click here for reprint permission."),
    ("guardian-photograph", "Rescue workers search the rubble of a hardware store in Kharkiv on Saturday. Photograph: Sergey Bobok/AFP/Getty Images"),
    ("bbc-image-source", "Image source, Getty Images"),
    ("bbc-image-caption", "Image caption, Firefighters at the site of a strike in Kharkiv on Saturday"),
    ("nyt-credit-dots", "Rescue workers searched the rubble in Kharkiv on Saturday.Credit...Tyler Hicks/The New York Times"),
    ("aljazeera-square-brackets", "Palestinians inspect the site of an Israeli strike in Rafah [Mohammed Abed/AFP]"),
    ("xinhua-parenthesised", "Delegates attend the opening of the forum in Beijing, capital of China, May 14, 2017. (Xinhua/Wang Ye)"),
    ("getty-photo-by", "Senate Majority Leader Mitch McConnell walks to the chamber on Tuesday. (Photo by Chip Somodevilla/Getty Images)"),
    ("afp-photo-capitals", "Ukrainian servicemen ride a tank near Bakhmut on May 8, 2023. AFP PHOTO / ARIS MESSINIS"),
    ("epa-efe", "Rescuers work at the site of a missile strike in Odesa, Ukraine, 25 May 2024. EPA-EFE/IGOR TKACHENKO"),
    ("handout-via-reuters", "A view shows the damaged building in Kharkiv, Ukraine, May 25, 2024. Ukrainian Emergency Service/Handout via REUTERS"),
    ("copyright-sign-tail", "A drone view of the flooded village of Krynky, May 2024. © Reuters"),
    ("photo-credit-should-read", "Smoke rises over Gaza City on Saturday. (Photo credit should read MAHMUD HAMS/AFP via Getty Images)"),
    ("getty-images-alone", "Firefighters at the site of a strike in Kharkiv. Getty Images"),
    ("picture-label-pa", "Firefighters at the site of a strike in Kharkiv. Picture: PA"),
    ("photo-by-for", "Firefighters at the site of a strike in Kharkiv. Photo by John Smith for The Washington Post"),
    ("photo-courtesy-of", "Firefighters at the site of a strike in Kharkiv. (Photo courtesy of the State Emergency Service)"),
    ("agency-photo-words", "Firefighters at the site of a strike in Kharkiv. AFP photo"),
    ("via-ap-no-slash", "Firefighters work at the site. Ukrainian Emergency Service via AP"),
    ("cnn-dated-caption-then-credit-line", "Firefighters at the site of a strike in Kharkiv, Ukraine, on May 25, 2024.\nSergey Bobok/AFP/Getty Images"),
    ("bbc-source-then-caption", "Image source, Reuters\nImage caption, Firefighters at the site of a strike in Kharkiv"),
    ("bare-credit-line", "AP Photo/Efrem Lukatsky"),
    ("bare-photo-label", "Photo: AFP"),
    ("bare-getty", "Getty Images"),
]

# Real sentences that mention agencies, photos, credits or slashes: they stay.
SURVIVORS = [
    "Reuters reported on Tuesday that the talks had stalled.",
    "Sources told Reuters the plan had been approved by the cabinet.",
    "The photo, taken by an AP photographer, shows the damaged bridge.",
    "Getty Images, the photo agency, said it had withdrawn the picture.",
    "Credit Suisse said on Monday it would cut 500 jobs in Zurich.",
    "A Reuters/Ipsos poll found 40 percent support for the deal.",
    "The ceasefire, brokered by Egypt/Qatar, held overnight, officials said.",
    "He spoke to the council via video link from Kyiv.",
    "Pool reporters travelling with the president said he looked tired.",
    "Photographers from AFP and Reuters were at the scene when the shells landed.",
    "A copyright dispute over the photograph reached the courts on Friday.",
    "The image was shared widely on social media, officials said.",
    "(Reuters) - China and Vietnam avoided conflict over the South China Sea on Sunday.",
    "“We will not be intimidated,” the AP quoted him as saying.",
    "The strike hit the city's north, according to Reuters/AP footage.",
]

BODY_LINES = [
    "Russian missiles struck the city of Kharkiv on Saturday, killing at least six people, officials said.",
    "The strike hit a hardware store in a residential district, starting a fire that burned for hours.",
    "Rescue teams worked through the night to search the rubble for survivors.",
    "Ukraine's president called on allies to send more air defence systems to protect the city.",
]


def _with_furniture(body_lines: list[str], furniture: str, layout: str) -> str:
    """Place a caption in the body as scrapers do: at the top, repeated with stray tokens
    (the issue's layout), between paragraphs, or at the end."""
    if layout == "top-repeated":
        return "\n".join([furniture, furniture, "TT", "20", furniture, furniture, *body_lines])
    if layout == "between":
        return "\n\n".join([*body_lines[:2], furniture, *body_lines[2:]])
    return "\n".join([*body_lines, furniture])


@pytest.mark.parametrize("layout", ["top-repeated", "between", "end"])
@pytest.mark.parametrize("style, caption", CAPTIONS, ids=[c[0] for c in CAPTIONS])
def test_captions_and_credits_in_any_style_are_removed(style, caption, layout):
    text = _with_furniture(BODY_LINES, caption, layout)
    article = prepare(text)
    assert [s.text for s in article.sentences] == BODY_LINES
    _check_offsets(text, None)


def test_the_caption_table_covers_many_distinct_styles():
    assert len({style for style, _ in CAPTIONS}) == len(CAPTIONS) >= 25


@pytest.mark.parametrize("sentence", SURVIVORS)
def test_sentences_that_mention_agencies_or_photos_are_kept(sentence):
    alone = "\n".join([BODY_LINES[0], sentence, BODY_LINES[1]])
    assert sentence in sentence_texts(alone)
    glued = f"{BODY_LINES[0]} {sentence}\n{BODY_LINES[1]}"
    assert sentence in sentence_texts(glued)


def test_a_repeated_caption_without_any_credit_is_removed():
    caption = "Firefighters at the site of a strike in Kharkiv."
    text = _with_furniture(BODY_LINES, caption, "top-repeated")
    assert sentence_texts(text) == BODY_LINES


def test_a_line_repeated_anywhere_is_furniture_even_when_it_ends_like_a_sentence():
    quote = "“We will rebuild every house,” the mayor said."
    text = "\n".join([BODY_LINES[0], quote, *BODY_LINES[1:3], quote, BODY_LINES[3]])
    assert sentence_texts(text) == BODY_LINES


def test_a_caption_repeated_with_and_without_its_credit_is_removed():
    text = "\n".join([BODY_LINES[0], "Rescuers at the store in Kharkiv. REUTERS/Sofiia Gatilova",
                      *BODY_LINES[1:], "Rescuers at the store in Kharkiv."])
    assert sentence_texts(text) == BODY_LINES


def test_an_article_pasted_twice_keeps_one_copy():
    text = "\n".join(BODY_LINES + BODY_LINES)
    assert sentence_texts(text) == BODY_LINES


@functools.lru_cache(maxsize=None)
def _labelled_articles(count: int = 12) -> list[tuple[str, str]]:
    """Real labelled articles of several lines from the corpus, spread across it."""
    rows = [json.loads(line) for line in CORPUS.open(encoding="utf-8")]
    multi_line = [r for r in rows if r["text"].count("\n") >= 4]
    step = max(1, len(multi_line) // count)
    return [(r["id"], r["text"]) for r in multi_line[::step][:count]]


@pytest.mark.skipif(not CORPUS.exists(), reason="shared data not present")
def test_furniture_changes_neither_the_sentences_nor_the_labels_of_real_articles():
    from newsbrief.artifacts import load_model
    from newsbrief.topics import classification_text

    model = load_model(pathlib.Path(__file__).resolve().parents[1] / "models")
    articles = _labelled_articles()
    assert len(articles) >= 10
    clean, dressed = [], []
    for doc_id, text in articles:
        lines = text.split("\n")
        expected = [s.text for s in prepare(text).sentences]
        for index, (style, caption) in enumerate(CAPTIONS):
            layout = ("top-repeated", "between", "end")[index % 3]
            furnished = _with_furniture(lines, caption, layout)
            article = prepare(furnished)
            assert [s.text for s in article.sentences] == expected, (doc_id, style, layout)
            assert all(furnished[s.start:s.end] == s.text for s in article.sentences)
            clean.append(classification_text(prepare(text)))
            dressed.append(classification_text(article))
    assert model.decide(model.scores(dressed)) == model.decide(model.scores(clean))
    assert any(model.decide(model.scores(clean)))  # some of the articles have labels to keep


def test_lines_ending_in_a_chinese_full_stop_or_quote_are_not_taken_for_headlines():
    lines = ["联合国安理会周五就中东局势召开紧急会议。多国代表呼吁有关各方立即停火。",
             "中国常驻联合国代表在发言中强调，政治解决是唯一出路。", "他说：“国际社会应当推动重启和谈。”", "会议持续了三个小时。"]
    assert "".join(s.text for s in prepare("\n".join(lines)).sentences) == "".join(lines)


def test_a_one_paragraph_wire_story_signed_by_its_reporters_is_kept_without_the_signature():
    # FA-KES / SANA style: the whole story on one line, closed by "reporter/ editor"
    text = ("7 December 2014 Terrorist rocket attack targets Aleppo city killing one civilian. A civilian "
            "was killed while many others were injured in a terrorist attack with a rocket shell that "
            "targeted Aleppo city on Saturday. According to a source in the province the terrorists fired "
            "a rocket shell which fell in a residential neighborhood. Rasha Raslan/ Haifa Said")
    sentences = prepare(text).sentences
    assert len(sentences) >= 3
    assert all("Raslan" not in s.text for s in sentences)
    assert all(text[s.start:s.end] == s.text for s in sentences)


def test_a_text_that_is_one_caption_is_summarised_rather_than_refused():
    text = "Firefighters at the site of a strike in Kharkiv, Ukraine, May 25, 2024. AP Photo/Efrem Lukatsky"
    assert [s.text for s in prepare(text).sentences] == [
        "Firefighters at the site of a strike in Kharkiv, Ukraine, May 25, 2024."]
