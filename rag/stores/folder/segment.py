"""One segment of the index on disk: a folder written once and never changed (see generations.py).

    articles.jsonl   the articles, whole
    chunks.jsonl     [chunk id, article id, start, end, embedding key] per chunk
    tokens.jsonl     each chunk's BM25 words (read again only when segments are merged)
    bm25.npz         the segment's BM25 postings (sparse.py)
    segment.json     written last: each article's source, line and chunk ids, and a SHA-256
                     of each file above, checked when the file is read
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from ...errors import StoreError
from ...sparse import Postings
from ...types import Article, Chunk
from ..plan import Entry, New

FILES = ("articles.jsonl", "chunks.jsonl", "tokens.jsonl", "bm25.npz")


def read_meta(folder: Path) -> dict:
    try:
        raw = json.loads((folder / "segment.json").read_text(encoding="utf-8"))
        raw["entries"] = {aid: Entry(e[0], e[1], tuple(e[2])) for aid, e in raw["entries"].items()}
        return raw
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        raise StoreError(
            f"Index segment {folder} is missing or unreadable: rebuild with `rag index --rebuild PATH`.",
            "색인이 손상되었습니다",
        ) from None


def check_file(folder: Path, name: str, meta: dict) -> Path:
    path = folder / name
    if not path.is_file() or sha256_file(path) != meta["files"].get(name):
        raise StoreError(
            f"Index file {path} is missing or damaged (checksum mismatch). Rebuild with "
            f"`rag index --rebuild PATH` (index folder: {folder.parent}).",
            "색인 파일이 손상되었습니다",
        )
    return path


def read_jsonl(path: Path):
    with path.open(encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def entries(new: New) -> dict[str, Entry]:
    chunk_ids: dict[str, list[int]] = {a.id: [] for a in new.articles}
    for c in new.chunks:
        chunk_ids[c.article_id].append(c.id)
    return {a.id: Entry(a.source, a.line, tuple(chunk_ids[a.id])) for a in new.articles}


def write(index_dir: Path, new: New) -> Path:
    folder = index_dir / f"seg-{time.time_ns()}"
    folder.mkdir(parents=True)
    write_jsonl(folder / "articles.jsonl", (asdict(a) for a in new.articles))
    write_jsonl(folder / "chunks.jsonl", ([c.id, c.article_id, c.start, c.end, k] for c, k in zip(new.chunks, new.keys)))
    write_jsonl(folder / "tokens.jsonl", new.tokens)
    Postings.build([c.id for c in new.chunks], new.tokens).save(folder / "bm25.npz")
    meta = {
        "entries": {aid: [e.source, e.line, list(e.chunks)] for aid, e in entries(new).items()},
        "files": {name: sha256_file(folder / name) for name in FILES},
    }
    write_durably(folder / "segment.json", json.dumps(meta, ensure_ascii=False))
    return folder


def size(folder: Path) -> int:
    return sum(len(e.chunks) for e in read_meta(folder)["entries"].values())


def articles(folder: Path, meta: dict | None = None) -> dict[str, Article]:
    return {a["id"]: Article(**a) for a in read_jsonl(check_file(folder, "articles.jsonl", meta or read_meta(folder)))}


def chunks(folder: Path, by_id: dict[str, Article], meta: dict | None = None):
    """(chunk, embedding key) of every row, removed or not; the text is cut from its article."""
    for cid, aid, start, end, key in read_jsonl(check_file(folder, "chunks.jsonl", meta or read_meta(folder))):
        yield Chunk(cid, aid, by_id[aid].text[start:end], start, end), key


def rows(folder: Path, removed: set[int]):
    """(chunk, BM25 words, embedding key) of the live rows, for a merge or a copy."""
    meta = read_meta(folder)
    tokens = read_jsonl(check_file(folder, "tokens.jsonl", meta))
    for (chunk, key), toks in zip(chunks(folder, articles(folder, meta), meta), tokens):
        if chunk.id not in removed:
            yield chunk, toks, key


def write_jsonl(path: Path, rows) -> None:
    write_durably(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def write_durably(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        os.fsync(f.fileno())  # files written by numpy are not synced by it
        return hashlib.file_digest(f, "sha256").hexdigest()
