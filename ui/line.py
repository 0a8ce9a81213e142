"""The one line for the model: the page's questions, the API's, uploads and model switches
take turns, first come first served.

The model answers one thing at a time on two cores, so everything that uses it waits here,
whichever door it came in by; a waiting person is told how many are ahead, in Korean. With
llama.cpp servers the line is as wide as there are servers: each takes one question at a time.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class Line:
    """
    >>> line = Line()
    >>> first, second = line.join(), line.join()
    >>> line.ahead(second), line.wait(second, 0)
    (1, False)
    >>> line.leave(first)
    >>> line.wait(second, 0)
    True
    >>> wide = Line(2)
    >>> a, b, c = wide.join(), wide.join(), wide.join()
    >>> wide.wait(b, 0), wide.wait(c, 0), wide.ahead(c)
    (True, False, 1)
    """

    def __init__(self, width: int = 1):
        self._turn = threading.Condition()
        self._waiting: deque[object] = deque()  # the first `width` are being served
        self.width = width

    def join(self) -> object:
        """A ticket at the end of the line; give it back with `leave`, served or not."""
        ticket = object()
        with self._turn:
            self._waiting.append(ticket)
        return ticket

    def ahead(self, ticket: object) -> int:
        """How many must finish before this ticket's turn."""
        with self._turn:
            return max(0, self._waiting.index(ticket) - self.width + 1)

    def wait(self, ticket: object, timeout: float | None = None) -> bool:
        """True once it is this ticket's turn; False if `timeout` seconds passed first."""
        with self._turn:
            return self._turn.wait_for(lambda: self._waiting.index(ticket) < self.width, timeout)

    def leave(self, ticket: object) -> None:
        with self._turn:
            self._waiting.remove(ticket)
            self._turn.notify_all()

    @contextmanager
    def place(self) -> Iterator[object]:
        """A ticket, given back however its holder leaves: served, stopped, or gone."""
        ticket = self.join()
        try:
            yield ticket
        finally:
            self.leave(ticket)

    def until_turn(self, ticket: object, every: float = 1.0) -> Iterator[int]:
        """How many are ahead, about every `every` seconds, until it is this ticket's turn."""
        while not self.wait(ticket, every):
            yield self.ahead(ticket)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for a turn without a word to anyone (uploads, switches, API calls)."""
        with self.place() as ticket:
            self.wait(ticket)
            yield


def waiting_note(ahead: int) -> str:
    """What a waiting person sees in place of the answer.

    >>> waiting_note(2)
    '앞에 2건이 먼저 처리되고 있습니다. 차례가 되면 바로 답합니다…'
    """
    return f"앞에 {ahead}건이 먼저 처리되고 있습니다. 차례가 되면 바로 답합니다…"
