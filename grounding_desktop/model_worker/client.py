"""The app's handle on one model process.

The process is started with the spawn method: a fresh interpreter that imports only what the model
needs (forking the app would copy its Qt, which must never run in a forked child). Requests go
through a sender thread, so the caller (the GUI thread) never blocks on a full pipe; a reader
thread hands every answer to ``on_answer(process, answer)`` and, when the process ends by itself
(a crash, a kill, running out of memory), its exit code to ``on_exit(process, code)``. Both run on
the reader thread. A job's news goes straight to the thread waiting for it in ``run_job``.
"""
from __future__ import annotations

import itertools
import multiprocessing
import queue
import signal
import threading
from typing import Any, Callable, Optional

from ..io.errors import Cancelled
from .messages import CancelJob, JobDone, JobProgress, StartJob
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
        self._ended = False  # the reader saw the process's end
        self._jobs: dict[int, "queue.SimpleQueue[Any]"] = {}  # running jobs' news, by job id
        self._jobs_lock = threading.Lock()
        self._job_ids = itertools.count(1)
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
            if isinstance(message, (JobProgress, JobDone)):
                with self._jobs_lock:
                    waiting = self._jobs.get(message.job_id)
                if waiting is not None:
                    waiting.put(message)
            elif not self._stopped:
                on_answer(self, message)
        self._conn.close()
        if not self._stopped:
            self._process.join(STOP_WAIT_S)
        self._ended = True
        why = "the window closed" if self._stopped else f"the model stopped ({exit_reason(self._process.exitcode)})"
        with self._jobs_lock:
            for job_id, waiting in self._jobs.items():
                waiting.put(JobDone(job_id, error=why))
        if not self._stopped:
            on_exit(self, self._process.exitcode)

    def run_job(self, name: str, payload: Any, progress: Optional[Callable[[int, int], None]] = None,
                cancelled: Optional[Callable[[], bool]] = None) -> Any:
        """Run ``jobs.JOBS[name]`` in the process and wait for its result; call it from a worker
        thread (it blocks). Progress comes to ``progress(done, total)`` on this thread;
        ``cancelled()`` is asked every 0.1 s. Raises ``Cancelled``, or ``RuntimeError`` with the
        reason it failed (the process ending included)."""
        job_id = next(self._job_ids)
        answers: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        with self._jobs_lock:
            self._jobs[job_id] = answers
        self.send(StartJob(job_id, name, payload))
        asked_to_stop = False
        try:
            while True:
                if not asked_to_stop and cancelled is not None and cancelled():
                    self.send(CancelJob(job_id))
                    asked_to_stop = True
                try:
                    message = answers.get(timeout=0.1)
                except queue.Empty:
                    if self._ended:  # it ended before the job was registered
                        raise RuntimeError("the model stopped") from None
                    continue
                if isinstance(message, JobProgress):
                    if progress is not None:
                        progress(message.done, message.total)
                elif message.cancelled:
                    raise Cancelled(f"{name} cancelled")
                elif message.error:
                    raise RuntimeError(message.error)
                else:
                    return message.result
        finally:
            with self._jobs_lock:
                self._jobs.pop(job_id, None)

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
