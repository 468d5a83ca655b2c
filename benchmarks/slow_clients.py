"""Slow clients against the service: are other clients still served while many connections dribble?

    python -m benchmarks.slow_clients                            # 200 stalled uploads, 20 s
    python -m benchmarks.slow_clients --mode dribble --connections 100 --seconds 30
    WORKER_CLASS=gthread python -m benchmarks.slow_clients       # the threaded worker, for comparison

Starts `python -m service` (WORKERS=2) on 127.0.0.1, opens --connections slow connections, then
for --seconds sends ordinary requests (GET /healthz and a small POST /v1/analyze, one at a time)
and counts how many were answered within --client-timeout. Modes:

- stalled: the headers of a POST /v1/analyze with Content-Length: 1000 and 10 body bytes, then nothing;
- dribble: a whole valid request sent one byte per --interval seconds (headers included);
- idle: a connection opened and nothing sent.

It also reports how many slow connections the server had closed by the end (a stalled upload
must be dropped after BODY_TIMEOUT).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

from benchmarks.benchmark import DEFAULT_MODELS, Service, percentile

ARTICLE = {"text": "Ministers met in Geneva on Monday for talks on a ceasefire. The talks went on."}


def request_bytes(host: str, port: int, body: bytes) -> bytes:
    return (f"POST /v1/analyze HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class SlowClients:
    """`count` slow connections to 127.0.0.1:`port`, each kept in its own thread until stop()."""

    def __init__(self, port: int, count: int, mode: str = "stalled", interval: float = 0.5):
        self.port, self.count, self.mode, self.interval = port, count, mode, interval
        self.stop_event = threading.Event()
        self.opened = 0
        self.closed_by_server = 0
        self.refused = 0
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]

    def _run(self) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        except OSError:
            with self._lock:
                self.refused += 1
            return
        with self._lock:
            self.opened += 1
        try:
            if self.mode == "stalled":
                head = (f"POST /v1/analyze HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"text\": \"").encode()
                sock.sendall(head)
                self._wait_for_close(sock)
            elif self.mode == "dribble":
                data = request_bytes("127.0.0.1", self.port, json.dumps(ARTICLE).encode())
                for byte in data:
                    if self.stop_event.wait(self.interval):
                        break
                    sock.sendall(bytes([byte]))
                self._wait_for_close(sock)
            else:  # idle
                self._wait_for_close(sock)
        except OSError:
            with self._lock:
                self.closed_by_server += 1
        finally:
            sock.close()

    def _wait_for_close(self, sock: socket.socket) -> None:
        """Until stop(): note whether the server closed (or answered and closed) the connection."""
        sock.settimeout(0.5)
        while not self.stop_event.is_set():
            try:
                data = sock.recv(4096)
            except socket.timeout:
                continue
            if not data or b"Connection: close" in data or data.startswith(b"HTTP/1.1 4"):
                with self._lock:
                    self.closed_by_server += 1
                return

    def __enter__(self):
        for t in self.threads:
            t.start()
        deadline = time.monotonic() + 10
        while self.opened + self.refused < self.count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=5)


def probe(port: int, seconds: float, client_timeout: float) -> dict:
    """Ordinary requests one after another for `seconds`: how many were answered in time."""
    import http.client

    answered, failed, latencies, errors = 0, 0, [], {}
    body = json.dumps(ARTICLE).encode()
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        method, path = ("GET", "/healthz") if i % 2 == 0 else ("POST", "/v1/analyze")
        i += 1
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=client_timeout)
        try:
            connection.request(method, path, body=body if method == "POST" else None,
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                answered += 1
                latencies.append(time.perf_counter() - started)
            else:
                failed += 1
                errors[str(response.status)] = errors.get(str(response.status), 0) + 1
        except OSError as error:
            failed += 1
            errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
        finally:
            connection.close()
    return {"answered": answered, "failed": failed, "errors": errors,
            "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
            "p99_ms": round(1000 * percentile(latencies, 99), 1) if latencies else None}


def measure(service: Service, connections: int, mode: str, seconds: float, client_timeout: float,
            interval: float = 0.5, settle: float = 1.0) -> dict:
    with SlowClients(service.port, connections, mode, interval) as slow:
        time.sleep(settle)
        served = probe(service.port, seconds, client_timeout)
        closed = slow.closed_by_server
    return {"mode": mode, "connections": connections, "opened": slow.opened, "refused": slow.refused,
            "closed_by_server_during_run": closed, "seconds": seconds, **served}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.slow_clients", description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--mode", choices=("stalled", "dribble", "idle"), default="stalled")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the probe runs (default 20)")
    parser.add_argument("--interval", type=float, default=0.5, help="dribble: seconds between bytes")
    parser.add_argument("--client-timeout", type=float, default=5.0, help="a probe request's timeout")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODELS)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    with Service(args.model_dir) as service:
        baseline = probe(service.port, 3.0, args.client_timeout)
        result = measure(service, args.connections, args.mode, args.seconds, args.client_timeout, args.interval)
    figures = {"worker_class": os.environ.get("WORKER_CLASS") or "gevent (default)", "baseline_3s": baseline, **result}
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
