"""Citation markers and alignment of answer sentences to source sentences (rag/cite.py)."""
from __future__ import annotations

import pytest
from fakes import FakeEmbedder

from rag.cite import attach, is_refusal, parse_markers, strip_markers
from rag.config import Settings
from rag.ingest import make_article
from rag.prompt import REFUSAL
from rag.split import chunk_article, sentence_spans
from rag.types import Source

SETTINGS = Settings()

MARKET = make_article(
    "미국 증시가 혼조세로 출발했다. 엔비디아 주가가 28일 17% 폭락했다. 중국 딥시크의 저가 AI 모델 "
    "공개가 충격을 줬다. 시가총액 5,930억달러가 하루 만에 사라졌다.",
    "articles/market.txt",
    line=1,
)
CARS = make_article(
    "[더지엠뉴스] 샤오미가 새 전기차를 공개했다. 전기차 가격은 3.5% 인하됐다. 판매량은 0.6% 늘었다.",
    "articles/cars.txt",
    line=2,
)
# the same fact as MARKET's second sentence, reported by another article
ECHO = make_article("외신에 따르면 엔비디아 주가가 28일 17% 폭락했다. 반도체주가 동반 약세였다.", "articles/echo.txt", line=3)


def source(n, article, keep=None, chunk_size=60):
    """A prompt Source showing the article's sentences (or only those at the `keep` indexes)."""
    spans = sentence_spans(article.text)
    if keep is not None:
        spans = [spans[i] for i in keep]
    return Source(n, article, tuple(chunk_article(article, chunk_size, 0)), tuple(spans))


@pytest.fixture(params=["lexical", "fake-embedder"])
def embedder(request):
    return None if request.param == "lexical" else FakeEmbedder()


def quote_of(article, sentence):
    start = article.text.index(sentence)
    return start, start + len(sentence)


def assert_consistent(text, citations):
    """Every [n] in the text resolves, numbers run 1..k, quotes are exact article spans."""
    assert [c.n for c in citations] == list(range(1, len(citations) + 1))
    assert set(parse_markers(text)) == {c.n for c in citations}
    for c in citations:
        assert c.article.text[c.quote_start : c.quote_end] == c.quote
        assert c.chunk.article_id == c.article.id
        assert c.chunk.start <= c.quote_start < c.chunk.end


# --- markers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, numbers",
    [
        ("폭락했다 [1].", [1]),
        ("폭락했다 [1, 2].", [1, 2]),
        ("폭락했다[1][2].", [1, 2]),
        ("폭락했다 [1，2].", [1, 2]),  # full-width comma
        ("폭락했다 [3,1] 반등했다 [2].", [3, 1, 2]),
        ("하락했다 [1]. 반등했다[2, 3][1].", [1, 2, 3, 1]),
        ("표시가 없다.", []),
        ("목록 [가] 와 [1a] 는 번호가 아니다.", []),
    ],
)
def test_parse_markers(text, numbers):
    assert parse_markers(text) == numbers


@pytest.mark.parametrize(
    "text, stripped",
    [
        ("딥시크 충격 때문입니다 [1].", "딥시크 충격 때문입니다."),
        ("폭락했다[1, 2][3]. 반등했다 [4，5].", "폭락했다. 반등했다."),
        ("  표시가 없다.  ", "표시가 없다."),
        ("[1]", ""),
    ],
)
def test_strip_markers(text, stripped):
    assert strip_markers(text) == stripped


@pytest.mark.parametrize(
    "text, refused",
    [
        (REFUSAL, True),
        ("죄송하지만 " + REFUSAL, True),
        ("", True),
        ("  [1] ", True),
        ("엔비디아 주가가 17% 폭락했습니다 [1].", False),
    ],
)
def test_is_refusal(text, refused):
    assert is_refusal(text) is refused


# --- alignment ------------------------------------------------------------------------


def test_paraphrase_with_wrong_number_is_cited_to_the_right_sentence(embedder):
    sources = [source(1, MARKET), source(2, CARS)]
    text, citations = attach("엔비디아 주가는 28일 17% 폭락했습니다 [2].", sources, embedder, SETTINGS)
    [c] = citations
    assert c.article is MARKET
    assert c.quote == "엔비디아 주가가 28일 17% 폭락했다."
    assert (c.quote_start, c.quote_end) == quote_of(MARKET, c.quote)
    assert text == "엔비디아 주가는 28일 17% 폭락했습니다 [1]."
    assert_consistent(text, citations)


