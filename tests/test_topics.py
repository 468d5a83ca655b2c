"""The topic classifier as an estimator: parameters, fitting, probabilities, thresholds, explanations."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from newsbrief.topics import PLACE, Head, PlaceTokenizer, TopicClassifier, classification_text, label_matrix

CONFLICT = ["Troops shelled the town and air strikes killed dozens of fighters near the front line.",
            "Militants attacked an army checkpoint; soldiers returned fire and the battle lasted hours.",
            "Rebel fighters seized the airport after heavy shelling and clashes with the army.",
            "A car bomb killed soldiers at a military base as the insurgency spread."]
DIPLOMACY = ["The foreign minister held talks with his counterpart on lifting sanctions.",
             "Ambassadors met at the summit and the envoy proposed a new round of negotiations.",
             "The foreign ministry summoned the ambassador after the talks collapsed.",
             "Leaders signed an accord after negotiations mediated by the envoy."]
ALLIANCES = ["NATO allies agreed to hold joint exercises under the defence pact.",
             "The alliance partners pledged troops and burden sharing at the NATO summit.",
             "Allied navies began a joint drill as the security partnership deepened.",
             "The coalition partners argued over basing rights and the mutual defence treaty."]
NONE = ["The company reported higher quarterly profits and raised its dividend.",
        "The football club won the league after a late goal in the final match.",
        "The new phone has a larger screen and a faster chip, reviewers said.",
        "Shares rose as the bank cut interest rates and retail sales grew."]


def tiny_corpus():
    """Texts and label sets: every pool alone and in pairs, so that each label has both classes."""
    texts, labels = [], []
    pools = {"conflict": CONFLICT, "diplomacy": DIPLOMACY, "alliances": ALLIANCES}
    for i in range(4):
        for name, pool in pools.items():
            texts.append(pool[i] + " " + pool[(i + 1) % 4])
            labels.append((name,))
        texts.append(NONE[i] + " " + NONE[(i + 1) % 4])
        labels.append(())
        texts.append(CONFLICT[i] + " " + ALLIANCES[i])
        labels.append(("conflict", "alliances"))
        texts.append(DIPLOMACY[i] + " " + ALLIANCES[(i + 2) % 4])
        labels.append(("diplomacy", "alliances"))
    return texts, labels


@pytest.fixture(scope="module")
def fitted():
    texts, labels = tiny_corpus()
    return TopicClassifier(min_df=1, C=10.0).fit(texts, labels)


def test_init_stores_parameters_untouched_and_clone_works():
    model = TopicClassifier(ngram_range=(1, 1), min_df=3, C={"conflict": 2.0}, thresholds={"conflict": 0.4})
    params = model.get_params()
    assert params["ngram_range"] == (1, 1) and params["min_df"] == 3
    assert params["C"] == {"conflict": 2.0} and params["thresholds"] == {"conflict": 0.4}
    assert clone(model).get_params() == params
    assert not [name for name in vars(model) if name.endswith("_")]


def test_using_the_model_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        TopicClassifier().predict_proba(["anything"])
    with pytest.raises(NotFittedError):
        TopicClassifier().explain("anything")


def test_probabilities_have_one_column_per_label_and_stay_within_0_and_1(fitted):
    proba = fitted.predict_proba(["Soldiers and NATO allies held talks", "", "profits rose"])
    assert proba.shape == (3, 3)
    assert np.all((proba >= 0) & (proba <= 1))


@pytest.mark.parametrize("sublinear_tf", [True, False])
def test_features_equal_the_fitted_vectorizers_own_transform(sublinear_tf):
    texts, labels = tiny_corpus()
    model = TopicClassifier(min_df=1, sublinear_tf=sublinear_tf).fit(texts, labels)
    probes = texts[:5] + ["", "no known word here", "NATO NATO NATO allies allies talks", CONFLICT[0] * 3]
    expected = model.vectorizer_.transform(probes)
    got = model.features(probes)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got.toarray(), expected.toarray(), rtol=1e-6, atol=1e-7)


def test_each_label_is_decided_on_its_own_so_several_or_none_can_apply(fitted):
    both = fitted.predict_labels([CONFLICT[0] + " " + ALLIANCES[1]])[0]
    assert {"conflict", "alliances"} <= set(both)
    assert fitted.predict_labels(["The bakery sold bread and cakes at the market on Sunday."]) == [()]


def test_thresholds_decide_per_label(fitted):
    text = [CONFLICT[2]]
    always = clone(fitted).set_params(thresholds={"conflict": 0.0, "diplomacy": 0.0, "alliances": 0.0})
    never = clone(fitted).set_params(thresholds={"conflict": 1.01, "diplomacy": 1.01, "alliances": 1.01})
    texts, labels = tiny_corpus()
    assert always.fit(texts, labels).predict_labels(text) == [("conflict", "diplomacy", "alliances")]
    assert never.fit(texts, labels).predict_labels(text) == [()]


def test_thresholds_for_unknown_labels_are_refused():
    texts, labels = tiny_corpus()
    with pytest.raises(ValueError, match="friendship"):
        TopicClassifier(min_df=1, thresholds={"friendship": 0.5}).fit(texts, labels)


def test_a_label_without_positive_examples_is_refused_with_its_name():
    texts, _ = tiny_corpus()
    with pytest.raises(ValueError, match="'alliances'"):
        TopicClassifier(min_df=1).fit(texts, [("conflict",), ("diplomacy",), ()] * (len(texts) // 3))


def test_a_single_string_is_refused_as_input(fitted):
    with pytest.raises(ValueError, match="wrap it in a list"):
        fitted.predict_proba("one article")


def test_label_sets_and_a_0_1_matrix_train_the_same_model():
    texts, labels = tiny_corpus()
    a = TopicClassifier(min_df=1).fit(texts, labels).predict_proba(texts)
    b = TopicClassifier(min_df=1).fit(texts, label_matrix(labels)).predict_proba(texts)
    assert np.allclose(a, b)


def test_sample_weight_can_give_each_label_its_own_column():
    texts, labels = tiny_corpus()
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.5, 4.0, size=(len(texts), 3))
    per_label = TopicClassifier(min_df=1).fit(texts, labels, sample_weight=weights)
    for j in range(3):
        alone = TopicClassifier(min_df=1).fit(texts, labels, sample_weight=weights[:, j])
        assert np.allclose(per_label.coef_[j], alone.coef_[j]) and per_label.intercept_[j] == alone.intercept_[j]
    with pytest.raises(ValueError, match="sample_weight"):
        TopicClassifier(min_df=1).fit(texts, labels, sample_weight=weights[:, :2])


def test_explain_lists_terms_of_this_article_that_raised_each_score(fitted):
    text = "NATO allies began joint exercises while troops shelled the town."
    explanation = fitted.explain(text, top=4)
    assert set(explanation) == {"conflict", "diplomacy", "alliances"}
    words = set(text.lower().replace(".", "").split())
    for label, terms in explanation.items():
        assert len(terms) <= 4
        weights = [t["weight"] for t in terms]
        assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
        assert all(set(t["term"].split()) <= words for t in terms)
    assert any("nato" in t["term"] for t in explanation["alliances"])
    assert any("troops" in t["term"] or "shelled" in t["term"] for t in explanation["conflict"])


def test_explanations_of_an_unrelated_article_do_not_invent_terms(fitted):
    explanation = fitted.explain("zzz qqq", top=5)
    assert all(terms == [] for terms in explanation.values())


def test_place_names_become_one_placeholder_token():
    tokens = PlaceTokenizer()("syrian troops left damascus for the united states and new york")
    assert tokens == ["xplacex", "troops", "left", "xplacex", "for", "the", "xplacex", "and", "xplacex"]
    assert PLACE == "xplacex"


def test_renaming_a_country_does_not_change_the_scores(fitted):
    a = "Syrian troops shelled Aleppo as Russia and Iran backed Damascus."
    b = "Chilean troops shelled Lima as Canada and Norway backed Santiago."
    # Lima and Santiago are not in the place list; all the others are
    a_scores = fitted.predict_proba([a.replace("Aleppo", "Homs").replace("Damascus", "Cairo")])
    b_scores = fitted.predict_proba([b.replace("Lima", "Tripoli").replace("Santiago", "Ankara")])
    assert np.allclose(a_scores, b_scores)


def test_classification_text_is_title_then_cleaned_body():
    article = SimpleNamespace(title="Troops advance", body="Fighting spread to the north.")
    assert classification_text(article) == "Troops advance\nFighting spread to the north."
    assert classification_text(SimpleNamespace(title=None, body="Only a body.")) == "Only a body."


def test_the_fitted_model_survives_a_pickle_round_trip(fitted):
    import pickle
    copy = pickle.loads(pickle.dumps(fitted))
    texts, _ = tiny_corpus()
    assert np.array_equal(copy.predict_proba(texts), fitted.predict_proba(texts))


def test_calibration_is_a_sigmoid_of_the_decision_value_folded_into_the_weights():
    texts, labels = tiny_corpus()
    raw = TopicClassifier(min_df=1).fit(texts, labels)
    calibrated = TopicClassifier(min_df=1, calibration={"conflict": (2.0, -1.0), "alliances": (0.5, 0.25)})
    calibrated.fit(texts, labels)
    z = raw.decision_function(texts)
    expected = 1 / (1 + np.exp(-(np.array([2.0, 1.0, 0.5]) * z + np.array([-1.0, 0.0, 0.25]))))
    np.testing.assert_allclose(calibrated.predict_proba(texts), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="calibration name labels"):
        TopicClassifier(min_df=1, calibration={"friendship": (1.0, 0.0)}).fit(texts, labels)


def test_build_counter_counts_the_same_terms_as_the_vectorizer():
    texts, labels = tiny_corpus()
    model = TopicClassifier(min_df=1, max_df=1.0)
    counted = set(model.build_counter().fit(texts).get_feature_names_out())
    assert counted == set(model.build_vectorizer().fit(texts).get_feature_names_out())


def test_decision_values_equal_the_plain_matrix_product(fitted):
    texts, _ = tiny_corpus()
    probes = texts + ["", "zzz qqq"]
    expected = fitted.features(probes).toarray().astype(np.float64) @ fitted.coef_.T.astype(np.float64) + fitted.intercept_
    np.testing.assert_allclose(fitted.decision_function(probes), expected, rtol=1e-5, atol=1e-6)


def test_only_the_first_max_words_are_read():
    texts, labels = tiny_corpus()
    model = TopicClassifier(min_df=1, max_words=12).fit(texts, labels)
    head = "Troops shelled the town and air strikes killed dozens of fighters near"   # 12 words
    tail = " the front line. NATO allies agreed to hold joint exercises under the pact."
    assert np.array_equal(model.predict_proba([head + tail]), model.predict_proba([head]))
    assert not np.array_equal(TopicClassifier(min_df=1).fit(texts, labels).predict_proba([head + tail]),
                              TopicClassifier(min_df=1).fit(texts, labels).predict_proba([head]))
    assert Head(3)("One  two\nTHREE four five") == "one two three" and Head()("A\nB") == "a\nb"
