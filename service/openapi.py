"""GET /openapi.json: an OpenAPI 3.1 document of the HTTP contract.

Request bodies are newsbrief.schema's own definitions, the very objects `schema.validate`
checks requests against; a definition nested in another becomes a $ref to its component.
Error codes and statuses come from newsbrief.errors. Responses are described here.
"""
from __future__ import annotations

import copy
import tomllib
from importlib import metadata
from pathlib import Path

from flask import Flask, jsonify

from newsbrief import errors, schema
from newsbrief.summarize import ALGORITHMS, DEFAULT_ALGORITHM

OPENAPI_VERSION = "3.1.0"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

# The request definitions, by component name: each is referenced, never copied by hand.
REQUEST_SCHEMAS = {
    "AnalyzeOne": schema.ANALYZE_ONE,
    "AnalyzeMany": schema.ANALYZE_MANY,
    "Document": schema.DOCUMENT,
    "SummaryOptions": schema.SUMMARY_OPTIONS,
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _referencing(definition: dict, root: str) -> dict:
    """A deep copy of `definition` where every nested named definition becomes a $ref."""
    names = {id(d): n for n, d in REQUEST_SCHEMAS.items() if n != root}

    def walk(node):
        if isinstance(node, dict):
            if id(node) in names:
                return _ref(names[id(node)])
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return copy.deepcopy(node)

    return walk(definition)


def _object(properties: dict, required=(), **extra) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), **extra}


ERROR_DETAIL = _object({
    "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$",
             "description": "Stable snake_case code, for programs."},
    "message": {"type": "string", "description": "What was wrong and how to fix the request."},
    "field": {"type": "string", "description": "The request field at fault, when there is one."},
}, required=("code", "message"))

SENTENCE = _object({
    "text": {"type": "string"},
    "start": {"type": "integer", "minimum": 0,
              "description": "Offset in code points into the submitted text."},
    "end": {"type": "integer", "minimum": 0, "description": "text[start:end] == this sentence."},
    "score": {"type": "number"},
}, required=("text", "start", "end", "score"))

WARNING_CODES = {
    "not_english": "The text is in another language: `labels` is empty, `scores` are the English "
                   "model's and mean little, the summary uses that language's stemmer and stop "
                   "words when sumy has them.",
    "mixed_language": "Mostly another language, but at least a quarter English: topics were computed "
                      "as for English text.",
    "language_undetermined": "The language could not be told reliably (`language` is \"und\"); topics "
                             "and summary treat the text as English.",
}

ANALYSIS_PROPERTIES = {
    "labels": {"type": "array", "items": {"type": "string"}, "uniqueItems": True,
               "description": "Topics whose score reaches their threshold, in the model's label "
                              "order (GET /v1/model); may be empty."},
    "scores": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
               "description": "One probability per label."},
    "summary": _object({
        "algorithm": {"type": "string", "enum": list(ALGORITHMS)},
        "text": {"type": "string", "description": "The chosen sentences joined by single spaces."},
        "sentences": {"type": "array", "items": _ref("SummarySentence"),
                      "description": "In article order."},
    }, required=("algorithm", "text", "sentences")),
    "language": {
        "type": "string", "examples": ["en", "fr", "zh", "und"],
        "description": "The article's language as a BCP 47 tag (\"en\", \"fr\", \"zh\", \"zh-Hant\", ...), "
                       "detected offline from its title and cleaned body; \"und\" when it cannot be told "
                       "reliably (short or mixed text), which is treated as English. Topics are "
                       "English-only: for a text in another language `labels` is empty.",
    },
    "warnings": {
        "type": "array", "items": _ref("Warning"),
        "description": "What the client should know about this answer; empty for an ordinary English "
                       "article. Not errors: the answer is still 200 and the summary still useful.",
    },
    "explanation": {
        "type": "object",
        "description": "Only with explain: the terms that pushed each label's score.",
        "additionalProperties": {"type": "array", "items": _object(
            {"term": {"type": "string"}, "weight": {"type": "number"}}, required=("term", "weight"))},
    },
    "cleanup": _object({
        "removed": {"type": "array", "items": _ref("RemovedSpan"),
                    "description": "In text order; what is neither here nor white space was analysed."},
    }, required=("removed",), description="Only with cleanup: what was removed as page furniture."),
}
ANALYSIS_REQUIRED = ("labels", "scores", "summary", "language", "warnings")

