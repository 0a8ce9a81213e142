"""HTML for the chat page. Every piece of article text and model output is escaped here,
once, before any markup is added; links are made only from http(s) URLs."""
from __future__ import annotations

import html
import re

from rag import Answer, Article, Citation, Evidence, Hit, dates, location, reporter, when

_MARKER = re.compile(r"\[(\d+)\]")


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def streaming_html(text: str) -> str:
    """The answer while it streams: plain escaped text."""
    return esc(text)


def answer_html(answer: Answer, memo: int | None = None) -> str:
    """The final answer, each [n] a link to its source card with the quote on hover; with
    `memo` (the answer's number in the chat) a link that adds it to the memo."""
    by_n = {c.n: c for c in answer.citations}

    def link(m: re.Match) -> str:
        c = by_n.get(int(m.group(1)))
        if c is None:
            return m.group(0)
        who = f" — {byline(c.article)}" if byline(c.article) else ""
        tip = f"{c.article.title}{who} ({c.article.link or location(c.article)})\n“{c.quote}”"
        return f'<a class="cite" href="#src-{c.n}" title="{esc(tip)}">[{c.n}]</a>'

    line = when(answer)
    # the number rides in the href: the chat's sanitizer drops data- attributes
    add = f'<a class="add-memo" href="#memo-{memo}">＋ 메모에 추가</a>' if memo is not None else ""
    body = _timeline(answer, link) if answer.timeline else _MARKER.sub(link, esc(answer.text))
    return body + (f'<div class="when">{esc(line)}</div>' if line else "") + add


def _timeline(answer: Answer, link) -> str:
    """A timeline as the page shows it: its title line, then one row per event, the day down the side."""
    title, *lines = answer.text.splitlines()
    rows = [f'<div class="tl-title">{esc(title)}</div>']
    for event, line in zip(answer.timeline, lines):
        day = f"{event.day.month}월 {event.day.day}일" if event.day else "날짜 미상"
        told = line.split(" — ", 1)[-1]
        rows.append(f'<div class="tl-row"><div class="tl-day">{esc(day)}</div><div class="tl-event">{_MARKER.sub(link, esc(told))}</div></div>')
    return f'<div class="timeline">{"".join(rows)}</div>'



def sources_html(answer: Answer | None) -> str:
    """The sources panel: cited articles in citation order, then the uncited hits apart."""
    if answer is None:
        return '<div class="empty">질문하면 답변의 근거 기사가 여기에 표시됩니다.</div>'
    parts = ['<div class="sources">']
    groups = _by_article(answer.citations)
    copies = {h.article.id: h.copies for h in answer.hits if h.copies}
    if groups:
        parts.append(f"<h4>인용된 출처 · 기사 {len(groups)}건</h4>")
        parts += [_article_card(cs, copies.get(cs[0].article.id, ())) for cs in groups]
    else:
        parts.append('<div class="empty">이 답변에는 인용된 출처가 없습니다.</div>')
    if answer.refused and answer.evidence:  # the closest sentences found: the person may read them
        parts.append(f"<h4>가장 가까운 문장 · {len(answer.evidence)}건</h4>")
        parts += [_evidence_card(e) for e in answer.evidence]
    cited = {c.article.id for c in answer.citations}
    others = [h for h in answer.hits if h.article.id not in cited]
    if others:
        parts.append(f'<details class="uncited"><summary>검색됐지만 인용되지 않은 기사 ({len(_one_per_article(others))})</summary>')
        parts += [_hit_card(h) for h in _one_per_article(others)]
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


def byline(article: Article) -> str:
    return " · ".join(x for x in (article.outlet, reporter(article.author), dates.shown(article.date)) if x)


def _where(article: Article) -> str:
    if article.link:
        return f'<a href="{esc(article.link)}" target="_blank" rel="noopener noreferrer">{esc(article.link)}</a>'
    return f"<code>{esc(location(article))}</code>"


def _by_article(citations: tuple[Citation, ...]) -> list[list[Citation]]:
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.article.id, []).append(c)
    return list(groups.values())


def _copies(copies: tuple[Article, ...]) -> str:
    """"같은 기사 2건": the story was sent more than once; the other copies are named on hover."""
    if not copies:
        return ""
    others = " / ".join(f"{a.title} ({a.link or location(a)})" for a in copies)
    return f' <span class="dup" title="{esc(others)}">같은 기사 {len(copies) + 1}건</span>'


LEAD = 300  # characters of an article shown under a headline cited without its passage


