"""The HTTP contract of ../shared/API.md, route by route and error by error."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsbrief.schema import MAX_DOCUMENTS

LABELS = ["conflict", "diplomacy", "alliances"]
ARTICLE = (
    "Russian and Syrian jets bombed rebel positions near Idlib on Tuesday, killing at least twelve "
    "fighters, a monitoring group said. The offensive follows weeks of shelling along the front line. "
    "Turkey, which backs some of the rebel groups, called for an immediate ceasefire. "
    "The United Nations warned that hundreds of thousands of civilians had fled the fighting."
)


def post(client, body, **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    kwargs.setdefault("content_type", "application/json")
    return client.post("/v1/analyze", data=data, **kwargs)


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 20  # says what was wrong and how to fix it
    return error["message"]


# -- one article ----------------------------------------------------------------------------------

def test_one_article_gets_model_labels_scores_and_summary(client):
    body = post(client, {"text": ARTICLE}).get_json()
    assert set(body) == {"model", "labels", "scores", "summary", "language", "warnings"}
    assert body["language"] == "en" and body["warnings"] == []
    assert set(body["model"]) == {"name", "version"}
    assert list(body["scores"]) == LABELS
    assert all(0.0 <= p <= 1.0 for p in body["scores"].values())
    assert body["labels"] == [l for l in LABELS if l in body["labels"]]  # contract order
    assert "conflict" in body["labels"]


def test_labels_are_exactly_the_shown_scores_that_reach_the_published_thresholds(client, examples):
    thresholds = client.get("/v1/model").get_json()["thresholds"]
    for text in [ARTICLE, *examples.values()]:
        body = post(client, {"text": text}).get_json()
        assert all(round(p, 4) == p for p in body["scores"].values())
        assert body["labels"] == [l for l in LABELS if body["scores"][l] >= thresholds[l]]


def test_summary_sentences_index_the_submitted_text_in_article_order(client):
    text = "  \n" + ARTICLE.replace(". ", ".\n\n")  # leading white space shifts every offset
    summary = post(client, {"text": text, "summary": {"sentences": 2}}).get_json()["summary"]
    assert len(summary["sentences"]) == 2
    starts = [s["start"] for s in summary["sentences"]]
    assert starts == sorted(starts)
    for sentence in summary["sentences"]:
        assert text[sentence["start"]:sentence["end"]] == sentence["text"]
    assert summary["text"] == " ".join(s["text"] for s in summary["sentences"])


def test_an_article_shorter_than_the_request_returns_all_its_sentences(client):
    summary = post(client, {"text": "Troops shelled the town.", "summary": {"sentences": 5}}).get_json()["summary"]
    assert [s["text"] for s in summary["sentences"]] == ["Troops shelled the town."]


@pytest.mark.parametrize("algorithm", ["lexrank", "textrank", "lsa", "luhn", "lead"])
def test_every_documented_algorithm_is_accepted_and_named_in_the_answer(client, algorithm):
    body = post(client, {"text": ARTICLE, "summary": {"algorithm": algorithm, "sentences": 2}}).get_json()
    assert body["summary"]["algorithm"] == algorithm
    assert len(body["summary"]["sentences"]) == 2


def test_the_default_algorithm_is_the_one_v1_model_names(client):
    default = client.get("/v1/model").get_json()["summary"]["default_algorithm"]
    assert post(client, {"text": ARTICLE}).get_json()["summary"]["algorithm"] == default


def test_explain_returns_terms_per_label_only_when_asked(client):
    assert "explanation" not in post(client, {"text": ARTICLE}).get_json()
    explanation = post(client, {"text": ARTICLE, "explain": True}).get_json()["explanation"]
    assert set(explanation) == set(LABELS)
    terms = explanation["conflict"]
    assert terms and all(set(t) == {"term", "weight"} for t in terms)
    assert any(t["weight"] > 0 for t in terms)


def test_the_same_request_gets_the_same_answer(client):
    first = post(client, {"text": ARTICLE, "explain": True}).get_data()
    assert post(client, {"text": ARTICLE, "explain": True}).get_data() == first


def test_charset_parameter_and_title_are_accepted(client):
    response = post(client, {"text": ARTICLE, "title": "Jets strike Idlib"},
                    content_type="application/json; charset=utf-8")
    assert response.status_code == 200


# -- several articles -----------------------------------------------------------------------------

def test_documents_are_answered_in_order_with_their_ids(client):
    documents = [{"id": "a1", "text": ARTICLE}, {"id": 7, "text": "Stocks rose on Monday.", "title": "Markets"}]
    body = post(client, {"documents": documents}).get_json()
    assert [r["id"] for r in body["results"]] == ["a1", 7]
    assert all({"labels", "scores", "summary"} <= set(r) for r in body["results"])


def test_an_invalid_document_gets_an_error_in_its_place_and_the_others_are_analysed(client):
    documents = [{"id": "ok", "text": ARTICLE}, {"id": "empty", "text": "  "},
                 {"id": "bad", "text": 12}, "not an object", {"text": ARTICLE}]
    results = post(client, {"documents": documents}).get_json()["results"]
    assert [r.get("id") for r in results] == ["ok", "empty", "bad", 3, 4]
    assert "labels" in results[0] and "labels" in results[4]
    assert results[1]["error"]["code"] == "empty_text"
    assert "documents[1].text" in results[1]["error"]["message"]
    assert results[2]["error"]["code"] == "invalid_request"
    assert results[3]["error"]["code"] == "invalid_request"
    assert "documents[2].text" in results[2]["error"]["message"]


def test_a_batch_gets_the_same_results_as_single_requests(client):
    texts = [ARTICLE, "Parliament passed the budget after a long debate on taxes."]
    batch = post(client, {"documents": [{"id": i, "text": t} for i, t in enumerate(texts)]}).get_json()
    for text, result in zip(texts, batch["results"]):
        single = post(client, {"text": text}).get_json()
        assert {k: single[k] for k in ("labels", "scores", "summary")} == \
               {k: result[k] for k in ("labels", "scores", "summary")}


# -- errors ---------------------------------------------------------------------------------------

BAD_REQUESTS = [
    ("not json", "{not json", "not valid JSON"),
    ("a JSON list", [ARTICLE], "JSON object"),
    ("text missing", {"title": "x"}, "body.text is required"),
    ("text not a string", {"text": 42}, "body.text must be string"),
    ("title not a string", {"text": ARTICLE, "title": 3}, "body.title"),
    ("unknown algorithm", {"text": ARTICLE, "summary": {"algorithm": "gpt"}}, "must be one of"),
    ("zero sentences", {"text": ARTICLE, "summary": {"sentences": 0}}, "between 1 and 20"),
    ("too many sentences", {"text": ARTICLE, "summary": {"sentences": 21}}, "between 1 and 20"),
    ("sentences as a string", {"text": ARTICLE, "summary": {"sentences": "3"}}, "integer"),
    ("sentences as a boolean", {"text": ARTICLE, "summary": {"sentences": True}}, "integer"),
    ("unknown summary option", {"text": ARTICLE, "summary": {"sentence": 3}}, "unknown key"),
    ("explain not a boolean", {"text": ARTICLE, "explain": "yes"}, "boolean"),
    ("both text and documents", {"text": ARTICLE, "documents": [{"text": ARTICLE}]}, "not both"),
    ("documents empty", {"documents": []}, "at least 1"),
    ("documents not a list", {"documents": {"text": ARTICLE}}, "array"),
    ("too many documents", {"documents": [{"text": "x"}] * (MAX_DOCUMENTS + 1)}, "at most 64"),
    ("a 5,000-digit integer", '{"text": "x", "summary": {"sentences": ' + "1" * 5000 + "}}", "digits"),
    ("NaN", {"text": ARTICLE, "summary": {"sentences": float("nan")}}, "NaN is not a JSON number"),
    ("Infinity as an id", {"documents": [{"id": float("inf"), "text": ARTICLE}]}, "Infinity"),
    ("a lone surrogate in the text", {"text": "\ud800 " + ARTICLE}, "body.text holds an unpaired"),
    ("a lone surrogate in the algorithm", {"text": ARTICLE, "summary": {"algorithm": "\ud800"}},
     "body.summary.algorithm holds an unpaired"),
    ("a lone surrogate in a summary key", {"text": ARTICLE, "summary": {"\ud800": 1}}, "unknown key"),
    ("a title over the limit", {"text": ARTICLE, "title": "t" * 2001}, "the limit is 2,000"),
    ("both sentences and words", {"text": ARTICLE, "summary": {"sentences": 2, "words": 60}},
     "'sentences' and 'words'; they exclude each other"),
    ("zero words", {"text": ARTICLE, "summary": {"words": 0}}, "body.summary.words must be between 1 and 500"),
    ("too many words", {"text": ARTICLE, "summary": {"words": 501}}, "between 1 and 500"),
    ("words as a float", {"text": ARTICLE, "summary": {"words": 60.5}}, "body.summary.words must be integer"),
    ("words as null", {"text": ARTICLE, "summary": {"words": None}}, "body.summary.words must be integer"),
    ("both keys in a batch", {"documents": [{"text": ARTICLE}], "summary": {"sentences": 1, "words": 9}},
     "exclude each other"),
]


@pytest.mark.parametrize("case, body, hint", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_a_malformed_request_gets_400_saying_what_to_fix(client, case, body, hint):
    response = post(client, body)
    if case == "a title over the limit":
        message = assert_error(response, 413, "text_too_long")
    else:
        message = assert_error(response, 400, "invalid_request")
    assert hint in message


def test_a_word_budget_returns_the_best_sentences_that_fit(client):
    summary = post(client, {"text": ARTICLE, "summary": {"words": 30}}).get_json()["summary"]
    assert 1 <= len(summary["sentences"]) and sum(len(s["text"].split()) for s in summary["sentences"]) <= 30
    for sentence in summary["sentences"]:
        assert ARTICLE[sentence["start"]:sentence["end"]] == sentence["text"]
    one = post(client, {"text": ARTICLE, "summary": {"words": 1, "algorithm": "lead"}}).get_json()["summary"]
    assert [s["text"] for s in one["sentences"]] == [ARTICLE.split(" a monitoring")[0] + " a monitoring group said."]
    info = client.get("/v1/model").get_json()["summary"]
    assert info["max_words"] == 500 and info["max_sentences"] == 20
    options = client.get("/openapi.json").get_json()["components"]["schemas"]["SummaryOptions"]
    assert options["properties"]["words"]["maximum"] == 500
    assert options["not"] == {"required": ["sentences", "words"]}


def test_a_paired_surrogate_escape_is_an_ordinary_character(client):
    body = '{"text": "Allies met at the summit \\ud83d\\ude00 and pledged troops to the alliance."}'
    response = post(client, body)
    assert response.status_code == 200
    assert "\U0001F600" in response.get_json()["summary"]["text"]


def test_a_lone_surrogate_in_one_document_refuses_that_document_only(client):
    documents = [{"id": "\udfff", "text": ARTICLE}, {"id": "t", "title": "\ud800", "text": ARTICLE},
                 {"id": "ok", "text": ARTICLE}]
    response = post(client, {"documents": documents, "ignored \ud800 key": 1})
    assert response.status_code == 200
    first, second, third = response.get_json()["results"]
    assert first["id"] == 0 and "documents[0].id holds an unpaired" in first["error"]["message"]
    assert second["id"] == "t" and "documents[1].title holds an unpaired" in second["error"]["message"]
    assert third["id"] == "ok" and "labels" in third


def test_an_invalid_document_id_is_not_echoed_back(client):
    deep = "[" * 500 + "]" * 500
    body = '{"documents": [{"id": ' + deep + ', "text": ""}, {"id": true, "text": "Talks."}]}'
    results = post(client, body).get_json()["results"]
    assert [r["id"] for r in results] == [0, 1]
    assert all(r["error"]["code"] == "invalid_request" for r in results)


def test_a_body_that_is_not_utf8_gets_400(client):
    assert_error(post(client, b'{"text": "caf\xe9"}'), 400, "invalid_request")


@pytest.mark.parametrize("text", ["", "   \n\t ", "TT\n20\n", "REUTERS/Omar Sanadiki"])
def test_text_empty_once_furniture_and_white_space_are_removed_gets_422(client, text):
    assert_error(post(client, {"text": text}), 422, "empty_text")


@pytest.mark.parametrize("charset", ["utf-7", "unicode_escape", "raw_unicode_escape", "no-such-codec"])
def test_a_charset_other_than_utf_gets_415(client, charset):
    body = '{"text": "+2AA- \\ud800 Troops shelled the town."}'.encode("ascii")
    response = client.post("/v1/analyze", data=body, content_type=f"application/json; charset={charset}")
    assert "charset" in assert_error(response, 415, "unsupported_media_type")


def test_utf_16_json_is_accepted(client):
    response = client.post("/v1/analyze", data=json.dumps({"text": ARTICLE}).encode("utf-16"),
                           content_type="application/json; charset=utf-16")
    assert response.status_code == 200 and "conflict" in response.get_json()["labels"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_content_type_other_than_json_gets_415(client, content_type):
    response = client.post("/v1/analyze", data=json.dumps({"text": ARTICLE}), content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


def test_a_15_mb_body_gets_413(client):
    body = json.dumps({"text": "word " * (3 * 1024 * 1024)})
    assert len(body) > 15 * 1024 * 1024
    assert_error(post(client, body), 413, "payload_too_large")


def test_a_text_over_the_character_limit_gets_413(client):
    from newsbrief.schema import MAX_TEXT_CHARS
    from service.app import create_app
    from service.config import Settings

    roomy = create_app(client.application.extensions["newsbrief.store"], Settings(max_body=8 * MAX_TEXT_CHARS))
    response = post(roomy.test_client(), {"text": "a" * (MAX_TEXT_CHARS + 1)})
    assert_error(response, 413, "text_too_long")


def test_unknown_route_gets_404_and_wrong_method_405(client):
    assert_error(client.get("/v2/analyze"), 404, "not_found")
    assert_error(client.get("/v1/analyze"), 405, "method_not_allowed")


def test_without_a_model_analyze_gets_503_and_readyz_is_503(tmp_path):
    from newsbrief.errors import ArtifactError
    from service.app import create_app
    from service.store import ModelStore

    store = ModelStore(tmp_path / "nothing-here")
    with pytest.raises(ArtifactError):
        store.load()
    client = create_app(store).test_client()
    assert_error(post(client, {"text": ARTICLE}), 503, "model_not_loaded")
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "does not exist" in ready.get_json()["reason"]
    assert ready.get_json()["error"]["code"] == "model_not_loaded"
    assert client.get("/healthz").get_json() == {"status": "ok"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.text(st.characters(categories=["Cs", "L", "P", "Zs"]), max_size=30),  # Cs: lone surrogates
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["text", "title", "documents", "summary", "explain", "sentences",
                         "algorithm", "id", "x"]), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values)
def test_no_json_body_a_client_can_send_produces_a_500(client, body):
    response = post(client, json.dumps(body))  # encoded here, so that a top-level string is JSON too
    assert response.status_code in (200, 400, 413, 422), response.get_data(as_text=True)
    assert ("error" in response.get_json()) == (response.status_code != 200)


# -- other routes ---------------------------------------------------------------------------------

def test_healthz_and_readyz_answer_200_with_a_model(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"


def test_v1_model_describes_the_model_and_its_evaluation(client):
    info = client.get("/v1/model").get_json()
    assert info["labels"] == LABELS
    assert set(info["thresholds"]) == set(LABELS)
    assert info["trained_at"] and info["libraries"]["scikit-learn"]
    assert info["evaluation"], "cross-validated figures are published with the model"
    assert info["summary"]["default_algorithm"] in info["summary"]["algorithms"]


def test_a_latin_1_body_is_decoded_as_latin_1_not_as_utf_8(client):
    text = "Le ministre a parlé à Genève de la trêve. Les pourparlers reprendront lundi à Genève."
    response = client.post("/v1/analyze", data=json.dumps({"text": text}, ensure_ascii=False).encode("latin-1"),
                           content_type="application/json; charset=latin-1")
    assert response.status_code == 200
    sentences = response.get_json()["summary"]["sentences"]
    assert all(text[s["start"]:s["end"]] == s["text"] for s in sentences)
    assert any("Genève" in s["text"] for s in sentences)


def test_an_ascii_body_is_accepted_and_a_non_ascii_byte_in_it_gets_400(client):
    body = json.dumps({"text": ARTICLE}).encode("ascii")
    assert client.post("/v1/analyze", data=body, content_type="application/json; charset=ascii").status_code == 200
    response = client.post("/v1/analyze", data='{"text": "Gen\xe8ve talks."}'.encode("latin-1"),
                           content_type="application/json; charset=us-ascii")
    assert "not valid ascii" in assert_error(response, 400, "invalid_request")


def test_a_json_error_does_not_double_a_word(client):
    response = client.post("/v1/analyze", data='{"text": "unterminated', content_type="application/json")
    message = assert_error(response, 400, "invalid_request")
    assert "Unterminated string starting at line 1, column 10" in message and " at at " not in message