RESPONSE_SCHEMAS = {
    "Error": _object({"error": _ref("ErrorDetail")}, required=("error",)),
    "ErrorDetail": ERROR_DETAIL,
    "ModelRef": _object({"name": {"type": "string"}, "version": {"type": "string"}},
                        required=("name", "version")),
    "Warning": _object({
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$",
                 "description": "Stable snake_case code; new codes may be added. " + " ".join(
                     f"`{code}`: {meaning}" for code, meaning in WARNING_CODES.items())},
        "message": {"type": "string", "description": "What it means for this article, in words."},
    }, required=("code", "message")),
    "SummarySentence": SENTENCE,
    "RemovedSpan": _object({
        "start": {"type": "integer", "minimum": 0,
                  "description": "Offset in code points into the submitted text."},
        "end": {"type": "integer", "minimum": 0, "description": "text[start:end] == this span's text."},
        "text": {"type": "string"},
    }, required=("start", "end", "text"),
        description="Page furniture removed before analysis (a repeated headline or caption, a photo "
                    "credit, a stray token), one span per line, white space trimmed."),
    "Analysis": _object({"model": _ref("ModelRef"), **ANALYSIS_PROPERTIES},
                        required=("model", *ANALYSIS_REQUIRED)),
    "DocumentAnalysis": _object({"id": {"type": ["string", "integer"]}, **ANALYSIS_PROPERTIES},
                                required=("id", *ANALYSIS_REQUIRED)),
    "DocumentError": _object({
        "id": {"type": ["string", "integer"]},
        "error": {**ERROR_DETAIL, "properties": {**ERROR_DETAIL["properties"],
                                                 "status": {"type": "integer"}},
                  "required": [*ERROR_DETAIL["required"], "status"]},
    }, required=("id", "error"), description="A document of the batch that could not be analysed."),
    "BatchAnalysis": _object({
        "model": _ref("ModelRef"),
        "results": {"type": "array", "description": "One per document, in the order sent.",
                    "items": {"oneOf": [_ref("DocumentAnalysis"), _ref("DocumentError")]}},
    }, required=("model", "results")),
    "Health": _object({"status": {"const": "ok"}}, required=("status",)),
    "Ready": _object({"status": {"const": "ready"}, "model": _ref("ModelRef")},
                     required=("status", "model")),
    "NotReady": _object({"status": {"const": "unavailable"}, "reason": {"type": "string"},
                         "error": _ref("ErrorDetail")},
                        required=("status", "reason", "error")),
    "ModelDescription": _object({
        "name": {"type": "string"}, "version": {"type": "string"},
        "labels": {"type": "array", "items": {"type": "string"}},
        "thresholds": {"type": "object", "additionalProperties": {"type": "number"}},
        "trained_at": {"type": ["string", "null"]},
        "libraries": {"type": "object", "additionalProperties": {"type": "string"}},
        "corpus_sha256": {"type": ["string", "null"]},
        "evaluation": {"type": "object", "description": "Figures from training: leave-one-source-out per label and per source, Brier scores, story-grouped CV for contrast."},
        "summary": _object({
            "default_algorithm": {"type": "string", "enum": list(ALGORITHMS)},
            "algorithms": {"type": "array", "items": {"type": "string"}},
            "max_sentences": {"type": "integer"},
            "max_words": {"type": "integer", "description": "Largest `summary.words` budget."},
        }),
        "limits": _object({"max_documents": {"type": "integer"}, "max_text_chars": {"type": "integer"},
                           "max_title_chars": {"type": "integer"}}),
    }, required=("name", "version", "labels", "thresholds")),
    "Reloaded": _object({"status": {"enum": ["reloaded", "reloading"]},
                         "model": _ref("ModelRef"), "version": {"type": "string"}},
                        required=("status",)),
}

