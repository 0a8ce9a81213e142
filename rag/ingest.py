"""Read article files into Articles.

Formats, decided by extension and then by content:
- `.jsonl`: one JSON object per line with `title` and `text`, optional `url`, `date`,
  `source`, `author`. Dates are read by `dates.py`; a `.txt`/`.md` article's date comes from
  its first lines ("입력 2025.01.28 10:21"). Broken lines are reported by line number; the good ones are kept.
- `.txt` with two or more non-empty lines, none blank in between, each at least
  `MIN_ARTICLE_LINE` characters: one article per line (the seed format). Its `line` is kept.
- any other `.txt`, and `.md`: the whole file is one article. A first line that is a
  Markdown heading, or short and followed by a blank line, is its title.

Memory stays bounded for big inputs: `.jsonl` files, and `.txt` files too big to be one
article, are read one line at a time (their encoding told from the first 64 KB), and no
article may be larger than MAX_ARTICLE_MB; a bigger file or line is reported, not read.

An article's id is a hash of its text, so the same article in two files is one article.
Outlet and reporter are read from a leading byline ("더지엠뉴스 김완석 기자 |", "[더지엠뉴스]").
"""
from __future__ import annotations

import codecs
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from . import dates
from .config import PROJECT_ROOT
from .errors import IngestError
from .types import Article

log = logging.getLogger(__name__)
EXTENSIONS = (".txt", ".md", ".jsonl")
MIN_ARTICLE_LINE = 200
TITLE_MAX = 80
MAX_ARTICLE_MB = 4  # a long news article is ~100 KB; 4 MB of Korean UTF-8 is ~1.4M characters
MAX_ARTICLE_BYTES = MAX_ARTICLE_MB * 1024 * 1024
ENCODINGS = {"utf-8-sig": "UTF-8", "cp949": "CP949/EUC-KR"}  # cp949 is a superset of EUC-KR; tried in order
_HEAD = 64 * 1024  # bytes read to tell the encoding of a file read line by line
# the reporter is kept as the byline gives it ("김완석 기자"), as a feed's author is; export.reporter shows either once
_BYLINE = re.compile(r"^\s*(?P<outlet>[^\s|\[\]]{2,20})\s+(?P<author>[가-힣]{2,4}\s*기자)\s*[|ㅣ]\s*")
_BRACKET = re.compile(r"^\s*\[(?P<outlet>[^\]\n]{2,20})\]\s*")
_NOT_OUTLETS = {"속보", "단독", "종합", "사설", "인터뷰", "칼럼", "기고", "포토", "영상"}
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s*|\n")


@dataclass
class IngestReport:
    """Articles read, and problems found in the input (each naming file and line)."""

    articles: list[Article] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # display paths of the files read
    problems: list[IngestError] = field(default_factory=list)
    duplicates: int = 0


def read_paths(paths: Iterable[Path | str]) -> IngestReport:
    """Read every supported file under the given files or folders, skipping duplicates."""
    report = IngestReport()
    seen: set[str] = set()
    for path in _expand(paths, report):
        try:
            articles = read_file(path, report)
        except IngestError as e:
            report.problems.append(e)
            continue
        except OSError as e:  # unreadable, or gone since the folder was listed: the others still count
            report.problems.append(IngestError(display_path(path), f"could not read the file ({e.strerror or e}); skipped.", "파일을 읽을 수 없습니다"))
            continue
        report.files.append(display_path(path))
        for article in articles:
            if article.id in seen:
                report.duplicates += 1
                continue
            seen.add(article.id)
            report.articles.append(article)
    return report


