"""Generation over HTTP: llama.cpp servers answer for this process.

`HttpGenerator` honours the `Generator` contract (generate.py) with one or more
OpenAI-compatible servers, so the model can run on other processes or machines than the
page. The servers meant are llama-cpp-python's own, `python -m llama_cpp.server` (the `serve`
extra), rather than llama.cpp's C++ `llama-server`: nothing more to compile, and the same
llama.cpp build as the in-process LlamaGenerator, so at temperature 0 the same answers
(tests/test_e2e_llama_server.py checks it).

Each request goes to the server with the fewest requests in flight from this process (ties:
the order given). A llama-cpp-python server answers one request at a time, so that is where
an answer starts soonest. A server that cannot be reached is passed over for FAILING_FOR
seconds and the request goes to the next one. A server that dies mid-answer, answers with an
error or stays silent for `timeout` seconds ends that answer with a ModelError (text already
streamed cannot be taken back); it too is passed over, so the next question goes elsewhere.

Left out: load shared with other processes, an API key (keep the servers on loopback or a
private network), checking that the servers run the configured model (they are trusted to).
"""
from __future__ import annotations

import collections.abc
import contextlib
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

import httpx

from .errors import ConfigError, ModelError
from .generate import chatml, defuse
from .stores.address import redact  # a password in a URL is never printed (the store's rule)

log = logging.getLogger(__name__)

FAILING_FOR = 30.0  # seconds a server that failed is passed over (unless every server failed)
HEARTBEAT = 0.5  # seconds between heartbeats while the server is silent (reading the prompt)
TIMEOUT = 120.0  # seconds of silence before a server counts as dead; its SSE pings come every 15 s
_END = object()


class HttpGenerator:
    """Streams replies from llama.cpp servers at `urls` ("http://127.0.0.1:8001", no /v1)."""

    def __init__(self, urls: Sequence[str], model_id: str, timeout: float = TIMEOUT):
        if not urls:
            raise ValueError("HttpGenerator needs at least one server URL")
        self.urls = tuple(u.rstrip("/") for u in urls)
        self.model_id = model_id
        self.timeout = timeout
        self.last_stats: dict = {}
        self._busy = dict.fromkeys(self.urls, 0)  # requests in flight from this process
        self._failed = dict.fromkeys(self.urls, float("-inf"))  # when each last failed
        self._lock = threading.Lock()
        # no read timeout in httpx: the reading thread may wait; stream() keeps the time
        self._client = httpx.Client(timeout=httpx.Timeout(None, connect=min(timeout, 10.0)),
                                    limits=httpx.Limits(max_connections=None, max_keepalive_connections=8))

    def stream(self, messages: list[dict[str, str]], max_tokens: int, prefix: str = "", grammar: str | None = None) -> Iterator[str]:
        """Stream the reply from the least busy server; "" while it is silent.

        With no prefix the server formats the chat with the GGUF's own template, as the
        in-process generator does (each content defused the same way: the server also reads
        special tokens). With a prefix, the chat is formatted here as ChatML and continued as
        a plain completion: the chat endpoint cannot open the assistant's reply. max_tokens 0
        (Pipeline.warm) asks for one token and shows none: the server reads the prompt.
        """
        messages = [{**m, "content": defuse(m["content"])} for m in messages]
        sampling = {"model": self.model_id, "max_tokens": max(max_tokens, 1), "temperature": 0.0, "top_k": 1, "repeat_penalty": 1.0,
                    # llama.cpp's C++ server reuses the previous prompt's KV cache only when asked;
                    # llama-cpp-python's ignores the field: it always reuses the previous prompt's
                    # KV state for the tokens the new prompt shares with it
                    "cache_prompt": True, "stream": True}
        if grammar is not None:
            sampling["grammar"] = grammar
        if prefix or grammar is not None:  # the chat endpoint takes no grammar: the chat is formatted here
            path, body = "/v1/completions", {"prompt": chatml(messages) + prefix, **sampling}
        else:
            path, body = "/v1/chat/completions", {"messages": messages, **sampling}
        tried: list[str] = []
        while True:
            url = self._pick(tried)
            tried.append(url)
            with self._lock:
                self._busy[url] += 1
            try:
                with contextlib.closing(self._exchange(url, path, body)) as pieces:
                    for piece in pieces:
                        yield piece if max_tokens > 0 else ""
                return
            except _Unreachable as e:
                self._mark_failed(url)
                log.warning("%s", e.english)
                if len(tried) == len(self.urls):
                    raise _Unreachable(", ".join(tried), e.error).as_model_error() from None
            except ServerFailed:
                self._mark_failed(url)
                raise
            finally:
                with self._lock:
                    self._busy[url] -= 1

    def choose(self, messages: list[dict[str, str]], options: list[str]) -> collections.abc.Generator[str, None, int]:
        """The option the server's model says under a grammar of the options' texts: greedy at
        temperature 0, as the model loaded here chooses (generate.py)."""
        grammar = "root ::= " + " | ".join(json.dumps(option, ensure_ascii=False) for option in options)
        pieces = []
        for piece in self.stream(messages, 96, grammar=grammar):
            pieces.append(piece)
            yield ""
        said = "".join(pieces).strip()
        return next((i for i, o in enumerate(options) if o == said), next((i for i, o in enumerate(options) if o.startswith(said) and said), 0))

    def _pick(self, tried: list[str]) -> str:
        """The least busy server not tried and not failing lately (if all failed: the least busy)."""
        now = time.monotonic()
        with self._lock:
            left = [u for u in self.urls if u not in tried]
            healthy = [u for u in left if now - self._failed[u] > FAILING_FOR] or left
            return min(healthy, key=lambda u: (self._busy[u], self.urls.index(u)))

    def _mark_failed(self, url: str) -> None:
        with self._lock:
            self._failed[url] = time.monotonic()

    def _exchange(self, url: str, path: str, body: dict) -> Iterator[str]:
        """One request's text pieces, read on a thread: "" while the server is silent; a reader that
        stops shuts the connection at once."""
        t0, first, count = time.perf_counter(), None, 0
        call = _Call(self._client, url + path, body)
        finished = False
        try:
            for text, done in _events(call, self.timeout, url):
                if text:
                    first, count = first or time.perf_counter(), count + 1
                yield text
                if done:
                    finished = True
        finally:
            call.stop()
            end = time.perf_counter()
            if not finished:
                log.info("generation on %s stopped after %d pieces", redact(url), count)
            self.last_stats = {"server": redact(url), "pieces": count, "first_token_s": round((first or end) - t0, 3)}

    def close(self) -> None:
        self._client.close()


