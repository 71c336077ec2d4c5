"""The app's handle on one model process, and its one door to the model: typed methods for every
request (``load``, ``prepare``, ``propose``, ``cancel_proposals``, ``learn``, ``index_features``)
and every job (``evaluate``, ``search``, ``features``, ``propose_images``).

The process is started with the spawn method: a fresh interpreter that imports only what the model
needs (forking the app would copy its Qt, which must never run in a forked child). Requests go
through a sender thread, so the caller (the GUI thread) never blocks on a full pipe; a reader
thread hands every answer to ``on_answer(process, answer)`` and, when the process ends by itself
(a crash, a kill, running out of memory), its exit code to ``on_exit(process, code)``. Both run on
the reader thread. A job's news goes straight to the thread waiting for it: the job methods block
their caller (the window calls them from a ``ui.workers.BackgroundTasks`` task). The sender and
the reader are plain daemon threads, not ``BackgroundTasks``: this module is Qt-free
(``model_worker`` never imports Qt, so the model process never does).
"""
from __future__ import annotations

import itertools
import multiprocessing
import queue
import signal
import threading
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

from ..core import GrounderFactory, Proposal
from ..core.detector_choice import DetectorChoice
from ..editing.state import ProposalQuery
from ..io.errors import Cancelled
from .folder_index import IndexRow
from .jobs import EvaluateJob, FeaturesJob, Job, ProposeImagesJob, SearchJob
from .messages import (Cancel, CancelJob, IndexFeatures, JobDone, JobProgress, Learn, Load, Prepare, Propose,
                       StartJob)
from .serve import serve

if TYPE_CHECKING:
    from ..evaluation import EvaluationPlan, Outcome
    from ..folder.engine import FeatureResult, ProposeResult
    from ..project_concepts import Lesson

Progress = Optional[Callable[[int, int], None]]
IsCancelled = Optional[Callable[[], bool]]

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

    def _send(self, message: Any) -> None:
        """Queue a request (never blocks; dropped once stopped)."""
        if not self._stopped:
            self._outbox.put(message)

    # -- requests: each queued at once; the answers come to ``on_answer`` ------------------------
    def load(self, generation: int, factory: GrounderFactory, device: Optional[str] = None,
             detector: Optional[DetectorChoice] = None) -> None:
        """Build the model (again): ``messages.Load``; ``Loaded`` answers."""
        self._send(Load(generation, factory, device, detector))

    def prepare(self, path: str, prefetch: bool = False) -> None:
        """Run the CNN on an image now (the one shown, or with ``prefetch`` the next); ``Prepared`` answers."""
        self._send(Prepare(path, prefetch))

    def propose(self, rid: int, query: ProposalQuery, top_k: int) -> None:
        """Proposals for ``query``; ``Proposed`` answers unless a newer request made it stale."""
        self._send(Propose(rid, query, top_k))

    def cancel_proposals(self, rid: int) -> None:
        """Every proposal request up to ``rid`` is stale."""
        self._send(Cancel(rid))

    def learn(self, epoch: int, lessons: Sequence["Lesson"], clear: bool = False, urgent: bool = True) -> None:
        """Teach the model what these images' boxes are now (``messages.Learn``); ``Learned``
        answers with the embeddings it made."""
        self._send(Learn(epoch, tuple(lessons), clear, urgent))

    def index_features(self, rows: Sequence[IndexRow], clear: bool = False) -> None:
        """Make prepared images searchable (``messages.IndexFeatures``)."""
        self._send(IndexFeatures(tuple(rows), clear))

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

    # -- jobs: each blocks until its result, so call them from a worker thread --------------
    def evaluate(self, plan: "EvaluationPlan", progress: Progress = None, cancelled: IsCancelled = None) -> "Outcome":
        """``evaluation.run_plan`` on the process's model (``evaluation.PlanRunner``)."""
        return self._run_job(EvaluateJob(plan), progress, cancelled)

    def search(self, phrase: str, top: int, cancelled: IsCancelled = None) -> list[tuple[str, Proposal]]:
        """The ``top`` images (by content hash) of the searchable ones that match ``phrase`` best,
        each with its best proposal, best first."""
        return self._run_job(SearchJob(phrase, top), cancelled=cancelled)

    def features(self, items: Sequence[tuple[str, str]]) -> list["FeatureResult"]:
        """Prepare a batch of (content hash, image path); it waits while the user waits on the model."""
        return self._run_job(FeaturesJob(tuple(items)))

    def propose_images(self, items: Sequence[tuple[str, str, bytes]], phrases: Sequence[str],
                       min_score: float) -> list["ProposeResult"]:
        """Proposals for ``phrases`` on a batch of (key, image path, features record)."""
        return self._run_job(ProposeImagesJob(tuple(items), tuple(phrases), min_score))

    def _run_job(self, job: Job, progress: Progress = None, cancelled: IsCancelled = None) -> Any:
        """Run ``job`` in the process and wait for its result. Progress comes to ``progress(done, total)`` on this thread;
        ``cancelled()`` is asked every 0.1 s. Raises ``Cancelled``, or ``RuntimeError`` with the
        reason it failed (the process ending included)."""
        job_id = next(self._job_ids)
        answers: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        with self._jobs_lock:
            self._jobs[job_id] = answers
        self._send(StartJob(job_id, job))
        asked_to_stop = False
        try:
            while True:
                if not asked_to_stop and cancelled is not None and cancelled():
                    self._send(CancelJob(job_id))
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
                    raise Cancelled("cancelled")
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
