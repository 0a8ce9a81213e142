"""The index on disk and incremental indexing (rag/store.py, rag/index.py), with FakeEmbedder."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import FakeEmbedder, FakeGenerator

from rag import korean, store
from rag.config import Settings
from rag.errors import IndexMismatch, IndexMissing, StoreError
from rag.index import identity, index_paths
from rag.ingest import article_id
from rag.korean import tokens

SETTINGS = Settings(chunk_size=200, chunk_overlap=40)
TOPICS = ["코스피", "나스닥", "환율", "유가"]


def article_line(n: int, topic: str, extra: str = "") -> str:
    """A seed-format line (over 200 characters) about `topic`, long enough for several chunks."""
    body = " ".join(
        f"{topic} 지수가 외국인 매수에 힘입어 {n}.{k}% 상승 마감했다{extra}." for k in range(8)
    )
    return f"{topic} {n}번째 기사입니다. {body}"


def write_seed(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_seed(folder / "seed.txt", [article_line(i, t) for i, t in enumerate(TOPICS[:3], 1)])
    (folder / "story.md").write_text("# 유가 급등\n" + article_line(9, "유가"), encoding="utf-8")
    return folder


@pytest.fixture
def index_dir(tmp_path) -> Path:
    return tmp_path / "index"


def expected(embedder: FakeEmbedder, settings: Settings = SETTINGS) -> store.Identity:
    return identity(embedder, settings)


def reopen(index_dir: Path, embedder: FakeEmbedder) -> store.Index:
    return store.open_index(index_dir, expected(embedder))


def reopen_with(index_dir: Path, embedder: FakeEmbedder, settings: Settings) -> store.Index:
    return store.open_index(index_dir, expected(embedder, settings))


def live_folder(index_dir: Path) -> str:
    return (index_dir / "CURRENT").read_text().strip()


def assert_consistent(index: store.Index) -> None:
    """Chunks are exact spans of their articles, and every table agrees on them."""
    assert index.dense.size == len(index.chunks) == len(index.tokens)
    assert len({c.id for c in index.chunks}) == len(index.chunks)
    listed = sorted(cid for entry in index.manifest.articles.values() for cid in entry.chunks)
    assert listed == sorted(c.id for c in index.chunks)
    assert set(index.manifest.articles) == set(index.articles)
    for c in index.chunks:
        assert index.articles[c.article_id].text[c.start : c.end] == c.text


def seed_articles(index: store.Index, corpus: Path) -> dict[int, str]:
    """{line: article id} of the seed file's articles in the index."""
    source = str((corpus / "seed.txt").resolve())
    return {a.line: a.id for a in index.articles.values() if a.source == source}


# --- building and reopening -----------------------------------------------------------


def test_first_index_of_a_folder(corpus, index_dir, fake_embedder):
    result = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert (result.added, result.removed, result.unchanged, result.problems) == (4, 0, 0, [])
    index = reopen(index_dir, fake_embedder)
    assert len(index.articles) == 4
    assert result.chunks == len(index.chunks) > 4  # each article is longer than one chunk
    assert fake_embedder.texts_embedded == len(index.chunks)
    assert sorted(fake_embedder.embedded) == sorted(c.text for c in index.chunks)
    assert seed_articles(index, corpus).keys() == {1, 2, 3}
    assert_consistent(index)


