"""The memo panel: answers the person chose from the conversation, with one reference list.

The memo is kept in the browser's storage (gr.BrowserState, encrypted with a key kept in the
data folder, so it survives reloads and restarts) and never leaves the machine: copying and
downloading are done by the browser from text the page already holds, so no file is written.
"""
from __future__ import annotations

import functools

import gradio as gr

from rag import Note, RagError, edit, markdown, parts, plain
from ui.render import esc

STYLES = [("번호 [1]", "numbered"), ("각주 [^1]", "footnote")]
STORAGE_KEY = "korean-news-rag-memo"


def _save_js(name: str, kind: str) -> str:
    """A click that saves `text` as a file by the browser itself."""
    return (
        f"(text) => {{ if (!text) return; const a = document.createElement('a');"
        f" a.href = URL.createObjectURL(new Blob([text], {{type: '{kind};charset=utf-8'}}));"
        f" a.download = '{name}'; document.body.appendChild(a); a.click(); a.remove(); }}"
    )


def panel(demo: gr.Blocks, answers: gr.State, secret: str) -> gr.BrowserState:
    """The memo panel, in the Blocks being built. `answers` holds each answer of the chat as a
    note (None for a refusal), in the order the chat shows them."""
    kept = gr.BrowserState([], storage_key=STORAGE_KEY, secret=secret)
    with gr.Accordion("메모 · 답변을 모아 하나의 참고 목록으로", open=True, elem_id="memo"):
        style = gr.Radio(STYLES, value="numbered", label="참고 표기", elem_id="memo-style")

        @gr.render(inputs=[kept, style])
        def show(notes: list, style: str):
            notes = _notes(notes)
            if not notes:
                gr.Markdown("아직 메모가 없습니다. 답변 아래의 **＋ 메모에 추가**를 누르세요.", elem_id="memo-empty")
                return
            texts, refs = parts(notes, style)
            for i, (note, shown) in enumerate(zip(notes, texts)):
                with gr.Group(elem_classes="memo-note"):
                    text = gr.Textbox(shown, label=f"{i + 1}. {note.question}", lines=2,
                                      max_lines=12, interactive=True, elem_classes="memo-text")
                    with gr.Row():
                        save = gr.Button("수정 저장", size="sm", elem_classes="memo-save")
                        remove = gr.Button("삭제", size="sm", elem_classes="memo-remove")
                save.click(functools.partial(_edited, i), [kept, text], kept, api_visibility="private")
                remove.click(functools.partial(_removed, i), kept, kept, api_visibility="private")
            gr.HTML("<b>참고 기사</b>" + "".join(f'<div class="memo-ref">{esc(ref)}</div>' for ref in refs), elem_id="memo-references")

        with gr.Row():
            copy = gr.Button("메모 복사", size="sm", elem_id="memo-copy")
            save_md = gr.Button("Markdown 저장", size="sm", elem_id="memo-save-md")
            save_txt = gr.Button("텍스트 저장", size="sm", elem_id="memo-save-txt")
            clear = gr.Button("메모 비우기", size="sm", elem_id="memo-clear")
        as_markdown = gr.Textbox(visible="hidden", elem_id="memo-markdown")
        as_plain = gr.Textbox(visible="hidden", elem_id="memo-plain")

    add = gr.Button(visible="hidden", elem_id="memo-add")
    pick = gr.Number(visible="hidden", elem_id="memo-pick")
    # the answer's "＋ 메모에 추가" link puts its number in window.memoPick and clicks `add`
    add.click(None, None, pick, js="() => window.memoPick").then(_added, [pick, answers, kept], kept, api_visibility="private")
    # the page's load too: a memo kept from an earlier visit can be copied at once
    gr.on([demo.load, kept.change, style.change], _written, [kept, style], [as_markdown, as_plain], api_visibility="private",
          show_progress="hidden")
    copy.click(None, as_markdown, None, js="(text) => { if (text) navigator.clipboard.writeText(text); }").then(
        lambda text: gr.Info(title="안내", message="메모를 복사했습니다.") if text else gr.Warning(title="확인", message="메모가 비어 있습니다."),
        as_markdown, None, api_visibility="private")
    save_md.click(None, as_markdown, None, js=_save_js("메모.md", "text/markdown"))
    save_txt.click(None, as_plain, None, js=_save_js("메모.txt", "text/plain"))
    clear.click(lambda: [], None, kept, api_visibility="private")
    return kept


def _written(notes: list, style: str) -> tuple[str, str]:
    """The memo as Markdown and as plain text ("" when empty)."""
    notes = _notes(notes)
    return (markdown(notes, style), plain(notes, style)) if notes else ("", "")


def _notes(kept: list | None) -> list[Note]:
    notes = []
    for d in kept or []:
        try:
            notes.append(Note.from_dict(d))
        except RagError:  # a note from an older version of the page: dropped rather than failing the memo
            continue
    return notes


def _added(pick: float | None, answers: list, kept: list) -> list:
    if pick is None or not 0 <= int(pick) < len(answers) or answers[int(pick)] is None:
        gr.Warning(title="확인", message="메모에 넣을 답변을 찾지 못했습니다.")
        return gr.skip()
    note = answers[int(pick)]
    if note in (kept or []):
        gr.Info(title="안내", message="이미 메모에 있는 답변입니다.")
        return gr.skip()
    gr.Info(title="안내", message="메모에 추가했습니다.")
    return (kept or []) + [note]


def _edited(i: int, kept: list, text: str) -> list:
    notes = _notes(kept)
    try:
        note = edit(notes, i, text)
    except RagError as e:
        gr.Warning(title="확인", message=e.korean)
        return gr.skip()
    notes[i] = note
    return [n.to_dict() for n in notes]


def _removed(i: int, kept: list) -> list:
    # i counts the notes shown, as _edited does: a note the page could not read is not shown
    return [n.to_dict() for j, n in enumerate(_notes(kept)) if j != i]