def test_uncited_sentence_gets_a_citation(embedder):
    sources = [source(1, MARKET), source(2, CARS)]
    text, citations = attach("전기차 가격이 3.5% 내렸습니다.", sources, embedder, SETTINGS)
    [c] = citations
    assert c.article is CARS and c.quote == "전기차 가격은 3.5% 인하됐다."
    assert (c.quote_start, c.quote_end) == quote_of(CARS, c.quote)
    assert text == "전기차 가격이 3.5% 내렸습니다 [1]."


def test_unsupported_sentence_is_dropped(embedder):
    sources = [source(1, MARKET), source(2, CARS)]
    answer = "딥시크의 저가 AI 모델이 충격을 줬습니다 [1]. 화성에 기지가 세워졌습니다 [1]."
    text, citations = attach(answer, sources, embedder, SETTINGS)
    assert [c.quote for c in citations] == ["중국 딥시크의 저가 AI 모델 공개가 충격을 줬다."]
    assert text == "딥시크의 저가 AI 모델이 충격을 줬습니다 [1]."
    assert_consistent(text, citations)


def test_only_sentences_shown_to_the_model_are_cited(embedder):
    # CARS is shown with its first sentence only: "판매량은 0.6% 늘었다." was never in the prompt
    sources = [source(1, MARKET), source(2, CARS, keep=[0])]
    text, citations = attach("판매량은 0.6% 늘었습니다 [2].", sources, embedder, SETTINGS)
    assert citations == []
    assert text == ""


def test_numbers_follow_first_use_and_repeat(embedder):
    sources = [source(1, MARKET), source(2, CARS)]
    answer = (
        "전기차 가격이 3.5% 내렸습니다 [2]. "
        "엔비디아 시가총액 5,930억달러가 사라졌습니다 [1]. "
        "샤오미 전기차 가격은 3.5% 인하됐습니다 [2]."
    )
    text, citations = attach(answer, sources, embedder, SETTINGS)
    assert [(c.n, c.article.id, c.quote) for c in citations] == [
        (1, CARS.id, "전기차 가격은 3.5% 인하됐다."),
        (2, MARKET.id, "시가총액 5,930억달러가 하루 만에 사라졌다."),
    ]
    assert parse_markers(text) == [1, 2, 1]
    assert_consistent(text, citations)


def test_citation_points_at_the_chunk_holding_the_quote(embedder):
    sources = [source(1, MARKET, chunk_size=60)]
    assert len(sources[0].chunks) == 2
    _, [c] = attach("시가총액 5,930억달러가 사라졌습니다.", sources, embedder, SETTINGS)
    assert c.chunk == sources[0].chunks[1]
    assert (c.quote_start, c.quote_end) == quote_of(MARKET, "시가총액 5,930억달러가 하루 만에 사라졌다.")


def test_quote_offsets_are_exact_even_for_a_span_with_leading_space(embedder):
    start, end = quote_of(CARS, "전기차 가격은 3.5% 인하됐다.")
    assert CARS.text[start - 1] == " "
    src = Source(1, CARS, tuple(chunk_article(CARS, 400, 0)), ((start - 1, end),))
    _, [c] = attach("전기차 가격이 3.5% 내렸습니다.", [src], embedder, SETTINGS)
    assert c.quote == "전기차 가격은 3.5% 인하됐다."
    assert (c.quote_start, c.quote_end) == (start, end)


def test_named_source_wins_when_it_supports_as_well(embedder):
    sources = [source(1, MARKET), source(2, ECHO)]
    _, [named] = attach("엔비디아 주가가 28일 17% 폭락했습니다 [2].", sources, embedder, SETTINGS)
    assert named.article is ECHO
    _, [unnamed] = attach("엔비디아 주가가 28일 17% 폭락했습니다.", sources, embedder, SETTINGS)
    assert unnamed.article is MARKET  # the exact sentence, not the one with extra words


def test_marker_after_the_full_stop_belongs_to_the_sentence_before(embedder):
    sources = [source(1, MARKET), source(2, ECHO)]
    text, [c] = attach("엔비디아 주가가 28일 17% 폭락했습니다. [2]", sources, embedder, SETTINGS)
    assert c.article is ECHO
    assert text == "엔비디아 주가가 28일 17% 폭락했습니다 [1]."


def test_sentences_glued_after_a_marker_are_cited_separately(embedder):
    sources = [source(1, MARKET), source(2, CARS)]
    answer = "엔비디아 주가가 28일 17% 폭락했습니다[2].전기차 가격은 3.5% 인하됐습니다[1]."
    text, citations = attach(answer, sources, embedder, SETTINGS)
    assert text == "엔비디아 주가가 28일 17% 폭락했습니다 [1]. 전기차 가격은 3.5% 인하됐습니다 [2]."
    assert [c.article for c in citations] == [MARKET, CARS]
    assert_consistent(text, citations)