def _article_card(citations: list[Citation], copies: tuple[Article, ...] = ()) -> str:
    """One article, its passage shown with every cited sentence marked and numbered (a cited
    headline is marked in the card's title)."""
    article = citations[0].article
    text = article.text
    numbers = ", ".join(f"[{n}]" for n in sorted({c.n for c in citations}))
    title = esc(article.title)
    for c in (c for c in citations if c.headline):
        title = f'<mark id="src-{c.n}">{title}<sup>[{c.n}]</sup></mark>'
    quoted = [c for c in citations if not c.headline]
    marks = sorted({(c.quote_start, c.quote_end, c.n) for c in quoted})
    if quoted:
        start = min(min(c.chunk.start, c.quote_start) for c in quoted)
        end = max(max(c.chunk.end, c.quote_end) for c in quoted)
    else:  # a headline cited alone; a timeline's event cites no passage: the article's lead
        chunk = citations[0].chunk
        start, end = (chunk.start, chunk.end) if chunk else (0, min(len(text), LEAD))
    body, pos = [], start
    for q_start, q_end, n in marks:
        if q_start < pos:  # the same sentence cited under two numbers: mark it once
            continue
        body.append(esc(text[pos:q_start]))
        body.append(f'<mark id="src-{n}">{esc(text[q_start:q_end])}<sup>[{n}]</sup></mark>')
        pos = q_end
    body.append(esc(text[pos:end]))
    return (
        f'<div class="src"><div class="src-title"><span class="n">{numbers}</span> {title}{_copies(copies)}</div>'
        f'<div class="meta">{_meta(article)}</div>'
        f'<blockquote>{"…" if start > 0 else ""}{"".join(body)}{"…" if end < len(text) else ""}</blockquote></div>'
    )


def _meta(article: Article) -> str:
    who = byline(article)
    return f"{esc(who)} · {_where(article)}" if who else _where(article)


def _evidence_card(e: Evidence) -> str:
    return (
        f'<div class="src evidence-src"><div class="src-title">{esc(e.article.title)}</div>'
        f'<div class="meta">{_meta(e.article)}</div><blockquote>{esc(e.text)}</blockquote></div>'
    )


def _hit_card(h: Hit) -> str:
    return (
        f'<div class="src uncited-src"><div class="src-title">{esc(h.article.title)}{_copies(h.copies)}</div>'
        f'<div class="meta">{_meta(h.article)}</div>'
        f"<blockquote>{esc(h.chunk.text)}</blockquote></div>"
    )


def _one_per_article(hits: list[Hit]) -> list[Hit]:
    seen, out = set(), []
    for h in hits:
        if h.article.id not in seen:
            seen.add(h.article.id)
            out.append(h)
    return out


CSS = """
.timeline .tl-title { font-weight: 600; margin-bottom: 6px; }
.timeline .tl-row { display: flex; gap: 12px; padding: 3px 0; border-left: 2px solid var(--border-color-primary); }
.timeline .tl-day { flex: 0 0 6.5em; padding-left: 8px; color: var(--body-text-color-subdued); font-variant-numeric: tabular-nums; }
.timeline .tl-event { flex: 1; }
.sources h4 { margin: 0 0 8px; }
.src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin-bottom: 8px; }
.src mark:target { outline: 2px solid var(--color-accent); }
.src mark sup { font-size: 0.7em; margin-left: 1px; }
.src-title { font-weight: 600; }
.src .n { color: var(--color-accent); }
.src .dup { font-weight: 400; font-size: 0.8em; border: 1px solid var(--border-color-primary); border-radius: 4px; padding: 0 4px; margin-left: 4px; }
.src .meta { font-size: 0.85em; opacity: 0.8; margin: 2px 0 4px; word-break: break-all; }
.src blockquote { margin: 0; font-size: 0.9em; line-height: 1.5; border-left: 3px solid var(--border-color-primary); padding-left: 8px; }
.src mark { background: #ffe58a; color: #111; padding: 0 2px; }
.uncited summary { cursor: pointer; opacity: 0.8; margin: 6px 0; }
.uncited-src { opacity: 0.75; }
a.cite { text-decoration: none; font-weight: 600; }
.empty { opacity: 0.7; }
.when { font-size: 0.85em; opacity: 0.75; margin-top: 6px; }
.rewritten { font-size: 0.85em; opacity: 0.7; min-height: 1.2em; }
#status { font-size: 0.9em; }
a.add-memo { display: block; margin-top: 6px; font-size: 0.85em; text-decoration: none; }
/* Gradio titles its pop-ups with the English kind ("Warning"); the page says it in Korean */
.toast-title { font-size: 0 !important; }
.toast-title::before { font-size: var(--text-md); }
.toast-title.error::before { content: "오류"; }
.toast-title.warning::before { content: "확인"; }
.toast-title.info::before { content: "안내"; }
.toast-title.success::before { content: "완료"; }
.waiting { opacity: 0.75; }
.memo-note { margin-bottom: 6px; }
#memo-references .memo-ref { font-size: 0.9em; word-break: break-all; margin: 2px 0; }
"""

# The page's one script. An answer's "＋ 메모에 추가" link hands its number to the memo's hidden
# button (links in chat messages cannot call the server themselves). Gradio refuses a file
# over the size limit in the browser, in English: that message is said in Korean.
SCRIPT = """<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a.add-memo");
  if (!link) return;
  event.preventDefault();
  window.memoPick = Number(link.getAttribute("href").split("-").pop());
  document.querySelector("#memo-add")?.click();
});
const KOREAN = [[/File\\(s\\) exceed the maximum allowed size of ([\\d.]+) ?Mb: (.*)/,
                 "파일이 너무 큽니다 (파일당 $1MB까지): $2"]];
new MutationObserver(() => {
  for (const toast of document.querySelectorAll(".toast-body")) {
    const walker = document.createTreeWalker(toast, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const [english, korean] of KOREAN) {
        if (english.test(node.nodeValue)) node.nodeValue = node.nodeValue.replace(english, korean);
      }
    }
  }
}).observe(document.documentElement, {childList: true, subtree: true});
</script>"""