def _events(call: "_Call", timeout: float, url: str) -> Iterator[tuple[str, bool]]:
    """(text, finished) for each SSE event of an OpenAI streaming reply; ("", False) as heartbeat.

    A stream must end with a finish_reason and then [DONE]; llama-cpp-python's server sends
    [DONE] without one when another request interrupts it (its --interrupt_requests, on by
    default), which must not pass for a whole answer.
    """
    silent_since, finish, event = time.monotonic(), None, "message"
    while True:
        try:
            line = call.lines.get(timeout=HEARTBEAT)
        except queue.Empty:
            if time.monotonic() - silent_since > timeout:
                raise _dead(url, f"nothing for {timeout:.0f} s", f"{timeout:.0f}초 동안 아무것도 보내지 않았습니다")
            yield "", False
            continue
        silent_since = time.monotonic()
        if isinstance(line, httpx.ConnectError | httpx.ConnectTimeout):
            raise _Unreachable(url, line)
        if isinstance(line, BaseException):
            raise _dead(url, f"{type(line).__name__}: {line}", "답하던 중 연결이 끊겼습니다")
        if isinstance(line, _Status):
            error = ServerFailed if line.code >= 500 else ModelError  # 4xx: this request, not the server
            raise error(f"The language model server {redact(url)} answered HTTP {line.code}: {line.text}",
                        f"언어 모델 서버({redact(url)})가 오류로 답했습니다 (HTTP {line.code}). 서버 로그를 확인하세요.")
        if line is _END:
            raise _dead(url, "the stream ended before [DONE]", "답이 끝나기 전에 연결이 닫혔습니다")
        if not line or line.startswith("event:"):  # a blank line ends an event, "event: x" names one
            event = line[6:].strip() or "message"
        if not line.startswith("data:") or event != "message":
            continue  # comments (": ping - …"), other events
        data = line[5:].strip()
        if data == "[DONE]":
            if finish is None:
                raise ModelError(
                    f"The language model server {redact(url)} cut the answer short: another request interrupted it. "
                    "Start llama_cpp.server with --interrupt_requests False.",
                    f"언어 모델 서버({redact(url)})가 다른 요청 때문에 답을 멈췄습니다. 다시 물어보세요.")
            return
        try:
            choice = (json.loads(data).get("choices") or [{}])[0]
        except (ValueError, AttributeError):
            raise _dead(url, f"not an OpenAI stream: {data[:100]!r}", "알 수 없는 형식으로 답했습니다") from None
        text = (choice.get("delta") or {}).get("content") or choice.get("text") or ""
        finish = finish or choice.get("finish_reason")
        yield text, finish is not None


