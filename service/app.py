"""The Flask application: decodes HTTP, calls the analysis core, encodes JSON. Nothing else."""
from __future__ import annotations

import codecs
import hmac
import json
import logging
import os
import signal
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from newsbrief import schema
from newsbrief.artifacts import resolve_version
from newsbrief.errors import (ArtifactError, EmptyText, InvalidRequest, ModelNotLoaded, RequestError,
                             TooLarge, UnsupportedMediaType)
from newsbrief.summarize import ALGORITHMS, DEFAULT_ALGORITHM

from . import logs, metrics, openapi
from .buffering import BODY_ERROR, BufferedBody
from .config import Settings
from .store import ModelStore, servable_version

log = logging.getLogger("newsbrief.service")

# Gunicorn's master sets this so a worker can ask it to roll every worker onto a new model.
MASTER_PID_ENV = "NEWSBRIEF_MASTER_PID"

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
_HTTP_HINTS = {
    404: "See GET /openapi.json for the routes this service offers.",
    405: "See GET /openapi.json for the methods each route accepts.",
}


def create_app(store: ModelStore, settings: Settings | None = None) -> Flask:
    """Build the app around a ModelStore that the caller has already loaded (or tried to)."""
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions["newsbrief.store"] = store
    app.extensions["newsbrief.settings"] = settings

    @app.post("/v1/analyze")
    def analyze():
        answer = store.analyzer.handle(_json_body())
        metrics.note_documents(answer)
        return jsonify(answer)

    @app.get("/")
    def demo():
        return app.send_static_file("index.html")

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        try:
            return jsonify(status="ready", model=store.analyzer.model_info)
        except ModelNotLoaded as error:
            return jsonify(status="unavailable", reason=store.error or "model still loading",
                           **error.to_dict()), 503

    @app.get("/v1/model")
    def model():
        return jsonify(describe_model(store))

    if settings.admin_token:  # without a token the route does not exist at all
        @app.post("/admin/reload")
        def reload_model():
            _check_admin_token(settings)
            return _reload(store, settings)

    @app.errorhandler(RequestError)
    def request_error(error: RequestError):
        if isinstance(error, (EmptyText, TooLarge)) and request.endpoint == "analyze":
            metrics.note_rejected()
        return jsonify(error.to_dict()), error.status, getattr(error, "headers", None) or {}

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        code = _HTTP_CODES.get(status) or (error.name or "error").lower().replace(" ", "_")
        if status == 413:
            message = _body_too_large(settings).message
        else:
            message = f"{error.description} {_HTTP_HINTS.get(status, '')}".strip()
        response = jsonify(error={"code": code, "message": message})
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)  # RFC 9110 15.5.6
        return response, status

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return jsonify(error={"code": "internal_error",
                              "message": "The service failed unexpectedly; this is a bug, please report it."}), 500

    app.after_request(_security_headers)
    logs.init_app(app)     # request id + one JSON line per request
    metrics.init_app(app)  # GET /metrics
    openapi.init_app(app)  # GET /openapi.json

    @app.before_request
    def _body_error():  # after the log and metrics hooks, so the refusal is logged and counted
        if BODY_ERROR in request.environ:
            raise _BODY_ERRORS[request.environ[BODY_ERROR]](settings)

    @app.after_request
    def _close_after_body_error(response: Response) -> Response:
        if BODY_ERROR in request.environ:  # the rest of that body is still on the connection
            response.headers["Connection"] = "close"
        return response

    app.wsgi_app = BufferedBody(app.wsgi_app, settings.max_body, settings.body_timeout)
    return app


# The demo page (GET /, /static/) loads nothing from elsewhere and runs no inline script; the same
# headers go on every answer (they cost a JSON client nothing).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _json_body() -> Any:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not {request.mimetype or 'missing'!r}; "
            "send the article as a JSON body with that header.")
    charset = request.mimetype_params.get("charset", "utf-8")
    try:
        codec = codecs.lookup(charset).name
    except LookupError:
        codec = None
    if codec not in _CHARSETS:
        raise UnsupportedMediaType(f"Content-Type charset {charset[:40]!r} is not supported; send the JSON "
                                   "as UTF-8 (charset=utf-8, or no charset); UTF-16/32, ASCII and Latin-1 "
                                   "are decoded too.")
    raw = request.get_data(cache=False)
    try:
        text = raw.decode(codec)
        body = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError as error:
        raise InvalidRequest(f"The body is not valid {codec} ({error.reason} at byte {error.start}); "
                             "send UTF-8 encoded JSON.") from None
    except json.JSONDecodeError as error:
        raise InvalidRequest(f"The body is not valid JSON: {error.msg.removesuffix(' at')} at line "
                             f"{error.lineno}, column {error.colno}.") from None
    except RecursionError:
        raise InvalidRequest("The JSON body is nested too deeply.") from None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        raise InvalidRequest(f"The body holds a value JSON cannot carry here: {error}.") from None
    return body  # strings with lone surrogates are refused by schema.validate, field by field


