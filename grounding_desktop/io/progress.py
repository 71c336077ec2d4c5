"""Progress and cancel for long work (exports, imports, the feature pass, propose, evaluate), and
the garbage-collector pause exports and imports share.

The work takes ``progress(done, total)`` and ``cancelled()``. The GUI runs it on a worker thread,
passing them to drive a progress bar and to stop early; the CLI passes a :class:`TerminalProgress`.
"""
from __future__ import annotations

import gc
import sys
import time
import traceback
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, TextIO

from tqdm import tqdm

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


PLAIN_AFTER_S = 2.0  # off a terminal, work done sooner prints no progress line at all


class TerminalProgress:
    """``progress(done, total)`` for a command: on stderr, so stdout keeps only the results.

    On a terminal, a tqdm bar with the rate and the time left; elsewhere (a log, a pipe) a plain
    line at each tenth of the work and at its end, once it has run :data:`PLAIN_AFTER_S` (quick
    work leaves the log, and an error's one line, alone); nothing with ``quiet``. Use it as a
    context manager: leaving it ends the bar."""

    def __init__(self, what: str, unit: str = "item", quiet: bool = False, stream: Optional[TextIO] = None,
                 clock: Callable[[], float] = time.monotonic):
        self.what, self.unit, self.quiet = what, unit, quiet
        self.stream = sys.stderr if stream is None else stream
        self._clock = clock
        self._tty = not quiet and self.stream.isatty()
        self._bar: Optional[tqdm] = None
        self._start: Optional[float] = None
        self._shown = -1  # the last tenth a plain line was printed for

    def __call__(self, done: int, total: int) -> None:
        if self.quiet or total <= 0:
            return
        if self._tty:
            if self._bar is None:
                self._bar = tqdm(total=total, desc=self.what, unit=self.unit, file=self.stream, dynamic_ncols=True)
            self._bar.total = total
            self._bar.update(done - self._bar.n)
            return
        now = self._clock()
        if self._start is None:
            self._start = now
        tenth = 10 if done >= total else done * 10 // total
        if tenth > self._shown and now - self._start >= PLAIN_AFTER_S:
            self._shown = tenth
            line = tqdm.format_meter(min(done, total), total, now - self._start, ncols=0, prefix=self.what,
                                     unit=self.unit)
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "TerminalProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
