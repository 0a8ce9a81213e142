"""The folder store on disk and incremental indexing (rag/stores/folder/), with FakeEmbedder."""
from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakeEmbedder, FakeGenerator

from rag import korean
from rag.config import Settings
from rag.errors import IndexMismatch, IndexMissing, StoreError
from rag.stores.identity import Identity, identity
from rag.stores.folder import backlog, catch_up, index_paths, reader, segment, vectors
from rag.stores.folder import generations as store
from rag.stores.identity import SCHEMA_VERSION
from rag.stores.plan import Entry
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


def expected(embedder: FakeEmbedder, settings: Settings = SETTINGS) -> Identity:
    return identity(embedder, settings)


def reopen(index_dir: Path, embedder: FakeEmbedder) -> reader.Index:
    return reader.open_index(index_dir, expected(embedder))


def reopen_with(index_dir: Path, embedder: FakeEmbedder, settings: Settings) -> reader.Index:
    return reader.open_index(index_dir, expected(embedder, settings))


def live_generation(index_dir: Path) -> str:
    return (index_dir / "CURRENT").read_text().strip()


def segments(index_dir: Path) -> list[str]:
    return json.loads((index_dir / live_generation(index_dir)).read_text(encoding="utf-8"))["segments"]


def entries(index: reader.Index) -> dict[str, Entry]:
    return store.read_catalog(index.folder, index.identity).entries


def assert_consistent(index: reader.Index) -> None:
    """Chunks are exact spans of their articles, every chunk has its vector, and every table agrees."""
    assert index.dense.size == len(index.chunks) == len(index.embedded) and index.pending == 0
    assert len({c.id for c in index.chunks}) == len(index.chunks)
    listed = sorted(cid for entry in entries(index).values() for cid in entry.chunks)
    assert listed == sorted(c.id for c in index.chunks)
    assert set(entries(index)) == set(index.articles)
    for c in index.chunks:
        assert index.articles[c.article_id].text[c.start : c.end] == c.text


def seed_articles(index: reader.Index, corpus: Path) -> dict[int, str]:
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


