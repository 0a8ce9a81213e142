"""The JSON API of `rag chat` (real models, bundled articles), behind a login, used the way
other tools use it: plain HTTP, server-sent events, and the `openai` Python client."""
from __future__ import annotations

import base64
import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from chat_server import RAG, ROOT, chat_server

pytestmark = pytest.mark.e2e
LOGIN = "kim:s3cret"
XIAOMI = "샤오미가 공개한 AI 모델 이름은?"
NVIDIA = "엔비디아 주가는 왜 떨어졌어?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with chat_server(tmp_path_factory.mktemp("api"), None, "--auth", LOGIN) as srv:
        srv.wait_until_ready()
        yield srv


@pytest.fixture(scope="module")
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server.url + "v1", api_key=LOGIN, max_retries=0, timeout=600)


def post(server, path: str, body: dict | bytes, login: str | None = LOGIN) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(server.url + path.lstrip("/"), data=data, method="POST")
    if login:
        request.add_header("Authorization", "Basic " + base64.b64encode(login.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_api_ask_returns_what_rag_ask_json_prints(server):
    status, answer = post(server, "/api/ask", {"question": XIAOMI})
    assert status == 200 and "미모" in answer["answer"] and answer["citations"]
    cli = subprocess.run([str(RAG), "ask", XIAOMI, "--json", "--index-dir", str(server.tmp / "index"),
                          "--config", str(server.tmp / "models.yaml")], capture_output=True, text=True, cwd=ROOT, check=True)
    printed = json.loads(cli.stdout)
    assert answer.keys() == printed.keys()
    same = ("question", "asked", "refused", "refusal", "period", "notice")
    assert {k: answer[k] for k in same} == {k: printed[k] for k in same}
    # the wording may differ by a token: the server reuses the evaluated prompt opening, whose
    # arithmetic differs in the last bits from a fresh process's; the answer and its source do not
    assert "미모" in printed["answer"] and {c["article_id"] for c in answer["citations"]} == {c["article_id"] for c in printed["citations"]}


def test_api_ask_with_history_and_filters(server):
    status, answer = post(server, "/api/ask", {"question": "그럼 딥시크는?", "history": [XIAOMI]})
    assert status == 200 and answer["question"] == "딥시크가 공개한 AI 모델 이름은?"
    assert re.search(r"V3|R1", answer["answer"]), answer["answer"]
    status, answer = post(server, "/api/ask", {"question": XIAOMI, "source": "없는일보"})
    assert status == 200 and answer["refused"] and answer["notice"] == "고른 기간·언론사의 기사 중에는 관련 기사가 없습니다."


def test_api_refuses_bad_requests_with_a_clear_json_error(server):
    for body, words in [(b"{not json", "not JSON"), ({"question": ""}, "empty"), ({"question": 3}, '"question"'),
                        ({"question": "딥시크는?", "since": "어제쯤"}, "--since"), ({"question": "딥시크는?", "colour": 1}, "colour"),
                        ({"question": "딥시크는?", "history": "샤오미는?"}, '"history"')]:
        status, error = post(server, "/api/ask", body)
        assert status == 400 and words in error["error"]["message"] and error["error"]["korean"], (body, error)
    status, error = post(server, "/api/ask", {"question": XIAOMI}, login=None)
    assert status == 401 and error["error"]["type"] == "authentication_error"
    status, _ = post(server, "/api/ask", {"question": XIAOMI}, login="kim:wrong")
    assert status == 401


def test_api_ask_stream_sends_the_composed_answer_then_its_citations(server):
    request = urllib.request.Request(server.url + "api/ask/stream", data=json.dumps({"question": NVIDIA}).encode(), method="POST",
                                     headers={"Authorization": "Bearer " + LOGIN})
    events, started = [], time.time()
    with urllib.request.urlopen(request, timeout=600) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in response:
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                events.append((time.time() - started, event, json.loads(line[6:])))
    kinds = [e for _, e, _ in events]
    # the code composes the answer once the value is chosen: one piece, the whole cited text, then
    # the answer object with its citations and memo
    assert kinds == ["start", "piece", "answer"], kinds
    answer = events[-1][2]
    assert events[1][2]["text"].strip() == answer["answer"].strip()
    assert "딥시크" in answer["answer"] and answer["citations"] and answer["memo"].startswith(f"**질문:** {NVIDIA}")


def test_openai_client_gets_the_cited_answer_with_references(client):
    reply = client.chat.completions.create(model="korean-news-rag", messages=[{"role": "user", "content": XIAOMI}])
    content = reply.choices[0].message.content
    assert "미모" in content and "[1]" in content and "**참고 기사**" in content and "articles/" in content
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model_extra["rag"]["citations"][0]["quote"] in content  # the whole answer object rides along
    assert [m.id for m in client.models.list()] == ["korean-news-rag"]

    # a follow-up: the conversation as a chat client sends it, our own reply included
    follow = client.chat.completions.create(model="korean-news-rag", messages=[
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": XIAOMI}, {"role": "assistant", "content": content},
        {"role": "user", "content": "그럼 딥시크는?"},
    ])
    assert re.search(r"V3|R1", follow.choices[0].message.content) and follow.model_extra["rag"]["question"] == "딥시크가 공개한 AI 모델 이름은?"


def test_openai_client_streams_the_checked_answer(client):
    chunks = list(client.chat.completions.create(model="korean-news-rag", messages=[{"role": "user", "content": NVIDIA}], stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop" and len(chunks) > 3
    answer = chunks[-1].model_extra["rag"]
    # what the client keeps is the checked answer and its references, nothing of the draft
    assert streamed == answer["memo"].removeprefix(f"**질문:** {NVIDIA}\n\n").rstrip()
    assert "딥시크" in streamed and "**참고 기사**" in streamed


def test_openai_client_bad_requests_are_4xx_with_a_message(client, server):
    from openai import AuthenticationError, BadRequestError, OpenAI

    for messages in ([], [{"role": "assistant", "content": "안녕"}], [{"role": "user", "content": "   "}], [{"role": "robot", "content": "x"}]):
        with pytest.raises(BadRequestError) as e:
            client.chat.completions.create(model="korean-news-rag", messages=messages)
        assert e.value.status_code == 400 and e.value.body["korean"], e.value.body
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=server.url + "v1", api_key="wrong", max_retries=0).chat.completions.create(
            model="korean-news-rag", messages=[{"role": "user", "content": XIAOMI}])


def test_concurrent_requests_take_turns_and_each_gets_its_own_answer(client, server):
    questions = {XIAOMI: "미모", "딥시크는 어떤 회사야?": "딥시크", "호주 정부는 딥시크에 대해 어떤 조치를 했어?": "호주"}

    def ask(question: str) -> str:
        return client.chat.completions.create(model="korean-news-rag", messages=[{"role": "user", "content": question}]).choices[0].message.content

    with ThreadPoolExecutor(4) as pool:
        answered = dict(zip(questions, pool.map(ask, questions)))
        page = pool.submit(post, server, "/api/ask", {"question": XIAOMI})
        assert page.result()[0] == 200
    for question, word in questions.items():
        assert word in answered[question], (question, answered[question])
    log = server.log_text()
    assert "Traceback" not in log, log[-3000:]


def test_a_client_that_hangs_up_frees_the_model_for_the_next(server):
    import http.client

    def open_stream(question: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1].strip("/")), timeout=600)
        connection.request("POST", "/api/ask/stream", json.dumps({"question": question}),
                           {"Authorization": "Bearer " + LOGIN, "Content-Type": "application/json"})
        return connection, connection.getresponse()

    # in English: the model translates it first, seconds of generating, so the client can go mid-answer
    first, response = open_stream("Why did the shares of Nvidia drop?")
    while not response.readline().startswith(b"event: start"):
        pass
    first.sock.shutdown(2)  # the client goes away mid-answer
    first.close()
    hung_up = time.time()
    second, response = open_stream(XIAOMI)
    while not response.readline().startswith(b"event: start"):
        pass
    assert time.time() - hung_up < 5, "the next request waited for the abandoned answer"
    second.close()
    deadline = time.time() + 30
    while "generation stopped by its reader" not in server.log_text() and time.time() < deadline:
        time.sleep(0.2)
    assert "generation stopped by its reader" in server.log_text()
