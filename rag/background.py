"""Embedding in the background: a store's `embed_pending` in a thread of the chat server.

Whichever store it is (the folder's backlog: stores/folder/backlog.py; PostgreSQL's queue:
stores/postgres/queue.py), its chunks without a vector get one while questions are answered
with the vectors there are; the run waits while an answer is written (both want the cores).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

from .stores.base import CatchUp, Progress

log = logging.getLogger(__name__)


class Background:
    """A store's `embed_pending` in a thread of this process, with its progress for a page to
    show; it waits while `paused()` (an answer is being written) and stops with the process.
    `work(progress, stop)` is that call (the pipeline's current store, whichever it is)."""

    def __init__(self, work: Callable[[Progress, threading.Event], CatchUp]):
        self._work = work
        self._thread: threading.Thread | None = None
        self._again = threading.Event()  # chunks were added while a run was finishing
        self._free = threading.Event()
        self._free.set()
        self._pausing = 0
        self.stop = threading.Event()
        self.done = self.total = 0
        self.started = 0.0
        self.result: CatchUp | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._again.set()
            return
        self._thread = threading.Thread(target=self._run, name="embedding", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._again.clear()
            self.started, self.done, self.total = time.monotonic(), 0, 0
            try:
                self.result = self._work(self._progress, self.stop)
            except Exception:  # the index stays searchable by keyword; the next start retries
                log.exception("background embedding failed")
                return
            if not self._again.is_set() or self.stop.is_set():
                return

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.done, self.total = done, total
        self._free.wait()  # between batches: hold while an answer is written

    @contextmanager
    def paused(self):
        self._pausing += 1
        self._free.clear()
        try:
            yield
        finally:
            self._pausing -= 1
            if not self._pausing:
                self._free.set()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> str | None:
        """"의미 검색 색인 34% · 약 40분 남음" while embedding, else None."""
        if not self.running() or not self.total:
            return None
        return eta(self.done, self.total, time.monotonic() - self.started)


def eta(done: int, total: int, seconds: float) -> str:
    """Korean progress with the time left at the pace so far.

    >>> eta(34, 100, 1236.0)
    '의미 검색 색인 34% · 약 40분 남음'
    >>> eta(0, 100, 3.0), eta(99, 100, 990.0)
    ('의미 검색 색인 0%', '의미 검색 색인 99% · 약 1분 남음')
    """
    share = f"의미 검색 색인 {100 * done // max(total, 1)}%"
    if not done:
        return share
    minutes = max(1, round(seconds / done * (total - done) / 60))
    return f"{share} · 약 {minutes}분 남음" if minutes < 90 else f"{share} · 약 {minutes / 60:.1f}시간 남음"


