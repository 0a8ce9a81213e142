"""Sentence splitting and chunking (rag/split.py): fixed answers on Korean news text."""
from __future__ import annotations

import pytest
from conftest import ARTICLES_DIR

from rag.ingest import make_article, read_file
from rag.split import chunk_article, sentence_spans, sentences

SEED_FILES = ["000_88f3d87ffd12de4e.txt", "004_fdb6532c78211c37.txt"]


def real_articles():
    return [a for name in SEED_FILES for a in read_file(ARTICLES_DIR / name)]


# --- sentences ------------------------------------------------------------------------


def test_glued_sentence_after_hangul_is_split():
    text = "그는 이렇게 말했습니다.최근 주가가 크게 올랐다."
    assert sentences(text) == ["그는 이렇게 말했습니다.", "최근 주가가 크게 올랐다."]


def test_sentence_glued_to_a_number_is_split():
    text = "나스닥 지수는 0.6% 상승했다.10년만기 국채 금리는 4.54%였다.최근 반등했다."
    assert sentences(text) == [
        "나스닥 지수는 0.6% 상승했다.",
        "10년만기 국채 금리는 4.54%였다.",
        "최근 반등했다.",
    ]


def test_sentence_glued_to_a_latin_word_is_split():
    text = "딥시크가 새 모델을 내놓았다.AI 업계가 긴장했다."
    assert sentences(text) == ["딥시크가 새 모델을 내놓았다.", "AI 업계가 긴장했다."]


@pytest.mark.parametrize(
    "text",
    [
        "금리가 3.5% 올랐다.",
        "지수는 0.6% 상승했다.",
        "국채 금리는 4.54%까지 뛰었다.",
        "시가총액 5,930억달러가 하루 만에 사라졌다.",
        "버전 2.0과 3.14를 비교했다.",
    ],
)
def test_decimals_and_numbers_are_not_split(text):
    assert sentences(text) == [text]


def test_numbers_inside_a_longer_text_keep_their_sentences_whole():
    text = "엔비디아 주가는 17% 폭락했고 시가총액 5,930억달러가 증발했다. 금리는 4.54%로 0.6%p 올랐다. 물가는 3.5% 뛰었다."
    assert sentences(text) == [
        "엔비디아 주가는 17% 폭락했고 시가총액 5,930억달러가 증발했다.",
        "금리는 4.54%로 0.6%p 올랐다.",
        "물가는 3.5% 뛰었다.",
    ]


def test_closing_quote_stays_with_its_sentence():
    text = '"그런데 더 좋은 딥시크가 있어서 별로 아쉽진 않아요." 최근 만난 한 관계자의 말입니다.'
    assert sentences(text) == [
        '"그런데 더 좋은 딥시크가 있어서 별로 아쉽진 않아요."',
        "최근 만난 한 관계자의 말입니다.",
    ]


def test_glued_sentences_in_a_real_article_are_split():
    article = read_file(ARTICLES_DIR / SEED_FILES[0])[0]  # "…말했습니다. 도널드…" and "…말이었습니다.중국의…"
    got = sentences(article.text)
    assert any(s.endswith("설명이 깔려 있는 말이었습니다.") for s in got)
    assert any(s.startswith("중국의 해외 인재 유치 사업인 천인계획") for s in got)


@pytest.mark.parametrize("index", range(9))
def test_spans_map_back_to_the_text_exactly(index):
    text = real_articles()[index].text
    spans = sentence_spans(text)
    assert len(spans) > 3
    cursor = 0
    for start, end in spans:
        assert cursor <= start < end <= len(text)
        assert text[cursor:start].strip() == ""  # only whitespace between sentences
        assert text[start:end].strip() != ""
        cursor = end
    assert text[cursor:].strip() == ""
    assert "".join(text[s:e] for s, e in spans).replace(" ", "") == text.replace(" ", "").replace("\n", "")


def test_empty_text_has_no_sentences():
    assert sentence_spans("") == []
    assert sentence_spans("   \n ") == []


# --- chunks ---------------------------------------------------------------------------


