"""Memo export: an answer as Markdown with a numbered reference list.

The reference list holds exactly the citations whose [n] appear in the answer (the cite
stage guarantees that), so a pasted memo never has a dangling or an extra reference.
"""
from __future__ import annotations

from .types import Answer, Article


def to_markdown(answer: Answer) -> str:
    """
    >>> from rag.types import Answer
    >>> to_markdown(Answer("질문?", "제공된 기사에서 답을 찾을 수 없습니다.", True))
    '**질문:** 질문?\\n\\n제공된 기사에서 답을 찾을 수 없습니다.\\n'
    """
    lines = [f"**질문:** {answer.asked or answer.question}", "", answer.text]
    if answer.citations:
        lines += ["", "**참고 기사**"]
        for c in answer.citations:
            lines.append(f"[{c.n}] {reference(c.article)}")
            lines.append(f"    > “{c.quote}”")
    return "\n".join(lines) + "\n"


def reference(article: Article) -> str:
    """Title — outlet, reporter, date. Where: URL, else file:line."""
    who = ", ".join(x for x in (article.outlet, article.author and f"{article.author} 기자", article.date) if x)
    where = article.link or location(article)
    return article.title.rstrip(". ") + (f" — {who}" if who else "") + f". {where}"


def location(article: Article) -> str:
    return f"{article.source}:{article.line}" if article.line else article.source
