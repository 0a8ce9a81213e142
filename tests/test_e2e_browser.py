"""The chat page in a real browser (Debian's Chromium, headless, driven by Playwright),
against `rag chat` serving the real models over the bundled articles.

Screenshots go to artifacts/screenshots/ (not committed)."""
from __future__ import annotations

import json
import re
import shutil
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from chat_server import ROOT, chat_server

SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE_TITLE = '테스트전자 <script>window.__xss="title"</script> 신제품'
HOSTILE_TEXT = (
    "테스트전자는 20일 서울에서 신형 스마트폰 '제로폰 X1'을 공개했다. "
    '제로폰 X1의 출고가는 99만원이며 <img src=x onerror="window.__xss=\'img\'"> 다음 달 1일 출시된다. '
    "회사는 올해 판매 목표를 100만 대로 잡았다."
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium missing: run ./run tests (installs it)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with chat_server(tmp_path_factory.mktemp("chat")) as srv:
        yield {"url": srv.url, "tmp": srv.tmp, "log": srv.log}


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR", accept_downloads=True)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server["url"].rstrip("/"))
        pg = context.new_page()
        deadline = time.time() + 120
        while True:  # the server starts while models load
            try:
                pg.goto(server["url"])
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(1)
        pg.wait_for_selector("#status:has-text('준비됨')", timeout=300_000)
        yield pg
        browser.close()


def ask(page, question: str, shot: str) -> dict:
    """Type a question, watch it show at once, and return what the page shows once it is answered."""
    before = page.locator("#chat a.cite").count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    deadline = time.time() + 240
    while page.locator("#chat a.cite").count() == before and time.time() < deadline:
        if page.locator("#chat .bot").count() and "찾을 수 없습니다" in page.locator("#chat .bot").last.inner_text():
            break
        time.sleep(0.2)
    time.sleep(1)  # the final render (links, sources, memo) lands in the same update
    page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    return {
        "answer": page.locator("#chat .bot").last.inner_text(),
        "answer_html": page.locator("#chat .bot").last.inner_html(),
        "sources": page.locator("#sources").inner_text(),
    }


def add_to_memo(page) -> str:
    """Click the last answer's "＋ 메모에 추가" and return the memo's Markdown once it holds it."""
    before = memo_markdown(page)
    page.locator("#chat a.add-memo").last.click()
    deadline = time.time() + 30
    while memo_markdown(page) == before and time.time() < deadline:
        time.sleep(0.2)
    return memo_markdown(page)


def memo_markdown(page) -> str:
    return page.locator("#memo-markdown textarea").input_value()


def clear(page) -> None:
    """Start a new conversation, and wait until the page shows it empty."""
    page.click("#clear")
    page.wait_for_function("() => document.querySelectorAll('#chat .bot, #chat a.cite').length === 0", timeout=10_000)


def memo_refs(memo: str) -> tuple[set[int], set[int]]:
    body, _, refs = memo.partition("**참고 기사**")
    return {int(n) for n in re.findall(r"\[(\d+)\]", body)}, {int(n) for n in re.findall(r"(?m)^\[(\d+)\]", refs)}


def test_nvidia_question_is_answered_cited_and_exported(page):
    shown = ask(page, "엔비디아 주가는 왜 떨어졌어?", "01-nvidia")
    assert "딥시크" in shown["answer"]
    links = page.locator("#chat .bot").last.locator("a.cite")
    assert links.count() >= 1
    assert "000_88f3d87ffd12de4e.txt:3" in (links.first.get_attribute("title") or "")
    # the sources panel shows the article of line 3 with the cited sentence highlighted
    assert "articles/000_88f3d87ffd12de4e.txt:3" in shown["sources"]
    line3 = (ROOT / "articles/000_88f3d87ffd12de4e.txt").read_text(encoding="utf-8").splitlines()[2]
    marks = page.locator("#sources mark")
    assert marks.count() >= 1
    marked = [re.sub(r"\[\d+\]$", "", marks.nth(i).inner_text()).strip() for i in range(marks.count())]
    assert all(m in line3 for m in marked)
    assert any("딥시크" in m for m in marked)
    # memo: the answer with its markers, then exactly the references it cites
    memo = add_to_memo(page)
    in_text, listed = memo_refs(memo)
    assert in_text and in_text == listed
    page.click("#memo-copy")
    time.sleep(0.5)
    assert page.evaluate("navigator.clipboard.readText()") == memo
    with page.expect_download() as dl:
        page.click("#memo-save-md")
    assert Path(dl.value.path()).read_text(encoding="utf-8") == memo
    page.click("#memo-clear")


def test_follow_up_is_rewritten_with_the_conversation(page):
    clear(page)  # its own conversation: this test does not lean on an earlier one
    first = ask(page, "샤오미가 공개한 AI 모델 이름은?", "02-first")
    assert "미모" in first["answer"]
    shown = ask(page, "그럼 딥시크는?", "02-follow-up")
    assert "딥시크가 공개한 AI 모델 이름은?" in page.locator("#rewritten").inner_text()
    # DeepSeek's own model (V3 or R1, both in the bundled articles), cited: not Xiaomi's, not a refusal
    assert re.search(r"V3|R1", shown["answer"]) and "미모" not in shown["answer"]
    assert page.locator("#chat .bot").last.locator("a.cite").count() >= 1


def test_uploaded_jsonl_is_searchable_and_hostile_text_stays_text(page, server):
    upload = server["tmp"] / "new.jsonl"
    upload.write_text(
        json.dumps({"title": HOSTILE_TITLE, "text": HOSTILE_TEXT, "source": "테스트일보", "date": "2026-11-20"}, ensure_ascii=False)
        + "\n{broken json\n",
        encoding="utf-8",
    )
    clear(page)
    page.set_input_files("#upload input[type=file]", str(upload))
    page.wait_for_selector("#status:has-text('최근 추가: 기사 1건 추가')", timeout=120_000)
    shown = ask(page, "제로폰 X1의 출고가는 얼마야?", "03-uploaded")
    assert "99만" in shown["answer"]
    assert "테스트일보" in shown["sources"] and "new.jsonl" in shown["sources"]
    # hostile markup shows as text, never runs, never becomes elements
    assert '<img src=x onerror="window.__xss=\'img\'">' in shown["sources"]
    assert "<script>" in shown["sources"]
    assert page.evaluate("window.__xss") is None
    assert page.locator("#sources img, #sources script, #chat .bot img, #chat .bot script").count() == 0
    memo = add_to_memo(page)
    assert "<script>" in memo and page.locator("#memo script, #memo img").count() == 0
    in_text, listed = memo_refs(memo)
    assert in_text == listed
    page.click("#memo-clear")


def test_empty_question_gets_a_korean_warning(page):
    page.fill("#question textarea", "   ")
    page.press("#question textarea", "Enter")
    page.wait_for_selector("text=질문을 입력하세요.", timeout=10_000)
    page.screenshot(path=str(SHOTS / "04-empty-question.png"))


def stream(url: str, question: str, events: list) -> None:
    """POST /api/ask/stream, appending (seconds, event) as each server-sent event arrives."""
    request = urllib.request.Request(url + "api/ask/stream", data=json.dumps({"question": question}).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=300) as response:
        for line in response:
            if line.startswith(b"event: "):
                events.append((time.time(), line[7:].decode().strip()))


def test_a_waiting_page_shows_the_question_and_its_place_in_korean_and_a_closed_page_frees_the_model(page, server):
    waiting = page.context.new_page()
    waiting.goto(server["url"])
    waiting.wait_for_selector("#status:has-text('준비됨')", timeout=60_000)
    busy: list = []  # an API client's question holds the model (in English: translated first, seconds)
    threading.Thread(target=stream, args=(server["url"], "Why did the stock price of Nvidia go down?", busy), daemon=True).start()
    while not any(e == "start" for _, e in busy):
        time.sleep(0.1)
    # the page asks in English: the model translates it first (seconds of generating), so the page
    # can be closed mid-answer
    waiting.fill("#question textarea", "Why did Nvidia stock fall?")
    waiting.press("#question textarea", "Enter")
    # the question shows at once, and the answer's place says in Korean that it waits its turn
    waiting.locator("#chat").get_by_text("앞에 1건이 먼저 처리되고 있습니다").wait_for(timeout=10_000)
    assert "Why did Nvidia stock fall?" in waiting.locator("#chat").inner_text()
    assert not re.search(r"queue|\d+\.\d+/\d+\.\d+s", waiting.locator("body").inner_text())
    waiting.screenshot(path=str(SHOTS / "05-queue-position.png"))
    after: list = []  # the next in line, behind the page
    threading.Thread(target=stream, args=(server["url"], "샤오미가 공개한 AI 모델 이름은?", after), daemon=True).start()
    while not after:
        time.sleep(0.1)
    assert after[0][1] == "queue"
    while not any(e == "answer" for _, e in busy):
        time.sleep(0.1)
    # the page's own turn comes (its place note gives way); closing the page mid-answer frees the model
    while "앞에" in waiting.locator("#chat .bot").last.inner_text():
        time.sleep(0.05)
    waiting.close()
    closed = time.time()
    while not any(e == "start" for _, e in after) and time.time() < closed + 30:
        time.sleep(0.1)
    started = next(t for t, e in after if e == "start")
    assert started - closed < 5, "the next question waited for the closed page's answer"
    assert "generation stopped by its reader" in Path(server["log"]).read_text(encoding="utf-8")
    while not any(e == "answer" for _, e in after):
        time.sleep(0.2)


def wait_for_memo(page, predicate, timeout: float = 30) -> str:
    deadline = time.time() + timeout
    while not predicate(memo_markdown(page)) and time.time() < deadline:
        time.sleep(0.2)
    return memo_markdown(page)


def test_a_memo_over_a_conversation_has_one_reference_list_edits_two_styles_and_survives_a_reload(page, server):
    page = page.context.new_page()  # its own conversation; the memo is the browser's, so it starts empty
    page.goto(server["url"])
    page.wait_for_selector("#status:has-text('준비됨')", timeout=60_000)
    page.click("#memo-clear")
    ask(page, "엔비디아 주가는 왜 떨어졌어?", "10-memo-first")
    add_to_memo(page)
    ask(page, "딥시크는 어떤 회사야?", "10-memo-second")
    memo = add_to_memo(page)
    # both answers in order under their questions, then one list: each article once, numbered
    # across the memo, with its file:line, and every marker in the text listed
    assert 0 <= memo.index("**질문:** 엔비디아 주가는 왜 떨어졌어?") < memo.index("**질문:** 딥시크는 어떤 회사야?")
    in_text, listed = memo_refs(memo)
    assert in_text == listed == set(range(1, len(listed) + 1))
    references = re.findall(r"(?m)^\[\d+\] (.*)$", memo.partition("**참고 기사**")[2])
    assert len(references) == len(set(references)) and all(re.search(r"articles/\S+\.txt:\d+", r) for r in references)
    page.screenshot(path=str(SHOTS / "11-memo.png"), full_page=True)

    page.locator("#memo-style").get_by_text("각주 [^1]").click()
    footnoted = wait_for_memo(page, lambda m: "[^1]" in m)
    assert re.search(r"(?m)^\[\^1\]: ", footnoted)
    with page.expect_download() as dl:
        page.click("#memo-save-txt")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "¹" in text and "[^" not in text and "**" not in text and "참고 기사" in text
    page.locator("#memo-style").get_by_text("번호 [1]").click()
    wait_for_memo(page, lambda m: "[^1]" not in m)

    # an edit: a marker naming no listed article is refused in Korean; a good one is kept
    box = page.locator("#memo .memo-text textarea").last
    number = re.findall(r"\[(\d+)\]", box.input_value())[0]
    box.fill("딥시크는 출처 없는 회사다 [9].")
    page.locator("#memo .memo-save").last.click()
    page.get_by_text("[9]번 참고 기사는 메모에 없습니다").wait_for(timeout=10_000)
    box.fill(f"딥시크는 중국의 AI 회사다 [{number}].")
    page.locator("#memo .memo-save").last.click()
    edited = wait_for_memo(page, lambda m: "딥시크는 중국의 AI 회사다" in m)
    assert f"딥시크는 중국의 AI 회사다 [{number}]." in edited

    # removing the first answer renumbers the rest from 1
    page.locator("#memo .memo-remove").first.click()
    kept = wait_for_memo(page, lambda m: "엔비디아 주가는 왜" not in m)
    assert "딥시크는 중국의 AI 회사다 [1]." in kept and memo_refs(kept)[1] == {1}

    # the memo lives in the browser: a reload shows it again
    page.reload()
    page.wait_for_selector("#status:has-text('준비됨')", timeout=60_000)
    assert wait_for_memo(page, lambda m: m == kept) == kept
    assert "딥시크는 중국의 AI 회사다 [1]." in page.locator("#memo .memo-text textarea").first.input_value()
    page.screenshot(path=str(SHOTS / "12-memo-reloaded.png"), full_page=True)
    page.close()


NEWS = ROOT.parent / "shared" / "news" / "chosun-2024-11.jsonl"


@pytest.mark.skipif(not NEWS.is_file(), reason="needs ../shared/news (real news, kept outside the project)")
def test_uploaded_news_is_answered_by_keyword_while_the_page_shows_the_embedding_eta(page, server):
    """Forty real articles: searchable at once, embedded in the background with a Korean
    progress line and time left; a question meanwhile is answered from them."""
    rows = [json.loads(line) for line in NEWS.read_text(encoding="utf-8").splitlines()[:40]]
    upload = server["tmp"] / "november.jsonl"
    upload.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    clear(page)
    page.set_input_files("#upload input[type=file]", str(upload))
    page.wait_for_selector("#status:has-text('최근 추가: 기사 40건 추가')", timeout=120_000)
    status = page.locator("#status")
    status.get_by_text(re.compile(r"의미 검색 색인 \d+% · 약 \d+분 남음")).wait_for(timeout=60_000)
    page.screenshot(path=str(SHOTS / "06-embedding-eta.png"))
    title = rows[0]["title"]
    shown = ask(page, f"{title} 기사 내용을 알려줘", "07-asked-while-embedding")
    # found by keyword before its vectors are all there: cited, or listed among the hits
    assert title[:10] in page.locator("#sources").inner_html(), shown["sources"][:500]


DATED = [  # made-up market reports: one topic on two days, from two outlets
    {"title": "코스피 2600 회복", "text": "코스피가 2일 외국인 매수에 2600선을 회복했다. 반도체 업종이 지수를 끌어올렸다.",
     "date": "2024-10-02T15:40:00+09:00", "source": "조선일보"},
    {"title": "코스피 2550 하락", "text": "코스피가 24일 외국인 매도에 2550으로 내려앉았다. 미국 금리 우려가 컸다.",
     "date": "2024-10-24T15:40:00+09:00", "source": "한겨레"},
]


def test_date_and_outlet_filters_and_a_dated_question_say_which_days_were_searched(page, server):
    upload = server["tmp"] / "kospi.jsonl"
    upload.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in DATED), encoding="utf-8")
    page = page.context.new_page()  # a page of its own: nothing left over from the other tests' conversations
    page.goto(server["url"])
    page.wait_for_selector("#status:has-text('준비됨')", timeout=60_000)
    page.set_input_files("#upload input[type=file]", str(upload))
    page.wait_for_selector("#status:has-text('최근 추가: 기사 2건 추가')", timeout=120_000)
    page.click("#outlets input")  # the outlet list comes from the index
    page.get_by_role("option", name="한겨레").wait_for(timeout=10_000)
    page.keyboard.press("Escape")

    page.fill("#since textarea", "2024-13-40")
    page.fill("#question textarea", "코스피 얼마였어?")
    page.press("#question textarea", "Enter")
    page.get_by_text("시작일은 2024-10-01처럼 써 주세요.").wait_for(timeout=10_000)

    page.fill("#since textarea", "2024-10-24")
    page.fill("#until textarea", "2024-10-24")
    shown = ask(page, "코스피 얼마였어?", "08-date-filter")
    assert "2550" in shown["answer"] and "2024-10-24 기사 기준" in shown["answer"], shown["answer"]
    assert "한겨레" in shown["sources"] and "2024-10-24 15:40" in shown["sources"], shown["sources"]
    assert "2024-10-02" not in shown["sources"], shown["sources"]

    page.fill("#since textarea", "")
    page.fill("#until textarea", "")
    clear(page)
    shown = ask(page, "2024년 10월 2일 코스피는?", "09-dated-question")  # other tests upload articles of this year
    assert "2600" in shown["answer"] and "2024-10-02 기사 기준" in shown["answer"], shown["answer"]
    assert "2024-10-24" not in shown["sources"], shown["sources"]


