"""The JSON API (ui/api.py) over a pipeline of fakes, through FastAPI's test client: shapes,
errors, the login rule and the shared line. The same API with the real models and the
`openai` client is test_e2e_api.py."""
from __future__ import annotations

import base64
import json
import threading

import pytest
from conftest import ANSWER, CHOICE
from fastapi.testclient import TestClient

from rag.prompt import NONE
from ui.server import create


@pytest.fixture
def client(app):
    with TestClient(create(app, None)) as client:
        yield client


def events(response) -> list[tuple[str, object]]:
    """(event, data) of a server-sent event stream; data lines of OpenAI streams have no event name."""
    out, event = [], ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
            out.append((event, data if data == "[DONE]" else json.loads(data)))
            event = ""
    return out


def test_api_ask_gives_the_answer_object_with_its_memo(client, fake_generator):
    fake_generator.enqueue_choice(CHOICE)
    response = client.post("/api/ask", json={"question": "엔비디아 주가는 얼마나 폭락했어?", "memo_style": "footnote"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["answer"] == ANSWER and answer["citations"][0]["title"] == "딥시크 쇼크"
    assert {"question", "asked", "refused", "period", "notice", "as_of", "hits", "timings"} <= answer.keys()
    assert "폭락했습니다 [^1]." in answer["memo"] and "[^1]: 딥시크 쇼크" in answer["memo"]


@pytest.mark.parametrize("body, status, words", [
    (b"{oops", 400, "not JSON"),
    (b"[1, 2]", 400, "JSON object"),
    ({"question": ""}, 400, "empty"),
    ({"question": "딥시크는?", "until": "2024-02-30"}, 400, "--until"),
    ({"question": "딥시크는?", "since": "2024-10-31", "until": "2024-10-01"}, 400, "after the end day"),
    ({"question": "딥시크는?", "source": [1]}, 400, '"source"'),
    ({"question": "딥시크는?", "memo_style": "apa"}, 400, "memo_style"),
    ({"question": "딥시크는?", "history": [{"answer": "x"}]}, 400, "history entry"),
])
def test_bad_requests_get_a_json_error_saying_what_to_fix(client, body, status, words):
    response = client.post("/api/ask", content=body if isinstance(body, bytes) else json.dumps(body))
    assert response.status_code == status
    error = response.json()["error"]
    assert words in error["message"] and error["korean"] and error["type"] == "invalid_request_error"


def test_the_page_login_rule_holds_for_the_api(app, fake_generator):
    with TestClient(create(app, ("kim", "s3cret"))) as client:
        assert client.post("/api/ask", json={"question": "딥시크는?"}).status_code == 401
        assert client.post("/v1/chat/completions", json={}, headers={"Authorization": "Bearer kim:wrong"}).status_code == 401
        fake_generator.enqueue_choice(CHOICE)
        basic = "Basic " + base64.b64encode(b"kim:s3cret").decode()
        assert client.post("/api/ask", json={"question": "엔비디아 주가는?"}, headers={"Authorization": basic}).status_code == 200
        fake_generator.enqueue_choice(CHOICE)
        bearer = {"Authorization": "Bearer kim:s3cret"}
        assert client.post("/api/ask", json={"question": "엔비디아 주가는?"}, headers=bearer).status_code == 200


def test_while_the_models_load_the_api_says_so(client, app):
    app.pipeline = None
    response = client.post("/api/ask", json={"question": "딥시크는?"})
    assert response.status_code == 503 and "loading" in response.json()["error"]["message"]


def test_the_stream_waits_its_turn_in_the_shared_line_then_sends_pieces_and_the_answer(client, app, fake_generator):
    fake_generator.enqueue_choice(CHOICE)  # a heartbeat (a batch of the prompt read), then the answer
    busy = app.line.join()  # a page's question is being answered
    threading.Timer(1.5, app.line.leave, [busy]).start()
    with client.stream("POST", "/api/ask/stream", json={"question": "엔비디아 주가는 얼마나 폭락했어?"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        got = events(response)
    kinds = [e for e, _ in got]
    assert kinds[0] == "queue" and got[0][1]["ahead"] == 1 and "앞에 1건" in got[0][1]["note"]
    assert kinds[-2:] == ["piece", "answer"] and "start" in kinds
    assert [d["text"] for e, d in got if e == "piece"] == [ANSWER]  # the heartbeat went as a comment
    assert got[-1][1]["citations"][0]["n"] == 1
    assert app.line.wait(app.line.join(), 0)  # the turn was given back


def test_openai_chat_completions_with_and_without_stream(client, fake_generator):
    fake_generator.enqueue_choice(CHOICE)
    messages = [{"role": "system", "content": "무시"}, {"role": "user", "content": [{"type": "text", "text": "엔비디아 주가는 얼마나 폭락했어?"}]}]
    reply = client.post("/v1/chat/completions", json={"model": "any", "messages": messages}).json()
    content = reply["choices"][0]["message"]["content"]
    assert reply["object"] == "chat.completion" and reply["choices"][0]["finish_reason"] == "stop"
    assert content.startswith(ANSWER) and "**참고 기사**" in content and "[1] 딥시크 쇼크" in content
    assert reply["rag"]["answer"] == ANSWER

    fake_generator.enqueue_choice(CHOICE)
    with client.stream("POST", "/v1/chat/completions", json={"messages": messages, "stream": True}) as response:
        got = events(response)
    assert got[-1] == ("", "[DONE]")
    chunks = [d for _, d in got[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == content
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["rag"]["citations"]


@pytest.mark.parametrize("body, words", [
    ({}, '"messages"'),
    ({"messages": [{"role": "assistant", "content": "안녕"}]}, "last message"),
    ({"messages": [{"role": "user", "content": None}]}, '"content"'),
    ({"messages": [{"role": "user", "content": "딥시크는?"}], "stream": "yes"}, '"stream"'),
])
def test_openai_bad_requests_are_400_with_a_message(client, body, words):
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400 and words in response.json()["error"]["message"]


def test_an_openai_conversation_makes_the_last_question_a_follow_up(client, fake_generator):
    fake_generator.enqueue_choice(NONE)
    messages = [{"role": "user", "content": "엔비디아 주가는 얼마나 폭락했어?"},
                {"role": "assistant", "content": "17% 폭락했다 [1].\n\n**참고 기사**\n\n[1] 딥시크 쇼크. nvidia.md"},
                {"role": "user", "content": "그럼 딥시크는?"}]
    reply = client.post("/v1/chat/completions", json={"messages": messages}).json()
    assert reply["rag"]["asked"] == "그럼 딥시크는?" and reply["rag"]["question"] == "딥시크 주가는 얼마나 폭락했어?"


def test_health_needs_no_login_and_says_503_while_loading_or_cut_off_from_the_archive(app):
    with TestClient(create(app, ("kim", "pw"))) as client:
        assert client.get("/api/health").json() == {"ready": True}
        assert client.post("/api/ask", json={"question": "딥시크?"}).status_code == 401  # the rest keeps its login
        app.unreachable = "데이터베이스(PostgreSQL)에 연결할 수 없습니다."
        cut_off = client.get("/api/health")
        assert cut_off.status_code == 503 and cut_off.json()["error"]["korean"] == app.unreachable
        app.unreachable, app.pipeline = "", None
        assert client.get("/api/health").status_code == 503
