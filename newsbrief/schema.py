"""Request definitions: one JSON Schema per request body, used both to validate requests
(`validate`) and to describe them in the OpenAPI document. Only the keywords used below are
interpreted; messages name the field, what was expected, what arrived and how to fix it.
"""
from __future__ import annotations

import re
from typing import Any

from .errors import InvalidRequest, TooLarge
from .summarize import ALGORITHMS, DEFAULT_ALGORITHM

MAX_DOCUMENTS = 64
MAX_SENTENCES = 20
MAX_SUMMARY_WORDS = 500
MAX_TEXT_CHARS = 1_000_000
MAX_TITLE_CHARS = 2_000

SUMMARY_OPTIONS = {
    "type": "object",
    "description": "How to summarize; every key is optional.",
    "additionalProperties": False,
    "properties": {
        "sentences": {
            "type": "integer", "minimum": 1, "maximum": MAX_SENTENCES, "default": 3,
            "description": "How many sentences to return (fewer if the article is shorter).",
        },
        "words": {
            "type": "integer", "minimum": 1, "maximum": MAX_SUMMARY_WORDS,
            "description": "Instead of `sentences`: a word budget. The best sentences whose lengths "
                           "(whitespace-separated words) add up to at most this; the best sentence "
                           "always, even if it is longer.",
        },
        "algorithm": {
            "type": "string", "enum": list(ALGORITHMS), "default": DEFAULT_ALGORITHM,
            "description": "Summarization algorithm; GET /v1/model names the default.",
        },
    },
    "not": {"required": ["sentences", "words"]},
}

TEXT = {
    "type": "string",
    "description": "Article text exactly as scraped; page furniture is removed by the service.",
    "maxLength": MAX_TEXT_CHARS,
}
TITLE = {"type": ["string", "null"], "description": "Optional headline.", "maxLength": MAX_TITLE_CHARS}
EXPLAIN = {"type": "boolean", "default": False,
           "description": "Also return the terms that pushed each label's score."}
CLEANUP = {"type": "boolean", "default": False,
           "description": "Also return the spans of the text removed as page furniture (`cleanup`)."}

DOCUMENT = {
    "type": "object",
    "required": ["text"],
    "properties": {
        "id": {"type": ["string", "integer"], "description": "Echoed back; defaults to the position."},
        "text": TEXT,
        "title": TITLE,
    },
}

ANALYZE_ONE = {
    "type": "object",
    "title": "One article",
    "required": ["text"],
    "properties": {"text": TEXT, "title": TITLE, "summary": SUMMARY_OPTIONS, "explain": EXPLAIN,
                   "cleanup": CLEANUP},
}

ANALYZE_MANY = {
    "type": "object",
    "title": "Several articles",
    "required": ["documents"],
    "properties": {
        "documents": {"type": "array", "minItems": 1, "maxItems": MAX_DOCUMENTS, "items": DOCUMENT},
        "summary": SUMMARY_OPTIONS,
        "explain": EXPLAIN,
        "cleanup": CLEANUP,
    },
}

_JSON_TYPES = {
    "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _has_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _JSON_TYPES[name])


# What a "\\ud800" escape decodes to: not a character, and no UTF-8 answer or log line can hold it.
_LONE_SURROGATE = re.compile("[\\ud800-\\udfff]")


def has_lone_surrogate(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is not None


def validate(value: Any, schema: dict, path: str = "body") -> None:
    """Raise InvalidRequest for the first way `value` breaks `schema`."""
    if isinstance(value, str) and has_lone_surrogate(value):
        raise InvalidRequest(f"{path} holds an unpaired UTF-16 surrogate escape (such as \\ud800), which is "
                             "not a character; remove it or send the text as UTF-8.", field=path)
    types = schema.get("type")
    if types is not None:
        allowed = types if isinstance(types, list) else [types]
        if not any(_has_type(value, t) for t in allowed):
            raise InvalidRequest(
                f"{path} must be {' or '.join(allowed)}, not {_type_name(value)}.", field=path)
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(repr(c) for c in schema["enum"])
        raise InvalidRequest(f"{path} must be one of {choices}, not {value!r}.", field=path)
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidRequest(f"{path} must be between {low} and {high}, not {value}.", field=path)
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        raise TooLarge(
            f"{path} has {len(value):,} characters; the limit is {schema['maxLength']:,}. "
            "Split a longer article, or send only its body and headline.", code="text_too_long", field=path)
    if isinstance(value, list):
        low, high = schema.get("minItems"), schema.get("maxItems")
        if low is not None and len(value) < low:
            raise InvalidRequest(f"{path} needs at least {low} item(s); it has {len(value)}.", field=path)
        if high is not None and len(value) > high:
            raise InvalidRequest(
                f"{path} has {len(value)} items; send at most {high} per request "
                "and split larger batches.", field=path)
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                raise InvalidRequest(f"{path}.{key} is required.", field=f"{path}.{key}")
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            unknown = sorted(set(value) - set(properties))
            if unknown:
                raise InvalidRequest(
                    f"{path} has unknown key(s) {', '.join(map(repr, unknown))}; "
                    f"allowed: {', '.join(map(repr, properties))}.", field=path)
        for key, sub in properties.items():
            if key in value:
                validate(value[key], sub, f"{path}.{key}")
        together = schema.get("not", {}).get("required")
        if together and all(key in value for key in together):
            raise InvalidRequest(
                f"{path} holds {' and '.join(map(repr, together))}; they exclude each other, send only one.",
                field=path)