# JSON is UTF-8 (RFC 8259); UTF-16/32, ASCII (a subset of UTF-8) and Latin-1 are decoded too, each
# with its own codec (a Latin-1 body is never read as UTF-8), and nothing else (codecs such as
# utf-7 or unicode_escape would turn bytes into characters no client meant).
_CHARSETS = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
                       "ascii", "iso8859-1"})


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number; send a number or null")


def describe_model(store: ModelStore) -> dict:
    analyzer = store.analyzer
    meta = analyzer.model.metadata
    return {
        "name": analyzer.model.name,
        "version": analyzer.model.version,
        "labels": list(analyzer.model.labels),
        "thresholds": analyzer.model.thresholds,
        "trained_at": meta.get("trained_at") or meta.get("created_at"),
        "libraries": meta.get("libraries", {}),
        "corpus": meta.get("corpus", {}),
        "evaluation": meta.get("evaluation", {}),
        "summary": {"default_algorithm": DEFAULT_ALGORITHM, "algorithms": list(ALGORITHMS),
                    "max_sentences": schema.MAX_SENTENCES, "max_words": schema.MAX_SUMMARY_WORDS},
        "limits": {"max_documents": schema.MAX_DOCUMENTS, "max_text_chars": schema.MAX_TEXT_CHARS,
                   "max_title_chars": schema.MAX_TITLE_CHARS},
    }


def _check_admin_token(settings: Settings) -> None:
    given = request.headers.get("Authorization")
    if not given:
        raise _Unauthorized()
    expected = f"Bearer {settings.admin_token}".encode()
    if not hmac.compare_digest(given.encode(), expected):  # constant time: no timing oracle
        raise _Forbidden()


class _Unauthorized(RequestError):
    status = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="newsbrief admin"'}

    def __init__(self):
        super().__init__("Send 'Authorization: Bearer <token>' with the server's NEWSBRIEF_ADMIN_TOKEN.")


class _Forbidden(RequestError):
    status = 403
    code = "forbidden"

    def __init__(self):
        super().__init__("The admin token is wrong; send 'Authorization: Bearer <token>' with the server's "
                         "NEWSBRIEF_ADMIN_TOKEN.")


def _body_too_large(settings: Settings) -> TooLarge:
    return TooLarge(f"The request body is larger than the limit of {settings.max_body:,} bytes; send "
                    "fewer documents per request (or raise MAX_BODY on the server).")


class _BodyTimeout(RequestError):
    status = 408
    code = "request_timeout"

    def __init__(self, settings: Settings):
        super().__init__(f"The request body did not arrive within BODY_TIMEOUT ({settings.body_timeout:g} s); "
                         "send it at once (and check Content-Length matches the body).")


def _body_incomplete(settings: Settings) -> InvalidRequest:
    return InvalidRequest("The request body ended before its Content-Length, or its chunked encoding is "
                          "invalid; send the whole body.")


_BODY_ERRORS = {"too_large": _body_too_large, "timeout": _BodyTimeout, "incomplete": _body_incomplete}


def _reload(store: ModelStore, settings: Settings) -> tuple[Response, int]:
    """Verify the model the registry points at; then roll the workers onto it (under gunicorn)
    or swap it in this process. A model that fails verification or cannot answer changes nothing."""
    try:
        master = os.environ.get(MASTER_PID_ENV)
        if master and int(master) == os.getppid():
            version_dir = servable_version(settings.model_dir)  # the master checks again before rolling
            os.kill(int(master), signal.SIGHUP)
            return jsonify(status="reloading", version=version_dir.name), 202
        store.load(resolve_version(settings.model_dir))  # load_model verifies before unpickling
    except ArtifactError as error:
        return jsonify(error={"code": "model_refused", "message": str(error)}), 409
    return jsonify(status="reloaded", model=store.analyzer.model_info), 200
