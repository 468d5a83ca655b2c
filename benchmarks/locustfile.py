"""The load mix for locust (run by benchmarks/load.py; or by hand:
`locust -f benchmarks/locustfile.py --headless -u 32 -r 32 -t 30s --host http://127.0.0.1:8000`).

Per 10 tasks, about: 6 single articles, 1 batch of 8, 2 invalid requests (each must get its
documented 4xx: a wrong answer counts as a failure), 1 /metrics scrape. Articles come from
NEWSBRIEF_LOAD_INPUT (JSON Lines with "text"; default ../shared/corpus/articles.jsonl), else a
few built-in texts.
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, between, task

DEFAULT_INPUT = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "articles.jsonl"
FALLBACK = [
    "NATO allies agreed on Tuesday to send more troops to the alliance's eastern flank.",
    "Foreign ministers met in Geneva on Monday to discuss a ceasefire. The talks were constructive.",
    "Shelling killed six people in the north overnight, officials said. Aid agencies asked for corridors.",
]


def _articles(limit: int = 300) -> list[str]:
    path = Path(os.environ.get("NEWSBRIEF_LOAD_INPUT") or DEFAULT_INPUT)
    texts = []
    if path.is_file():
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    text = json.loads(line).get("text")
                    if isinstance(text, str) and text.strip():
                        texts.append(text[:20000])
                if len(texts) >= limit:
                    break
    return texts or FALLBACK


ARTICLES = _articles()
HEADERS = {"Content-Type": "application/json"}
# (body bytes, content type, expected status): each must be refused with exactly that status
INVALID = [
    (b'{"text": ', "application/json", 400),
    (b'{"text": 5}', "application/json", 400),
    (b'{"text": "  TT  "}', "application/json", 422),
    (b"plain words", "text/plain", 415),
    (json.dumps({"documents": []}).encode(), "application/json", 400),
]


class Client(FastHttpUser):
    wait_time = between(0, 0.05)

    @task(6)
    def single(self):
        text = random.choice(ARTICLES)
        with self.client.post("/v1/analyze", json={"text": text}, name="single", catch_response=True) as r:
            if r.status_code != 200 or "labels" not in (r.json() or {}):
                r.failure(f"status {r.status_code}")

    @task(1)
    def batch(self):
        documents = [{"id": str(i), "text": t} for i, t in enumerate(random.sample(ARTICLES, min(8, len(ARTICLES))))]
        with self.client.post("/v1/analyze", json={"documents": documents}, name="batch of 8",
                              catch_response=True) as r:
            results = (r.json() or {}).get("results", []) if r.status_code == 200 else []
            if r.status_code != 200 or len(results) != len(documents):
                r.failure(f"status {r.status_code}")

    @task(2)
    def invalid(self):
        body, content_type, expected = random.choice(INVALID)
        with self.client.post("/v1/analyze", data=body, headers={"Content-Type": content_type},
                              name=f"invalid ({expected})", catch_response=True) as r:
            if r.status_code == expected and "error" in (r.json() or {}):
                r.success()
            else:
                r.failure(f"status {r.status_code}, expected {expected}")

    @task(1)
    def metrics(self):
        with self.client.get("/metrics", name="/metrics", catch_response=True) as r:
            if r.status_code != 200 or b"newsbrief_http_requests_total" not in r.content:
                r.failure(f"status {r.status_code}")
