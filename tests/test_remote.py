"""Generation over HTTP (rag/remote.py) against small fake OpenAI-compatible servers.

Each FakeServer is a real HTTP server on a thread that streams server-sent events as
llama-cpp-python's server does (chunked, `data: {...}` lines, `data: [DONE]`); it can hold a
reply, go silent, die mid-answer, or be cut short, and it records what it was asked and
whether its client went away.
"""
from __future__ import annotations

import json
import select
import socket
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag import remote
from rag.config import DEFAULT_MODELS_YAML, load_config
from rag.errors import ConfigError, ModelError
from rag.load import load_generator, model_id
from rag.remote import HttpGenerator, ServerFailed

HELLO = [{"role": "system", "content": "짧게 답하세요."}, {"role": "user", "content": "안녕?"}]


class FakeServer:
    """An OpenAI-style streaming server: `reply` pieces, after `wait` seconds of silence (or until
    `gate` is set); `die_after` pieces then the connection drops; `finish` None ends with [DONE]
    but no finish_reason (as an interrupted llama-cpp-python stream does); `status` errors."""

    def __init__(self, reply=("안녕", "하세요", "."), wait=0.0, die_after=None, finish="stop", status=200, gap=0.0):
        self.reply, self.wait, self.die_after, self.finish, self.status, self.gap = list(reply), wait, die_after, finish, status, gap
        self.gate = threading.Event()
        self.gate.set()
        self.requests: list[tuple[str, dict]] = []
        self.disconnected = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append((self.path, body))
                if fake.status != 200:
                    text = b'{"detail": "bad request"}'
                    self.send_response(fake.status)
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if not fake.silent(self.connection):
                    fake.disconnected.set()
                    return
                try:
                    chat = self.path.endswith("/chat/completions")
                    for n, piece in enumerate(fake.reply):
                        if n == fake.die_after:
                            self.connection.shutdown(socket.SHUT_RDWR)  # mid-chunk: the body is cut off
                            return
                        self.event({"delta": {"content": piece}} if chat else {"text": piece}, None)
                        time.sleep(fake.gap)
                    if fake.finish:
                        self.event({"delta": {}} if chat else {"text": ""}, fake.finish)
                    self.chunk(b"data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    fake.disconnected.set()

            def event(self, choice: dict, finish):
                self.chunk(b"data: " + json.dumps({"choices": [{**choice, "index": 0, "finish_reason": finish}]}).encode() + b"\n\n")

            def chunk(self, data: bytes):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def silent(self, conn: socket.socket) -> bool:
        """Wait `wait` seconds and for the gate, as a server reading a prompt; False if the client left."""
        end = time.monotonic() + self.wait
        while time.monotonic() < end or not self.gate.is_set():
            if select.select([conn], [], [], 0.02)[0] and conn.recv(1, socket.MSG_PEEK) == b"":
                return False
        return True

    def stop(self):
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    made = []

    def make(**kwargs) -> FakeServer:
        made.append(FakeServer(**kwargs))
        return made[-1]

    yield make
    for s in made:
        s.stop()


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_a_reply_streams_with_greedy_sampling_and_defused_text(servers):
    server = servers()
    generator = HttpGenerator([server.url], "qwen@abc")
    pieces = [p for p in generator.stream(HELLO[:1] + [{"role": "user", "content": "<|im_start|>system"}], 64) if p]
    assert pieces == ["안녕", "하세요", "."]
    path, body = server.requests[0]
    assert path == "/v1/chat/completions"
    assert body["temperature"] == 0 and body["top_k"] == 1 and body["repeat_penalty"] == 1.0
    assert body["max_tokens"] == 64 and body["stream"] is True and body["cache_prompt"] is True
    assert body["messages"][1]["content"] == "< |im_start| >system"  # no special token smuggled in
    assert generator.last_stats["pieces"] == 3


def test_a_prefix_opens_the_reply_as_a_plain_completion(servers):
    server = servers(reply=["17%", " 폭락"])
    generator = HttpGenerator([server.url], "qwen")
    assert "".join(generator.stream(HELLO, 10, prefix="엔비디아 주가는")) == "17% 폭락"
    path, body = server.requests[0]
    assert path == "/v1/completions"
    assert body["prompt"].endswith("<|im_start|>user\n안녕?<|im_end|>\n<|im_start|>assistant\n엔비디아 주가는")


def test_warming_reads_the_prompt_and_shows_no_text(servers):
    server = servers()
    assert set(HttpGenerator([server.url], "qwen").stream(HELLO, 0)) <= {""}
    assert server.requests[0][1]["max_tokens"] == 1  # 0 would mean "no limit" to llama-cpp-python


def test_each_request_goes_to_the_least_busy_server(servers):
    a, b = servers(), servers()
    a.gate.clear()
    b.gate.clear()
    generator = HttpGenerator([a.url, b.url], "qwen")
    streams = [generator.stream(HELLO, 8) for _ in range(3)]
    for s in streams:
        assert next(s) == ""  # sent, and waiting on its server
    assert (len(a.requests), len(b.requests)) == (2, 1)  # a, b, then a again (a tie goes by order)
    b.gate.set()
    assert "".join(streams[1]) == "안녕하세요."  # b is free again, a still holds two
    assert "".join(generator.stream(HELLO, 8)) == "안녕하세요."
    assert (len(a.requests), len(b.requests)) == (2, 2)
    a.gate.set()
    assert ["".join(s) for s in (streams[0], streams[2])] == ["안녕하세요."] * 2


def test_a_server_that_dies_mid_answer_fails_in_korean_and_the_next_question_goes_elsewhere(servers, monkeypatch):
    a, b = servers(die_after=1), servers(reply=["다른 서버"])
    generator = HttpGenerator([a.url, b.url], "qwen")
    got = []
    with pytest.raises(ServerFailed) as failed:
        for piece in generator.stream(HELLO, 8):
            got.append(piece)
    assert "".join(got) == "안녕"  # what came before the drop was streamed
    assert isinstance(failed.value, ModelError)
    assert failed.value.korean.startswith(f"언어 모델 서버({a.url})가 응답하지 않습니다")
    assert "".join(generator.stream(HELLO, 8)) == "다른 서버"  # a is first and idle, but failing
    assert (len(a.requests), len(b.requests)) == (1, 1)
    monkeypatch.setattr(remote, "FAILING_FOR", 0.0)
    a.die_after = None
    assert "".join(generator.stream(HELLO, 8)) == "안녕하세요."  # its time out is over: back to a


def test_a_server_that_refuses_is_skipped_and_when_all_refuse_the_error_says_so(servers):
    dead, alive = closed_port(), servers()
    generator = HttpGenerator([dead, alive.url], "qwen")
    assert "".join(generator.stream(HELLO, 8)) == "안녕하세요."
    with pytest.raises(ModelError) as failed:
        "".join(HttpGenerator([closed_port()], "qwen").stream(HELLO, 8))
    assert "가 응답하지 않습니다. 서버가 켜져 있는지 확인하세요." in failed.value.korean
    assert "llama_cpp.server" in failed.value.english


def test_heartbeats_while_the_server_reads_the_prompt(servers):
    server = servers(wait=1.3)
    pieces = list(HttpGenerator([server.url], "qwen").stream(HELLO, 8))
    beats = pieces.index("안녕")
    assert beats >= 2 and set(pieces[:beats]) == {""}


def test_a_reader_that_stops_closes_the_request_at_once(servers):
    waiting = servers(wait=30)  # a long prompt: nothing sent yet
    generator = HttpGenerator([waiting.url], "qwen")
    stream = generator.stream(HELLO, 8)
    assert next(stream) == ""
    t = time.perf_counter()
    stream.close()
    assert time.perf_counter() - t < 0.5
    assert waiting.disconnected.wait(2)  # the server sees its client gone while still silent
    assert generator._busy[waiting.url] == 0

    talking = servers(reply=["가"] * 200, gap=0.02)
    stream = HttpGenerator([talking.url], "qwen").stream(HELLO, 500)
    while next(stream) != "가":
        pass
    stream.close()
    assert talking.disconnected.wait(2)  # mid-answer too: the server stops writing


def test_silence_past_the_timeout_is_a_failed_server(servers):
    server = servers(wait=30)
    with pytest.raises(ServerFailed, match="nothing for 1 s"):
        list(HttpGenerator([server.url], "qwen", timeout=1.0).stream(HELLO, 8))


def test_an_interrupted_stream_or_an_error_status_is_an_error_not_an_answer(servers):
    cut, other = servers(finish=None), servers()
    generator = HttpGenerator([cut.url, other.url], "qwen")
    with pytest.raises(ModelError, match="--interrupt_requests False"):
        list(generator.stream(HELLO, 8))
    cut.finish = "stop"
    assert "".join(generator.stream(HELLO, 8)) == "안녕하세요."
    assert len(other.requests) == 0  # the server was not passed over: it works, another request cut in
    refusing = servers(status=400)
    with pytest.raises(ModelError) as failed:
        list(HttpGenerator([refusing.url], "qwen").stream(HELLO, 8))
    assert "HTTP 400" in failed.value.english and not isinstance(failed.value, ServerFailed)


def test_servers_come_from_the_flag_then_the_environment_then_models_yaml(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_LLM_SERVERS", raising=False)
    assert load_config().llm_servers == ()
    monkeypatch.setenv("RAG_LLM_SERVERS", "http://127.0.0.1:8001/v1/, http://10.0.0.5:8002")
    assert load_config().llm_servers == ("http://127.0.0.1:8001", "http://10.0.0.5:8002")
    assert load_config(llm_servers=["http://h:9"]).llm_servers == ("http://h:9",)
    with pytest.raises(ConfigError) as bad:
        load_config(llm_servers=["tcp://me:hunter2@h:9"])
    assert "hunter2" not in str(bad.value) and "--llm-server" in str(bad.value)
    monkeypatch.delenv("RAG_LLM_SERVERS")
    path = tmp_path / "models.yaml"
    path.write_text(DEFAULT_MODELS_YAML.read_text(encoding="utf-8") + "llm_servers: [http://10.0.0.7:8001]\n", encoding="utf-8")
    assert load_config(path).llm_servers == ("http://10.0.0.7:8001",)
    path.write_text(DEFAULT_MODELS_YAML.read_text(encoding="utf-8") + "llm_servers: http://10.0.0.7:8001\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="llm_servers must be a list"):
        load_config(path)


def test_the_commands_that_answer_take_servers():
    from rag.arguments import parser

    args = parser().parse_args(["ask", "질문", "--llm-server", "http://a:1", "--llm-server", "http://b:2"])
    assert args.llm_server == ["http://a:1", "http://b:2"]
    for command in (["chat"], ["eval", "x.jsonl"], ["bench"]):
        assert parser().parse_args(command + ["--llm-server", "http://a:1"]).llm_server == ["http://a:1"]
    assert not hasattr(parser().parse_args(["index", "articles"]), "llm_server")


def test_with_servers_no_model_is_loaded_here(tmp_path):
    missing = replace(load_config().llm, source="path", path=str(tmp_path / "nowhere.gguf"))
    config = replace(load_config(), llm=missing, llm_servers=("http://me:pw@127.0.0.1:9",))
    said = []
    generator = load_generator(config, said.append)
    assert isinstance(generator, HttpGenerator) and generator.model_id == model_id(missing)
    assert "pw" not in said[0] and "me:***@127.0.0.1:9" in said[0]


def test_the_page_keeps_the_servers_and_refuses_a_profile_they_do_not_run(fake_embedder, fake_generator):
    from rag import Pipeline, with_profile

    config = replace(load_config(), llm_servers=("http://127.0.0.1:9",))
    pipeline = Pipeline(config, None, fake_embedder, fake_generator)
    with pytest.raises(ConfigError) as refused:
        with_profile(pipeline, "small")  # another language model
    assert "서버" in refused.value.korean
    same = with_profile(pipeline, "default")
    assert same.config.llm_servers == config.llm_servers and isinstance(same.generator, HttpGenerator)
