"""Shared fixtures for the unit tests. Nothing here loads a real model.

The real models are only used by tests marked `e2e` (see pyproject.toml); run the unit
suite with `pytest -m "not e2e"`.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeEmbedder, FakeGenerator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTICLES_DIR = PROJECT_ROOT / "articles"


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def fake_generator() -> FakeGenerator:
    return FakeGenerator()


@pytest.fixture
def articles_dir() -> Path:
    return ARTICLES_DIR
