"""One behaviour suite for every home of an index: the same tests, run on the folder and on
PostgreSQL, through the interface the product uses (`rag.stores`: update, embed_backlog,
open_store, and the `Store` it opens). FakeEmbedder only; PostgreSQL from tests/pg.py."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fakes import FakeEmbedder

from rag import stores
from rag.config import Settings
from rag.errors import IndexMismatch
from rag.ingest import read_paths
from rag.korean import tokens
from rag.stores.identity import identity
from rag.types import Scope

SETTINGS = Settings(chunk_size=200, chunk_overlap=40)
ROWS = [
    {"title": "환율 급등", "text": "원·달러 환율이 1450원을 넘어 마감했다. 외국인 매도가 이어졌다.", "date": "2024-10-03", "source": "한겨레"},
    {"title": "환율 진정", "text": "원·달러 환율이 1400원 아래로 내려왔다. 당국의 개입 경계감이 컸다.", "date": "2024-10-10", "source": "조선일보"},
    {"title": "유가 급등", "text": "국제 유가가 하루 만에 5% 올랐다. 중동의 긴장이 높아졌기 때문이다.", "date": "2024-10-24", "source": "조선일보"},
]


@pytest.fixture(params=["folder", pytest.param("postgres", marks=pytest.mark.postgres)])
def home(request, tmp_path):
    """Where the index lives: (spec, index_dir) as `rag.stores` takes them."""
    if request.param == "folder":
        return None, tmp_path / "index"
    return request.getfixturevalue("pg_spec"), tmp_path / "unused"


def write_news(folder: Path, rows: list[dict]) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "news.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def update(home, paths: list[Path], embedder: FakeEmbedder, settings: Settings = SETTINGS, rebuild: bool = False):
    spec, index_dir = home
    return stores.update(spec, index_dir, identity(embedder, settings), read_paths(paths), paths, settings, rebuild)


def opened(home, embedder: FakeEmbedder, settings: Settings = SETTINGS) -> stores.Store:
    spec, index_dir = home
    return stores.open_store(spec, index_dir, identity(embedder, settings))


def titles(store: stores.Store, ids) -> set[str]:
    return {article.title for _, article in store.passages(ids).values()}


def test_an_update_is_searchable_by_keyword_at_once_and_by_meaning_once_embedded(home, tmp_path):
    embedder = FakeEmbedder()
    news = write_news(tmp_path / "news", ROWS)
    result = update(home, [news], embedder)
    assert (result.added, result.removed) == (3, 0)
    store = opened(home, embedder)
    assert store.article_count == 3 and store.pending == store.chunk_count > 0
    assert titles(store, store.keyword(tokens("유가 급등"), 2)) >= {"유가 급등"}
    assert store.nearest(embedder.embed_query("유가 급등"), 3) == {}  # nothing embedded yet
    assert stores.embed_backlog(home[0], home[1], identity(embedder, SETTINGS), embedder).embedded == store.chunk_count
    store = store.refresh()
    assert store.pending == 0 and "유가 급등" in titles(store, store.nearest(embedder.embed_query("국제 유가가 하루 만에 5% 올랐다"), 1))


def test_updating_again_adds_nothing_unchanged_replaces_the_changed_and_removes_the_gone(home, tmp_path):
    embedder = FakeEmbedder()
    news = write_news(tmp_path / "news", ROWS)
    update(home, [news], embedder)
    again = update(home, [news], embedder)
    assert (again.added, again.removed, again.unchanged) == (0, 0, 3)
    changed = [ROWS[0], {**ROWS[1], "text": ROWS[1]["text"] + " 정정: 1398원."}]  # one changed, one gone
    news = write_news(tmp_path / "news", changed)
    result = update(home, [news], embedder)
    store = opened(home, embedder)
    assert (result.added, result.removed) == (1, 2) and store.article_count == 2
    assert sorted(a.title for a in store.all_articles()) == ["환율 급등", "환율 진정"]
    assert any("1398원" in a.text for a in store.all_articles())


def test_a_scope_narrows_both_searches_to_its_days_and_outlets(home, tmp_path):
    embedder = FakeEmbedder()
    update(home, [write_news(tmp_path / "news", ROWS)], embedder)
    stores.embed_backlog(home[0], home[1], identity(embedder, SETTINGS), embedder)
    store = opened(home, embedder)
    october_first_week = Scope(since=date(2024, 10, 1), until=date(2024, 10, 7))
    assert titles(store, store.keyword(tokens("환율"), 5, october_first_week)) == {"환율 급등"}
    assert titles(store, store.nearest(embedder.embed_query("환율"), 5, Scope(outlets=("조선일보",)))) == {"환율 진정", "유가 급등"}
    assert store.newest == date(2024, 10, 24) and set(store.outlets) == {"조선일보", "한겨레"}


def test_an_open_store_sees_another_writers_update_when_refreshed(home, tmp_path):
    embedder = FakeEmbedder()
    update(home, [write_news(tmp_path / "a", ROWS[:1])], embedder)
    store = opened(home, embedder)
    assert store.refresh().article_count == 1
    update(home, [write_news(tmp_path / "b", ROWS[1:])], embedder)  # another process's `rag index`
    assert store.article_count == 1 and store.refresh().article_count == 3


def test_a_store_built_with_other_settings_refuses_to_open(home, tmp_path):
    embedder = FakeEmbedder()
    update(home, [write_news(tmp_path / "news", ROWS)], embedder)
    with pytest.raises(IndexMismatch):
        opened(home, embedder, Settings(chunk_size=300, chunk_overlap=40))
