"""Progress and cancel for long exports and imports, and the garbage-collector pause they share.

The CLI passes nothing; the GUI runs the same call on a worker thread, passing
``progress(done, total)`` to drive a progress bar and ``cancelled()`` to stop early.
"""
from __future__ import annotations

import gc
import traceback
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from .errors import Cancelled

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


class Ticker:
    """Calls ``progress`` now and then and raises :class:`Cancelled` once ``cancelled()`` says so.

    Throttled to about every 1% of the work so a GUI signal per call stays cheap."""

    def __init__(self, progress: Optional[ProgressFn], cancelled: Optional[CancelFn], total: int,
                 what: str = "export"):
        self._progress, self._cancelled = progress, cancelled
        self._what = what
        self.total = max(int(total), 1)
        self.done = 0
        self._every = max(self.total // 100, 1)
        self._next = 0

    def check(self) -> None:
        if self._cancelled is not None and self._cancelled():
            raise Cancelled(f"{self._what} cancelled")

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.done >= self._next:
            self._next = self.done + self._every
            self.check()
            if self._progress is not None:
                self._progress(min(self.done, self.total), self.total)

    def set_total(self, total: int) -> None:
        self.total = max(int(total), 1)
        self._every = max(self.total // 100, 1)

    def finish(self) -> None:
        """Report completion (no cancel check: the work is done and committed)."""
        if self._progress is not None:
            self._progress(self.total, self.total)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Exports and imports allocate a few hundred thousand dicts and lists that all stay alive until
    the work is done; the cyclic collector would rescan them again and again (a third of the time
    on 100k boxes) without ever freeing one. Pause it for the call and restore it afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    except BaseException as exc:
        # Every object made meanwhile is still in the youngest generation, and a cancel's (or a
        # failure's) traceback keeps the frames that hold them alive: the first collection after
        # the pause would walk them all (half a second on 300k boxes) before the caller even hears
        # of the cancel. Free them first; the traceback keeps its lines for any report.
        traceback.clear_frames(exc.__traceback__)
        raise
    finally:
        if was_enabled:
            gc.enable()
