"""Security checks: bandit over the code, known vulnerabilities in the pinned runtime dependencies,
the admin token (constant-time comparison, route absent without it), and a real run's log lines
holding no article text, token or query string."""
from __future__ import annotations

import hmac
import http.client
import json
import subprocess
from pathlib import Path

import pytest
from _tools import require_tool

from benchmarks.benchmark import DEFAULT_MODELS, Service
from service import app as app_module
from service.app import create_app
from service.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_bandit_finds_no_medium_or_high_issue():
    """Findings of medium or high severity fail; the few `# nosec` marks in the code say why."""
    done = subprocess.run([require_tool("bandit"), "-r", "newsbrief", "service", "training", "benchmarks",
                           "--severity-level", "medium", "--format", "json", "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout)
    issues = [f"{i['filename']}:{i['line_number']} {i['test_id']} {i['issue_text']}" for i in report["results"]]
    assert not issues, "\n".join(issues)
    assert report["metrics"]["_totals"]["loc"] > 1000  # it really scanned the code


@pytest.mark.slow
def test_the_pinned_runtime_dependencies_have_no_known_vulnerability():
    require_tool("pip-audit")
    from benchmarks.audit import audit

    rows = audit()
    print("\n".join(f"{n} {r['version']}: {r['source']}, {r['vulnerabilities'] or 'none'}" for n, r in rows.items()))
    assert {"flask", "gunicorn", "gevent", "scikit-learn"} <= set(rows)
    vulnerable = {n: r["vulnerabilities"] for n, r in rows.items() if r["vulnerabilities"]}
    assert not vulnerable, vulnerable
    audited = [n for n, r in rows.items() if r["source"] != "not audited"]
    assert len(audited) >= len(rows) // 2, f"too little could be audited from here: {rows}"


def test_the_admin_route_is_absent_without_a_token(shipped_store):
    client = create_app(shipped_store, Settings()).test_client()
    for method in ("post", "get", "put"):
        answer = getattr(client, method)("/admin/reload", headers={"Authorization": "Bearer anything"})
        assert answer.status_code == 404, (method, answer.get_json())
    assert "/admin/reload" not in client.get("/openapi.json").get_json()["paths"]


def test_the_admin_token_is_compared_in_constant_time(shipped_store, monkeypatch):
    compared, real = [], hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(app_module.hmac, "compare_digest", spy)
    client = create_app(shipped_store, Settings(admin_token="s3cret-token")).test_client()
    answer = client.post("/admin/reload", headers={"Authorization": "Bearer wrong-token"})
    assert answer.status_code == 403
    assert compared == [(b"Bearer wrong-token", b"Bearer s3cret-token")]
    missing = client.post("/admin/reload")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.slow
def test_no_article_text_token_or_query_string_reaches_a_log_line():
    token = "tok-7f3a9c2e51d04b8e"
    secret_text = "Zanzibarian envoys quietly signed the Quokka accord"
    secret_query = "apikey-51c0ffee"
    article = f"{secret_text} in Geneva on Monday. Ministers met for talks on a ceasefire. " * 3
    with Service(DEFAULT_MODELS, env={"NEWSBRIEF_ADMIN_TOKEN": token, "LOG_LEVEL": "debug"}) as service:
        def send(method, path, body=None, headers=None):
            connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=120)
            connection.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
            answer = connection.getresponse()
            answer.read()
            connection.close()
            return answer.status

        statuses = [
            send("POST", f"/v1/analyze?key={secret_query}", json.dumps({"text": article})),
            send("POST", "/v1/analyze", json.dumps({"documents": [{"id": "a", "text": article, "title": secret_text}]})),
            send("POST", "/v1/analyze", json.dumps({"text": article, "summary": {"algorithm": secret_text}})),
            send("POST", "/v1/analyze", ('{"text": "' + secret_text).encode()),  # invalid JSON
            send("POST", "/v1/analyze", secret_text.encode(), {"Content-Type": "text/plain"}),
            send("GET", f"/healthz?token={token}&q={secret_query}"),
            send("GET", f"/nowhere?q={secret_text.replace(' ', '+')}&k={secret_query}"),
            send("POST", "/admin/reload", b"{}", {"Authorization": f"Bearer {token}-wrong"}),
            send("POST", "/admin/reload", b"{}", {"Authorization": f"Bearer {token}"}),
        ]
        log = service.log_text()
    assert statuses[:2] == [200, 200] and 403 in statuses and 202 in statuses, statuses
    lines = log.splitlines()
    assert sum('"logger": "newsbrief.access"' in line for line in lines) >= len(statuses)
    for secret in (token, secret_query, secret_text, "Zanzibarian", "Quokka"):
        leaked = [line for line in lines if secret in line]
        assert not leaked, f"{secret!r} reached the log: {leaked[:2]}"
