"""The chat page: Gradio over rag.Pipeline.

The page is served at once; models load (and the bundled index builds) in the background
while the page says so. The LLM answers one question at a time: the page's questions wait in
the same line as the API's (ui/line.py), each shown at once with a Korean note of its place.
"""
from __future__ import annotations

import logging
import re
import secrets
import shutil
import sys
import threading
import time
from pathlib import Path

import gradio as gr

from rag import Config, Note, Pipeline, RagError, Request, Turn, ask, load_pipeline, with_profile
from ui import memo
from ui.line import Line, waiting_note
from ui.render import answer_html, esc, sources_html, streaming_html

log = logging.getLogger("rag.ui")  # under "rag", so `rag chat` logs it
EXAMPLES = [
    "엔비디아 주가는 왜 떨어졌어?",
    "딥시크는 어떤 회사야?",
    "샤오미가 공개한 AI 모델 이름은?",
    "호주 정부는 딥시크에 대해 어떤 조치를 했어?",
]
UPLOAD_TYPES = [".txt", ".md", ".jsonl"]
MAX_UPLOAD_MB = 50
WATCH_EVERY = 3.0  # seconds between looks at the store (another server's uploads, a store gone)


class App:
    """The shared pipeline and its loading state; conversations live in each browser session."""

    def __init__(self, config: Config):
        self.config = config
        self.pipeline: Pipeline | None = None
        self.status = "준비 중…"
        self.failed = False
        self.note = ""  # what the last upload added
        self.unreachable = ""  # the store's fault, in Korean, while it cannot be read
        self.line = Line(max(1, len(config.llm_servers)))  # the model's line, shared with the API
        self._loader = threading.Thread(target=self._load, daemon=True)

    def start(self) -> App:
        self._loader.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        self._loader.join(timeout)
        return self.pipeline is not None

    def _load(self) -> None:
        try:
            pipeline = load_pipeline(self.config, self._progress)
            self._progress("답변 준비 중 / preparing the prompt")
            pipeline.warm()  # before questions are taken: the model answers one thing at a time
            self.pipeline = pipeline
            if pipeline.index.pending:  # an earlier run stopped before every chunk had its vector
                pipeline.background.start()
            self._progress(self.ready_status())
        except RagError as e:
            log.error("loading failed: %s", e)
            self.failed, self.status = True, f"오류: {e.korean}"
            return
        threading.Thread(target=self._watch, name="store-watch", daemon=True).start()

    def _watch(self) -> None:
        """Every few seconds, the store as it is now: articles added by another server are counted,
        and a store that cannot be read (a PostgreSQL restarting) is told on every page until it is back."""
        while True:
            time.sleep(WATCH_EVERY)
            try:
                self.pipeline.index = self.pipeline.index.refresh()
                if self.unreachable:
                    log.info("the store answers again")
                self.unreachable = ""
            except RagError as e:
                if not self.unreachable:
                    log.error("the store cannot be read: %s", e)
                self.unreachable = e.korean

    def _progress(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)  # the terminal shows model download progress too
        self.status = f"{message.split(' / ')[0]}"

    def ready_status(self) -> str:
        p = self.pipeline
        if self.unreachable:
            return f"오류: {self.unreachable} 다시 연결되면 이어서 답합니다."
        status = f"준비됨 · 기사 {p.index.article_count}건 · 모델 `{p.config.llm.name}`"
        if self.note:
            status += f" · 최근 추가: {self.note}"
        if embedding := p.background.status():
            status += f" · {embedding} (키워드 검색은 지금도 됩니다)"
        return status

    def current_status(self) -> str:
        return self.ready_status() if self.pipeline is not None else self.status

    def outlets(self) -> list[str]:
        return self.pipeline.index.outlets if self.pipeline is not None else []

    def browser_key(self) -> str:
        """The key the memo is encrypted with in the browser: kept in the data folder, so a
        memo survives a restart of the server (Gradio's default is a new key per start)."""
        path = self.config.data_dir / "browser-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()


