"""The JSON API that `rag chat` serves beside the page, in the same process and the same line
for the model.

    POST /api/ask               {"question", "history"?, "since"?, "until"?, "source"?, "today"?,
                                 "memo_style"?} -> what `rag ask --json` prints
    POST /api/ask/stream        the same as server-sent events: "queue" while waiting, "start",
                                "piece"s ("" while the model works: a heartbeat), then
                                "answer"
    POST /v1/chat/completions   OpenAI-compatible, with "stream"; the reply is the cited answer
                                and its references in Markdown, the whole answer under "rag"
    GET  /v1/models             the one model, for chat front ends that ask
    GET  /api/health            200 once ready, 503 while loading; needs no login

A streamed OpenAI reply sends the answer in lines once it is composed: the code writes it from
the value the model chose, so there is no draft worth showing first.
Errors are JSON with a 4xx/5xx status: {"error": {"message", "korean", "type"}}.
"""
from __future__ import annotations

import asyncio
import base64
import hmac
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator

from fastapi import APIRouter, Depends
from fastapi import Request as HTTPRequest
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from rag import MEMO_STYLES, Answer, Note, RagError, Request, Turn, answer_json, ask, markdown, without_references
from ui.line import waiting_note

MODEL = "korean-news-rag"


class Refused(Exception):
    """A request the API turns down, with its HTTP status and a JSON body saying why."""

    def __init__(self, status: int, message: str, korean: str, kind: str = "invalid_request_error"):
        self.status, self.body = status, {"error": {"message": message, "korean": korean, "type": kind}}


def router(app, login: tuple[str, str] | None) -> APIRouter:
    """The API over `app` (ui.app.App: its pipeline and its line), behind `login` if given."""
    api = APIRouter(dependencies=[Depends(_guard(login))])

    @api.post("/api/ask")
    async def answer(http: HTTPRequest):
        body, style = await _read(http)
        request = _request(body)
        return JSONResponse(answer_json(await run_in_threadpool(_answered, app, request), style))

    @api.post("/api/timeline")
    async def timeline(http: HTTPRequest):
        body, style = await _read(http)
        request = _request({**body, "timeline": True})
        return JSONResponse(answer_json(await run_in_threadpool(_answered, app, request), style))

    @api.post("/api/ask/stream")
    async def answer_stream(http: HTTPRequest):
        body, style = await _read(http)
        _ready(app)
        return _events(_pieces(app, _request(body), style))

    @api.post("/v1/chat/completions")
    async def completions(http: HTTPRequest):
        body, style = await _read(http)
        request, stream = chat_request(body)
        if not stream:
            return JSONResponse(completion(await run_in_threadpool(_answered, app, request), style))
        _ready(app)
        return _events(_chunks(app, request, style))

    @api.get("/v1/models")
    async def models():
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "local"}]}

    return api


def health(app) -> APIRouter:
    """GET /api/health, outside the login (a load balancer or `rag desk` asks it): 200 once the
    models and the archive are loaded, 503 before and while the archive cannot be reached (a load
    balancer then sends people elsewhere); nothing else is told."""
    probe = APIRouter()

    @probe.get("/api/health")
    async def ready():
        _ready(app)
        if app.unreachable:
            raise Refused(503, "The archive cannot be reached.", app.unreachable, "unavailable")
        return {"ready": True}

    return probe


def refused_response(_, e: Refused) -> JSONResponse:
    return JSONResponse(e.body, status_code=e.status)


def chat_request(body: dict) -> tuple[Request, bool]:
    """An OpenAI chat request as a question with its conversation: the last message is the
    question; each earlier user message is an earlier question, with the assistant's reply
    after it (our references cut off) as its answer, or replayed when it has none.

    >>> chat_request({"messages": [{"role": "user", "content": "딥시크는?"}, {"role": "assistant", "content": "AI 회사다[1].\\n\\n**참고 기사**\\n[1] x"},
    ...                            {"role": "user", "content": "창업자는?"}]})
    (Request(question='창업자는?', history=(Turn(question='딥시크는?', answer='AI 회사다[1].'),), since=None, until=None, source=(), today=None, timeline=None), False)
    """
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise Refused(400, '"messages" must be a non-empty list of {"role", "content"} objects.', '"messages"에 대화 메시지 목록을 넣어 주세요.')
    said = [(_role(m), _content(m)) for m in messages]
    said = [(role, text) for role, text in said if role in ("user", "assistant")]
    if not said or said[-1][0] != "user":
        raise Refused(400, "The last message must be the user's question.", "마지막 메시지는 사용자의 질문이어야 합니다.")
    history: list[str | Turn] = []
    for (role, text), (next_role, next_text) in zip(said[:-1], said[1:] + [("", "")]):
        if role == "user":
            history.append(Turn(text, without_references(next_text)) if next_role == "assistant" else text)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise Refused(400, '"stream" must be true or false.', '"stream"은 true 또는 false여야 합니다.')
    filters = {k: body[k] for k in ("since", "until", "source", "today", "timeline") if k in body}
    return _request({"question": said[-1][1], "history": history, **filters}), stream


def completion(answer: Answer, style: str) -> dict:
    """A chat.completion object whose message is the cited answer with its references."""
    return {
        **_envelope("chat.completion"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply_text(answer, style)}, "finish_reason": "stop"}],
        "rag": answer_json(answer, style),
    }


def reply_text(answer: Answer, style: str) -> str:
    return markdown([Note.of(answer)], style, questions=False).rstrip()


def _answered(app, request: Request) -> Answer:
    pipeline = _ready(app)
    with app.line.turn():
        try:
            return ask(pipeline, request).answer
        except RagError as e:
            raise _refused(e) from None