def read_file(path: Path, report: IngestReport | None = None) -> list[Article]:
    """The articles of one file; problems with single lines go to `report`, whole-file ones raise."""
    report = report if report is not None else IngestReport()
    source = display_path(path)
    suffix = path.suffix.lower()
    too_big = path.stat().st_size > MAX_ARTICLE_BYTES
    if suffix == ".jsonl" or (suffix == ".txt" and too_big):  # a big .txt can only be one article per line
        with path.open("rb") as f:
            lines = _lines(f, source, report)
            return list(_read_jsonl(lines, source, report) if suffix == ".jsonl" else _read_long_lines(lines, source))
    if too_big:
        raise IngestError(
            source,
            f"larger than {MAX_ARTICLE_MB} MB, too big for one article: split it into one file per article.",
            f"기사 하나로 읽기에 너무 큽니다 (최대 {MAX_ARTICLE_MB} MB). 기사별로 파일을 나누세요",
        )
    text = _decode(path.read_bytes(), source)
    lines = text.splitlines()
    if suffix == ".txt" and _is_line_per_article(lines):
        return [make_article(line, source, line=i) for i, line in enumerate(lines, 1) if line.strip()]
    title, body = _split_title(text)
    if not body.strip():
        raise IngestError(source, "the file is empty; nothing to index.", "빈 파일입니다")
    return [make_article(body, source, title=title)]


def make_article(
    text: str,
    source: str,
    line: int | None = None,
    title: str | None = None,
    **meta: str | None,
) -> Article:
    """Build an Article, reading outlet/reporter from its byline and a title if none is given.

    >>> a = make_article("더지엠뉴스 김완석 기자 | 중국이 AI를 키운다. 둘째 문장.", "x.txt", line=1)
    >>> (a.outlet, a.author, a.title)
    ('더지엠뉴스', '김완석 기자', '중국이 AI를 키운다.')
    """
    text = text.strip()
    outlet, author, rest = _byline(text)
    return Article(
        id=article_id(text),
        title=(title or "").strip() or first_sentence(rest),
        text=text,
        source=source,
        line=line,
        outlet=meta.get("outlet") or outlet,
        author=meta.get("author") or author,
        url=meta.get("url"),
        date=dates.parse(meta["date"]) if "date" in meta else dates.from_text(text),
    )


def article_id(text: str) -> str:
    """A stable id from the content: the same text always gets the same id."""
    # exact text: chunk offsets are only valid for the very text they were cut from
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


def first_sentence(text: str) -> str:
    head = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip()
    return head if len(head) <= TITLE_MAX else head[: TITLE_MAX - 1].rstrip() + "…"


def display_path(path: Path) -> str:
    """Paths inside the project are shown relative to it (articles/...), others absolute."""
    path = path.resolve()
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def _expand(paths: Iterable[Path | str], report: IngestReport) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in EXTENSIONS)
        elif not p.exists():
            report.problems.append(IngestError(str(p), "no such file or folder.", "파일이나 폴더가 없습니다"))
        elif p.suffix.lower() not in EXTENSIONS:
            report.problems.append(IngestError(str(p), "unsupported file type; use .txt, .md or .jsonl.", "지원하지 않는 형식입니다"))
        else:
            files.append(p)
    return files


def _decode(data: bytes, source: str) -> str:
    return data.decode(_encoding(data, source, final=True)).replace("\r\n", "\n")


def _encoding(data: bytes, source: str, final: bool) -> str:
    """UTF-8 (a BOM dropped) if `data` is UTF-8, else CP949; `final=False` if it is only the file's start."""
    if b"\x00" in data[:4096]:
        raise IngestError(source, "looks like a binary file, not text; skipped.", "텍스트 파일이 아닙니다")
    for encoding in ENCODINGS:
        try:  # incremental, so a start cut inside a character still counts as that encoding
            codecs.getincrementaldecoder(encoding)().decode(data, final=final)
            return encoding
        except UnicodeDecodeError:
            continue
    raise IngestError(source, "not UTF-8 or CP949/EUC-KR text; re-save it as UTF-8.", "인코딩을 알 수 없습니다. UTF-8로 저장하세요")