# status -> (component name, description, error codes a client can meet there)
ERROR_RESPONSES = {
    400: ("BadRequest", "The body is not JSON, or JSON of the wrong shape (text missing, not a "
                        "string, an unknown option value).", [errors.InvalidRequest.code]),
    401: ("Unauthorized", "No Authorization header (the answer carries WWW-Authenticate: Bearer).",
          ["unauthorized"]),
    403: ("Forbidden", "Wrong admin token.", ["forbidden"]),
    404: ("NotFound", "Unknown route (the admin route exists only with NEWSBRIEF_ADMIN_TOKEN).",
          ["not_found"]),
    405: ("MethodNotAllowed", "The route exists but not with this method.", ["method_not_allowed"]),
    408: ("RequestTimeout", "The request body did not arrive within BODY_TIMEOUT seconds; the "
                            "connection is closed.", ["request_timeout"]),
    409: ("ModelRefused", "The model the registry points at failed verification; the service "
                          "keeps the model it has.", ["model_refused"]),
    413: ("PayloadTooLarge", "The body is larger than MAX_BODY, or a text longer than "
                             f"{schema.MAX_TEXT_CHARS:,} characters.",
          [errors.TooLarge.code, "text_too_long"]),
    415: ("UnsupportedMediaType", "Content-Type other than application/json.",
          [errors.UnsupportedMediaType.code]),
    422: ("EmptyText", "Nothing is left of the text once page furniture and white space are "
                       "removed.", [errors.EmptyText.code]),
    503: ("ModelNotLoaded", "No model is loaded yet (see GET /readyz).", [errors.ModelNotLoaded.code]),
}

EXAMPLE_TEXT = ("Russian troops deployed near Qusayr on Monday, two officials in the alliance "
                "backing Damascus said. Hezbollah objected to the uncoordinated move.")


def _json(schema_: dict, example=None) -> dict:
    content = {"schema": schema_}
    if example is not None:
        content["example"] = example
    return {"application/json": content}


def _error_response(status: int) -> dict:
    return {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}


def _responses(ok: dict, *statuses: int) -> dict:
    answer = dict(ok)
    for status in (*statuses, 405):
        answer[str(status)] = _error_response(status)
    answer["default"] = {"description": "Any other error, in the same JSON error format.",
                         "content": _json(_ref("Error"))}
    return answer


