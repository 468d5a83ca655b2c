"""Shared fixtures: the shipped model (real model files), an app around it, the example articles."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
EXAMPLES = SHARED / "examples"


@pytest.fixture(scope="session")
def shipped_store():
    from service.store import ModelStore

    store = ModelStore(ROOT / "models")
    store.load()
    return store


@pytest.fixture(scope="session")
def app(shipped_store):
    from service.app import create_app
    from service.config import Settings

    return create_app(shipped_store, Settings(max_body=1024 * 1024))


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def examples() -> dict[str, str]:
    if not EXAMPLES.is_dir():
        pytest.skip(f"{EXAMPLES} is absent (the project expects ../shared beside the checkout)")
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))}
