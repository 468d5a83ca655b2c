"""Behaviour of the SHIPPED model (models/, through the pointer), the way the service uses it:
prepare() the raw text, classification_text(), scores, per-label thresholds.

Minimum functionality (the two example articles, stories about none of the topics), invariance
(renaming countries does not flip a label) and direction (adding alliance content raises the
alliances score)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsbrief.artifacts import load_model
from newsbrief.text import prepare
from newsbrief.topics import classification_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT.parent / "shared" / "examples"

SPORT = """Manchester United came from behind to beat Chelsea 2-1 at Old Trafford on Sunday, with a
stoppage-time header from their captain securing three points. The manager praised his players'
spirit after a difficult first half in which the visitors dominated possession and hit the post twice.
The win lifts United to third in the Premier League table ahead of next week's FA Cup tie, while
Chelsea's coach said his side had been punished for missing their chances."""

BUSINESS = """Shares in the carmaker rose 4% on Tuesday after it reported higher than expected quarterly
profits, helped by strong sales of electric vehicles. The company raised its full-year forecast and
said it would buy back up to $2 billion of its own stock. Analysts said cost cuts and lower battery
prices had lifted margins, although the chief executive warned that demand could slow next year
as interest rates stay high and competition from new entrants intensifies."""

BATTLE = """Government troops launched a major offensive against rebel positions on Saturday, backed by
artillery and air strikes, killing at least 40 fighters, a war monitor said. Heavy clashes raged on
the outskirts of the town as insurgents fired mortars at army checkpoints. Several civilians were
killed by shelling, and thousands fled the fighting towards the border."""

# Written for these tests in the style of 2022-2025 reporting (not taken from the corpus).
WEAPONS_DELIVERY = """Allies rush air defences to Kyiv as Russian missiles pound power grid

Germany and the Netherlands will deliver two more Patriot air defence batteries to Ukraine within
weeks, their defence ministers said on Thursday, after a night of Russian missile and drone strikes
that knocked out power across the Kharkiv and Odesa regions. At a meeting of the Ukraine Defense
Contact Group at the Ramstein air base, the United States announced a further $1.2 billion package
of artillery shells, HIMARS rockets and armoured vehicles, and NATO members agreed to pool orders for
155mm ammunition. Ukrainian forces are struggling to hold positions near Pokrovsk, where Russian
troops have advanced under heavy shelling, and commanders say shortages of interceptors leave cities
exposed. "Our partners understand that every delay costs lives," Ukraine's defence minister said,
thanking the allies for their support."""

SANCTIONS = """EU agrees new sanctions package targeting Russian banks and shipping

European Union ambassadors on Wednesday approved a fresh package of sanctions against Moscow, adding
a dozen banks to the list cut off from the SWIFT messaging system and banning transactions with
operators of tankers accused of helping Russia evade the oil price cap. The measures, which also
freeze the assets of several officials and impose travel bans, must be formally adopted by foreign
ministers next week. Hungary dropped its objections after securing an exemption for a pipeline
supplying its refineries. The Kremlin's spokesman said the sanctions were illegal and that Russia
would respond, while the EU's foreign policy chief said pressure would continue until Moscow
changed course."""

WAR_PRICES = """Bread and cooking oil prices climb as grain costs bite

Shoppers are paying a third more for bread and sunflower oil than a year ago, the statistics office
said on Tuesday, as higher wheat and fertiliser costs since the war in Ukraine feed through to
supermarket shelves. Bakers say energy bills have doubled, and several small chains have raised
prices twice since January. Inflation eased slightly to 7.9% in May, but food inflation hit a new
high. Economists expect prices to stay elevated until the next harvest, and the central bank is
weighing another interest rate rise at its meeting next month. Consumer groups urged the government
to cut VAT on basic foods and to extend energy support for low-income households."""

# country / nationality / capital names swapped for others of the same kind
RENAMES = {"Syria": "Chile", "Syrian": "Chilean", "Russia": "Canada", "Russian": "Canadian",
           "Russians": "Canadians", "Iran": "Norway", "Iranian": "Norwegian", "Israel": "Brazil",
           "Israeli": "Brazilian", "Israelis": "Brazilians", "Damascus": "Santiago", "Lebanese": "Peruvian",
           "Egypt": "Kenya", "Egyptian": "Kenyan", "Cairo": "Nairobi", "Turkish": "Polish",
           "Italian": "Dutch", "Jordan": "Ghana", "Türkiye": "Spain"}


