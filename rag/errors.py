"""One base error; every message says what went wrong and what to do.

An error carries its English message and a Korean one for the page: `str(error)` is
"한국어 / English" (the CLI prints it, exit code 1, no traceback) and `error.korean` is what
the chat page shows. An error raised without its own Korean line shows its kind's.
"""
from __future__ import annotations


class RagError(Exception):
    """Base of every error the product reports to a person."""

    korean_default = "요청을 처리하지 못했습니다. 서버 로그를 확인하세요."

    def __init__(self, english: str, korean: str | None = None):
        super().__init__(f"{korean} / {english}" if korean else english)
        self.english = english
        self.korean = korean or self.korean_default


class ConfigError(RagError):
    """models.yaml or a setting is missing or wrong."""

    korean_default = "설정(models.yaml)에 문제가 있습니다. 서버 로그를 확인하세요."


class ModelError(RagError):
    """A model could not be fetched, assembled, verified or loaded."""

    korean_default = "모델을 준비하지 못했습니다. 네트워크를 확인하거나 터미널에서 `rag models pull`을 실행하세요."


class IngestError(RagError):
    """An input file, or a line of it, could not be read as articles; `where` is "file" or "file:line"."""

    def __init__(self, where: str, english: str, korean: str):
        super().__init__(english, f"{where}: {korean}")
        self.where = where


class StoreError(RagError):
    """The index is missing, locked, damaged, or was built with other settings."""

    korean_default = "색인을 열 수 없습니다. 터미널에서 `rag index --rebuild articles`로 다시 만드세요."


class IndexMissing(StoreError):
    """No index in the given folder."""


class IndexMismatch(StoreError):
    """The index was built by another embedding model, chunking, tokenizer or schema."""


class StoreUnavailable(StoreError):
    """A database store cannot be reached, refuses the login, or lacks its database or extension."""

    korean_default = "데이터베이스에 연결할 수 없습니다. 서버와 설정을 확인하세요."
