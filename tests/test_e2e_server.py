"""The chat server under several users, stops and hostile requests: `rag chat` with the real
models over the bundled articles, driven through Gradio's own client (what the page uses)."""
from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from chat_server import ROOT, chat_server

pytestmark = pytest.mark.e2e
ARTIFACTS = ROOT / "artifacts"
MEMORY_TARGET = 4 * 1024**3  # peak RSS while answering, from the speed issue
# eight people at once; each question's own article must be what their answer cites
QUESTIONS = {
    "엔비디아 주가는 왜 떨어졌어?": "엔비디아",
    "딥시크는 어떤 회사야?": "딥시크",
    "샤오미가 공개한 AI 모델 이름은?": "MiMo",
    "머스크가 공개한다고 밝힌 AI 모델은?": "그록",
    "아람코는 데이터센터에 무엇을 도입했어?": "아람코",
    "중국 정부는 부동산을 살리기 위해 무엇을 내놨어?": "모기지",
    "나스닥 종합지수는 얼마나 올랐어?": "나스닥",
    "중국에서 챗GPT 대신 무엇을 써?": "챗GPT",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with chat_server(tmp_path_factory.mktemp("server")) as srv:
        srv.wait_until_ready()
        yield srv


def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


def peak_rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024


def shown(job) -> list[str]:
    """The last chat message as each update showed it; a heartbeat (the model reading the
    prompt: an update that changes nothing, so Stop can land between batches) is left out."""
    return [chat[-1]["content"][0]["text"] for chat, *_ in job.outputs() if isinstance(chat, list)]


def places(job) -> list[int]:
    """The places in line the page was told while its question waited ("앞에 3건이…")."""
    return [int(n) for text in shown(job) for n in re.findall(r"앞에 (\d+)건", text)]


def waiting(job) -> bool:
    texts = shown(job)
    return bool(texts) and "앞에" in texts[-1]


def test_eight_concurrent_chats_each_get_their_own_complete_answer(server):
    started = time.time()
    jobs = {q: client(server).submit(q, [], 4, api_name="/ask") for q in QUESTIONS}
    for job in jobs.values():
        job.result(timeout=900)
    for question, job in jobs.items():
        chat, sources, _, _ = job.result()
        user, bot = chat[-2], chat[-1]
        assert user["content"][0]["text"] == question  # the answer went to the one who asked
        assert QUESTIONS[question] in sources, (question, sources[:300])
        text = bot["content"][0]["text"]
        assert 'class="cite"' in text or "찾을 수 없습니다" in text  # finished, not cut off
        assert shown(job)[0] != text  # the question was acknowledged before its answer came
    # one answer at a time: everyone else waited in line and was told their place, in Korean
    seen = {q: sorted(set(places(job))) for q, job in jobs.items()}
    waited = [max(p) for p in seen.values() if p]
    peak = peak_rss(server.proc.pid)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "eight-chats.json").write_text(json.dumps(
        {"chats": len(jobs), "seconds": round(time.time() - started, 1), "peak_rss_gb": round(peak / 1024**3, 2),
         "queue_places_seen": seen}, ensure_ascii=False, indent=1))
    # an answer the code composes takes a second or two: a question whose turn came before the page's
    # first update was never told a place
    assert len(waited) >= 4 and max(waited) >= 4, seen
    assert peak <= MEMORY_TARGET


def test_stop_frees_the_model_for_the_next_in_line(server):
    first, second = client(server), client(server)
    # in English: the model translates it first, seconds of generating, so it can be stopped mid-answer
    running = first.submit("Why did the stock of Nvidia fall?", [], 4, api_name="/ask")
    deadline = time.time() + 120
    while not shown(running) and time.time() < deadline:
        time.sleep(0.1)
    next_in_line = second.submit("딥시크는 어떤 회사야?", [], 4, api_name="/ask")
    while not waiting(next_in_line) and time.time() < deadline:
        time.sleep(0.1)
    assert not running.done()
    running.cancel()  # what the page's Stop button sends
    stopped = time.time()
    while waiting(next_in_line) and time.time() < stopped + 30:
        time.sleep(0.1)
    assert time.time() - stopped < 5, "the next question waited for the stopped one"
    assert "generation stopped by its reader" in server.log_text()
    chat, *_ = next_in_line.result(timeout=120)
    assert "딥시크" in chat[-1]["content"][0]["text"]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        str(ROOT / "models.yaml"),
        "models.yaml",
        "../../../../etc/passwd",
        str(ROOT / "articles" / "000_88f3d87ffd12de4e.txt"),
    ],
)
def test_server_serves_no_file_outside_its_own_folders(server, path):
    for prefix in ("gradio_api/file=", "file=", "gradio_api/file/", "static/", "assets/"):
        status, body = get(server.url + prefix + urllib.parse.quote(path))
        assert b"root:x:0:0" not in body and b"profiles:" not in body and "엔비디아".encode() not in body, (prefix, status)
        assert status != 200 or b"<html" in body[:500].lower(), (prefix, status)


def test_uploads_over_the_size_limit_are_refused_before_they_are_stored(server, tmp_path):
    from gradio_client import handle_file

    big = tmp_path / "big.jsonl"
    with big.open("wb") as f:
        f.truncate(51 << 20)  # sparse: 51 MB without writing them
    with pytest.raises(Exception, match=r"(?i)too large|size|413"):
        client(server).predict([handle_file(str(big))], api_name="/add_files")
    assert not (server.tmp / "data" / "uploads" / "big.jsonl").exists()


def test_uploads_of_other_types_are_not_stored(server, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "run.sh"
    bad.write_text("rm -rf /\n")
    with pytest.raises(Exception, match="기사 파일은 .txt, .md, .jsonl 형식만 올릴 수 있습니다"):
        client(server).predict([handle_file(str(bad))], api_name="/add_files")
    uploads = server.tmp / "data" / "uploads"
    assert not uploads.exists() or not any(p.suffix == ".sh" for p in uploads.iterdir())


def test_binds_to_loopback_only_by_default(server):
    port = urllib.parse.urlsplit(server.url).port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outward address
            outward = s.getsockname()[0]
        except OSError:
            pytest.skip("no network interface besides loopback")
    if outward.startswith("127."):
        pytest.skip("no network interface besides loopback")
    with socket.socket() as s:
        s.settimeout(3)
        assert s.connect_ex((outward, port)) != 0, f"reachable on {outward}:{port}"