def test_manifest_records_identity_and_files(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    folder = index_dir / live_folder(index_dir)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    built = manifest["identity"]
    assert built["schema_version"] == store.SCHEMA_VERSION
    assert (built["model_id"], built["dim"]) == ("fake-bigram-64", 64)
    assert (built["chunk_size"], built["chunk_overlap"]) == (200, 40)
    assert (built["bm25_k1"], built["bm25_b"]) == (SETTINGS.bm25_k1, SETTINGS.bm25_b)
    assert built["words"]["tags"] == sorted(korean.CONTENT_TAGS)
    assert {"articles.jsonl", "chunks.jsonl", "dense.faiss"} <= set(manifest["files"])
    assert any(name.startswith("sparse/") for name in manifest["files"])


def test_reopened_index_finds_its_chunks(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    index = reopen(index_dir, fake_embedder)
    target = next(c for c in index.chunks if "유가 급등" not in c.text and "환율" in c.text)
    dense = index.dense.search(fake_embedder.embed_query(target.text), 1)
    assert list(dense) == [target.id]
    assert dense[target.id] == pytest.approx(1.0, abs=1e-5)
    sparse = index.sparse.search(tokens("환율 전망은?"), 50)
    assert sparse
    hit_articles = {index.articles[index.chunks[pos].article_id].text.split()[0] for pos in sparse}
    assert hit_articles == {"환율"}


def test_rerun_on_same_files_embeds_nothing(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    before = live_folder(index_dir)
    fake_embedder.reset()
    result = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert (result.added, result.removed, result.unchanged) == (0, 0, 4)
    assert fake_embedder.calls == []
    assert live_folder(index_dir) == before  # nothing changed, nothing rewritten


def test_changed_line_reembeds_only_that_article(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    old = seed_articles(reopen(index_dir, fake_embedder), corpus)
    changed = article_line(2, TOPICS[1], extra=" 거래량도 늘었다")
    write_seed(corpus / "seed.txt", [article_line(1, TOPICS[0]), changed, article_line(3, TOPICS[2])])
    fake_embedder.reset()

    result = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert (result.added, result.removed, result.unchanged) == (1, 1, 3)
    assert fake_embedder.embedded and all(text in changed for text in fake_embedder.embedded)
    index = reopen(index_dir, fake_embedder)
    new = seed_articles(index, corpus)
    assert new[2] == article_id(changed) != old[2]
    assert old[2] not in index.articles and old[2] not in index.manifest.articles
    assert (new[1], new[3]) == (old[1], old[3])
    assert len(fake_embedder.embedded) == len(index.article_chunks(new[2]))
    assert_consistent(index)


def test_deleted_file_under_the_folder_is_removed(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    story = str((corpus / "story.md").resolve())
    (corpus / "story.md").unlink()
    fake_embedder.reset()
    result = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert (result.added, result.removed, result.unchanged) == (0, 1, 3)
    assert fake_embedder.calls == []
    index = reopen(index_dir, fake_embedder)
    assert len(index.articles) == 3
    assert all(a.source != story for a in index.articles.values())
    assert_consistent(index)


def test_line_moved_updates_metadata_without_embedding(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    old = seed_articles(reopen(index_dir, fake_embedder), corpus)
    write_seed(corpus / "seed.txt", [article_line(3, TOPICS[2]), article_line(1, TOPICS[0]), article_line(2, TOPICS[1])])
    fake_embedder.reset()
    result = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert (result.added, result.removed, result.unchanged) == (0, 0, 4)
    assert fake_embedder.calls == []
    index = reopen(index_dir, fake_embedder)
    assert seed_articles(index, corpus) == {1: old[3], 2: old[1], 3: old[2]}
    assert index.manifest.articles[old[3]].line == 1
    assert_consistent(index)


def test_whitespace_only_edit_keeps_chunks_exact(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    edited = article_line(1, TOPICS[0]).replace("기사입니다. ", "기사입니다.    ", 1)
    assert article_id(edited) != article_id(article_line(1, TOPICS[0]))  # a changed article
    write_seed(corpus / "seed.txt", [edited, article_line(2, TOPICS[1]), article_line(3, TOPICS[2])])
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert_consistent(reopen(index_dir, fake_embedder))


def test_indexing_one_file_leaves_other_articles_alone(corpus, index_dir, tmp_path, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    extra = tmp_path / "extra.md"
    extra.write_text("# 금값\n" + article_line(5, "금값"), encoding="utf-8")
    fake_embedder.reset()
    result = index_paths([extra], index_dir, fake_embedder, SETTINGS)
    assert (result.added, result.removed, result.unchanged) == (1, 0, 0)
    index = reopen(index_dir, fake_embedder)
    assert len(index.articles) == 5
    assert_consistent(index)


def test_rebuild_embeds_everything_again(corpus, index_dir, fake_embedder):
    first = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    fake_embedder.reset()
    again = index_paths([corpus], index_dir, fake_embedder, SETTINGS, rebuild=True)
    assert again.added == 4 and fake_embedder.texts_embedded == first.chunks == again.chunks


def test_problems_are_reported_and_good_files_indexed(corpus, index_dir, fake_embedder):
    (corpus / "broken.txt").write_bytes(b"\x00\x01binary")
    result = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert result.added == 4
    assert len(result.problems) == 1 and "broken.txt" in str(result.problems[0])


# --- identity and damage --------------------------------------------------------------


@pytest.mark.parametrize(
    "embedder, settings, key",
    [
        (FakeEmbedder(model_id="another-model"), SETTINGS, "model_id"),
        (FakeEmbedder(dim=32), SETTINGS, "dim"),
        (FakeEmbedder(), Settings(chunk_size=300, chunk_overlap=40), "chunk_size"),
        (FakeEmbedder(), Settings(chunk_size=200, chunk_overlap=20), "chunk_overlap"),
        (FakeEmbedder(), Settings(chunk_size=200, chunk_overlap=40, bm25_k1=1.2), "bm25_k1"),
        (FakeEmbedder(), Settings(chunk_size=200, chunk_overlap=40, bm25_b=0.75), "bm25_b"),
    ],
    ids=["model-id", "dim", "chunk-size", "chunk-overlap", "bm25-k1", "bm25-b"],
)
def test_other_embedder_chunking_or_bm25_is_a_mismatch(corpus, index_dir, embedder, settings, key):
    index_paths([corpus], index_dir, FakeEmbedder(), SETTINGS)
    with pytest.raises(IndexMismatch, match=f"built with {key}.*--rebuild"):
        index_paths([corpus], index_dir, embedder, settings)
    with pytest.raises(IndexMismatch):
        store.open_index(index_dir, expected(embedder, settings))
    assert embedder.calls == []


def test_other_bm25_words_are_a_mismatch(corpus, index_dir, fake_embedder, monkeypatch):
    """A change of the tag set changes every BM25 word: the index refuses to open, with no
    schema number bumped by hand."""
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    monkeypatch.setattr(korean, "CONTENT_TAGS", korean.CONTENT_TAGS - {"VV", "VA"})
    with pytest.raises(IndexMismatch, match="built with words = .*--rebuild"):
        reopen(index_dir, fake_embedder)


def test_missing_index(tmp_path, fake_embedder):
    with pytest.raises(IndexMissing, match="rag index") as err:
        store.open_index(tmp_path / "nothing", expected(fake_embedder))
    assert isinstance(err.value, StoreError)


@pytest.mark.parametrize("name", ["chunks.jsonl", "articles.jsonl", "dense.faiss"])
def test_damaged_file_is_reported_at_open(corpus, index_dir, fake_embedder, name):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    path = index_dir / live_folder(index_dir) / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="damaged.*--rebuild"):
        reopen(index_dir, fake_embedder)


def test_unreadable_manifest_is_reported(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    (index_dir / live_folder(index_dir) / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match="manifest"):
        reopen(index_dir, fake_embedder)


def test_crashed_build_folder_is_removed_on_next_update(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    live = live_folder(index_dir)
    crashed = index_dir / "data-1"
    (crashed / "sparse").mkdir(parents=True)
    (crashed / "chunks.jsonl").write_text('{"id": 0, "art', encoding="utf-8")  # half written
    assert reopen(index_dir, fake_embedder).folder.name == live  # ignored by readers

    (corpus / "extra.md").write_text("# 금값\n" + article_line(5, "금값"), encoding="utf-8")
    result = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert result.added == 1
    assert not crashed.exists()
    folders = sorted(p.name for p in index_dir.glob("data-*"))
    assert folders == [live_folder(index_dir)] and live not in folders  # old live folder gone too
    assert_consistent(reopen(index_dir, fake_embedder))


def test_crashed_build_folder_is_removed_even_when_nothing_changed(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    (index_dir / "data-1").mkdir()
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert [p.name for p in index_dir.glob("data-*")] == [live_folder(index_dir)]


def test_update_lock_blocks_a_second_update(corpus, index_dir, fake_embedder):
    with store.lock(index_dir):
        with pytest.raises(StoreError, match="Another `rag index`"):
            index_paths([corpus], index_dir, fake_embedder, SETTINGS)
        assert not store.exists(index_dir)
    assert fake_embedder.calls == []
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)  # released: works again
    assert store.exists(index_dir)


def test_removing_every_file_leaves_an_empty_index_that_opens(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    for f in corpus.iterdir():
        f.unlink()
    result = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert (result.removed, result.chunks) == (4, 0)
    index = reopen(index_dir, fake_embedder)
    assert index.articles == {} and index.chunks == [] and index.dense.size == 0
    assert index.sparse.search(tokens("코스피"), 5) == {}


def test_bundled_articles_index_with_project_relative_sources(articles_dir, index_dir, fake_embedder):
    result = index_paths([articles_dir], index_dir, fake_embedder, Settings())
    assert result.added == 9 and result.problems == []
    index = reopen_with(index_dir, fake_embedder, Settings())
    assert {a.source for a in index.articles.values()} == {
        "articles/000_88f3d87ffd12de4e.txt",
        "articles/004_fdb6532c78211c37.txt",
    }
    assert_consistent(index)
    fake_embedder.reset()
    assert index_paths([articles_dir], index_dir, fake_embedder, Settings()).unchanged == 9
    assert fake_embedder.calls == []


# --- the fakes themselves: they must honour the contracts the real code relies on ------


def test_fake_embedder_honours_the_embedder_contract():
    emb = FakeEmbedder()
    texts = ["엔비디아 주가가 폭락했다.", "엔비디아 주가가 크게 폭락했다.", "샤오미가 전기차를 공개했다.", ""]
    vecs = emb.embed_documents(texts)
    assert vecs.shape == (4, emb.dim) and vecs.dtype.name == "float32"
    assert [round(float(n), 5) for n in (vecs**2).sum(axis=1)] == [1.0] * 4
    assert (emb.embed_query(texts[0]) == vecs[0]).all()  # deterministic
    assert float(vecs[0] @ vecs[1]) > 0.8 > float(vecs[0] @ vecs[2])  # similar texts, similar vectors
    assert emb.calls == [("documents", 4), ("query", 1)] and emb.texts_embedded == 5
    assert emb.embed_documents([]).shape == (0, emb.dim)


def test_fake_generator_streams_enqueued_replies_in_order():
    gen = FakeGenerator()
    gen.enqueue(["엔비디아 주가가", " 폭락했습니다", " [1]."])
    gen.enqueue("제공된 기사에서 답을 찾을 수 없습니다.")
    messages = [{"role": "user", "content": "왜?"}]
    assert list(gen.stream(messages, max_tokens=256)) == ["엔비디아 주가가", " 폭락했습니다", " [1]."]
    assert "".join(gen.stream(messages, max_tokens=256)) == "제공된 기사에서 답을 찾을 수 없습니다."
    assert gen.requests == [(messages, 256), (messages, 256)] and gen.pending == 0
    gen.enqueue(["a", "b", "c"])
    assert list(gen.stream(messages, max_tokens=2)) == ["a", "b"]
    with pytest.raises(AssertionError, match="no reply enqueued"):
        list(gen.stream(messages, max_tokens=2))