def build(app: App) -> gr.Blocks:
    # delete_cache: Gradio keeps a copy of every uploaded file (ours go to data/uploads); an hour is enough
    with gr.Blocks(title="뉴스 Q&A", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        questions = gr.State([])  # this conversation's [standalone question, answer] pairs, for follow-ups
        answers = gr.State([])  # each answer in the chat as a memo note (None for a refusal), for "메모에 추가"
        gr.Markdown("## 뉴스 기사 Q&A  \n내 기사에서 찾아 답하고, 모든 문장에 출처를 답니다.")
        status = gr.Markdown(app.status, elem_id="status")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="대화",
                    height=460,
                    examples=[{"text": q} for q in EXAMPLES],
                    placeholder="**기사에 대해 무엇이든 물어보세요.** 아래 예시를 눌러 시작할 수 있습니다.",
                    feedback_options=None,
                    buttons=["copy"],
                    elem_id="chat",
                )
                rewritten = gr.Markdown("", elem_classes="rewritten", elem_id="rewritten")
                with gr.Row():
                    box = gr.Textbox(placeholder="질문을 입력하세요 (Enter로 보내기)", show_label=False, scale=6, elem_id="question")
                    send = gr.Button("보내기", variant="primary", scale=1, elem_id="send")
                    stop = gr.Button("중지", variant="stop", scale=1, elem_id="stop")
                with gr.Row(elem_id="filters"):
                    since = gr.Textbox("", label="시작일", placeholder="예: 2024-10-01", scale=1, elem_id="since")
                    until = gr.Textbox("", label="종료일", placeholder="예: 2024-10-31", scale=1, elem_id="until")
                    outlets = gr.Dropdown([], value=[], multiselect=True, label="언론사 (비우면 전체)", scale=2, elem_id="outlets")
                    timeline = gr.Checkbox(False, label="타임라인으로 보기", scale=1, elem_id="timeline")
                clear = gr.Button("대화 지우기", size="sm", elem_id="clear")
                memo.panel(demo, answers, app.browser_key())
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html(None), label="출처", elem_id="sources")
                upload = gr.File(
                    label=f"기사 추가 (.txt, .md, .jsonl · 파일당 {MAX_UPLOAD_MB}MB까지)",
                    file_count="multiple",
                    elem_id="upload",
                )
                with gr.Accordion("설정", open=False):
                    top_k = gr.Slider(1, 8, value=app.config.settings.top_k, step=1, label="검색할 출처 수")
                    profile = gr.Dropdown(
                        list(app.config.profiles), value=app.config.profile, label="모델 프로필", elem_id="profile"
                    )
                    today = gr.Textbox("", label="기준일: '어제', '지난주'를 셀 날", placeholder="비우면 가장 최근 기사의 날짜", elem_id="today")

        # the filters are optional for API callers (gradio_client's /ask with the first four arguments)
        def asked(message: str, history: list, turns: list[list[str]], k: int, since: str | None = None, until: str | None = None,
                  outlets: list | None = None, today: str | None = None, notes: list | None = None, story: bool = False):
            yield from respond(app, message, history, turns, k, since, until, outlets, today, notes, story)

        outputs = [chat, sources, rewritten, answers, questions, box]
        inputs = [box, chat, questions, top_k, since, until, outlets, today, answers, timeline]
        # not held in Gradio's queue: the question shows at once and waits in the model's line
        waits = dict(concurrency_limit=None, show_progress="hidden")
        asked_by_enter = box.submit(asked, inputs, outputs, api_name="ask", **waits)
        asked_by_button = send.click(asked, inputs, outputs, api_visibility="undocumented", **waits)
        asked_by_example = chat.example_select(_example, None, box).then(asked, inputs, outputs, api_visibility="undocumented", **waits)
        stop.click(None, cancels=[asked_by_enter, asked_by_button, asked_by_example])
        clear.click(
            lambda: ([], sources_html(None), "", [], []),
            None,
            [chat, sources, rewritten, answers, questions],
            cancels=[asked_by_enter, asked_by_button, asked_by_example],
        )
        upload.upload(lambda files, progress=gr.Progress(): _add_files(app, files, progress), upload, [status, upload], api_name="add_files")
        profile.change(lambda name: _switch_profile(app, name), profile, status, api_name="switch_profile")

        shown_outlets = gr.State([])

        def tick(shown: list[str]):
            names = app.outlets()
            return app.current_status(), gr.skip() if names == shown else gr.update(choices=names), names

        timer = gr.Timer(2.0)  # loading progress, then the background embedding's; the outlets once known
        timer.tick(tick, shown_outlets, [status, outlets, shown_outlets], show_progress="hidden", api_visibility="private")
    return demo