# At 120 characters some sentences of the bundled articles are run-ons that must be cut.
SMALL_CHUNKS = pytest.param(120, 30)


def _short_sentence_article():
    body = " ".join(f"{i}번째 문장에서 주가가 {i}.5% 올랐다." for i in range(1, 25))
    return make_article(body, "short.txt", line=1)


@pytest.mark.parametrize("size, overlap", [(400, 80), (200, 50), SMALL_CHUNKS])
def test_chunks_are_exact_spans_of_real_articles(size, overlap):
    for article in real_articles():
        chunks = chunk_article(article, size, overlap)
        assert chunks
        for c in chunks:
            assert c.article_id == article.id
            assert 0 <= c.start < c.end <= len(article.text)
            assert article.text[c.start : c.end] == c.text


@pytest.mark.parametrize("size, overlap", [(400, 80), (200, 50), SMALL_CHUNKS])
def test_chunks_cover_the_whole_article(size, overlap):
    for article in real_articles():
        chunks = chunk_article(article, size, overlap)
        covered = [False] * len(article.text)
        for c in chunks:
            covered[c.start : c.end] = [True] * (c.end - c.start)
        missed = "".join(ch for ch, hit in zip(article.text, covered) if not hit)
        assert missed.strip() == "", f"text not in any chunk: {missed!r}"
        assert chunks[0].start == 0 and chunks[-1].end == len(article.text)


@pytest.mark.parametrize("size", [400, 200, 120])
def test_chunks_respect_chunk_size(size):
    for article in real_articles():
        chunks = chunk_article(article, size, size // 5)
        assert max(len(c.text) for c in chunks) <= size
        if len(article.text) > 2 * size:
            assert len(chunks) >= len(article.text) // size  # not one giant chunk either


def test_chunk_ids_are_consecutive_from_first_id():
    chunks = chunk_article(_short_sentence_article(), 100, 30, first_id=40)
    assert [c.id for c in chunks] == list(range(40, 40 + len(chunks)))


def test_consecutive_chunks_overlap_by_whole_sentences():
    article = _short_sentence_article()
    chunks = chunk_article(article, 100, 40)
    assert len(chunks) > 5
    starts = {s for s, _ in sentence_spans(article.text)}
    for prev, nxt in zip(chunks, chunks[1:]):
        assert prev.start < nxt.start < prev.end, "no overlap between consecutive chunks"
        assert prev.end - nxt.start <= 40
        assert nxt.start in starts  # the overlap starts on a sentence boundary


def test_no_overlap_when_overlap_is_zero():
    chunks = chunk_article(_short_sentence_article(), 100, 0)
    for prev, nxt in zip(chunks, chunks[1:]):
        assert nxt.start >= prev.end


def test_run_on_sentence_longer_than_chunk_size_is_cut():
    body = "첫 문장이다. 이 문장은 " + ", ".join(f"아주 긴 쉼표 목록 항목 번호 {i}" for i in range(20)) + "로 끝난다."
    article = make_article(body, "long.txt")
    chunks = chunk_article(article, 100, 20)
    assert len(chunks) >= 4
    for c in chunks:
        assert len(c.text) <= 100
        assert c.start >= 0 and article.text[c.start : c.end] == c.text
    assert chunks[-1].text.endswith("로 끝난다.")


@pytest.mark.parametrize(
    "body",
    [
        "이 문장은 " + " ".join(f"아주 긴 공백 목록 항목 번호 {i}" for i in range(40)) + "로 끝난다.",
        "이 문장은 " + ", ".join(f"아주 긴 쉼표 목록 항목 번호 {i}" for i in range(60)) + "로 끝난다. 다음 문장이다.",
    ],
    ids=["cut-at-spaces", "cut-then-next-sentence"],
)
def test_cut_run_on_sentence_chunks_are_exact_spans(body):
    article = make_article(body, "long.txt")
    chunks = chunk_article(article, 100, 20)
    for c in chunks:
        assert c.start >= 0
        assert article.text[c.start : c.end] == c.text


def test_empty_article_has_no_chunks():
    assert chunk_article(make_article("", "empty.txt"), 400, 80) == []
