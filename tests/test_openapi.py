"""GET /openapi.json: a valid OpenAPI 3 document of every route and error of the contract, whose
request bodies are the very schemas that validate requests, and which real answers follow."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from newsbrief import schema
from service import openapi
from service.app import create_app
from service.config import Settings
from service.store import ModelStore

API_MD = Path(__file__).resolve().parent.parent.parent / "shared" / "API.md"
ARTICLE = "NATO allies agreed on Tuesday to send more troops to the alliance's eastern flank."
FRENCH = ("Les alliés de l'Otan ont décidé mardi d'envoyer davantage de troupes sur le flanc est de "
          "l'alliance. Le ministre a déclaré que la décision avait été prise à l'unanimité. Moscou a "
          "dénoncé une escalade dangereuse et menacé de prendre des mesures de rétorsion.")


@pytest.fixture()
def app(shipped_store):
    return create_app(shipped_store, Settings(max_body=64 * 1024, admin_token="openapi-test-token"))


@pytest.fixture()
def document(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def resolve(document: dict, node):
    """`node` with every local $ref replaced by what it points at."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve(document, target)
        return {key: resolve(document, value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(document, item) for item in node]
    return node


def test_the_served_document_is_valid_openapi_3(document):
    assert document["openapi"].startswith("3.")
    validate(document)


def test_every_route_and_method_of_the_app_is_documented(app, document):
    routes = {(rule.rule, method.lower()) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == documented


def test_every_route_of_the_contract_is_documented(document):
    if not API_MD.is_file():
        pytest.skip(f"{API_MD} is absent")
    contract = set(re.findall(r"\b(GET|POST) (/[\w./]+)", API_MD.read_text()))
    assert contract, "no route found in API.md"
    for method, path in contract:
        assert method.lower() in document["paths"].get(path, {}), f"{method} {path} is not documented"


def test_every_error_status_of_the_contract_is_described_with_the_error_object(document):
    statuses = {400, 404, 405, 413, 415, 422, 503}
    if API_MD.is_file():
        section = API_MD.read_text().split("## Errors", 1)[1].split("##", 1)[0]
        rows = [line for line in section.splitlines() if line.startswith("|")]
        statuses = {int(s) for row in rows for s in re.findall(r"\b([45]\d\d)\b", row)}
        assert statuses >= {400, 413, 422}
    described = {int(status) for item in document["paths"].values() for operation in item.values()
                 for status in operation["responses"] if status.isdigit()}
    assert statuses <= described
    error = resolve(document, {"$ref": "#/components/schemas/Error"})
    assert error["required"] == ["error"] and error["properties"]["error"]["required"] == ["code", "message"]


def test_request_bodies_are_the_schemas_that_validate_requests(document):
    body = document["paths"]["/v1/analyze"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert resolve(document, body) == {"oneOf": [schema.ANALYZE_ONE, schema.ANALYZE_MANY]}
    components = document["components"]["schemas"]
    assert components["AnalyzeMany"]["properties"]["documents"]["items"] == {"$ref": "#/components/schemas/Document"}
    assert resolve(document, components["SummaryOptions"]) == schema.SUMMARY_OPTIONS


def test_the_request_examples_pass_the_request_schema(document):
    examples = document["paths"]["/v1/analyze"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    for example in examples.values():
        body = example["value"]
        schema.validate(body, schema.ANALYZE_MANY if "documents" in body else schema.ANALYZE_ONE)


def documented_schema(document: dict, path: str, method: str, status: int) -> dict:
    responses = document["paths"][path][method]["responses"]
    response = resolve(document, responses.get(str(status), responses["default"]))
    return response["content"]["application/json"]["schema"]


def check(document: dict, response, path: str, method: str) -> None:
    found = documented_schema(document, path, method, response.status_code)
    errors = [e.message for e in Draft202012Validator(found).iter_errors(response.get_json())]
    assert not errors, f"{method.upper()} {path} {response.status_code}: {errors}"


def test_real_answers_follow_their_documented_schemas(app, document):
    client = app.test_client()
    cases = [
        ("/v1/analyze", "post", client.post("/v1/analyze", json={"text": ARTICLE, "explain": True}), 200),
        ("/v1/analyze", "post", client.post("/v1/analyze", json={"documents": [
            {"id": "a", "text": ARTICLE}, {"id": 2, "text": " "}]}), 200),
        ("/v1/analyze", "post", client.post("/v1/analyze", json={"text": FRENCH}), 200),  # with a warning
        ("/v1/analyze", "post", client.post("/v1/analyze", json={"documents": [
            {"text": FRENCH}, {"text": "NATO summit opens in Vilnius"}]}), 200),
        ("/v1/analyze", "post", client.post("/v1/analyze", json={"text": 5}), 400),
        ("/v1/analyze", "post", client.post("/v1/analyze", data="x", content_type="text/plain"), 415),
        ("/v1/analyze", "post", client.post("/v1/analyze", json={"text": "  "}), 422),
        ("/v1/analyze", "post", client.post("/v1/analyze", json={"text": "x" * 70_000}), 413),
        ("/v1/analyze", "post", client.get("/v1/analyze"), 405),
        ("/healthz", "get", client.get("/healthz"), 200),
        ("/readyz", "get", client.get("/readyz"), 200),
        ("/v1/model", "get", client.get("/v1/model"), 200),
        ("/admin/reload", "post", client.post("/admin/reload"), 401),
        ("/admin/reload", "post", client.post("/admin/reload", headers={"Authorization": "Bearer x"}), 403),
    ]
    for path, method, response, status in cases:
        assert response.status_code == status, (path, response.get_json())
        check(document, response, path, method)


def test_answers_without_a_model_follow_their_documented_schemas(tmp_path):
    app = create_app(ModelStore(tmp_path), Settings())
    document = openapi.build()
    client = app.test_client()
    for path, method, response in [("/v1/analyze", "post", client.post("/v1/analyze", json={"text": ARTICLE})),
                                   ("/readyz", "get", client.get("/readyz"))]:
        assert response.status_code == 503
        check(document, response, path, method)


def test_an_unknown_route_answers_the_documented_error_object(app, document):
    response = app.test_client().get("/v2/nothing")
    assert response.status_code == 404
    errors = list(Draft202012Validator(resolve(document, {"$ref": "#/components/schemas/Error"}))
                  .iter_errors(response.get_json()))
    assert not errors
