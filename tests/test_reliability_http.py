"""Request bodies are read whole before the app sees them: a chunked body over MAX_BODY gets 413
like one with Content-Length (never a truncated analysis), a body cut short is refused, and every
405 names the allowed methods."""
from __future__ import annotations

import json
import socket

import pytest

from benchmarks.benchmark import DEFAULT_MODELS, Service

SIX_MB = 6 * 1024 * 1024
SENTENCE = "Ministers met in Geneva on Monday for talks on a ceasefire. "


@pytest.fixture(scope="module")
def server():
    with Service(DEFAULT_MODELS, env={"BODY_TIMEOUT": "3"}) as service:
        yield service


def exchange(port: int, head: str, parts: list[bytes], timeout: float = 60) -> tuple[int, dict, dict]:
    """Send raw bytes, read the whole answer (the server closes after it): (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode())
        try:
            for part in parts:
                sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the whole body went out
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, json.loads(body) if body else {}


def chunked(body: bytes, size: int = 65536) -> list[bytes]:
    parts = [b"%x\r\n" % len(body[i:i + size]) + body[i:i + size] + b"\r\n" for i in range(0, len(body), size)]
    return parts + [b"0\r\n\r\n"]


HEAD = "POST /v1/analyze HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nConnection: close\r\n"


@pytest.mark.slow
@pytest.mark.parametrize("body", [
    json.dumps({"text": SENTENCE}).encode() + b" " * SIX_MB,                   # small JSON, padded
    json.dumps({"text": SENTENCE * (SIX_MB // len(SENTENCE))}).encode(),      # one long text
], ids=["padded", "long-text"])
@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_a_body_over_max_body_gets_413_however_it_is_framed(server, body, framing):
    if framing == "chunked":
        status, headers, answer = exchange(server.port, HEAD + "Transfer-Encoding: chunked\r\n\r\n", chunked(body))
    else:
        status, headers, answer = exchange(server.port, HEAD + f"Content-Length: {len(body)}\r\n\r\n", [body])
    assert status == 413 and answer["error"]["code"] == "payload_too_large", (status, answer)
    assert headers.get("Connection") == "close"


@pytest.mark.slow
def test_a_chunked_body_under_max_body_is_analysed_whole(server):
    text = SENTENCE * 2000 + "The envoy flew home on Friday."
    status, _, answer = exchange(server.port, HEAD + "Transfer-Encoding: chunked\r\n\r\n",
                                 chunked(json.dumps({"text": text}).encode(), size=1000))
    assert status == 200, answer
    assert answer["summary"]["sentences"]


@pytest.mark.slow
def test_a_body_shorter_than_its_content_length_is_never_analysed(server):
    body = json.dumps({"text": SENTENCE}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall((HEAD + f"Content-Length: {len(body) + 50}\r\n\r\n").encode() + body)
        sock.shutdown(socket.SHUT_WR)  # the client gives up mid-body
        data = sock.recv(65536)
    assert not data.startswith(b"HTTP/1.1 200"), data[:200]


@pytest.mark.slow
def test_a_stalled_upload_gets_408_after_body_timeout(server):
    body = json.dumps({"text": SENTENCE}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall((HEAD + f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:10])
        data = b""
        while part := sock.recv(65536):  # the server closes the connection after its answer
            data += part
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert b'"request_timeout"' in data and b"Connection: close" in data


@pytest.mark.parametrize("method, path, allowed", [
    ("get", "/v1/analyze", {"POST", "OPTIONS"}),
    ("delete", "/healthz", {"GET", "HEAD", "OPTIONS"}),
    ("post", "/metrics", {"GET", "HEAD", "OPTIONS"}),
])
def test_405_names_the_allowed_methods(client, method, path, allowed):
    answer = getattr(client, method)(path)
    assert answer.status_code == 405 and answer.get_json()["error"]["code"] == "method_not_allowed"
    assert set(answer.headers["Allow"].split(", ")) == allowed
