"""Read a request's whole body before the application sees it, within a size and a time limit.

WSGI middleware in front of the Flask app. A body sent with Content-Length or chunked is read
into memory, up to MAX_BODY bytes and within BODY_TIMEOUT seconds; the app then gets it as a
plain body of known length, so nothing downstream ever reads a truncated chunked body. A body
beyond MAX_BODY is read on (and dropped) up to DRAIN_FACTOR times the limit, so that the client
is still reading when the answer comes; one that does not arrive in time is not read further.
Either way the request carries the reason (`BODY_ERROR`) and the app answers 413 or 408 and
closes the connection.

Under gunicorn the time limit is set on the client socket before every read (gevent's
cooperative sockets and plain ones alike), so a stalled upload costs a greenlet for at most
BODY_TIMEOUT seconds and is then dropped.
"""
from __future__ import annotations

import io
import time

from gunicorn.http.errors import ParseException

BODY_ERROR = "newsbrief.body_error"  # environ key: "too_large", "timeout" or "incomplete"
CHUNK = 64 * 1024
DRAIN_FACTOR = 4  # a body beyond MAX_BODY is drained up to this many times MAX_BODY, then cut


class BufferedBody:
    def __init__(self, app, max_body: int, timeout: float):
        self.app, self.max_body, self.timeout = app, max_body, timeout

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        length = _content_length(environ)
        if chunked or length:
            body, environ[BODY_ERROR] = self._read(environ, None if chunked else length)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ["wsgi.input_terminated"] = False
            if environ[BODY_ERROR] is None:
                del environ[BODY_ERROR]
            else:
                environ["CONTENT_LENGTH"] = "0"
                environ["wsgi.input"] = io.BytesIO()
        return self.app(environ, start_response)

    def _read(self, environ, length: int | None) -> tuple[bytes, str | None]:
        """(body, None), or (b"", reason) when it is too large or too slow."""
        stream = environ["wsgi.input"]
        sock = environ.get("gunicorn.socket")
        deadline = time.monotonic() + self.timeout
        limit = self.max_body * DRAIN_FACTOR if length is None else min(length, self.max_body * DRAIN_FACTOR)
        parts, size, late, broken = [], 0, False, False
        old_timeout = _timeout_of(sock)
        try:
            while size < limit:
                left = deadline - time.monotonic()
                if left <= 0:
                    late = True
                    break
                if sock is not None:
                    sock.settimeout(left)
                part = stream.read(min(CHUNK, limit - size))
                if not part:
                    break  # end of a chunked body (or a client that closed early)
                size += len(part)
                if size <= self.max_body:
                    parts.append(part)
                elif parts:
                    parts = []  # too large: read on only to let the client finish sending
        except TimeoutError:  # socket.timeout is TimeoutError
            late = True
        except (OSError, ParseException):  # gunicorn's NoMoreData, InvalidChunkSize...
            broken = True
        finally:
            if sock is not None:
                try:
                    sock.settimeout(old_timeout)
                except OSError:
                    pass
        if size > self.max_body or (length or 0) > self.max_body:
            return b"", "too_large"
        if late:
            return b"", "timeout"
        if broken or (length is not None and size < length):
            return b"", "incomplete"  # never analyse a body cut short
        return b"".join(parts), None


def _content_length(environ) -> int:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _timeout_of(sock):
    try:
        return sock.gettimeout() if sock is not None else None
    except OSError:
        return None
