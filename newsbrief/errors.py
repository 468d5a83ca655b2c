"""One exception family for everything a caller of newsbrief can get wrong.

    NewsbriefError
    ├── RequestError            a client sent something we cannot analyse (has an HTTP status)
    │   ├── InvalidRequest      400  not JSON, wrong shape, unknown option value
    │   ├── EmptyText           422  nothing left once page furniture and white space are removed
    │   ├── TooLarge            413  body or text beyond the configured limit
    │   ├── UnsupportedMediaType 415 Content-Type other than application/json
    │   └── ModelNotLoaded      503  no verified model is loaded yet
    ├── ArtifactError           a model directory that must not be loaded (hash, versions, files)
    └── CorpusError             a training corpus with problems (lists every one of them)

The core raises these; the HTTP layer only maps `status`/`code`/`message` to JSON.
"""
from __future__ import annotations


class NewsbriefError(Exception):
    """Base class of every error newsbrief raises on purpose."""


class RequestError(NewsbriefError):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return {"error": body}


class InvalidRequest(RequestError):
    status = 400
    code = "invalid_request"


class EmptyText(RequestError):
    status = 422
    code = "empty_text"


class TooLarge(RequestError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(RequestError):
    status = 415
    code = "unsupported_media_type"


class ModelNotLoaded(RequestError):
    status = 503
    code = "model_not_loaded"


class ArtifactError(NewsbriefError):
    """A model artifact that must not be loaded; the message says why and what to do."""


class CorpusError(NewsbriefError):
    """A training corpus with problems; `problems` lists every one as 'file:line: what'."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the corpus:\n" + "\n".join(self.problems))


def json_error(error) -> str:
    """A json.JSONDecodeError as 'Unterminated string starting at column 22' (json's own message
    ends with 'at' for some errors, which would otherwise read 'at at')."""
    return f"{error.msg.removesuffix(' at')} at column {error.colno}"