def test_upload_refusals_and_pop_up_titles_are_in_korean(page, server):
    page = page.context.new_page()
    page.goto(server["url"])
    page.wait_for_selector("#status:has-text('준비됨')", timeout=60_000)
    wrong = server["tmp"] / "report.pdf"
    wrong.write_bytes(b"%PDF-1.4 not an article")
    page.set_input_files("#upload input[type=file]", str(wrong))
    page.get_by_text("report.pdf: 기사 파일은 .txt, .md, .jsonl 형식만 올릴 수 있습니다.").wait_for(timeout=10_000)
    # Gradio titles its pop-ups "Error"/"Warning"; the page shows them in Korean
    assert page.locator(".toast-title").first.evaluate("e => getComputedStyle(e, '::before').content") == '"오류"'
    assert page.locator(".toast-title").first.evaluate("e => getComputedStyle(e).fontSize") == "0px"
    big = server["tmp"] / "big.txt"
    with big.open("wb") as f:
        f.truncate(51 * 1024 * 1024)  # over the 50 MB limit: refused in the browser, before any upload
    page.set_input_files("#upload input[type=file]", str(big))
    page.get_by_text("파일이 너무 큽니다 (파일당 50.0MB까지)").wait_for(timeout=20_000)
    page.screenshot(path=str(SHOTS / "13-upload-refused.png"))
    assert "exceed" not in page.locator("body").inner_text() and "Invalid file" not in page.locator("body").inner_text()
    page.close()