def _lines(f: BinaryIO, source: str, report: IngestReport) -> Iterator[tuple[int, str]]:
    """(number, text) of each line, read one at a time so a big file is never whole in memory.

    A line longer than MAX_ARTICLE_BYTES, or one not in the encoding of the file's start,
    is reported and skipped; the lines after it are still read.
    """
    encoding = _encoding(f.read(_HEAD), source, final=False)
    f.seek(0)
    n = 0
    while raw := f.readline(MAX_ARTICLE_BYTES):
        n += 1
        if len(raw) == MAX_ARTICLE_BYTES and not raw.endswith(b"\n"):
            _skip_line(f)
            report.problems.append(IngestError(
                f"{source}:{n}",
                f"line longer than {MAX_ARTICLE_MB} MB; line skipped: split it into smaller articles.",
                f"줄이 {MAX_ARTICLE_MB} MB보다 길어 건너뜀. 기사를 나누세요",
            ))
            continue
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError:
            name = ENCODINGS[encoding]
            report.problems.append(IngestError(
                f"{source}:{n}",
                f"line is not {name} text like the start of the file; line skipped: re-save the file as UTF-8.",
                f"파일 앞부분처럼 {name}로 읽을 수 없어 건너뜀",
            ))
            continue
        yield n, line.rstrip("\r\n")


def _skip_line(f: BinaryIO) -> None:
    """Read past the end of the current line in bounded pieces, keeping none of it."""
    while (piece := f.readline(1024 * 1024)) and not piece.endswith(b"\n"):
        pass


def _is_line_per_article(lines: list[str]) -> bool:
    body = [line for line in lines if line.strip()]
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    no_gaps = all(line.strip() for line in lines[: last + 1])
    return len(body) >= 2 and no_gaps and all(len(line.strip()) >= MIN_ARTICLE_LINE for line in body)


def _split_title(text: str) -> tuple[str | None, str]:
    """A leading Markdown heading, or a short line followed by a blank line, is a title."""
    first, _, rest = text.strip().partition("\n")
    if first.startswith("#"):
        return first.lstrip("#").strip(), rest
    if len(first) <= TITLE_MAX and rest.startswith("\n"):
        return first.strip(), rest
    return None, text


def _read_long_lines(lines: Iterable[tuple[int, str]], source: str) -> Iterator[Article]:
    """A .txt too big for one article, as one article per line (blank lines ignored)."""
    for n, line in lines:
        if not line.strip():
            continue
        if len(line.strip()) < MIN_ARTICLE_LINE:
            raise IngestError(
                source,
                f"larger than {MAX_ARTICLE_MB} MB, too big for one article, but line {n} is shorter than "
                f"{MIN_ARTICLE_LINE} characters, so it is not one article per line either: split it into one "
                "file per article, or write one article per line.",
                f"{MAX_ARTICLE_MB} MB보다 커서 기사 하나일 수 없는데 {n}번째 줄이 {MIN_ARTICLE_LINE}자보다 짧습니다. "
                "기사별로 파일을 나누거나 한 줄에 기사 하나씩 쓰세요",
            )
        yield make_article(line, source, line=n)


def _read_jsonl(lines: Iterable[tuple[int, str]], source: str, report: IngestReport) -> Iterator[Article]:
    for n, raw in lines:
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            report.problems.append(IngestError(f"{source}:{n}", f"not valid JSON ({e.msg}); line skipped.", "JSON 형식이 아니어서 건너뜀"))
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
            report.problems.append(IngestError(f"{source}:{n}", 'needs a non-empty "text" field; line skipped.', '"text" 필드가 없어 건너뜀'))
            continue
        meta = {k: str(obj[k]) for k in ("url", "date", "author") if obj.get(k)}
        if obj.get("source"):
            meta["outlet"] = str(obj["source"])
        if "date" in meta and dates.parse(meta["date"]) is None:
            report.problems.append(IngestError(
                f"{source}:{n}",
                f'"date" {meta["date"][:40]!r} is not a date this reads (ISO 8601, RFC 2822, 2025.01.27, 2025년 1월 27일); the article is kept undated.',
                "날짜를 읽을 수 없어 날짜 없이 넣었습니다",
            ))
        yield make_article(obj["text"], source, line=n, title=str(obj.get("title") or ""), **meta)


def _byline(text: str) -> tuple[str | None, str | None, str]:
    if m := _BYLINE.match(text):
        return m["outlet"], m["author"], text[m.end():]
    if (m := _BRACKET.match(text)) and m["outlet"].strip() not in _NOT_OUTLETS:
        return m["outlet"].strip(), None, text[m.end():]
    return None, None, text