def _turn(app, request: Request) -> Iterator[tuple[str, object]]:
    """("queue", places ahead) while waiting in line, ("start", None) on its turn, ("piece",
    text) as the pipeline yields it, then ("answer", the Answer)."""
    with app.line.place() as ticket:
        for ahead in app.line.until_turn(ticket):
            yield "queue", ahead
        yield "start", None
        reply = ask(app.pipeline, request)
        for piece in reply:
            yield "piece", piece
        yield "answer", reply.answer


def _pieces(app, request: Request, style: str) -> Iterator[tuple[str, object]]:
    """The events of /api/ask/stream."""
    try:
        for event, data in _turn(app, request):
            if event == "queue":
                yield "queue", {"ahead": data, "note": waiting_note(data)}
            elif event == "start":
                yield "start", {}
            elif event == "piece":
                yield ("piece", {"text": data}) if data else (":", "working")  # a heartbeat: a comment
            else:
                yield "answer", answer_json(data, style)
    except RagError as e:
        yield "error", _refused(e).body["error"]


def _chunks(app, request: Request, style: str) -> Iterator[tuple[str, object]]:
    """The chat.completion.chunk objects of a streamed OpenAI reply: the role at once, a
    comment while waiting and choosing (keeps the connection alive), then the answer."""
    envelope = _envelope("chat.completion.chunk")

    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {**envelope, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield "", chunk({"role": "assistant", "content": ""})
    try:
        for event, data in _turn(app, request):
            if event != "answer":
                yield ":", event
                continue
            for line in re.findall(r"[^\n]+\n*|\n+", reply_text(data, style)):
                yield "", chunk({"content": line})
            yield "", {**chunk({}, "stop"), "rag": answer_json(data, style)}
    except RagError as e:
        yield "", _refused(e).body
    yield "", "[DONE]"


def _events(events: Iterator[tuple[str, object]]) -> StreamingResponse:
    """Server-sent events; the generator is closed when the client goes (its turn in line is given back)."""

    async def body() -> AsyncIterator[str]:
        try:
            async for event, data in _in_thread(events):
                text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
                yield f": {text}\n\n" if event == ":" else (f"event: {event}\n" if event else "") + f"data: {text}\n\n"
        finally:
            await _close(events)

    return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _close(events: Iterator, patience: float = 60.0) -> None:
    """Close the events (their turn in line is given back); while a step still runs in its
    thread, try again shortly: steps are short, the model yields a heartbeat between batches."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return events.close()
        except ValueError:  # "generator already executing"
            if time.monotonic() > deadline:
                return  # closed when collected
            await asyncio.sleep(0.05)


async def _in_thread(events: Iterator) -> AsyncIterator:
    done = object()
    while (item := await run_in_threadpool(next, events, done)) is not done:
        yield item


def _guard(login: tuple[str, str] | None):
    """The page's login rule for the API: off 127.0.0.1 a request carries the same
    USER:PASSWORD, as HTTP Basic auth or as a bearer token (an OpenAI client's api_key)."""
    expected = f"{login[0]}:{login[1]}".encode() if login else None

    def check(http: HTTPRequest) -> None:
        if expected is None:
            return
        scheme, _, value = http.headers.get("authorization", "").partition(" ")
        given = value.strip().encode()
        if scheme.lower() == "basic":
            given = base64.b64decode(given + b"==", validate=False) if given else b""
        if not (scheme.lower() in ("basic", "bearer") and hmac.compare_digest(given, expected)):
            raise Refused(401, "Log in: send USER:PASSWORD as HTTP Basic auth or as the bearer token (an OpenAI client's api_key).",
                          "로그인이 필요합니다.", "authentication_error")

    return check


async def _read(http: HTTPRequest) -> tuple[dict, str]:
    """The request's JSON object, and the memo style it asks for (taken out of it)."""
    try:
        body = json.loads(await http.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise Refused(400, f"The request body is not JSON ({e}).", "요청 본문이 JSON이 아닙니다.") from None
    if not isinstance(body, dict):
        raise Refused(400, "The request body must be a JSON object.", "요청 본문은 JSON 객체여야 합니다.")
    style = body.pop("memo_style", "numbered")
    if style not in MEMO_STYLES:
        raise Refused(400, '"memo_style" must be "numbered" or "footnote".', '"memo_style"은 numbered 또는 footnote입니다.')
    return body, style


def _request(body: dict) -> Request:
    try:
        return Request.of(body)
    except RagError as e:
        raise _refused(e) from None


def _ready(app):
    if app.pipeline is None:
        if app.failed:
            raise Refused(500, f"The models failed to load: {app.status}", app.status, "server_error")
        raise Refused(503, "The models are still loading: try again in a moment.", "모델을 불러오는 중입니다. 잠시 후 다시 시도하세요.", "unavailable")
    return app.pipeline


def _refused(e: RagError) -> Refused:
    return Refused(400, e.english, e.korean)


def _role(message: object) -> str:
    if not isinstance(message, dict) or message.get("role") not in ("system", "developer", "user", "assistant", "tool"):
        raise Refused(400, 'Each message must be an object with a "role" (system, user, assistant) and "content".',
                      '각 메시지는 "role"과 "content"가 있는 객체여야 합니다.')
    return message["role"]


def _content(message: dict) -> str:
    """A message's text: a string, or the text parts of a list of parts."""
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if not isinstance(content, str):
        raise Refused(400, 'A message\'s "content" must be text.', '메시지의 "content"는 텍스트여야 합니다.')
    return content


def _envelope(kind: str) -> dict:
    return {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": kind, "created": int(time.time()), "model": MODEL}
