"""The analysis core is usable without the web service: a pipeline or CLI calls it directly."""
from __future__ import annotations

import subprocess
import sys

import newsbrief
from newsbrief import Analyzer, Options


def test_the_public_surface_is_pinned():
    assert sorted(newsbrief.__all__) == [
        "ALGORITHMS", "Analyzer", "Article", "ArtifactError", "CorpusError", "DEFAULT_ALGORITHM",
        "EmptyText", "InvalidRequest", "LoadedModel", "ModelNotLoaded", "NewsbriefError", "Options",
        "RequestError", "Sentence", "TooLarge", "UnsupportedMediaType", "load_model", "prepare",
        "summarize",
    ]
    for name in newsbrief.__all__:
        assert getattr(newsbrief, name) is not None


def test_the_core_does_not_import_flask_or_gunicorn():
    code = "import sys, newsbrief, training.train; print(sorted(m for m in ('flask', 'gunicorn', 'werkzeug') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_core_answers_like_the_http_service(shipped_store, client, examples):
    analyzer: Analyzer = shipped_store.analyzer
    text = examples["egypt_nato_ties"]
    direct = analyzer.handle({"text": text})
    over_http = client.post("/v1/analyze", json={"text": text}).get_json()
    assert direct == over_http
    assert analyzer.analyze(text, options=Options()) == {k: direct[k] for k in ("labels", "scores", "summary", "language", "warnings")}