def test_generation_records_identity_and_segments_their_checksums(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    generation = json.loads((index_dir / live_generation(index_dir)).read_text(encoding="utf-8"))
    built = generation["identity"]
    assert built["schema_version"] == SCHEMA_VERSION
    assert (built["model_id"], built["dim"]) == ("fake-bigram-64", 64)
    assert (built["chunk_size"], built["chunk_overlap"]) == (200, 40)
    assert (built["bm25_k1"], built["bm25_b"]) == (SETTINGS.bm25_k1, SETTINGS.bm25_b)
    assert built["words"]["tags"] == sorted(korean.CONTENT_TAGS)
    [name] = generation["segments"]
    meta = json.loads((index_dir / name / "segment.json").read_text(encoding="utf-8"))
    assert set(meta["files"]) == set(segment.FILES)


def test_reopened_index_finds_its_chunks(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    index = reopen(index_dir, fake_embedder)
    target = next(c for c in index.chunks if "유가 급등" not in c.text and "환율" in c.text)
    dense = index.dense.search(fake_embedder.embed_query(target.text), 1)
    assert list(dense) == [target.id]
    assert dense[target.id] == pytest.approx(1.0, abs=1e-3)  # vectors are kept in float16
    sparse = index.sparse.search(tokens("환율 전망은?"), 50)
    assert sparse
    hit_articles = {index.articles[index.chunk(cid).article_id].text.split()[0] for cid in sparse}
    assert hit_articles == {"환율"}


def test_rerun_on_same_files_embeds_nothing(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    before = live_generation(index_dir)
    fake_embedder.reset()
    result = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert (result.added, result.removed, result.unchanged) == (0, 0, 4)
    assert fake_embedder.calls == []
    assert live_generation(index_dir) == before  # nothing changed, nothing rewritten


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
    assert old[2] not in index.articles and old[2] not in entries(index)
    assert (new[1], new[3]) == (old[1], old[3])
    assert len(fake_embedder.embedded) == len([c for c in index.chunks if c.article_id == new[2]])
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
    assert entries(index)[old[3]].line == 1 and index.articles[old[3]].line == 1
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
    before = segments(index_dir)
    written = {name: (index_dir / name / "segment.json").stat().st_mtime_ns for name in before}
    extra = tmp_path / "extra.md"
    extra.write_text("# 금값\n" + article_line(5, "금값"), encoding="utf-8")
    fake_embedder.reset()
    result = index_paths([extra], index_dir, fake_embedder, SETTINGS)
    assert (result.added, result.removed, result.unchanged) == (1, 0, 0)
    index = reopen(index_dir, fake_embedder)
    assert len(index.articles) == 5
    # the update wrote one new segment and left the old one as it was
    assert segments(index_dir)[:-1] == before and len(segments(index_dir)) == 2
    assert {name: (index_dir / name / "segment.json").stat().st_mtime_ns for name in before} == written
    assert_consistent(index)


def test_rebuild_cuts_again_but_embeds_nothing_it_has(corpus, index_dir, fake_embedder):
    first = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    old = segments(index_dir)
    fake_embedder.reset()
    again = index_paths([corpus], index_dir, fake_embedder, SETTINGS, rebuild=True)
    assert again.added == 4 and again.chunks == first.chunks
    assert fake_embedder.calls == []  # the vectors are kept by what was embedded
    assert not set(segments(index_dir)) & set(old) and not any((index_dir / name).exists() for name in old)
    assert_consistent(reopen(index_dir, fake_embedder))


def test_small_segments_are_merged_and_removed_chunks_dropped(corpus, index_dir, tmp_path, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    for n in range(store.MERGE_FACTOR + 1):  # one file, rewritten: one small segment each time
        (tmp_path / "extra.md").write_text(f"# 금값 {n}\n" + article_line(n, "금값"), encoding="utf-8")
        index_paths([tmp_path / "extra.md"], index_dir, fake_embedder, SETTINGS)
    assert len(segments(index_dir)) < store.MERGE_FACTOR
    generation = json.loads((index_dir / live_generation(index_dir)).read_text(encoding="utf-8"))
    index = reopen(index_dir, fake_embedder)
    on_disk = {c for name in generation["segments"] for e in segment.read_meta(index_dir / name)["entries"].values() for c in e.chunks}
    assert set(generation["removed"]) <= on_disk  # removed chunks of merged segments are gone
    assert len(index.articles) == 5 and f"금값 {store.MERGE_FACTOR}" in {a.title for a in index.articles.values()}
    assert_consistent(index)


def test_keyword_search_comes_first_and_vectors_catch_up(corpus, index_dir, fake_embedder):
    result = index_paths([corpus], index_dir, fake_embedder, SETTINGS, embed=False)
    index = result.index
    assert fake_embedder.calls == [] and index.pending == len(index.chunks) > 0
    assert index.sparse.search(tokens("환율 전망은?"), 5)  # searchable by BM25 already
    done = catch_up(index_dir, fake_embedder, expected(fake_embedder))
    assert (done.embedded, done.pending, done.busy, done.stopped) == (len(index.chunks), 0, False, False)
    fresh = reader.refresh(index)
    assert fresh is not index and fresh.pending == 0
    assert reader.refresh(fresh) is fresh  # nothing changed since
    assert index.pending == len(index.chunks)  # the old object is as it was, for an answer still running
    assert_consistent(fresh)


def test_one_embedder_at_a_time(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS, embed=False)
    with store.embedding_lock(index_dir) as held:
        assert held
        done = catch_up(index_dir, fake_embedder, expected(fake_embedder))
        assert done.busy and done.pending > 0 and fake_embedder.calls == []
        index_paths([corpus], index_dir, fake_embedder, SETTINGS, embed=False)  # updates are not blocked


def test_stopped_catch_up_keeps_its_vectors_and_resumes(corpus, index_dir, fake_embedder, monkeypatch):
    monkeypatch.setattr(backlog, "BATCH", 2)
    index_paths([corpus], index_dir, fake_embedder, SETTINGS, embed=False)
    stop = threading.Event()
    done = catch_up(index_dir, fake_embedder, expected(fake_embedder), lambda *_: stop.set(), stop)
    assert done.stopped and 0 < done.embedded < done.embedded + done.pending
    fake_embedder.reset()
    rest = catch_up(index_dir, fake_embedder, expected(fake_embedder))
    assert rest.embedded == done.pending and fake_embedder.texts_embedded == done.pending
    assert_consistent(reopen(index_dir, fake_embedder))


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
        reader.open_index(index_dir, expected(embedder, settings))
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
        reader.open_index(tmp_path / "nothing", expected(fake_embedder))
    assert isinstance(err.value, StoreError)


@pytest.mark.parametrize("name", ["chunks.jsonl", "articles.jsonl", "bm25.npz"])
def test_damaged_file_is_reported_at_open(corpus, index_dir, fake_embedder, name):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    path = index_dir / segments(index_dir)[0] / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="damaged.*--rebuild"):
        reopen(index_dir, fake_embedder)


def test_damaged_vectors_are_embedded_again(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    [shard] = vectors.shards(vectors.folder(index_dir, fake_embedder.model_id, fake_embedder.dim))
    shard.write_bytes(shard.read_bytes()[:100])
    index = reopen(index_dir, fake_embedder)
    assert index.pending == len(index.chunks)  # still opens, searchable by keyword
    fake_embedder.reset()
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert fake_embedder.texts_embedded == len(index.chunks)
    assert_consistent(reopen(index_dir, fake_embedder))


def test_unreadable_generation_is_reported(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    (index_dir / live_generation(index_dir)).write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match="generation file"):
        reopen(index_dir, fake_embedder)


def test_crashed_segment_is_removed_on_next_update(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    live = segments(index_dir)
    crashed = index_dir / "seg-1"
    crashed.mkdir()
    (crashed / "chunks.jsonl").write_text('[0, "art', encoding="utf-8")  # half written
    assert list(reopen(index_dir, fake_embedder).segments) == live  # ignored by readers

    (corpus / "extra.md").write_text("# 금값\n" + article_line(5, "금값"), encoding="utf-8")
    result = index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert result.added == 1
    assert not crashed.exists()
    assert sorted(p.name for p in index_dir.glob("seg-*")) == sorted(segments(index_dir))
    assert [p.name for p in index_dir.glob("gen-*")] == [live_generation(index_dir)]
    assert_consistent(reopen(index_dir, fake_embedder))


def test_crashed_segment_is_removed_even_when_nothing_changed(corpus, index_dir, fake_embedder):
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    (index_dir / "seg-1").mkdir()
    index_paths([corpus], index_dir, fake_embedder, SETTINGS)
    assert [p.name for p in index_dir.glob("seg-*")] == segments(index_dir)


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


# --- one story, one source ---------------------------------------------------------------


def test_a_story_sent_twice_is_one_hit_with_its_copy(tmp_path, index_dir, fake_embedder):
    from rag.retrieve import retrieve
    from rag.types import Answer
    from ui.render import sources_html

    folder = tmp_path / "news"
    folder.mkdir()
    story = article_line(1, "환율")
    (folder / "a.md").write_text("# 환율 급등\n" + story, encoding="utf-8")
    (folder / "b.md").write_text("# 환율 급등(종합)\n" + story.replace("1번째", "첫"), encoding="utf-8")  # re-sent, a word changed
    (folder / "c.md").write_text("# 유가\n" + article_line(2, "유가"), encoding="utf-8")
    index = index_paths([folder], index_dir, fake_embedder, SETTINGS).index
    hits = retrieve(index, fake_embedder, "환율 지수 상승", tokens("환율 지수 상승"), replace(SETTINGS, top_k=4))
    titles = [h.article.title for h in hits]
    assert len({t for t in titles if t.startswith("환율")}) == 1  # never both copies
    first = next(h for h in hits if h.article.title.startswith("환율"))
    assert [a.title for a in first.copies] == [({"환율 급등", "환율 급등(종합)"} - {first.article.title}).pop()]
    assert "같은 기사 2건" in sources_html(Answer(question="q", text="", refused=True, hits=tuple(hits)))


def test_many_small_vector_shards_are_joined(corpus, index_dir, fake_embedder, monkeypatch):
    monkeypatch.setattr(vectors, "FLUSH_SECONDS", 0)  # a shard after every batch, as a long run makes them
    monkeypatch.setattr(backlog, "BATCH", 1)
    index_paths([corpus], index_dir, fake_embedder, SETTINGS, embed=False)
    where = vectors.folder(index_dir, fake_embedder.model_id, fake_embedder.dim)
    monkeypatch.setattr(vectors, "compact", lambda where: None)
    catch_up(index_dir, fake_embedder, expected(fake_embedder))
    many = vectors.shards(where)
    assert len(many) > 4
    monkeypatch.undo()
    vectors.compact(where, most=4)
    assert len(vectors.shards(where)) == 1
    assert_consistent(reopen(index_dir, fake_embedder))
