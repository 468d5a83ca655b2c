"""Logs as JSON lines on stderr: one line per request, and every other log line in JSON too.

A request line holds method, route, path, status, duration_ms, documents, request_id and
remote_addr (plus error for an error answer); never the article text or the query string.
An incoming X-Request-ID is kept when it is short and made of safe characters, else a new one
is made; either way the response carries it back in X-Request-ID.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, Response, g, has_request_context, request
from gunicorn import glogging

from .metrics import documents_of, route_of

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")  # at most 128 characters
MAX_PATH_CHARS = 200

access_log = logging.getLogger("newsbrief.access")


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object on one line (tracebacks included, escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", None) or {})
        if "request_id" not in entry and has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup(level: str = "info") -> None:
    """Send every log record to stderr as JSON at `level` (for `python -m service`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # warnings too (e.g. gevent's at worker start) as JSON lines


class GunicornLogger(glogging.Logger):
    """gunicorn's own lines (booting, worker exits, errors) in the same JSON format."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())


def gunicorn_options() -> dict:
    """gunicorn's access log stays off: the app writes the one line per request."""
    return {"accesslog": None, "logger_class": GunicornLogger}


def request_id_from(header: str | None) -> str:
    """The client's request id if it is safe to echo and log, else a new random one."""
    if header and REQUEST_ID_PATTERN.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _error_code(response: Response) -> str | None:
    if response.status_code < 400 or not response.is_json:
        return None
    body = response.get_json(silent=True)
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def init_app(app: Flask) -> None:
    """Give every request of `app` a request id and log one JSON line when it is answered."""

    @app.before_request
    def _start():
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g._newsbrief_log_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        if "request_id" not in g:  # a before_request handler failed before ours ran
            g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        response.headers[REQUEST_ID_HEADER] = g.request_id
        if g.get("_newsbrief_logged"):  # Flask may finalize twice after a failing handler
            return response
        g._newsbrief_logged = True
        started = g.get("_newsbrief_log_started")
        analysed, rejected = documents_of()
        fields = {
            "method": request.method[:16],
            "route": route_of(),
            "path": request.path[:MAX_PATH_CHARS],
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "documents": analysed + rejected,
            "request_id": g.request_id,
            "remote_addr": request.remote_addr,
            "bytes_in": request.content_length,
            "bytes_out": response.calculate_content_length(),
        }
        if rejected:
            fields["documents_rejected"] = rejected
        code = _error_code(response)
        if code:
            fields["error"] = code
        access_log.info("%s %s %s", fields["method"], fields["route"], fields["status"],
                        extra={"fields": fields})
        return response