STORY = [  # made-up news of one story on three days, and one article of another
    {"title": "테스트전자 제로폰 배터리 발화 신고", "text": "테스트전자의 제로폰 X1에서 배터리가 발화했다는 신고가 3일 접수됐다. 회사는 원인을 조사하겠다고 밝혔다.",
     "date": "2026-11-03T10:00:00+09:00", "source": "테스트일보"},
    {"title": "테스트전자, 제로폰 X1 리콜 결정", "text": "테스트전자는 10일 제로폰 X1 5만 대를 리콜하기로 결정했다. 배터리 결함이 확인됐기 때문이다.",
     "date": "2026-11-10T18:00:00+09:00", "source": "테스트일보"},
    {"title": "제로폰 X1 리콜 결정한 테스트전자", "text": "테스트전자가 10일 제로폰 X1 리콜을 결정했다. 리콜 대상은 5만 대다.",
     "date": "2026-11-11T07:00:00+09:00", "source": "가나신문"},
    {"title": "테스트전자 제로폰 판매 재개", "text": "테스트전자는 24일 배터리를 바꾼 제로폰 X1의 판매를 재개했다.",
     "date": "2026-11-24T09:00:00+09:00", "source": "가나신문"},
]


def test_a_story_is_a_timeline_with_days_down_the_side_into_the_memo_and_a_follow_up_on_one_event(page, server):
    upload = server["tmp"] / "story.jsonl"
    upload.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in STORY) + "\n", encoding="utf-8")
    clear(page)
    page.click("#memo-clear")
    page.set_input_files("#upload input[type=file]", str(upload))
    page.wait_for_selector("#status:has-text('최근 추가: 기사 4건 추가')", timeout=120_000)
    page.check("#timeline input[type=checkbox]")
    shown = ask(page, "테스트전자 제로폰", "11-timeline")
    page.uncheck("#timeline input[type=checkbox]")
    rows = page.locator("#chat .bot").last.locator(".timeline .tl-row")
    days = [rows.nth(i).locator(".tl-day").inner_text() for i in range(rows.count())]
    # the story's events in order, the two articles of the recall one event; the phone's launch on
    # the 20th (the hostile-title article, when that test ran first) is the same story
    assert [d for d in days if d != "11월 20일"] == ["11월 3일", "11월 10일", "11월 24일"], shown["answer"]
    assert "기사 2건 · 2개 언론사" in rows.nth(1).inner_text()
    assert "테스트일보" in (rows.nth(0).locator("a.cite").get_attribute("title") or "")  # hover shows the source
    assert page.evaluate("() => window.__xss") is None  # a hostile headline in a row stays text
    assert "테스트일보" in page.locator("#sources").inner_text()  # the events' articles, their leads shown
    memo = add_to_memo(page)
    in_text, listed = memo_refs(memo)
    assert in_text == listed == set(range(1, len(days) + 1)) and "11월 24일" in memo
    follow = ask(page, "그 중에 두 번째 사건 자세히", "11-timeline-follow-up")
    assert "11월 10일" in page.locator("#rewritten").inner_text() and "리콜" in follow["answer"], follow["answer"]
    page.click("#memo-clear")
