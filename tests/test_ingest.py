"""Reading article files (rag/ingest.py): formats, bylines, ids, encodings and problems."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ARTICLES_DIR, PROJECT_ROOT
from fakes import FakeEmbedder

from rag.config import Settings
from rag.errors import IngestError
from rag.stores.folder import index_paths
from rag.ingest import (
    MAX_ARTICLE_BYTES,
    MAX_ARTICLE_MB,
    MIN_ARTICLE_LINE,
    article_id,
    display_path,
    make_article,
    read_file,
    read_paths,
)


def long_line(n: int, topic: str = "코스피") -> str:
    """A seed-format article line (>= MIN_ARTICLE_LINE characters)."""
    line = f"{topic} {n}번째 기사입니다. " + f"{topic} 지수가 외국인 매수에 힘입어 {n}.5% 상승 마감했다. " * 8
    assert len(line) >= MIN_ARTICLE_LINE
    return line.strip()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


# --- formats --------------------------------------------------------------------------


def test_seed_format_txt_is_one_article_per_line_with_line_numbers(tmp_path):
    lines = [long_line(1), long_line(2, "나스닥"), long_line(3, "환율")]
    path = write(tmp_path / "seed.txt", "\n".join(lines) + "\n")
    articles = read_file(path)
    assert [a.line for a in articles] == [1, 2, 3]
    assert [a.text for a in articles] == lines
    assert articles[1].title == "나스닥 2번째 기사입니다."
    assert all(a.source == str(path.resolve()) for a in articles)


def test_seed_format_needs_every_line_long(tmp_path):
    path = write(tmp_path / "notes.txt", long_line(1) + "\n짧은 줄\n" + long_line(2))
    [article] = read_file(path)  # not line-per-article: the whole file is one article
    assert article.line is None
    assert "짧은 줄" in article.text


def test_txt_with_short_title_line_and_blank_line(tmp_path):
    body = "엔비디아 주가가 17% 폭락했다. 딥시크 충격 때문이다.\n둘째 문단이다."
    path = write(tmp_path / "one.txt", "엔비디아 폭락\n\n" + body + "\n")
    [article] = read_file(path)
    assert article.title == "엔비디아 폭락"
    assert article.text == body
    assert article.line is None


def test_txt_title_with_windows_line_ends(tmp_path):
    path = write(tmp_path / "win.txt", "엔비디아 폭락\r\n\r\n엔비디아 주가가 17% 폭락했다.\r\n", encoding="cp949")
    [article] = read_file(path)
    assert article.title == "엔비디아 폭락"
    assert article.text == "엔비디아 주가가 17% 폭락했다."


def test_txt_without_title_takes_first_sentence(tmp_path):
    path = write(tmp_path / "plain.txt", "환율이 1,450원을 넘었다. 당국이 개입했다.")
    [article] = read_file(path)
    assert article.title == "환율이 1,450원을 넘었다."
    assert article.text == "환율이 1,450원을 넘었다. 당국이 개입했다."


def test_md_heading_is_the_title(tmp_path):
    path = write(tmp_path / "story.md", "# 딥시크 쇼크\n엔비디아 주가가 17% 폭락했다.\n")
    [article] = read_file(path)
    assert article.title == "딥시크 쇼크"
    assert article.text == "엔비디아 주가가 17% 폭락했다."


def test_jsonl_fields_and_broken_lines(tmp_path):
    good = {
        "title": "딥시크 쇼크",
        "text": "엔비디아 주가가 17% 폭락했다.",
        "url": "https://example.com/1",
        "date": "2025-01-28",
        "source": "연합뉴스",
        "author": "홍길동",
    }
    rows = [
        json.dumps(good, ensure_ascii=False),
        '{"title": "깨진 줄", "text": ',  # line 2: broken JSON
        "",
        json.dumps({"title": "본문 없음"}, ensure_ascii=False),  # line 4: no text
        json.dumps({"text": "샤오미가 전기차를 공개했다. 가격은 낮다."}, ensure_ascii=False),
    ]
    path = write(tmp_path / "feed.jsonl", "\n".join(rows) + "\n")
    report = read_paths([path])
    first, second = report.articles
    assert (first.title, first.text, first.url, first.date) == (
        "딥시크 쇼크", "엔비디아 주가가 17% 폭락했다.", "https://example.com/1", "2025-01-28"
    )
    assert (first.outlet, first.author, first.line) == ("연합뉴스", "홍길동", 1)
    assert (second.title, second.line, second.outlet) == ("샤오미가 전기차를 공개했다.", 5, None)
    assert len(report.problems) == 2
    assert str(report.problems[0]).startswith(f"{path.resolve()}:2: JSON 형식이 아니어서 건너뜀 / not valid JSON")
    assert str(report.problems[1]).startswith(f"{path.resolve()}:4: \"text\" 필드가 없어 건너뜀 / needs a non-empty \"text\"")


def test_jsonl_source_overrides_byline_outlet(tmp_path):
    row = {"text": "더지엠뉴스 김완석 기자 | 중국이 AI를 키운다.", "source": "다른매체"}
    path = write(tmp_path / "a.jsonl", json.dumps(row, ensure_ascii=False))
    [article] = read_file(path)
    assert (article.outlet, article.author) == ("다른매체", "김완석 기자")


# --- bylines --------------------------------------------------------------------------


def test_byline_with_reporter():
    a = make_article("더지엠뉴스 김완석 기자 | 중국이 AI를 키운다. 둘째 문장.", "x.txt", line=1)
    assert (a.outlet, a.author, a.title) == ("더지엠뉴스", "김완석 기자", "중국이 AI를 키운다.")
    assert a.text.startswith("더지엠뉴스 김완석 기자 |")  # the byline stays in the text


@pytest.mark.parametrize("text", ["[더지엠뉴스]중국이 AI를 키운다. 둘째.", "[더지엠뉴스] 중국이 AI를 키운다. 둘째."])
def test_bracket_outlet(text):
    a = make_article(text, "x.txt")
    assert (a.outlet, a.author, a.title) == ("더지엠뉴스", None, "중국이 AI를 키운다.")


@pytest.mark.parametrize("tag", ["속보", "단독", "종합"])
def test_bracket_tags_are_not_outlets(tag):
    a = make_article(f"[{tag}] 엔비디아 주가가 17% 폭락했다.", "x.txt")
    assert a.outlet is None and a.author is None
    assert a.title == f"[{tag}] 엔비디아 주가가 17% 폭락했다."


def test_no_byline():
    a = make_article("엔비디아 주가가 17% 폭락했다.", "x.txt")
    assert (a.outlet, a.author) == (None, None)


def test_long_first_sentence_title_is_shortened():
    a = make_article("가" * 200 + ". 둘째.", "x.txt")
    assert len(a.title) == 80 and a.title.endswith("…")


# --- ids and duplicates ---------------------------------------------------------------


def test_article_id_is_stable_and_content_based():
    text = "엔비디아 주가가 17% 폭락했다."
    assert article_id(text) == article_id(text)
    assert article_id(text) == article_id(f"  {text}\n")  # surrounding space is not content
    assert article_id(text) != article_id("엔비디아  주가가 17% 폭락했다.")  # offsets depend on inner spaces
    assert article_id(text) != article_id("엔비디아 주가가 18% 폭락했다.")
    assert make_article(text, "a.txt").id == make_article(text, "b.txt", line=7).id


def test_same_article_in_two_files_is_counted_once(tmp_path):
    shared = long_line(1)
    write(tmp_path / "a.txt", shared + "\n" + long_line(2, "나스닥"))
    write(tmp_path / "b.txt", long_line(3, "환율") + "\n" + shared)
    report = read_paths([tmp_path])
    assert report.duplicates == 1
    assert len(report.articles) == 3
    assert len({a.id for a in report.articles}) == 3
    kept = next(a for a in report.articles if a.text == shared)
    assert kept.source.endswith("a.txt") and kept.line == 1  # the first file read wins


# --- encodings and problems -----------------------------------------------------------


def test_cp949_text_is_decoded(tmp_path):
    text = "딥시크 쇼크\n\n엔비디아 주가가 17% 폭락했다. 똠방각하 햏."
    path = write(tmp_path / "euckr.txt", text, encoding="cp949")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    [article] = read_file(path)
    assert article.title == "딥시크 쇼크"
    assert article.text == "엔비디아 주가가 17% 폭락했다. 똠방각하 햏."


def test_utf8_bom_is_dropped(tmp_path):
    path = write(tmp_path / "bom.md", "\ufeff# 제목\n본문이다.")
    [article] = read_file(path)
    assert article.title == "제목"


def test_binary_file_is_reported_not_read(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(IngestError, match="binary"):
        read_file(path)
    good = write(tmp_path / "good.txt", "제목\n\n본문이다.")
    report = read_paths([path, good])
    assert len(report.articles) == 1
    assert len(report.problems) == 1 and "image.txt" in str(report.problems[0]) and "binary" in str(report.problems[0])
    assert report.files == [str(good.resolve())]


def test_unsupported_extension_and_missing_path_are_reported(tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    report = read_paths([pdf, tmp_path / "nope.txt"])
    assert report.articles == []
    assert len(report.problems) == 2
    assert "report.pdf" in str(report.problems[0]) and ".txt, .md or .jsonl" in str(report.problems[0])
    assert "nope.txt" in str(report.problems[1]) and "no such file" in str(report.problems[1])


def test_empty_file_is_reported(tmp_path):
    empty = write(tmp_path / "empty.txt", "  \n\n")
    report = read_paths([empty])
    assert report.articles == []
    assert len(report.problems) == 1 and "empty" in str(report.problems[0])


def test_folder_is_expanded_recursively_in_sorted_order(tmp_path):
    write(tmp_path / "b.md", "# 둘\n둘째 기사다.")
    write(tmp_path / "a.txt", "하나\n\n첫째 기사다.")
    write(tmp_path / "sub" / "c.jsonl", json.dumps({"title": "셋", "text": "셋째 기사다."}, ensure_ascii=False))
    write(tmp_path / "sub" / "skip.pdf", "무시된다")
    write(tmp_path / "sub" / "skip.csv", "무시된다")
    report = read_paths([tmp_path])
    assert [a.title for a in report.articles] == ["하나", "둘", "셋"]
    assert [Path(f).name for f in report.files] == ["a.txt", "b.md", "c.jsonl"]
    assert report.problems == []


# --- the bundled articles -------------------------------------------------------------


def test_bundled_seed_file_with_three_articles():
    articles = read_file(ARTICLES_DIR / "000_88f3d87ffd12de4e.txt")
    assert [a.line for a in articles] == [1, 2, 3]
    assert {a.source for a in articles} == {"articles/000_88f3d87ffd12de4e.txt"}
    assert articles[2].title == "28일(현지시간) 미국 증시는 대형 기술주의 실적 발표와 미연준의 정책회의를 앞두고 혼조세로 출발했다."
    assert all(a.outlet is None for a in articles)


def test_bundled_seed_file_with_outlet_bylines():
    articles = read_file(ARTICLES_DIR / "004_fdb6532c78211c37.txt")
    assert [a.line for a in articles] == [1, 2, 3, 4, 5, 6]
    assert {a.outlet for a in articles} == {"더지엠뉴스"}
    assert [a.author for a in articles] == ["김완석 기자", "박소영 기자", None, None, None, None]
    assert articles[2].title == "중국의 IT 제조업체 샤오미(小米, Xiaomi)가 인공지능 산업에서 존재감을 강화하고 있다."


def test_bundled_folder():
    report = read_paths([ARTICLES_DIR])
    assert len(report.articles) == 9
    assert report.problems == [] and report.duplicates == 0
    assert report.files == ["articles/000_88f3d87ffd12de4e.txt", "articles/004_fdb6532c78211c37.txt"]


# --- big files: bounded memory and size limits ---------------------------------------

SETTINGS = Settings(chunk_size=200, chunk_overlap=40)
_MEASURE = """
import resource, sys
from rag.ingest import read_paths
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = read_paths([sys.argv[1]])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before * 1024, after * 1024, len(report.articles), len(report.problems))
"""


def write_big_jsonl(path: Path, size: int) -> int:
    """Distinct ~2 KB Korean articles, one JSON object a line, until the file has `size` bytes."""
    body = "외국인 매수에 힘입어 코스피 지수가 상승 마감했다. " * 23
    n = written = 0
    with path.open("wb") as f:
        while written < size:
            n += 1
            row = json.dumps({"title": f"코스피 {n}번째 기사", "text": f"{n}번 기사. {body}끝 {n}."}, ensure_ascii=False)
            written += f.write(row.encode("utf-8") + b"\n")
    return n


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB only on Linux")
def test_big_jsonl_is_read_line_by_line(tmp_path):
    # Reading the whole file at once held the bytes, the decoded text and its split lines
    # together: ~2.8x the file size at peak (measured: 269 MB for 95 MB). Line by line only
    # the articles are kept, ~1.15x (110 MB). A fresh process, so nothing else is in the peak.
    path = tmp_path / "big.jsonl"
    rows = write_big_jsonl(path, 100_000_000)
    size = path.stat().st_size
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    before, after, articles, problems = map(int, out.stdout.split())
    assert (articles, problems) == (rows, 0)
    assert after - before < 1.5 * size, f"peak memory grew {(after - before) / 2**20:.0f} MB for a {size / 2**20:.0f} MB file"


@pytest.mark.parametrize("suffix", [".jsonl", ".txt"])
def test_line_over_the_limit_is_reported_and_the_others_indexed(tmp_path, suffix):
    huge = "가" * (MAX_ARTICLE_BYTES // 3 + 10)  # 3 UTF-8 bytes each: just over the limit
    lines = [long_line(1), huge, long_line(3, "환율")]
    if suffix == ".jsonl":
        lines = [json.dumps({"text": line}, ensure_ascii=False) for line in lines]
    path = write(tmp_path / "corpus" / f"feed{suffix}", "\n".join(lines) + "\n")
    result = index_paths([path.parent], tmp_path / "index", FakeEmbedder(), SETTINGS)
    [problem] = map(str, result.problems)
    assert problem == (
        f"{path.resolve()}:2: 줄이 {MAX_ARTICLE_MB} MB보다 길어 건너뜀. 기사를 나누세요 / "
        f"line longer than {MAX_ARTICLE_MB} MB; line skipped: split it into smaller articles."
    )
    assert sorted(a.line for a in result.index.articles.values()) == [1, 3]
    assert result.added == 2


def test_single_article_file_over_the_limit_is_reported_before_reading(tmp_path):
    big = write(tmp_path / "big.md", "# 제목\n" + "가" * (MAX_ARTICLE_BYTES // 3 + 10))
    good = write(tmp_path / "good.md", "# 제목\n본문이다.")
    report = read_paths([big, good])
    assert [a.text for a in report.articles] == ["본문이다."]
    [problem] = map(str, report.problems)
    assert problem.startswith(f"{big.resolve()}: 기사 하나로 읽기에 너무 큽니다 (최대 {MAX_ARTICLE_MB} MB)")
    assert "split it into one file per article" in problem


def test_big_txt_must_be_one_article_per_line(tmp_path):
    lines = [long_line(n) for n in range(MAX_ARTICLE_BYTES // len(long_line(1).encode()) + 10)]
    lines[5] = "짧은 줄"
    path = write(tmp_path / "big.txt", "\n".join(lines))
    with pytest.raises(IngestError, match="line 6 is shorter than 200 characters") as e:
        read_file(path)
    assert f"{MAX_ARTICLE_MB} MB" in str(e.value) and "write one article per line" in str(e.value)
    lines[5] = ""  # blank lines are no articles, and no reason to refuse the file
    path = write(tmp_path / "big.txt", "\r\n".join(lines))
    articles = read_file(path)
    assert len(articles) == len(lines) - 1 and articles[5].line == 7
    assert articles[0].text == long_line(0)  # CRLF dropped


def test_line_in_another_encoding_after_the_start_is_reported(tmp_path):
    rows = [json.dumps({"text": long_line(n)}, ensure_ascii=False).encode() for n in range(200)]
    assert sum(map(len, rows[:150])) > 64 * 1024  # past the start the encoding is told from
    rows[150] = json.dumps({"text": long_line(150)}, ensure_ascii=False).encode("cp949")
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(rows))
    report = read_paths([path])
    assert [a.line for a in report.articles] == [n for n in range(1, 201) if n != 151]
    [problem] = map(str, report.problems)
    assert problem == (
        f"{path.resolve()}:151: 파일 앞부분처럼 UTF-8로 읽을 수 없어 건너뜀 / line is not UTF-8 text like the start "
        f"of the file; line skipped: re-save the file as UTF-8."
    )


def cut_inside_a_character(data: bytes, at: int, encoding: str) -> bool:
    try:
        data[:at].decode(encoding)
    except UnicodeDecodeError:
        return True
    return False


def test_cp949_jsonl_with_its_start_cut_inside_a_character(tmp_path):
    rows = [json.dumps({"text": long_line(n)}, ensure_ascii=False) for n in range(200)]
    data = ("\r\n".join(rows) + "\r\n").encode("cp949")
    if not cut_inside_a_character(data, 64 * 1024, "cp949"):
        data = b" " + data  # shift by one byte so the first 64 KB end inside a Hangul character
    assert cut_inside_a_character(data, 64 * 1024, "cp949")
    path = tmp_path / "euckr.jsonl"
    path.write_bytes(data)
    report = read_paths([path])
    assert report.problems == []
    assert [a.text for a in report.articles] == [long_line(n) for n in range(200)]


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_unreadable_file_is_reported_and_the_others_read(tmp_path):
    # tests may run as root, which reads any file whatever its mode; reading this one fails (EIO)
    (tmp_path / "unreadable.txt").symlink_to("/proc/self/mem")
    write(tmp_path / "good.md", "# 제목\n본문이다.")
    report = read_paths([tmp_path])
    assert [a.text for a in report.articles] == ["본문이다."]
    [problem] = map(str, report.problems)
    assert problem.startswith(display_path(tmp_path / "unreadable.txt"))  # the path it links to
    assert "could not read the file (Input/output error)" in problem


# --- a folder with thousands of files --------------------------------------------------


def body(n: int) -> str:
    return f"{n}번 기사 본문이다. 환율이 {n}원 올랐고 코스피는 내렸다."


def write_many(folder: Path) -> tuple[list[str], int, list[Path]]:
    """~3,000 small files: good articles, duplicates across files, broken and unsupported files.

    Returns the texts of the distinct good articles, the number of duplicates, the broken files.
    """
    texts, broken = [], []
    for i in range(1000):
        sub = folder / f"d{i % 10}"
        write(sub / f"a{i}.txt", f"기사 {i}\n\n{body(i)}\n")
        write(sub / f"b{i}.md", f"# 제목 {i}\n{body(1000 + i)}\n")
        texts += [body(i), body(1000 + i)]
    for i in range(900):
        rows = [{"title": f"피드 {i}", "text": body(2000 + 2 * i)}, {"text": body(2000 + 2 * i + 1)}]
        texts += [row["text"] for row in rows]
        if i >= 850:  # the first article of another feed file again
            rows.append({"text": body(2000 + 2 * (i - 850))})
        write(folder / f"d{i % 10}" / f"c{i}.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    for i in range(50):
        write(folder / "copies" / f"copy{i}.md", f"# 사본 {i}\n{body(i)}\n")  # same text as a{i}.txt
    for i in range(10):
        broken.append(folder / "bad" / f"binary{i}.txt")
        broken[-1].parent.mkdir(parents=True, exist_ok=True)
        broken[-1].write_bytes(b"PK\x03\x04\x00\x00" + bytes(range(256)))
        broken.append(folder / "bad" / f"garbled{i}.md")
        broken[-1].write_bytes(b"# \xff\xff\xff\n\xfe\xff")  # neither UTF-8 nor CP949
        broken.append(write(folder / "bad" / f"empty{i}.txt", "\n \n"))
        broken.append(write(folder / "bad" / f"feed{i}.jsonl", '{"text": "잘린 줄'))
        write(folder / "other" / f"report{i}.pdf", "%PDF-1.4")
        write(folder / "other" / f"memo{i}.docx", "PK")
    return texts, 100, broken


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts open files through Linux /proc")
def test_folder_of_thousands_of_files(tmp_path):
    folder = tmp_path / "many"
    texts, duplicates, broken = write_many(folder)
    assert sum(1 for f in folder.rglob("*") if f.is_file()) == 3010
    fds = open_fds()
    report = read_paths([folder])
    assert open_fds() == fds  # no file left open
    assert sorted(a.text for a in report.articles) == sorted(texts)  # every good article, once
    assert report.duplicates == duplicates
    assert len(report.problems) == len(broken)  # .pdf/.docx in a folder are skipped silently
    for path in broken:
        assert sum(str(problem).startswith(str(path.resolve())) for problem in report.problems) == 1, path.name
    assert len(report.files) == 3010 - 20 - 30  # .pdf/.docx, and binary, garbled or empty files are not "read"

    result = index_paths([folder], tmp_path / "index", FakeEmbedder(), SETTINGS)
    assert len(result.index.articles) == result.added == len(texts)
    assert result.duplicates == duplicates and len(result.problems) == len(broken)
