"""The memo over a conversation: one reference list numbered across answers, edits that keep
every marker checkable, two styles, and notes that survive the browser's JSON."""
from __future__ import annotations

import json

import pytest

from rag.errors import RagError
from rag.ingest import make_article
from rag.memo import Cited, Note, edit, markdown, numbering, plain, to_markdown
from rag.split import chunk_article
from rag.types import Answer, Citation

NVIDIA = make_article("엔비디아 주가가 17% 폭락했다. 시가총액 5890억 달러가 사라졌다.", "news/a.jsonl", line=3,
                      title="엔비디아 폭락", url="https://news.example/nvidia", outlet="한겨레", date="2025-01-28T09:00:00+09:00")
DEEPSEEK = make_article("딥시크는 중국 항저우의 AI 회사다.", "news/b.txt", title="딥시크는 어떤 회사", outlet="조선일보")


def cite(n: int, article, quote: str) -> Citation:
    start = article.text.index(quote)
    return Citation(n, article, quote, chunk_article(article, 400, 0)[0], start, start + len(quote))


def answers() -> list[Answer]:
    first = Answer("엔비디아 주가는 왜 떨어졌어?", "주가가 17% 폭락했다[1]. 5890억 달러가 사라졌다[2].", False,
                   (cite(1, NVIDIA, "엔비디아 주가가 17% 폭락했다."), cite(2, NVIDIA, "시가총액 5890억 달러가 사라졌다.")))
    second = Answer("딥시크는 어디 회사야?", "항저우의 AI 회사다[1]. 엔비디아 폭락을 불렀다[2].", False,
                    (cite(1, DEEPSEEK, "딥시크는 중국 항저우의 AI 회사다."), cite(2, NVIDIA, "엔비디아 주가가 17% 폭락했다.")))
    return [first, second]


def test_each_article_is_listed_once_and_markers_are_renumbered_across_the_memo():
    notes = [Note.of(a) for a in answers()]
    memo = markdown(notes)
    assert "주가가 17% 폭락했다[1]. 5890억 달러가 사라졌다[1]." in memo
    assert "항저우의 AI 회사다[2]. 엔비디아 폭락을 불렀다[1]." in memo
    assert memo.count("https://news.example/nvidia") == 1  # cited three times, listed once
    assert "[1] 엔비디아 폭락 — 한겨레, 2025-01-28 09:00. https://news.example/nvidia" in memo
    assert "[2] 딥시크는 어떤 회사 — 조선일보. news/b.txt" in memo
    assert memo.index("**질문:** 엔비디아") < memo.index("**질문:** 딥시크")
    # both quoted sentences of the one article are shown under it, once each
    assert memo.count("“엔비디아 주가가 17% 폭락했다.”") == 1 and "“시가총액 5890억 달러가 사라졌다.”" in memo


def test_removing_an_answer_renumbers_the_rest():
    notes = [Note.of(a) for a in answers()]
    memo = markdown(notes[1:])
    assert "항저우의 AI 회사다[1]. 엔비디아 폭락을 불렀다[2]." in memo
    assert "시가총액" not in memo


def test_footnote_style_in_markdown_and_plain_text():
    notes = [Note.of(a) for a in answers()]
    md = markdown(notes, "footnote")
    assert "항저우의 AI 회사다[^2]. 엔비디아 폭락을 불렀다[^1]." in md
    assert "[^1]: 엔비디아 폭락 — 한겨레, 2025-01-28 09:00. https://news.example/nvidia — “엔비디아" in md
    text = plain(notes, "footnote")
    assert "항저우의 AI 회사다². 엔비디아 폭락을 불렀다¹." in text
    assert "\n¹ 엔비디아 폭락" in text and "**" not in text and "[^" not in text
    assert "[1] 엔비디아 폭락" in plain(notes)


def test_an_edit_is_written_in_the_memos_numbers_and_kept_in_the_notes_own():
    notes = [Note.of(a) for a in answers()]
    # the person sees "[2]" for 딥시크 and "[1]" for the NVIDIA article in the second answer
    edited = edit(notes, 1, "딥시크는 항저우 회사[2]이며 폭락을 불렀다[1].")
    assert edited.text == "딥시크는 항저우 회사[1]이며 폭락을 불렀다[2]."
    assert "딥시크는 항저우 회사[2]이며 폭락을 불렀다[1]." in markdown([notes[0], edited])
    # a marker naming an article only the other answer cited brings its reference along
    borrowed = edit(notes, 1, "딥시크[2], 5890억 달러[1].")
    assert "[2] 딥시크" in markdown([notes[0], borrowed])
    with pytest.raises(RagError) as e:
        edit(notes, 1, "출처 없는 주장[7].")
    assert "[7]번 참고 기사는 메모에 없습니다" in e.value.korean


def test_a_note_survives_the_browsers_json_and_a_bad_one_is_refused():
    note = Note.of(answers()[0])
    assert Note.from_dict(json.loads(json.dumps(note.to_dict()))) == note
    with pytest.raises(RagError):
        Note.from_dict({"text": "질문이 없음"})


def test_markers_the_note_does_not_know_are_left_as_written():
    note = Note("q", "답[1]. 이상한[9].", (Cited(1, "A", "기사 A", "a"),))
    assert numbering([note]) == {"A": 1}
    assert "이상한[9]." in markdown([note])


def test_one_answer_memo_and_unknown_style():
    assert to_markdown(answers()[0]).startswith("**질문:** 엔비디아 주가는 왜 떨어졌어?\n\n주가가 17% 폭락했다[1].")
    with pytest.raises(RagError):
        markdown([], "apa")
