"""The model process's main loop: build the Grounder, then answer requests until the app closes
the pipe (or goes away).

The process does two things at most at a time. Its main loop does one request at a time, in
``WorkQueue`` order; everything that arrived meanwhile is read before the next one is picked, so a
proposal request that is no longer the newest is dropped here, not computed and thrown away. Jobs
(``jobs.Job``: Evaluate, search, a batch of the feature pass or of propose-for-every-image) run one
at a time, in the order they came, on the one job thread beside the loop, so a proposal never waits
behind a search of a whole folder, and two jobs never share the network. The Grounder's methods are
thread-safe (the loop and the job thread share it). The feature pass's batch waits for its turn
before each network batch while the loop has something the user waits for
(``WorkQueue.pressing``): a proposal, the image shown, a model to load, an edit's lessons.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from ..core import ImageReadError, short_error
from ..core.grounder import FolderGrounder, Grounder, LearningGrounder
from ..editing.state import Answer
from ..io.errors import Cancelled
from ..project_concepts import teach
from .folder_index import FolderIndex
from .jobs import JobModel
from .messages import (CancelJob, IndexFeatures, JobDone, JobProgress, Learn, Learned, Load, Loaded, ModelInfo,
                       Prepare, Prepared, Propose, Proposed, StartJob)
from .work_queue import Features, WorkQueue


def serve(conn) -> None:
    """The process's target (``client.ModelProcess``). Ctrl+C in the terminal reaches the whole
    process group: the app decides when its model stops, so the model ignores it. Once the app
    has gone (its end of the pipe closed: a quit, a crash, ``kill -9``) the process ends at once,
    without Python's teardown: the job thread may be inside the model's native code, and tearing the
    interpreter down beside it aborts noisily ("terminate called without an active exception")."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    Worker(conn).run()
    sys.stderr.flush()
    os._exit(0)


class Worker:
    def __init__(self, conn) -> None:
        self.conn = conn
        self._send_lock = threading.Lock()  # the main loop and the job thread answer on one pipe
        self.queue = WorkQueue()
        self.model: Optional[JobModel] = None  # the loaded model, as each use sees it
        self.version = ""  # the loaded model's version, as the app was last told it
        self.prepared: set[str] = set()
        self.jobs: dict[int, threading.Event] = {}  # queued and running jobs' cancel flags
        self._job_thread = ThreadPoolExecutor(1, thread_name_prefix="model job")  # one job at a time
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
        elif self.model is None:
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
        self.model, self.prepared = None, set()
        self.index.add((), clear=True)  # made by the model being replaced: the app sends the new one's
        try:
            grounder: Grounder = work.factory(work.device) if work.detector is None \
                else work.factory(work.device, detector=work.detector)
            # What it can do beyond proposing (a stand-in model may do neither), asked once.
            folder = grounder if isinstance(grounder, FolderGrounder) else None
            learning = grounder if isinstance(grounder, LearningGrounder) else None
            info = ModelInfo(grounder.device, grounder.runtime, grounder.model_version,
                             learning.embedding_model if learning is not None else "",
                             folder.features_version if folder is not None else "")
        except Exception as exc:  # noqa: BLE001 - the app says why, and keeps working without a model
            self.send(Loaded(work.generation, error=short_error(exc)))
            return
        self.model = JobModel(grounder, folder, learning, self.index, self.wait_turn)
        self.version = info.model_version
        self.send(Loaded(work.generation, info))

    def _propose(self, work: Propose) -> Answer:
        query = work.query
        cold = query.path not in self.prepared
        start = time.perf_counter()
        try:
            proposals = tuple(self.model.grounder.propose(query.path, query.phrase, hint=query.hint, top_k=work.top_k))
        except Exception as exc:  # noqa: BLE001 - shown in the phrase bar; the window keeps working
            return Answer(query, error=short_error(exc))
        self.prepared.add(query.path)
        return Answer(query, proposals, (time.perf_counter() - start) * 1000.0, cold)

    def _prepare(self, path: str) -> None:
        if path in self.prepared:
            return
        try:
            self.model.grounder.prepare(path, key=path)
        except (ImageReadError, OSError):
            return  # an unreadable image is reported when shown, not here
        self.prepared.add(path)
        self.send(Prepared(path))
        if self.model.learning is not None:
            self.queue.put(Features(path))

    def _features(self, path: str) -> None:
        if self.model.learning is None:
            return
        try:
            self.model.learning.prepare_features(path, key=path)
        except (ImageReadError, OSError):
            pass  # only a head start: a proposal that needs them says what is wrong

    def _learn(self, work: Learn) -> None:
        if self.model.learning is None:
            return  # a model that does not learn
        made, error = [], ""
        try:
            made = teach(self.model.learning, work.lessons, clear=work.clear, refit=work.clear)
        except Exception as exc:  # noqa: BLE001 - the boxes are stored all the same; the app says so
            error = short_error(exc)
        version = self.model.grounder.model_version  # names the fit in use (a refit's, even one cut short)
        if made or error or version != self.version:
            self.send(Learned(work.epoch, tuple(made), error, "" if version == self.version else version))
            self.version = version

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

    def _start_job(self, start: StartJob) -> None:
        """Queue the job on the job thread (it runs once the jobs before it are done)."""
        cancel = threading.Event()
        self.jobs[start.job_id] = cancel
        model = self.model  # the model loaded now: a Load meanwhile cancels the job
        self._job_thread.submit(self._run_job, start, model, cancel)

    def _run_job(self, start: StartJob, model: Optional[JobModel], cancel: threading.Event) -> None:
        try:
            if cancel.is_set():
                raise Cancelled("cancelled before it started")
            if model is None:
                raise RuntimeError("the model is not loaded")
            result = start.job.run(model, lambda done, total: self.send(JobProgress(start.job_id, done, total)),
                                   cancel.is_set)
            answer = JobDone(start.job_id, result)
        except Cancelled:
            answer = JobDone(start.job_id, cancelled=True)
        except Exception as exc:  # noqa: BLE001 - reported to whoever started the job
            answer = JobDone(start.job_id, error=short_error(exc))
        finally:
            self.jobs.pop(start.job_id, None)
        try:
            self.send(answer)
        except OSError:
            pass  # the app is gone