@pytest.fixture(scope="module")
def model():
    return load_model(ROOT / "models")


@pytest.fixture(scope="module")
def examples():
    if not EXAMPLES.is_dir():
        pytest.skip(f"{EXAMPLES} is absent (the project expects ../shared beside the checkout)")
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))}


def scores_of(model, text: str) -> dict[str, float]:
    row = model.scores([classification_text(prepare(text))])[0]
    return dict(zip(model.labels, row))


def labels_of(model, text: str) -> tuple[str, ...]:
    return model.decide(model.scores([classification_text(prepare(text))]))[0]


def rename(text: str) -> str:
    pattern = re.compile(r"\b(" + "|".join(sorted(RENAMES, key=len, reverse=True)) + r")\b")
    return pattern.sub(lambda m: RENAMES[m.group(1)], text)


def test_the_qusayr_troop_move_gets_conflict_and_alliances(model, examples):
    assert {"conflict", "alliances"} <= set(labels_of(model, examples["qusayr_deployment"]))


def test_the_qusayr_troop_move_is_exactly_conflict_and_alliances(model, examples):
    assert labels_of(model, examples["qusayr_deployment"]) == ("conflict", "alliances")


def test_the_egypt_nato_initiative_is_diplomacy_and_alliances(model, examples):
    assert labels_of(model, examples["egypt_nato_ties"]) == ("diplomacy", "alliances")


@pytest.mark.parametrize("story", [SPORT, BUSINESS], ids=["sport", "business"])
def test_a_story_about_none_of_the_topics_gets_no_label(model, story):
    assert labels_of(model, story) == ()


def test_a_battle_report_is_conflict(model):
    assert "conflict" in labels_of(model, BATTLE)


def test_renaming_countries_does_not_flip_any_label_of_the_examples(model, examples):
    for name, text in examples.items():
        renamed = rename(text)
        assert renamed != text
        assert labels_of(model, renamed) == labels_of(model, text), name


def test_renaming_countries_does_not_flip_the_label_of_a_battle_report(model):
    text = BATTLE + " Syrian and Russian jets struck the area, and Iran sent advisers to Damascus."
    assert labels_of(model, rename(text)) == labels_of(model, text)


def test_adding_alliance_content_raises_the_alliances_score(model):
    extra = (" Meanwhile, NATO allies pledged more troops to the alliance's eastern flank, and the two"
             " governments signed a mutual defence pact providing for joint exercises and basing rights.")
    for text in (BATTLE, BUSINESS):
        assert scores_of(model, text + extra)["alliances"] > scores_of(model, text)["alliances"]


def test_adding_negotiations_raises_the_diplomacy_score(model):
    extra = (" The foreign ministers of both countries held talks in Geneva on a ceasefire, and envoys"
             " said negotiations would resume next week under UN mediation.")
    assert scores_of(model, BATTLE + extra)["diplomacy"] > scores_of(model, BATTLE)["diplomacy"]


def test_a_weapons_delivery_to_a_country_at_war_is_conflict_and_alliances(model):
    assert {"conflict", "alliances"} <= set(labels_of(model, WEAPONS_DELIVERY))


def test_a_sanctions_package_alone_is_diplomacy(model):
    assert labels_of(model, SANCTIONS) == ("diplomacy",)


def test_war_driven_prices_are_an_economic_story_with_no_label(model):
    assert labels_of(model, WAR_PRICES) == ()


def test_published_scores_are_calibrated_probabilities_with_thresholds_near_a_half(model):
    calibration = model.metadata["scores"]["calibration"]
    assert set(calibration) == set(model.labels)
    assert all(0.3 <= t <= 0.7 for t in model.thresholds.values()), model.thresholds


def test_a_coalition_government_between_parties_is_not_an_alliance(model):
    text = ("The Social Democrats and the Greens agreed on Monday to form a coalition government after"
            " weeks of talks on tax, pensions and school reform. The new cabinet will be sworn in by the"
            " president next week, and party members must still approve the deal in a postal ballot.")
    assert "alliances" not in labels_of(model, text)
