"""The demo page as files and headers, and the optional `cleanup` section it draws on.
(The page itself, in a real browser: tests/test_demo_browser.py.)"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from service import openapi

STATIC = Path(__file__).resolve().parent.parent / "service" / "static"
ARTICLE = "NATO allies agreed on Tuesday to send more troops to the alliance's eastern flank."


def test_the_page_is_served_at_the_root_with_its_script_and_style(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset
    assert '<script src="/static/app.js"' in html


def test_the_page_loads_nothing_from_elsewhere_and_has_no_inline_script():
    for path in STATIC.rglob("*"):
        if path.suffix in (".html", ".js", ".css", ".svg"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"(?:src|href)\s*=\s*[\"'](?:https?:)?//", text), path
            assert not re.search(r"@import|url\(\s*[\"']?(?:https?:)?//", text), path
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert "innerHTML" not in (STATIC / "app.js").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", ["/", "/static/app.js", "/v1/model"])
def test_every_answer_carries_a_content_security_policy_without_inline_script(client, path):
    response = client.get(path)
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_bundled_examples_are_the_shared_ones(examples):
    for name, text in examples.items():
        assert (STATIC / "examples" / f"{name}.txt").read_text(encoding="utf-8") == text


def test_without_the_flag_the_answer_has_no_cleanup_section(client):
    answer = client.post("/v1/analyze", json={"text": ARTICLE}).get_json()
    assert "cleanup" not in answer


def test_cleanup_lists_the_furniture_of_an_example_with_offsets_into_the_text_sent(client, examples):
    text = examples["egypt_nato_ties"]
    answer = client.post("/v1/analyze", json={"text": text, "cleanup": True}).get_json()
    removed = answer["cleanup"]["removed"]
    assert all(text[s["start"]:s["end"]] == s["text"] for s in removed)
    assert [s["text"] for s in removed].count("TT") == 1 and [s["text"] for s in removed].count("20") == 1
    assert sum("Part of the event promoting" in s["text"] for s in removed) == 4
    # nothing a summary sentence holds was removed
    for sentence in answer["summary"]["sentences"]:
        assert all(s["end"] <= sentence["start"] or s["start"] >= sentence["end"] for s in removed)


def test_removed_spans_and_kept_sentences_cover_every_visible_character(shipped_store, examples):
    from newsbrief.analyze import removed_spans
    from newsbrief.text import prepare

    for text in [*examples.values(), "  TT\n\n- one point.\n  Photo: AFP  \nA sentence here. 20\n", "\u00a0x\u2028y"]:
        article = prepare(text)
        covered = [False] * len(text)
        spans = [(s["start"], s["end"]) for s in removed_spans(article)] + [(s.start, s.end) for s in article.sentences]
        for start, end in spans:
            assert not any(covered[start:end]), "spans overlap"
            covered[start:end] = [True] * (end - start)
        assert all(covered[i] or text[i].isspace() for i in range(len(text)))
        assert all(not text[s].isspace() and not text[e - 1].isspace() for s, e in spans)


def test_cleanup_works_per_document_in_a_batch_and_follows_the_documented_schema(client):
    answer = client.post("/v1/analyze", json={"cleanup": True, "documents": [
        {"id": "a", "text": "TT\n" + ARTICLE}, {"id": "b", "text": "  "}]}).get_json()
    assert answer["results"][0]["cleanup"]["removed"] == [{"start": 0, "end": 2, "text": "TT"}]
    assert answer["results"][1]["error"]["code"] == "empty_text"
    document = openapi.build()
    batch = {**document["components"]["schemas"]["BatchAnalysis"], "components": document["components"]}
    assert "cleanup" in document["components"]["schemas"]["DocumentAnalysis"]["properties"]
    assert not list(Draft202012Validator(batch).iter_errors(answer))
    answer["results"][0]["cleanup"]["removed"][0]["start"] = "0"
    assert list(Draft202012Validator(batch).iter_errors(answer)), "the schema describes the spans"


def test_a_cleanup_flag_that_is_not_a_boolean_is_refused(client):
    response = client.post("/v1/analyze", json={"text": ARTICLE, "cleanup": "yes"})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "body.cleanup must be boolean, not string."
