"""End to end through the installed `rag` command, with the real default models and the
bundled articles. Slow (models load in each command); select with `-m e2e`."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RAG = Path(sys.executable).with_name("rag")
NVIDIA = "엔비디아 주가는 왜 떨어졌어?"
SAMSUNG = "삼성전자의 올해 3분기 영업이익은 얼마야?"
REFUSAL = "제공된 기사에서 답을 찾을 수 없습니다."

pytestmark = pytest.mark.e2e


def rag(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    run = subprocess.run([str(RAG), *args], capture_output=True, text=True, cwd=ROOT, timeout=1800)
    if check and run.returncode != 0:
        raise AssertionError(f"rag {' '.join(args)} exited {run.returncode}:\n{run.stderr[-3000:]}")
    return run


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    rag("models", "pull")  # first run on a fresh machine: downloads and verifies the packs
    folder = tmp_path_factory.mktemp("index")
    out = rag("index", "articles", "--index-dir", str(folder)).stdout
    assert "9 added" in out, out
    return folder


def ask_json(question: str, index_dir: Path) -> dict:
    return json.loads(rag("ask", question, "--json", "--index-dir", str(index_dir)).stdout)


def test_models_are_listed_as_present():
    out = rag("models", "list").stdout
    assert out.count("present") == 2, out


def test_reindexing_the_same_files_adds_nothing(index_dir):
    out = rag("index", "articles", "--index-dir", str(index_dir)).stdout
    assert "0 added, 0 removed, 9 unchanged" in out, out


def test_nvidia_question_is_answered_from_the_28th_market_article(index_dir):
    answer = ask_json(NVIDIA, index_dir)
    assert not answer["refused"]
    assert "딥시크" in answer["answer"], answer["answer"]
    assert re.search(r"[가-힣]", answer["answer"])
    cited = {(c["source"], c["line"]) for c in answer["citations"]}
    assert ("articles/000_88f3d87ffd12de4e.txt", 3) in cited, cited
    # every [n] in the text resolves to a citation, and every citation is used in the text
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])}
    assert markers == {c["n"] for c in answer["citations"]}
    lines = (ROOT / "articles/000_88f3d87ffd12de4e.txt").read_text(encoding="utf-8").splitlines()
    for c in answer["citations"]:
        if c["line"] == 3 and c["source"].startswith("articles/000"):
            assert c["quote"] in lines[2]
            assert lines[2].strip()[c["quote_start"] : c["quote_end"]] == c["quote"]
    assert any("딥시크" in c["quote"] for c in answer["citations"]), answer["citations"]
    assert {"retrieve", "first_token", "total"} <= answer["timings"].keys()
    assert answer["hits"] and {"dense_rank", "sparse_rank"} <= answer["hits"][0].keys()


def test_question_without_answer_in_the_articles_is_refused(index_dir):
    answer = ask_json(SAMSUNG, index_dir)
    assert answer["refused"] is True
    assert answer["answer"] == REFUSAL
    assert answer["citations"] == []


def test_plain_output_lists_sources(index_dir):
    out = rag("ask", NVIDIA, "--index-dir", str(index_dir)).stdout
    assert "참고 기사" in out and "articles/000_88f3d87ffd12de4e.txt:3" in out, out


XIAOMI = "샤오미가 공개한 AI 모델 이름은?"
FOLLOW_UP = "그럼 딥시크는?"


def test_a_script_asks_a_follow_up_by_replaying_or_from_earlier_json(index_dir, tmp_path):
    replayed = json.loads(rag("ask", FOLLOW_UP, "--history", XIAOMI, "--json", "--index-dir", str(index_dir)).stdout)
    assert replayed["asked"] == FOLLOW_UP and replayed["question"] == "딥시크가 공개한 AI 모델 이름은?"
    assert re.search(r"V3|R1", replayed["answer"]) and "미모" not in replayed["answer"], replayed["answer"]
    # the same conversation from what an earlier `rag ask --json` printed (one line each)
    earlier = rag("ask", XIAOMI, "--json", "--index-dir", str(index_dir)).stdout
    assert earlier.count("\n") == 1 and "미모" in json.loads(earlier)["answer"]
    history = tmp_path / "history.jsonl"
    history.write_text(earlier, encoding="utf-8")
    followed = json.loads(rag("ask", FOLLOW_UP, "--history-file", str(history), "--json", "--index-dir", str(index_dir)).stdout)
    assert (followed["question"], followed["answer"]) == (replayed["question"], replayed["answer"])
    assert followed["memo"].startswith(f"**질문:** {FOLLOW_UP}") and "**참고 기사**" in followed["memo"]


def test_batch_questions_from_stdin_give_one_json_line_each_and_a_bad_line_its_error(index_dir):
    lines = [XIAOMI, json.dumps({"question": FOLLOW_UP, "history": [XIAOMI]}, ensure_ascii=False), '{"question": ""}', "딥시크는 어떤 회사야?"]
    run = subprocess.run([str(RAG), "ask", "--batch", "-", "--index-dir", str(index_dir), "--memo-style", "footnote"],
                         input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT, timeout=1800)
    assert run.returncode == 1, run.stderr  # one line failed; the rest were still answered
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(out) == 4
    assert "미모" in out[0]["answer"]
    assert out[1]["question"] == "딥시크가 공개한 AI 모델 이름은?" and re.search(r"V3|R1", out[1]["answer"])
    assert out[2] == {"error": {"message": "line 3: The question is empty: type a question.", "korean": "3번째 줄: 질문이 비어 있습니다"}}
    assert "딥시크" in out[3]["answer"] and "[^1]" in out[3]["memo"]


def test_missing_index_is_a_clear_error_without_traceback(tmp_path):
    run = rag("ask", NVIDIA, "--index-dir", str(tmp_path / "nothing"), check=False)
    assert run.returncode == 1
    assert "rag index" in run.stderr and "Traceback" not in run.stderr


def test_unknown_profile_names_the_choices():
    run = rag("ask", NVIDIA, "--profile", "huge", check=False)
    assert run.returncode == 1
    assert "huge" in run.stderr and "default" in run.stderr and "Traceback" not in run.stderr


NEWS = ROOT.parent / "shared" / "news" / "chosun-2024-10.jsonl"


@pytest.mark.skipif(not NEWS.is_file(), reason="needs ../shared/news (real news, kept outside the project)")
def test_ctrl_c_while_embedding_keeps_the_work_and_the_next_run_resumes(tmp_path):
    """`rag index` makes the news searchable by keyword first, then embeds with a progress line
    and an ETA; Ctrl-C stops it cleanly and the next run embeds only what is still missing."""
    news = tmp_path / "news.jsonl"
    news.write_text("".join(NEWS.read_text(encoding="utf-8").splitlines(keepends=True)[:40]), encoding="utf-8")
    folder = tmp_path / "index"
    # A suite started as a background job of a non-interactive shell inherits SIGINT ignored, and
    # so would `rag index`; a person's Ctrl-C reaches it, so the child gets the default back.
    child = subprocess.Popen([str(RAG), "index", str(news), "--index-dir", str(folder)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    for line in child.stdout:
        seen.append(line)
        if "의미 검색 색인" in line and "남음" in line:
            break
    assert any("searchable by keyword: 40 added" in line for line in seen), seen
    child.send_signal(signal.SIGINT)  # Ctrl-C
    rest = child.communicate(timeout=120)[0]
    assert child.returncode == 130 and "중단됨" in rest and "Traceback" not in rest, rest

    from rag.stores.identity import identity
    from rag.load import load_config, load_embedder
    from rag.stores.folder import open_folder as open_index

    embedder = load_embedder(load_config())
    index = open_index(folder, identity(embedder, load_config().settings))
    assert len(index.articles) == 40 and 0 < len(index.embedded) and index.pending > 0
    out = rag("index", str(news), "--index-dir", str(folder)).stdout
    assert "0 added" in out and f"embedded: {index.pending} chunks" in out, out


MARKET = [  # made-up reports of one figure on two days: the later one updates it
    {"title": "코스피 2600선 회복", "text": "코스피 지수가 2일 외국인 매수에 힘입어 2600선을 회복했다. 반도체 업종이 지수를 끌어올렸다.",
     "date": "2024-10-02T15:40:00+09:00", "source": "조선일보"},
    {"title": "코스피 2550으로 하락", "text": "코스피 지수가 24일 외국인 매도에 2550으로 내려앉았다. 미국 금리 우려가 투자 심리를 눌렀다.",
     "date": "2024-10-24T15:40:00+09:00", "source": "한겨레"},
]


@pytest.fixture(scope="module")
def market_index(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("market")
    news = folder / "market.jsonl"
    news.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in MARKET), encoding="utf-8")
    rag("index", str(news), "--index-dir", str(folder / "index"))
    return folder / "index"


def test_a_plain_question_gets_the_newest_figure_as_of_its_day(market_index):
    answer = ask_json("코스피 지수는 얼마야?", market_index)
    assert "2550" in answer["answer"] and "2600" not in answer["answer"], answer["answer"]
    assert answer["as_of"] == "2024-10-24" and answer["period"] is None
    assert {c["date"] for c in answer["citations"]} == {"2024-10-24T15:40:00+09:00"}


def test_a_dated_question_is_answered_from_its_day_and_says_so(market_index):
    out = rag("ask", "10월 2일 코스피 지수는 얼마였어?", "--index-dir", str(market_index)).stdout
    assert "2600" in out and "(2024-10-02 기사 기준)" in out and "조선일보" in out, out
    answer = json.loads(rag("ask", "지난주 코스피 지수는?", "--json", "--today", "2024-10-30", "--index-dir", str(market_index)).stdout)
    assert answer["period"]["label"] == "2024-10-21 ~ 2024-10-27" and "2550" in answer["answer"], answer
    answer = json.loads(rag("ask", "코스피 지수는 얼마였어?", "--json", "--source", "조선일보", "--index-dir", str(market_index)).stdout)
    assert "2600" in answer["answer"] and {h["outlet"] for h in answer["hits"]} == {"조선일보"}, answer
