# Everything a fresh machine needs: `make serve` starts the service, `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: serve test evaluate benchmark train

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.all: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.runtime

serve: $(VENV)/.runtime
	$(BIN)/python -m service

test: $(VENV)/.all
	bash .ci/browser-deps   # Debian's chromium for the demo page's browser tests (quick when present)
	$(BIN)/python -m pytest

evaluate: $(VENV)/.all
	$(BIN)/python -m benchmarks.evaluate_summaries

benchmark: $(VENV)/.all
	$(BIN)/python -m benchmarks.benchmark

train: $(VENV)/.all
	$(BIN)/python -m training.train --corpus ../shared/corpus/articles.jsonl ../shared/corpus/news_2019_2026.jsonl ../shared/corpus/synthetic.jsonl --output models