def _version() -> str:
    """The project's version: installed metadata, else pyproject.toml beside the code (the image)."""
    try:
        return metadata.version("newsbrief")
    except metadata.PackageNotFoundError:
        pass
    try:
        with open(PYPROJECT, "rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def build(max_body: int | None = None, admin: bool = True) -> dict:
    """The whole OpenAPI document (a fresh dict on every call); without `admin` (no admin token
    on the server) POST /admin/reload is left out, as the route itself is."""
    version = _version()
    schemas = {name: _referencing(d, name) for name, d in REQUEST_SCHEMAS.items()}
    schemas.update(copy.deepcopy(RESPONSE_SCHEMAS))
    responses = {}
    for status, (name, description, codes) in ERROR_RESPONSES.items():
        if status == 413 and max_body:
            description += f" This server's MAX_BODY is {max_body:,} bytes."
        responses[name] = {
            "description": f"{description} Codes: {', '.join(codes)}.",
            "content": _json(_ref("Error"), {"error": {"code": codes[0], "message": description}}),
        }
    error_table = "\n".join(f"| {status} | {', '.join(codes)} | {description} |"
                            for status, (_, description, codes) in ERROR_RESPONSES.items())
    one_example = {"text": EXAMPLE_TEXT, "summary": {"sentences": 1}}
    paths = {
        "/v1/analyze": {"post": {
            "operationId": "analyze",
            "summary": "Topics and an extractive summary of one article, or of up to "
                       f"{schema.MAX_DOCUMENTS} in `documents`.",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"oneOf": [_ref("AnalyzeOne"), _ref("AnalyzeMany")]},
                "examples": {
                    "one": {"value": one_example},
                    "many": {"value": {"documents": [{"id": "a1", "text": EXAMPLE_TEXT},
                                                     {"id": "a2", "text": "TT"}]}},
                },
            }}},
            "responses": _responses({"200": {
                "description": "The analysis (one article), or one result per document.",
                "content": _json({"oneOf": [_ref("Analysis"), _ref("BatchAnalysis")]}, {
                    "model": {"name": "newsbrief-topics", "version": "v1"},
                    "labels": ["conflict", "alliances"],
                    "scores": {"conflict": 0.91, "diplomacy": 0.22, "alliances": 0.74},
                    "summary": {"algorithm": DEFAULT_ALGORITHM,
                                "text": EXAMPLE_TEXT.split(". ")[0] + ".",
                                "sentences": [{"text": EXAMPLE_TEXT.split(". ")[0] + ".", "start": 0,
                                               "end": len(EXAMPLE_TEXT.split(". ")[0]) + 1,
                                               "score": 1.0}]},
                    "language": "en",
                    "warnings": [],
                })}}, 400, 408, 413, 415, 422, 503),
        }},
        "/": {"get": {
            "operationId": "demo",
            "summary": "A demo page for people: paste an article, see its topics, summary and cleanup. "
                       "Self-contained (its files are under /static/).",
            "responses": _responses({"200": {"description": "The page.",
                                             "content": {"text/html": {"schema": {"type": "string"}}}}}),
        }},
        "/healthz": {"get": {
            "operationId": "healthz", "summary": "200 while the process serves (liveness).",
            "responses": _responses({"200": {"description": "Alive.",
                                             "content": _json(_ref("Health"), {"status": "ok"})}}),
        }},
        "/readyz": {"get": {
            "operationId": "readyz", "summary": "200 once a model is loaded and answering, else 503.",
            "responses": _responses({
                "200": {"description": "Ready.", "content": _json(_ref("Ready"))},
                "503": {"description": "No model loaded yet, or it was refused.",
                        "content": _json(_ref("NotReady"))},
            }),
        }},
        "/v1/model": {"get": {
            "operationId": "model",
            "summary": "The model served: version, labels, thresholds, training figures, limits.",
            "responses": _responses({"200": {"description": "The model.",
                                             "content": _json(_ref("ModelDescription"))}}, 503),
        }},
        "/metrics": {"get": {
            "operationId": "metrics", "summary": "Prometheus metrics of all workers.",
            "responses": _responses({"200": {"description": "Prometheus text format 0.0.4.",
                                             "content": {"text/plain": {"schema": {"type": "string"}}}}}),
        }},
        "/openapi.json": {"get": {
            "operationId": "openapi", "summary": "This document.",
            "responses": _responses({"200": {"description": "OpenAPI 3.1.",
                                             "content": _json({"type": "object"})}}),
        }},
        "/admin/reload": {"post": {
            "operationId": "reloadModel",
            "summary": "Verify the model the registry points at and swap it in without dropping "
                       "requests. Enabled by NEWSBRIEF_ADMIN_TOKEN.",
            "security": [{"adminToken": []}],
            "responses": _responses({
                "200": {"description": "Swapped in this process.", "content": _json(_ref("Reloaded"))},
                "202": {"description": "The workers are rolling onto the new version.",
                        "content": _json(_ref("Reloaded"))},
            }, 401, 403, 404, 408, 409),
        }},
    }
    if not admin:
        del paths["/admin/reload"]
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "newsbrief",
            "version": version,
            "description": (
                "Topics (multi-label) and a clean extractive summary of scraped news articles.\n\n"
                "Topics are English-only: every answer gives the article's `language`, and a text in "
                "another language gets no topic labels and a `not_english` warning (still 200).\n\n"
                "Every error is JSON: `{\"error\": {\"code\": ..., \"message\": ...}}`.\n\n"
                "| status | codes | when |\n|---|---|---|\n" + error_table),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
    }


def init_app(app: Flask) -> None:
    settings = app.extensions.get("newsbrief.settings")
    document = build(getattr(settings, "max_body", None), admin=bool(getattr(settings, "admin_token", None)))

    @app.get("/openapi.json")
    def openapi_document():
        return jsonify(document)
