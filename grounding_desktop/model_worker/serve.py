"""The model process's main loop: build the Grounder, then answer requests until the app closes
the pipe (or goes away).

One request at a time, in ``WorkQueue`` order; everything that arrived meanwhile is read before the
next one is picked, so a proposal request that is no longer the newest is dropped here, not
computed and thrown away. Jobs (``jobs.JOBS``) run on a thread of their own beside it; the
Grounder's methods are thread-safe. A job that may take long (the feature pass) waits for its turn
before each step while the loop has something the user waits for (``WorkQueue.pressing``): a
proposal, the image shown, a model to load, an edit's lessons.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Any, Optional

from ..core import ImageReadError, short_error
from ..editing.state import Answer
from ..io.errors import Cancelled
from ..project_concepts import teach
from .folder_index import FolderIndex
from .jobs import JOBS, JobContext
from .messages import (CancelJob, IndexFeatures, JobDone, JobProgress, Learn, Learned, Load, Loaded, ModelInfo,
                       Prepare, Prepared, Propose, Proposed, StartJob)
from .work_queue import Features, WorkQueue


def serve(conn) -> None:
    """The process's target (``client.ModelProcess``). Ctrl+C in the terminal reaches the whole
    process group: the app decides when its model stops, so the model ignores it. Once the app
    has gone (its end of the pipe closed: a quit, a crash, ``kill -9``) the process ends at once,
    without Python's teardown: a job thread may be inside the model's native code, and tearing the
    interpreter down beside it aborts noisily ("terminate called without an active exception")."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    Worker(conn).run()
    sys.stderr.flush()
    os._exit(0)


class Worker:
    def __init__(self, conn) -> None:
        self.conn = conn
        self._send_lock = threading.Lock()  # the main loop and job threads answer on one pipe
        self.queue = WorkQueue()
        self.grounder: Optional[Any] = None
        self.prepared: set[str] = set()
        self.jobs: dict[int, threading.Event] = {}  # running jobs' cancel flags
        self.index = FolderIndex()  # the open project's prepared images, for search
        self.turn = threading.Event()  # set while nothing the user waits for is queued
        self.turn.set()

    def send(self, message: Any) -> None:
        with self._send_lock:
            self.conn.send(message)

    def run(self) -> None:
        try:
            while True:
                self._give_turn()  # before waiting for more: what was pressing is done
                wait: Optional[float] = 0 if self.queue else None
                while self.conn.poll(wait):
                    self.receive(self.conn.recv())
                    wait = 0
                self._give_turn()
                work = self.queue.pop()
                if work is not None:
                    self.do(work)
        except (EOFError, OSError):
            return  # the app closed the pipe or is gone: nothing here needs saving

    def receive(self, message: Any) -> None:
        if isinstance(message, StartJob):
            self._start_job(message)
        elif isinstance(message, CancelJob):
            if message.job_id in self.jobs:
                self.jobs[message.job_id].set()
        elif isinstance(message, IndexFeatures):
            self.index.add(message.rows, message.clear)
        else:
            self.queue.put(message)

    def do(self, work: Any) -> None:
        if isinstance(work, Load):
            self._load(work)
        elif self.grounder is None:
            return  # the model failed to load: nothing to do until another Load
        elif isinstance(work, Propose):
            self.send(Proposed(work.rid, self._propose(work)))
        elif isinstance(work, Prepare):
            self._prepare(work.path)
        elif isinstance(work, Features):
            self._features(work.path)
        elif isinstance(work, Learn):
            self._learn(work)

    def _load(self, work: Load) -> None:
        for cancel in list(self.jobs.values()):
            cancel.set()  # they ran on the model being replaced
        self.grounder, self.prepared = None, set()
        self.index.add((), clear=True)  # made by the model being replaced: the app sends the new one's
        try:
            grounder = work.factory(work.device) if work.detector is None \
                else work.factory(work.device, detector=work.detector)
            learns = hasattr(grounder, "learn")  # a stand-in model may not learn
            info = ModelInfo(grounder.device, grounder.runtime, grounder.model_version,
                             grounder.embedding_model if learns else "", getattr(grounder, "features_version", ""))
        except Exception as exc:  # noqa: BLE001 - the app says why, and keeps working without a model
            self.send(Loaded(work.generation, error=short_error(exc)))
            return
        self.grounder = grounder
        self.send(Loaded(work.generation, info))

    def _propose(self, work: Propose) -> Answer:
        query = work.query
        cold = query.path not in self.prepared
        start = time.perf_counter()
        try:
            proposals = tuple(self.grounder.propose(query.path, query.phrase, hint=query.hint, top_k=work.top_k))
        except Exception as exc:  # noqa: BLE001 - shown in the phrase bar; the window keeps working
            return Answer(query, error=short_error(exc))
        self.prepared.add(query.path)
        return Answer(query, proposals, (time.perf_counter() - start) * 1000.0, cold)

    def _prepare(self, path: str) -> None:
        if path in self.prepared:
            return
        try:
            self.grounder.prepare(path, key=path)
        except (ImageReadError, OSError):
            return  # an unreadable image is reported when shown, not here
        self.prepared.add(path)
        self.send(Prepared(path))
        if hasattr(self.grounder, "prepare_features"):
            self.queue.put(Features(path))

    def _features(self, path: str) -> None:
        try:
            self.grounder.prepare_features(path, key=path)
        except (ImageReadError, OSError):
            pass  # only a head start: a proposal that needs them says what is wrong

    def _learn(self, work: Learn) -> None:
        if not hasattr(self.grounder, "learn"):
            return
        try:
            made = teach(self.grounder, work.lessons, clear=work.clear, refit=work.clear)
        except Exception as exc:  # noqa: BLE001 - the boxes are stored all the same; the app says so
            self.send(Learned(work.epoch, error=short_error(exc)))
            return
        if made:
            self.send(Learned(work.epoch, tuple(made)))

    def _give_turn(self) -> None:
        """Let jobs go on unless something the user waits for is queued (it is done first)."""
        if self.queue.pressing():
            self.turn.clear()
        else:
            self.turn.set()

    def wait_turn(self, cancelled) -> None:
        """Return once nothing the user waits for is queued (``turn``); ``Cancelled`` if asked."""
        while not self.turn.wait(0.05):
            if cancelled():
                raise Cancelled("cancelled while the model was busy")

    def _start_job(self, job: StartJob) -> None:
        cancel = threading.Event()
        self.jobs[job.job_id] = cancel
        context = JobContext(self.grounder, self.index, self.wait_turn)

        def run() -> None:
            try:
                if context.grounder is None:
                    raise RuntimeError("the model is not loaded")
                result = JOBS[job.name](context, job.payload,
                                        lambda done, total: self.send(JobProgress(job.job_id, done, total)),
                                        cancel.is_set)
                answer = JobDone(job.job_id, result)
            except Cancelled:
                answer = JobDone(job.job_id, cancelled=True)
            except Exception as exc:  # noqa: BLE001 - reported to whoever started the job
                answer = JobDone(job.job_id, error=short_error(exc))
            finally:
                self.jobs.pop(job.job_id, None)
            try:
                self.send(answer)
            except OSError:
                pass  # the app is gone

        threading.Thread(target=run, name=f"model job {job.name}", daemon=True).start()
