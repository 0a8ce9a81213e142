"""A real llama-cpp-python server (`python -m llama_cpp.server`) answers as the model loaded here.

The server runs the same llama.cpp build and the same GGUF; at temperature 0 its answers must
be the in-process LlamaGenerator's, token for token. It is started as LlamaGenerator loads the
model: the GGUF's own chat template (no --chat_format: llama-cpp-python then formats with the
template stored in the GGUF, as generate.py does; `chatml` would be its own hand-written
formatter), prompt batches of PROMPT_BATCH tokens (llama.cpp's sums depend on the batching),
and no logits kept for every position (--logits_all False; its default keeps n_ctx x vocab
floats, 2.5 GB). --interrupt_requests False: by default a new request cuts the running one off.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import httpx
import pytest

from rag.config import load_config
from rag.desk import llama_server_command
from rag.load import load_generator, model_id
from rag.models import ensure_model
from rag.prompt import NONE, choice_messages
from rag.generate import chatml
from rag.remote import HttpGenerator

pytestmark = pytest.mark.e2e
SOURCE = ("[자료]\n[1] 반도체 · 2025-01-28\n엔비디아 주가는 27일 17% 폭락했다. 중국 딥시크가 저비용 AI 모델을 "
          "내놓은 충격 때문이다. 이날 시가총액 5890억 달러가 사라졌다.\n[자료 끝]\n\n[질문] ")
QUESTIONS = ["엔비디아 시가총액은 얼마나 사라졌어?", "엔비디아 주가는 왜 떨어졌어?"]
READY_WITHIN = 300  # seconds: loading 1.1 GB on a busy 2-core machine


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    pytest.importorskip("sse_starlette", reason="the server needs the serve extra: pip install -e '.[serve]'")
    config = load_config()
    path = ensure_model(config.llm, config.cache_dir, print)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(llama_server_command(path, port, config.settings.n_ctx, 2), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_WITHIN
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log.read_text()[-2000:]}")
            try:
                if httpx.get(url + "/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server on {url} not ready after {READY_WITHIN} s:\n{log.read_text()[-2000:]}")
            time.sleep(1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and anything it started
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _chosen(generator, messages, options) -> str:
    steps = generator.choose(messages, options)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return options[done.value]


def test_the_server_chooses_and_answers_as_the_model_loaded_here(llama_server):
    config = load_config()
    local = load_generator(config)
    remote = HttpGenerator([llama_server], model_id(config.llm))
    sentences = [SOURCE.split("\n")[2]]
    for question in QUESTIONS:
        options = ["17%", "5890억 달러", "중국 딥시크가 저비용 AI 모델을 내놓은 충격", NONE]
        messages = choice_messages(question, sentences)
        assert chatml(messages) == local._format(messages)  # the grammar path formats as the GGUF's template
        here, there = _chosen(local, messages, options), _chosen(remote, messages, options)
        print(f"{question}: here {here!r}, there {there!r}")
        assert there == here
        messages = [{"role": "system", "content": "자료만 근거로 짧게 답하세요."}, {"role": "user", "content": SOURCE + question}]
        here = "".join(local.stream(messages, 120))
        there = "".join(remote.stream(messages, 120))
        print(f"{question}\n  here:  {here!r} (first token {local.last_stats['first_token_s']} s)"
              f"\n  there: {there!r} (first token {remote.last_stats['first_token_s']} s)")
        assert there == here
        assert local.last_stats["generated_tokens"] < 120  # ended by the model, not cut at max_tokens


def test_a_stopped_answer_frees_the_server_for_the_next(llama_server):
    """The page's Stop while the server reads a prompt: the connection is shut at once; the
    server finishes that prompt (llama-cpp-python cannot stop inside it), notices, and answers
    the next request."""
    remote = HttpGenerator([llama_server], "qwen")
    long = [{"role": "user", "content": SOURCE.replace("[질문] ", "") * 6 + "[질문] 엔비디아 주가는 왜 떨어졌어?"}]
    stream = remote.stream(long, 40)
    assert next(stream) == ""  # the server is reading the prompt
    t = time.perf_counter()
    stream.close()
    assert time.perf_counter() - t < 0.5
    reply = "".join(remote.stream([{"role": "user", "content": SOURCE + QUESTIONS[0]}], 40))
    print(f"after a stop: {reply!r} ({time.perf_counter() - t:.1f} s)")
    assert "5890억" in reply