def test_stray_full_stops_between_sentences_are_not_kept(embedder):
    sources = [source(1, MARKET), source(2, CARS)]
    text, citations = attach("엔비디아 주가가 28일 17% 폭락했습니다 [1]. . 전기차 가격은 3.5% 인하됐습니다 [2].", sources, embedder, SETTINGS)
    assert text == "엔비디아 주가가 28일 17% 폭락했습니다 [1]. 전기차 가격은 3.5% 인하됐습니다 [2]."
    assert_consistent(text, citations)


def test_refusal_and_empty_inputs_give_no_citations(embedder):
    sources = [source(1, MARKET)]
    assert attach(REFUSAL, sources, embedder, SETTINGS) == (REFUSAL, [])
    assert attach("엔비디아 주가가 폭락했습니다 [1].", [], embedder, SETTINGS) == ("엔비디아 주가가 폭락했습니다.", [])
    assert attach("", sources, embedder, SETTINGS) == ("", [])


def test_fake_embedder_is_used_for_alignment():
    emb = FakeEmbedder()
    attach("엔비디아 주가는 28일 17% 폭락했습니다 [2].", [source(1, MARKET), source(2, CARS)], emb, SETTINGS)
    # one batch: the answer sentence plus the 4 + 3 source sentences
    assert emb.calls == [("documents", 8)]


def test_sentence_with_a_name_or_number_no_source_holds_is_dropped(embedder):
    # a name carried over from the prompt's worked examples, a garbled name, an invented number
    sources = [source(1, MARKET), source(2, CARS)]
    answer = ("엔비디아 주가는 화웨이 때문에 17% 폭락했습니다 [1]. 엔비디아 주가는 28일 99% 폭락했습니다 [1]. "
              "딥시kker의 저가 AI 모델 공개가 충격을 줬다 [1]. 딥시크의 저가 AI 모델 공개가 충격을 줬습니다 [1].")
    text, citations = attach(answer, sources, embedder, SETTINGS)
    assert text == "딥시크의 저가 AI 모델 공개가 충격을 줬습니다 [1]."
    assert_consistent(text, citations)


def test_names_from_the_question_and_reformatted_numbers_are_kept(embedder):
    sources = [source(1, MARKET)]
    text, _ = attach("시가총액 5930억달러가 사라졌습니다 [1].", sources, embedder, SETTINGS, question="엔비디아 시가총액은?")
    assert text == "시가총액 5930억달러가 사라졌습니다 [1]."


def test_a_name_the_analyzer_splits_differently_in_the_source_is_kept(embedder):
    # Kiwi reads "광주교도소입니다" as one name, and "광주교도소에서" as 광주 + 교도소
    prison = make_article("한명숙은 1979년 구속되어 광주교도소에서 수감되었다.", "articles/prison.txt", line=4)
    text, citations = attach("광주교도소입니다 [1].", [source(1, prison)], embedder, SETTINGS, question="한명숙이 수감된 교도소는?")
    assert text == "광주교도소입니다 [1]." and citations[0].article is prison


def test_a_fact_only_the_headline_holds_is_cited_to_the_headline(embedder):
    article = make_article("검찰은 명씨를 추가로 소환할 계획이 없다. 관련자들도 조사했다.", "news.jsonl", line=4,
                           title="명태균, 12시간 만에 검찰 조사 마쳐")
    text, [c] = attach("명태균은 12시간 만에 검찰 조사를 마쳤습니다 [1].", [source(1, article)], embedder, SETTINGS)
    assert c.headline and c.quote == "명태균, 12시간 만에 검찰 조사 마쳐" and (c.quote_start, c.quote_end) == (0, 0)
    assert text == "명태균은 12시간 만에 검찰 조사를 마쳤습니다 [1]."


def test_a_title_that_is_the_first_sentence_is_not_a_second_candidate(embedder):
    _, [c] = attach("엔비디아 주가가 28일 17% 폭락했습니다 [1].", [source(1, MARKET)], embedder, SETTINGS)
    assert not c.headline and c.quote == "엔비디아 주가가 28일 17% 폭락했다."



def test_a_headline_supports_no_number_it_does_not_hold(embedder):
    """A title shares the question's names, not the story's figures: "10kg" must be in it."""
    article = make_article("시민 후원이 이어지고 있다. 사료는 10월부터 kg 단위로 들여온다.", "news.jsonl", line=5,
                           title="청주동물원 구름이 몸무게 공개")
    text, citations = attach("청주동물원 구름이 몸무게는 10kg입니다 [1].", [source(1, article)], embedder, SETTINGS)
    assert citations == [] and text == ""