def respond(app: App, message: str, history: list, turns: list[list[str]], k: int, since: str = "", until: str = "",
            outlets: list | None = None, today: str = "", notes: list | None = None, story: bool = False):
    """Answer in the chat: the question shows at once (with its place in line while the model
    is busy), the answer streams, then the final answer with its citation links and its
    "메모에 추가" link, and the sources panel. `since`, `until` and `outlets` are the page's
    filters; `today` the day relative words count from; `notes` each earlier answer as a memo
    note; `story` the 타임라인 box (else a timeline only when the question asks for a story).

    Yields (chat, sources, rewritten note, notes, conversation turns, question box).
    """
    if not (message or "").strip():
        gr.Warning(title="확인", message="질문을 입력하세요.")
        return
    try:
        request = Request.of({"question": message, "history": [Turn(*turn) for turn in turns], "since": since, "until": until,
                              "source": list(outlets or ()), "today": today, "timeline": True if story else None})
    except RagError as e:
        gr.Warning(title="확인", message=e.korean)
        return
    pipeline = _ready(app)
    notes = list(notes or [])
    history = history + [{"role": "user", "content": esc(request.question)}, {"role": "assistant", "content": "…"}]
    yield history, gr.skip(), "", notes, turns, ""
    with app.line.place() as ticket:
        waited = False
        for ahead in app.line.until_turn(ticket):  # an API call or another person's question goes first
            waited, history[-1]["content"] = True, f'<span class="waiting">{waiting_note(ahead)}</span>'
            yield history, gr.skip(), gr.skip(), notes, turns, gr.skip()
        if waited:  # its turn: the note goes at once
            history[-1]["content"] = "…"
            yield history, gr.skip(), gr.skip(), notes, turns, gr.skip()
        text = ""
        try:
            reply = ask(pipeline, request, int(k))
            for piece in reply:
                if not piece:  # a heartbeat: Gradio can close this generator (Stop, a closed page) only at a yield
                    yield (gr.skip(),) * 6
                    continue
                text += piece
                history[-1]["content"] = streaming_html(text)
                yield history, gr.skip(), gr.skip(), notes, turns, gr.skip()
            answer = reply.answer
        except RagError as e:
            raise gr.Error(title="오류", message=e.korean) from None
    log.info("answered in %.1f s with %d citations", answer.timings["total"], len(answer.citations))
    history[-1]["content"] = answer_html(answer, None if answer.refused else len(notes))
    note = f"다시 쓴 질문: {esc(answer.question)}" if answer.asked else ""
    notes.append(None if answer.refused else Note.of(answer).to_dict())
    yield history, sources_html(answer), note, notes, turns + [[answer.question, answer.text]], gr.skip()


def _ready(app: App) -> Pipeline:
    if app.pipeline is None:
        if app.failed:
            raise gr.Error(title="오류", message=app.status.removeprefix("오류: "))
        raise gr.Error(title="오류", message="모델을 불러오는 중입니다. 잠시 후 다시 시도하세요.")
    return app.pipeline


def _example(evt: gr.SelectData) -> str:
    return evt.value["text"]


def _add_files(app: App, files: list | None, progress: gr.Progress):
    if not files:
        return gr.skip(), None
    pipeline = _ready(app)
    # the size was checked by Gradio while uploading (max_file_size); the type is checked here,
    # not by the file box, whose refusal is in English
    paths = [Path(f if isinstance(f, str) else f.name) for f in files]
    if wrong := [p.name for p in paths if p.suffix.lower() not in UPLOAD_TYPES]:
        raise gr.Error(title="오류", message=f"{esc(', '.join(wrong))}: 기사 파일은 {', '.join(UPLOAD_TYPES)} 형식만 올릴 수 있습니다.")
    stored = [store_upload(p, app.config.data_dir / "uploads") for p in paths]
    progress(0, desc="기사 읽는 중")
    try:
        with app.line.turn():
            result = pipeline.add_files(stored, lambda stage, done, total: progress((done, total), desc="기사 읽는 중"))
    except RagError as e:
        raise gr.Error(title="오류", message=e.korean) from None
    for problem in result.problems[:5]:
        gr.Warning(title="확인", message=esc(problem.korean))
    message = f"기사 {result.added}건 추가"
    if result.duplicates:
        message += f" · 중복 {result.duplicates}건 건너뜀"
    gr.Info(title="안내", message=message + " · 키워드 검색은 바로, 의미 검색은 색인이 끝나는 대로 됩니다")
    app.note = message
    return app.ready_status(), None


def _switch_profile(app: App, name: str) -> str:
    pipeline = _ready(app)
    if name == pipeline.config.profile:
        return app.ready_status()
    app.status = f"모델 전환 중: {name}"
    with app.line.turn():
        try:
            switched = with_profile(pipeline, name)
        except RagError as e:
            raise gr.Error(title="오류", message=e.korean) from None
        switched.warm()
        app.pipeline = switched
    return app.ready_status()


def store_upload(src: Path, folder: Path) -> Path:
    """Copy an uploaded file into `folder` under a safe name; never overwrites.

    >>> _safe_name("../../etc/passwd.jsonl")
    'passwd.jsonl'
    """
    folder.mkdir(parents=True, exist_ok=True)
    name = _safe_name(src.name)
    stem, suffix = Path(name).stem, Path(name).suffix
    target, n = folder / name, 1
    while target.exists():
        n += 1
        target = folder / f"{stem}-{n}{suffix}"
    shutil.copyfile(src, target)
    return target


def _safe_name(name: str) -> str:
    """The base name with only letters (Hangul too), digits, '-', '_' and '.' kept."""
    base = re.sub(r"[^\w.\-]", "_", Path(name.replace("\\", "/")).name).lstrip(".")
    return base[:100] or "upload.txt"

