"""The PostgreSQL store against a real PostgreSQL with pgvector (tests/pg.py), next to the folder
store on the same articles: the same plan, the same BM25 scores, the same dense ranking, the
same scopes, the same hits; the identity refuses; the page and the pipeline do not know which
store they run on."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fakes import FakeEmbedder, FakeGenerator

from rag import Pipeline, load_config
from rag.config import Settings
from rag.errors import IndexMismatch, IndexMissing
from rag.stores.folder import index_paths
from rag.stores.identity import identity
from rag.ingest import read_paths
from rag.korean import tokens
from rag.retrieve import retrieve
from rag.stores import Store
from rag.stores.postgres import PostgresStore
from rag.types import Scope

pytestmark = pytest.mark.postgres
SETTINGS = Settings(chunk_size=200, chunk_overlap=40)
TOPICS = ["코스피", "나스닥", "환율", "유가"]
QUERIES = ["환율 전망은?", "코스피 지수 상승", "유가 급등 이유", "외국인 매수 마감", "나스닥 3번째 기사"]


def line(n: int, topic: str, extra: str = "") -> str:
    return f"{topic} {n}번째 기사입니다. " + " ".join(f"{topic} 지수가 외국인 매수에 힘입어 {n}.{k}% 상승 마감했다{extra}." for k in range(8))


def write_seed(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_seed(folder / "seed.txt", [line(i, t) for i, t in enumerate(TOPICS[:3], 1)])
    (folder / "story.md").write_text("# 유가 급등\n" + line(9, "유가"), encoding="utf-8")
    rows = [{"title": f"{t} 소식 {d}", "text": line(d, t, f" {d}일"), "date": f"2024-10-{d:02d}", "source": outlet}
            for d, t, outlet in [(3, "환율", "한겨레"), (10, "환율", "조선일보"), (17, "코스피", "한겨레"), (24, "유가", "조선일보")]]
    (folder / "news.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return folder


def both(corpus: Path, folder: Path, spec, embedder) -> tuple[Store, Store]:
    """The folder store and the PostgreSQL store of the same files, both fully embedded."""
    folder_store = index_paths([corpus], folder, embedder, SETTINGS).index
    pg = update(spec, embedder, [corpus]).index
    pg.embed_pending(embedder)
    return folder_store, pg.refresh()


def update(spec, embedder, paths, rebuild=False):
    from rag.stores.postgres.writer import update as pg_update

    paths = [Path(p) for p in paths]
    result = pg_update(spec, identity(embedder, SETTINGS), read_paths(paths), paths, SETTINGS, rebuild)
    result.index = PostgresStore.open(spec, identity(embedder, SETTINGS))
    return result


def keyed(store: Store, scores: dict[int, float]) -> dict[tuple, float]:
    """Scores by (article, start, end): chunk ids differ between stores, chunks do not."""
    found = store.passages(scores)
    return {(found[i][0].article_id, found[i][0].start, found[i][0].end): s for i, s in scores.items()}


def contents(store: Store) -> tuple:
    articles = sorted((a.id, a.source, a.line, a.title, a.date, a.outlet) for a in store.all_articles())
    return articles, store.article_count, store.chunk_count


def test_it_is_a_store_and_opens_only_with_its_identity(corpus, pg_spec, fake_embedder):
    with pytest.raises(IndexMissing, match="No index in postgresql://rag@127.0.0.1:.*rag index"):
        PostgresStore.open(pg_spec, identity(fake_embedder, SETTINGS))
    update(pg_spec, fake_embedder, [corpus])
    store = PostgresStore.open(pg_spec, identity(fake_embedder, SETTINGS))
    assert isinstance(store, Store) and store.article_count == 8
    for other, key in [(FakeEmbedder(model_id="another"), "model_id"), (FakeEmbedder(dim=32), "dim")]:
        with pytest.raises(IndexMismatch, match=f"built with {key}.*--rebuild"):
            PostgresStore.open(pg_spec, identity(other, SETTINGS))
    with pytest.raises(IndexMismatch, match="built with bm25_k1"):
        PostgresStore.open(pg_spec, identity(fake_embedder, replace(SETTINGS, bm25_k1=1.2)))
    with pytest.raises(IndexMismatch, match="built with chunk_size"):  # an update is refused the same way
        from rag.stores.postgres.writer import update as pg_update

        pg_update(pg_spec, identity(fake_embedder, replace(SETTINGS, chunk_size=300)), read_paths([corpus]), [corpus], SETTINGS)


def test_updates_plan_as_the_folder_does(corpus, pg_spec, tmp_path):
    folder_embedder, pg_embedder = FakeEmbedder(), FakeEmbedder()
    folder, pg = both(corpus, tmp_path / "index", pg_spec, folder_embedder)
    assert contents(pg) == contents(folder)

    def step():  # the same update on both; the same counts and the same index after it
        f = index_paths([corpus], tmp_path / "index", folder_embedder, SETTINGS)
        p = update(pg_spec, pg_embedder, [corpus])
        p.index.embed_pending(pg_embedder)
        assert (f.added, f.removed, f.unchanged, f.duplicates, f.chunks) == (p.added, p.removed, p.unchanged, p.duplicates, p.chunks)
        assert contents(p.index.refresh()) == contents(f.index)
        return f, p

    f, p = step()  # nothing changed
    assert (p.added, p.removed, p.unchanged) == (0, 0, 8) and pg_embedder.calls == []
    write_seed(corpus / "seed.txt", [line(3, TOPICS[2]), line(1, TOPICS[0]), line(2, TOPICS[1], " 거래량도 늘었다")])
    f, p = step()  # one line moved, one changed
    assert (p.added, p.removed, p.unchanged) == (1, 1, 7)
    (corpus / "story.md").unlink()
    f, p = step()  # a file gone
    assert p.removed == 1
    (corpus / "story.md").write_text("# 유가 급등\n" + line(9, "유가"), encoding="utf-8")
    pg_embedder.reset()
    f, p = step()  # added back: its vectors come from the cache, nothing is embedded
    assert p.added == 1 and pg_embedder.texts_embedded == 0 and p.index.pending == 0


def test_bm25_scores_equal_the_folders(corpus, pg_spec, tmp_path, fake_embedder):
    folder, pg = both(corpus, tmp_path / "index", pg_spec, fake_embedder)
    for q in QUERIES + ["환율 환율 지수"]:  # a word asked twice counts twice in both
        want, got = keyed(folder, folder.keyword(tokens(q), 50)), keyed(pg, pg.keyword(tokens(q), 50))
        assert want and got.keys() == want.keys(), q
        for key, score in want.items():
            assert got[key] == pytest.approx(score, abs=1e-4), (q, key)
    assert pg.keyword(tokens("없는단어들뿐"), 5) == {} and pg.keyword([], 5) == {}


def test_dense_exact_search_ranks_as_the_folder(corpus, pg_spec, tmp_path, fake_embedder):
    folder, pg = both(corpus, tmp_path / "index", pg_spec, fake_embedder)
    assert pg.pending == 0 and not pg.approximate
    for q in QUERIES:
        vector = fake_embedder.embed_query(q)
        want, got = folder.nearest(vector, 10), pg.nearest(vector, 10)
        assert list(keyed(pg, got)) == list(keyed(folder, want)), q  # the same order
        for key, score in keyed(folder, want).items():
            assert keyed(pg, got)[key] == pytest.approx(score, abs=1e-5)


@pytest.mark.parametrize("scope", [
    Scope(since=date(2024, 10, 5)), Scope(until=date(2024, 10, 12)), Scope(outlets=("한겨레",)),
    Scope(since=date(2024, 10, 5), until=date(2024, 10, 20), outlets=("조선일보", "한겨레")), Scope(outlets=("없는신문",)),
], ids=["since", "until", "outlet", "all-three", "nothing"])
def test_scopes_are_where_clauses_with_the_folders_answers(corpus, pg_spec, tmp_path, fake_embedder, scope):
    folder, pg = both(corpus, tmp_path / "index", pg_spec, fake_embedder)
    for q in ["환율 소식", "지수 상승 마감"]:
        assert keyed(pg, pg.keyword(tokens(q), 20, scope)) == pytest.approx(keyed(folder, folder.keyword(tokens(q), 20, scope)), abs=1e-4)
        vector = fake_embedder.embed_query(q)
        assert list(keyed(pg, pg.nearest(vector, 20, scope))) == list(keyed(folder, folder.nearest(vector, 20, scope)))


def test_the_same_hits_and_what_the_page_shows(corpus, pg_spec, tmp_path, fake_embedder):
    folder, pg = both(corpus, tmp_path / "index", pg_spec, fake_embedder)
    for q in QUERIES:
        for scope in (None, Scope(since=date(2024, 10, 5), reference=date(2024, 10, 24))):
            a = retrieve(folder, fake_embedder, q, tokens(q), SETTINGS, scope=scope)
            b = retrieve(pg, fake_embedder, q, tokens(q), SETTINGS, scope=scope)
            assert [(h.article.id, h.chunk.start, round(h.score, 4), h.dense_rank, h.sparse_rank) for h in a] == \
                   [(h.article.id, h.chunk.start, round(h.score, 4), h.dense_rank, h.sparse_rank) for h in b]
            assert [h.chunk.text for h in a] == [h.chunk.text for h in b] and [h.article for h in a] == [h.article for h in b]
    assert (pg.newest, pg.article_count, pg.chunk_count) == (folder.newest, folder.article_count, folder.chunk_count)
    assert sorted(pg.outlets) == sorted(folder.outlets)  # most articles first; ties in any order


def test_the_pipeline_answers_and_adds_files_on_postgres(corpus, pg_spec, tmp_path, fake_embedder):
    update(pg_spec, fake_embedder, [corpus])
    config = replace(load_config(), settings=SETTINGS, store=pg_spec)
    store = PostgresStore.open(pg_spec, identity(fake_embedder, SETTINGS))
    generator = FakeGenerator()
    pipeline = Pipeline(config, store, fake_embedder, generator)
    extra = tmp_path / "extra.md"
    extra.write_text("# 금값 급등\n" + line(5, "금값"), encoding="utf-8")
    result = pipeline.add_files([extra])
    assert result.added == 1 and pipeline.index.article_count == 9
    pipeline.index.embed_pending(fake_embedder)
    generator.enqueue_choice("5.1%")
    answer = pipeline.ask("금값 지수는 얼마나 올랐어?").answer
    assert not answer.refused and answer.citations[0].article.title == "금값 급등"
    assert pipeline.index.pending == 0


def test_a_rebuild_replaces_everything_in_one_transaction(corpus, pg_spec, fake_embedder, tmp_path):
    update(pg_spec, fake_embedder, [corpus]).index.embed_pending(fake_embedder)
    only = tmp_path / "only.md"
    only.write_text("# 금값\n" + line(5, "금값"), encoding="utf-8")
    fake_embedder.reset()
    result = update(pg_spec, fake_embedder, [only], rebuild=True)
    store = result.index
    assert (result.added, store.article_count) == (1, 1) and [a.title for a in store.all_articles()] == ["금값"]
    # a store built with another model is rebuilt from scratch (its vector column has another size)
    other = FakeEmbedder(model_id="other", dim=32)
    rebuilt = update(pg_spec, other, [only], rebuild=True).index
    rebuilt.embed_pending(other)
    assert rebuilt.refresh().pending == 0 and other.texts_embedded == rebuilt.chunk_count


def test_hnsw_is_an_option_with_its_recall_against_exact(corpus, pg_spec, fake_embedder, tmp_path):
    update(pg_spec, fake_embedder, [corpus]).index.embed_pending(fake_embedder)
    store = PostgresStore.open(replace(pg_spec, hnsw=True, ef_search=40), identity(fake_embedder, SETTINGS))
    assert store.approximate
    hits = total = 0
    for q in QUERIES:
        vector = fake_embedder.embed_query(q)
        exact, approximate = store.nearest(vector, 5, exact=True), store.nearest(vector, 5)
        hits, total = hits + len(set(exact) & set(approximate)), total + len(exact)
    assert hits / total >= 0.9
    assert store.nearest(fake_embedder.embed_query("환율"), 5, Scope(outlets=("한겨레",)))  # a filter still fills


def test_the_evaluation_runs_on_either_store_with_the_folders_vectors(corpus, pg_spec, tmp_path, fake_embedder):
    from rag.harness.eval_index import build_index, schema_of
    from rag.harness.evaluate import Corpus, Question, retrieval_scores

    articles = read_paths([corpus]).articles
    questions = [Question(str(i), f"{a.title} 상승 마감", (), a.id) for i, a in enumerate(articles)]
    data = Corpus(articles, questions, "test")
    folder_config = replace(load_config(), settings=SETTINGS)
    folder = build_index(data, tmp_path / "eval" / "test-corpus", fake_embedder, folder_config)
    fake_embedder.reset()
    pg_config = replace(folder_config, store=pg_spec)
    pg = build_index(data, tmp_path / "eval" / "test-corpus", fake_embedder, pg_config)
    assert pg.spec.schema == schema_of(tmp_path / "eval" / "test-corpus") == "rag_eval_test_corpus"
    assert pg.pending == 0 and fake_embedder.calls == []  # every vector came from the folder's cache
    want = retrieval_scores(folder, fake_embedder, questions, folder_config)
    assert retrieval_scores(pg, fake_embedder, questions, pg_config) == want
    hnsw = build_index(data, tmp_path / "eval" / "test-corpus", fake_embedder, replace(pg_config, store=replace(pg_spec, hnsw=True)))
    scores = retrieval_scores(hnsw, fake_embedder, questions, pg_config)
    assert 0.9 <= scores["dense_recall_vs_exact"] <= 1.0 and scores["hybrid"]["R@5"] >= want["hybrid"]["R@5"] - 0.01


def test_the_store_benchmark_runs_at_toy_sizes(corpus, pg_spec, fake_embedder):
    from rag.harness.store_bench import format_store_bench, run_store_bench

    report = run_store_bench(replace(load_config(), settings=SETTINGS), fake_embedder, [corpus / "news.jsonl", corpus / "seed.txt"],
                             pg_spec, sizes=(20, 60), progress=lambda _: None)
    assert report["ingest"].keys() == {"folder", "postgresql"} and [z["chunks"] for z in report["sizes"]] == [20, 60]
    for z in report["sizes"]:
        assert all(z[label]["add_one_found"] and z[label]["retrieval_ms_p95"] > 0 for label in ("folder", "postgresql", "postgresql_hnsw"))
    table = format_store_bench(report)
    assert "| 60 chunks | postgresql + hnsw |" in table and "not found" not in table


def test_an_open_store_sees_other_writers_and_refuses_a_rebuild_with_another_model(corpus, pg_spec, tmp_path, fake_embedder):
    first = update(pg_spec, fake_embedder, [corpus]).index
    second = PostgresStore.open(pg_spec, identity(fake_embedder, SETTINGS))  # a second web server
    extra = tmp_path / "extra.md"
    extra.write_text("# 금값 급등\n" + line(5, "금값"), encoding="utf-8")
    first.update(read_paths([extra]), [extra], SETTINGS)
    assert second.refresh() is not second and second.refresh().article_count == 9 and second.article_count == 8
    assert second.refresh().refresh().version == second.refresh().version  # nothing new: the same object's version
    update(pg_spec, FakeEmbedder(model_id="other"), [corpus], rebuild=True)
    with pytest.raises(IndexMismatch, match="built with model_id = 'other'"):
        second.refresh()