class _Call:
    """One streaming POST read by a daemon thread into `lines`: each line of the body, then _END;
    an exception or a _Status in its place."""

    def __init__(self, client: httpx.Client, url: str, body: dict):
        self.lines: queue.SimpleQueue = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._socket: socket.socket | None = None
        threading.Thread(target=self._read, args=(client, url, body), daemon=True, name="llm-http").start()

    def _read(self, client: httpx.Client, url: str, body: dict) -> None:
        try:
            with client.stream("POST", url, json=body) as response:
                stream = response.extensions.get("network_stream")
                self._socket = stream.get_extra_info("socket") if stream else None
                if self._stopped.is_set():
                    return
                if response.status_code != 200:
                    self.lines.put(_Status(response.status_code, response.read().decode("utf-8", "replace")[:300]))
                    return
                for line in response.iter_lines():
                    if self._stopped.is_set():
                        return
                    self.lines.put(line)
            self.lines.put(_END)
        except Exception as e:  # noqa: BLE001 - handed to the reader, who says what failed
            if not self._stopped.is_set():
                self.lines.put(e)

    def stop(self) -> None:
        """End the request: shutting the socket wakes the reading thread and tells the server
        (closing it would leave the thread waiting for the next byte)."""
        self._stopped.set()
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed


class _Status:
    def __init__(self, code: int, text: str):
        self.code, self.text = code, text


class _Unreachable(Exception):
    """No connection: nothing was sent, so the request can go to another server."""

    def __init__(self, url: str, error: Exception):
        self.error = error
        self.english = (f"The language model server {redact(url)} does not answer ({type(error).__name__}). Start it "
                        "(`python -m llama_cpp.server`, see the README) or fix --llm-server / RAG_LLM_SERVERS.")
        self.korean = f"언어 모델 서버({redact(url)})가 응답하지 않습니다. 서버가 켜져 있는지 확인하세요."
        super().__init__(self.english)

    def as_model_error(self) -> ModelError:
        return ModelError(self.english, self.korean)


class ServerFailed(ModelError):
    """A server died mid-answer, went silent or failed: it is passed over for a while."""


def _dead(url: str, english: str, korean: str) -> ServerFailed:
    return ServerFailed(f"The language model server {redact(url)} stopped answering ({english}); ask again "
                        "(another server, if there is one, takes the next question).",
                        f"언어 모델 서버({redact(url)})가 응답하지 않습니다: {korean}. 다시 물어보세요.")


def server_urls(values: Sequence[str], where: str) -> tuple[str, ...]:
    """Server URLs checked and written one way (no trailing / or /v1: the paths add it); `where`
    names where they were given, for the error.

    >>> server_urls(["http://127.0.0.1:8001/", " http://10.0.0.5:8001/v1", ""], "x")
    ('http://127.0.0.1:8001', 'http://10.0.0.5:8001')
    """
    urls = []
    for value in (v.strip() for v in values if v.strip()):
        try:
            parts = urlsplit(value)
            ok = parts.scheme in ("http", "https") and parts.hostname and (parts.port or True)
        except ValueError:  # a port that is not a number
            ok = False
        if not ok:
            raise ConfigError(f"{where}: '{redact(value)}' is not a server URL; give one like http://127.0.0.1:8001.")
        url = value.rstrip("/")
        urls.append(url.removesuffix("/v1"))
    return tuple(dict.fromkeys(urls))
