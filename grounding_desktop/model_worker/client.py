"""The app's handle on one model process.

The process is started with the spawn method: a fresh interpreter that imports only what the model
needs (forking the app would copy its Qt, which must never run in a forked child). Requests go
through a sender thread, so the caller (the GUI thread) never blocks on a full pipe; a reader
thread hands every answer to ``on_answer(process, answer)`` and, when the process ends by itself
(a crash, a kill, running out of memory), its exit code to ``on_exit(process, code)``. Both run on
the reader thread.
"""
from __future__ import annotations

import multiprocessing
import queue
import signal
import threading
from typing import Any, Callable, Optional

from .serve import serve

STOP_WAIT_S = 2.0  # a terminated process is gone in milliseconds; this only guards against a hung one


def exit_reason(code: Optional[int]) -> str:
    """How a process ended, in words: 'killed by SIGKILL', 'exit status 1'."""
    if code is None:
        return "it stopped answering"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class ModelProcess:
    def __init__(self, on_answer: Callable[["ModelProcess", Any], None],
                 on_exit: Callable[["ModelProcess", Optional[int]], None]) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child,), name="grounding-desktop-model", daemon=True)
        self._process.start()
        child.close()  # the process holds the other end now: its exit is our end-of-file
        self._outbox: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._stopped = False
        threading.Thread(target=self._write, name="model requests", daemon=True).start()
        threading.Thread(target=self._read, args=(on_answer, on_exit), name="model answers", daemon=True).start()

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid

    def send(self, message: Any) -> None:
        """Queue a request (never blocks; dropped once stopped)."""
        if not self._stopped:
            self._outbox.put(message)

    def _write(self) -> None:
        while (message := self._outbox.get()) is not None:
            try:
                self._conn.send(message)
            except (OSError, ValueError):
                return  # the process is gone: the reader tells

    def _read(self, on_answer, on_exit) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                break
            if not self._stopped:
                on_answer(self, message)
        self._conn.close()
        if not self._stopped:
            self._process.join(STOP_WAIT_S)
            on_exit(self, self._process.exitcode)

    def stop(self) -> None:
        """End the process now, whatever it is doing (a model load is not waited for): nothing in
        it needs saving, since the app is the one writer of the project and the process only reads
        image files. Nothing is reported after this."""
        self._stopped = True
        self._outbox.put(None)
        self._process.terminate()
        self._process.join(STOP_WAIT_S)
        if self._process.exitcode is None:
            self._process.kill()
