"""Article text and model output are escaped wherever they are shown; links only to http(s);
a reporter is named the same way, once, on the page and in every reference line."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from rag.compose import citation
from rag.export import reference
from rag.ingest import make_article
from rag.memo import Note, plain, to_markdown
from rag.split import chunk_article
from rag.types import Answer, Citation, Evidence, Hit
from ui.render import answer_html, sources_html

HOSTILE = '<script>alert("x")</script> <img src=x onerror="alert(1)"> 엔비디아 주가가 17% 폭락했다.'


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def answer_with(url: str | None, text: str = HOSTILE, title: str = '<b onmouseover="alert(2)">제목</b>') -> Answer:
    article = make_article(text, "articles/x.txt", line=1, title=title, url=url)
    chunk = chunk_article(article, 400, 0)[0]
    quote = "엔비디아 주가가 17% 폭락했다."
    start = text.index(quote)
    citation = Citation(1, article, quote, chunk, start, start + len(quote))
    return Answer("질문", f"{HOSTILE} [1].", False, (citation,), (Hit(chunk, article, 1.0),))


@pytest.mark.parametrize("render", [answer_html, sources_html])
def test_markup_in_articles_and_answers_stays_text(render):
    html = render(answer_with(None))
    names = {t for t, _ in tags(html)}
    assert not names & {"script", "img", "b", "iframe"}
    assert all(not k.startswith("on") for _, attrs in tags(html) for k in attrs)
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>1</script>", "//evil.example/x",
            'https://ok.example/" onclick="alert(1)', "file:///etc/passwd"]
)
def test_only_http_urls_become_links(url):
    answer = answer_with(url)
    hrefs = [a.get("href", "") for t, a in tags(sources_html(answer) + answer_html(answer)) if t == "a"]
    assert all(h.startswith("#src-") for h in hrefs), hrefs
    assert url not in to_markdown(answer)
    assert "articles/x.txt:1" in to_markdown(answer)


def test_an_http_url_is_a_link_that_opens_apart():
    answer = answer_with("https://news.example/a?id=1&b=2")
    [link] = [a for t, a in tags(sources_html(answer)) if t == "a" and not a.get("href", "").startswith("#")]
    assert link["href"] == "https://news.example/a?id=1&b=2"
    assert link["target"] == "_blank" and "noopener" in link["rel"]
    assert "https://news.example/a?id=1&b=2" in to_markdown(answer)


def test_memo_keeps_hostile_text_as_text():
    memo = to_markdown(answer_with(None))
    assert "<script>" in memo  # Markdown text, shown in a textbox: never rendered as HTML
    assert re.search(r"^\[1\] ", memo, re.M)


def test_a_cited_headline_is_marked_in_the_card_title():
    article = make_article("검찰은 명씨를 추가로 소환할 계획이 없다.", "news.jsonl", line=1, title="명태균, 12시간 만에 검찰 조사 마쳐",
                           date="2024-11-09T00:31:00+09:00", outlet="조선일보")
    headline = Evidence(article, 0, 0, headline=True, chunk=chunk_article(article, 60, 0)[0])
    text, citations = "명태균은 12시간 만에 검찰 조사를 마쳤습니다 [1].", (citation(headline),)
    html = sources_html(Answer("q", text, False, tuple(citations)))
    assert '<mark id="src-1">명태균, 12시간 만에 검찰 조사 마쳐<sup>[1]</sup></mark>' in html
    assert "조선일보 · 2024-11-09 00:31" in html
    assert "2024-11-09 기사 기준" in answer_html(Answer("q", text, False, tuple(citations)))


QUOTE = "엔비디아 주가가 17% 폭락했다."


@pytest.mark.parametrize("text, author, shown", [
    (QUOTE, "석남준 기자", "석남준 기자"),  # a Korean RSS feed's author
    (QUOTE, "실리콘밸리=오로라 기자", "실리콘밸리=오로라 기자"),  # with the dateline
    (f"더지엠뉴스 김완석 기자 | {QUOTE}", None, "김완석 기자"),  # read from the text's byline
    (QUOTE, "석남준", "석남준 기자"),  # a bare name (and what an index built before kept of a byline)
    (QUOTE, "실리콘밸리=오로라", "실리콘밸리=오로라 기자"),
    (QUOTE, "홍길동·김철수 기자", "홍길동·김철수 기자"),  # several reporters
    (QUOTE, "홍길동·김철수", "홍길동·김철수 기자"),
    (QUOTE, "워싱턴=김원장 특파원", "워싱턴=김원장 특파원"),  # another role is not also 기자
    (QUOTE, "연합뉴스", "연합뉴스"),  # agencies and desks sign as themselves
    (QUOTE, "AFP", "AFP"),
    (QUOTE, "편집부", "편집부"),
    (QUOTE, "온라인뉴스팀", "온라인뉴스팀"),
    (QUOTE, "John Doe", "John Doe"),  # a Latin-script byline takes no Korean title
    (QUOTE, "By Jane Smith", "Jane Smith"),
    (QUOTE, "홍길동 기자 hong@news.example", "홍길동 기자"),
])
def test_a_reporter_is_named_once_in_every_place_an_article_is_referred_to(text, author, shown):
    article = make_article(text, "news/a.jsonl", line=3, title="엔비디아 폭락", url="https://news.example/nvidia",
                           outlet="조선일보", date="2025-01-25T10:15:00+09:00", **({"author": author} if author else {}))
    start = text.index(QUOTE)
    citation = Citation(1, article, QUOTE, chunk_article(article, 400, 0)[0], start, start + len(QUOTE))
    answer = Answer("엔비디아 주가는?", "17% 폭락했다 [1].", False, (citation,))
    line = f"엔비디아 폭락 — 조선일보, {shown}, 2025-01-25 10:15. https://news.example/nvidia"
    assert reference(article) == line
    assert f'<div class="meta">조선일보 · {shown} · 2025-01-25 10:15 · <a href=' in sources_html(answer)
    assert f"엔비디아 폭락 — 조선일보 · {shown} · 2025-01-25 10:15 (https://news.example/nvidia)" in answer_html(answer)
    assert f"\n[1] {line}\n" in to_markdown(answer)
    assert f"\n[1] {line}\n" in plain([Note.of(answer)])
    assert "기자 기자" not in to_markdown(answer) + plain([Note.of(answer)]) + sources_html(answer)


def test_a_refusal_shows_the_closest_sentences_escaped():
    from dataclasses import replace

    answer = answer_with("https://example.com/a")
    article = answer.citations[0].article
    start = article.text.index("엔비디아")
    refused = replace(answer, refused=True, citations=(), text="제공된 기사에서 답을 찾을 수 없습니다.",
                      evidence=(Evidence(article, start, len(article.text), score=0.3),))
    html = sources_html(refused)
    assert "가장 가까운 문장" in html and "엔비디아 주가가 17% 폭락했다." in html
    assert "<script>" not in html and not any(t == "script" for t, _ in tags(html))
    assert "가장 가까운 문장" not in sources_html(answer)  # an answer shows what it cites
