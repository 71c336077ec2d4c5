"""``GrounderHost``: the supervisor of the model's process (``model_worker``, decision 4).

The host starts the process, (re)loads the model in it, hands its answers to the GUI thread,
restarts it once if it dies (then the model is unavailable and the window keeps working for manual
labelling), and ends it at quit without waiting for anything, a load included. It owns the
model's state (``ModelState``, the loaded model's ``ModelInfo``) and is its one writer: the
document's ``QuerySession.model_state`` follows ``state_changed`` (wired in ``ui.proposals``), so
the document's rules read the state without Qt and are tested without a host. It
passes the window's requests on through ``model_worker.client``'s typed methods; what the model is
taught when labels change is ``ui.label_sync.LabelSync``'s, which may hold requests back
(``hold``/``release``) while a project's lessons are read, so no proposal comes before them. An
answer to a query that is not the document's current one is dropped by the document, so fast
typing never shows stale boxes; the model process itself drops a request superseded before it
started.
"""
from __future__ import annotations

import pickle
from dataclasses import replace
from typing import Any, Callable, Optional, Sequence

from PySide6.QtCore import QObject, Signal

from ..core import GrounderFactory, Proposal
from ..core.detector_choice import DetectorChoice
from ..editing.state import ModelState, ProposalQuery
from ..grounder_factory import loaded_grounder
from ..evaluation import EvaluationPlan, Outcome
from ..folder.engine import FeatureResult, ProposeResult
from ..model_worker.client import IsCancelled, ModelProcess, Progress, exit_reason
from ..model_worker.folder_index import IndexRow
from ..model_worker.messages import Learned, Loaded, ModelInfo, Prepared, Proposed
from ..project_concepts import Lesson
from .workers import BackgroundTasks

Request = Callable[[ModelProcess], None]  # a request to the process, as a call of its typed methods
RESTARTS = 1  # a model process that dies is started again this many times, then the model is unavailable


class GrounderHost(QObject):
    """The model's process: started, loaded in the background, restarted once, stopped at quit;
    the window's requests passed on to it and its answers brought back on the GUI thread."""

    state_changed = Signal(object)  # ModelState
    failed = Signal(str)  # one-line reason
    answered = Signal(object)  # Answer
    notice = Signal(str)  # a line for the status bar: the model process stopped and restarts
    loaded = Signal(object)  # ModelInfo, just before the state turns READY (``LabelSync`` teaches it then)
    learned = Signal(object)  # messages.Learned: what the model made while learning
    info_changed = Signal(object)  # ModelInfo: the loaded model's version changed (a project's refit)

    def __init__(self, factory: GrounderFactory = loaded_grounder, device: Optional[str] = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        try:
            pickle.dumps(factory)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise TypeError(f"the grounder factory runs in the model process, so it must pickle (a module-level "
                            f"function or class, or a functools.partial of one): {exc}") from exc
        self._factory = factory
        self._device = device
        self.info: Optional[ModelInfo] = None  # the loaded model's facts
        self.state = ModelState.IDLE
        self.error: Optional[str] = None
        self.detector: Optional[DetectorChoice] = None  # the project's choice; None: the factory's default
        self._process: Optional[ModelProcess] = None
        self._restarts_left = RESTARTS
        self._generation = 0  # bumped by every load: an older load's answer is dropped
        self._tasks = BackgroundTasks(1, self)  # brings the process's answers to the GUI thread
        self._latest_request = 0
        self._prepared: set[str] = set()
        self._held: Optional[list[Request]] = None  # requests held back (``hold``)

    @property
    def ready(self) -> bool:
        return self.state == ModelState.READY

    @property
    def runtime(self) -> str:
        """What runs the detector ("onnxruntime 1.x CPU"), once loaded."""
        return self.info.runtime if self.info is not None else ""

    @property
    def pid(self) -> Optional[int]:
        """The model process's id, while there is one."""
        return self._process.pid if self._process is not None else None

    def _set_state(self, state: ModelState) -> None:
        self.state = state
        self.state_changed.emit(state)

    # -- the process -------------------------------------------------------------------------
    def start_loading(self) -> None:
        if self.state == ModelState.IDLE:
            self._load(ModelState.LOADING)

    def _load(self, state: ModelState) -> None:
        """Start the process if there is none, and (re)build the model in it."""
        self._generation += 1
        self.info, self.error, self._held = None, None, None
        self._prepared.clear()
        if self._process is None:
            self._process = self._start_process()
        self._set_state(state)
        self._process.load(self._generation, self._factory, self._device, self.detector)

    def _start_process(self) -> ModelProcess:
        return ModelProcess(lambda process, message: self._tasks.post(self._on_answer, process, message),
                            lambda process, code: self._tasks.post(self._on_exit, process, code))

    def _on_exit(self, process: ModelProcess, code: Optional[int]) -> None:
        if process is not self._process:
            return
        self._process = None
        why = exit_reason(code)
        if self._restarts_left > 0:
            self._restarts_left -= 1
            self.notice.emit(f"The model stopped unexpectedly ({why}); restarting it. Nothing you did is lost.")
            self._load(ModelState.RESTARTING)
        else:
            self._fail(f"The model stopped unexpectedly again ({why}). Draw boxes yourself; start the app "
                       f"again to try the model once more.")

    def _fail(self, reason: str) -> None:
        self.error = reason
        self._set_state(ModelState.FAILED)
        self.failed.emit(reason)

    def use_detector(self, detector: Optional[DetectorChoice]) -> None:
        """Use the project's detector choice from now on: a model already loaded (or loading, or
        failed) with another one is built again in the background. The default choice is kept as
        None, so the factory is called as ``factory(device)`` unless a project chose otherwise."""
        if detector == DetectorChoice():
            detector = None
        if detector == self.detector:
            return
        self.detector = detector
        if self.state != ModelState.IDLE:
            self.cancel()
            self._restarts_left = RESTARTS  # another model: a fresh start
            self._load(ModelState.LOADING)

    def shutdown(self) -> None:
        """End the model process at once (a load in progress is not waited for) and drop
        everything still to come from it."""
        self._latest_request += 1
        if self._process is not None:
            self._process.stop()
            self._process = None
        self._tasks.shutdown()

    # -- requests ----------------------------------------------------------------------------
    def _send(self, request: Request) -> None:
        if self._held is not None:
            self._held.append(request)
        elif self._process is not None:
            request(self._process)

    def hold(self) -> None:
        """Hold every request back until ``release`` (until the model loads again, at most)."""
        self._held = []

    @property
    def holding(self) -> bool:
        return self._held is not None

    def release(self, first: Callable[[], None] = lambda: None) -> None:
        """Stop holding requests back: ``first()`` sends its own (``teach``) ahead of them."""
        held, self._held = self._held or [], None
        first()
        for request in held:
            self._send(request)

    def teach(self, epoch: int, lessons: Sequence[Lesson], clear: bool = False, urgent: bool = True) -> None:
        """Teach the model ``lessons`` (``ModelProcess.learn``); ``learned`` brings what it made."""
        self._send(lambda process: process.learn(epoch, lessons, clear, urgent))

    # -- answers -----------------------------------------------------------------------------
    def _on_answer(self, process: ModelProcess, message: Any) -> None:
        if process is not self._process:
            return  # from a process that was replaced
        if isinstance(message, Loaded):
            self._on_loaded(message)
        elif isinstance(message, Proposed):
            if not message.answer.error:
                self._prepared.add(message.answer.query.path)
            self.answered.emit(message.answer)
        elif isinstance(message, Prepared):
            self._prepared.add(message.path)
        elif isinstance(message, Learned):
            if message.model_version and self.info is not None:
                self.info = replace(self.info, model_version=message.model_version)
                self.info_changed.emit(self.info)
            self.learned.emit(message)

    def _on_loaded(self, loaded: Loaded) -> None:
        if loaded.generation != self._generation:
            return  # another detector was chosen meanwhile; its own load is queued
        if loaded.info is None:
            self._fail(loaded.error)
            return
        self.info = loaded.info
        self.loaded.emit(loaded.info)  # a project's lessons go ahead of every proposal (``LabelSync``)
        self._set_state(ModelState.READY)

    # -- features ----------------------------------------------------------------------------
    def prepare(self, path: str, prefetch: bool = False) -> None:
        """Compute an image's CNN features now, so the first keystroke of a phrase is fast (and,
        when nothing else waits, the second CNN's maps, so learning from a box there is too)."""
        if self.ready and path not in self._prepared:
            self._send(lambda process: process.prepare(path, prefetch))

    def is_prepared(self, path: str) -> bool:
        return path in self._prepared

    # -- proposals ---------------------------------------------------------------------------
    def request(self, query: ProposalQuery, top_k: int) -> None:
        """Ask for proposals; ``answered`` brings the ``Answer`` (or its error) back."""
        self._latest_request += 1
        if self.ready:
            rid = self._latest_request
            self._send(lambda process: process.propose(rid, query, top_k))

    def cancel(self) -> None:
        """Make every request in flight stale (e.g. the phrase was cleared)."""
        self._latest_request += 1
        rid = self._latest_request
        self._send(lambda process: process.cancel_proposals(rid))

    # -- search ------------------------------------------------------------------------------
    def index_features(self, rows: Sequence[IndexRow], clear: bool = False) -> None:
        """Make prepared images searchable in the model process (``messages.IndexFeatures``);
        a model loaded again starts with none (``ui.folder_pass`` sends them again)."""
        if self.ready and self._process is not None:
            self._process.index_features(rows, clear)

    # -- jobs: typed, each blocks (call them from a worker thread) -----------------------------
    def evaluate(self, plan: EvaluationPlan, progress: Progress = None, cancelled: IsCancelled = None) -> Outcome:
        return self._loaded().evaluate(plan, progress, cancelled)

    def search(self, phrase: str, top: int, cancelled: IsCancelled = None) -> list[tuple[str, Proposal]]:
        return self._loaded().search(phrase, top, cancelled)

    def features(self, items: Sequence[tuple[str, str]]) -> list[FeatureResult]:
        return self._loaded().features(items)

    def propose_images(self, items: Sequence[tuple[str, str, bytes]], phrases: Sequence[str],
                       min_score: float) -> list[ProposeResult]:
        return self._loaded().propose_images(items, phrases, min_score)

    def _loaded(self) -> ModelProcess:
        """The process, once its model has loaded (``ModelProcess``'s jobs run on it)."""
        process = self._process
        if not self.ready or process is None:
            raise RuntimeError("The model has not loaded yet: try again in a moment.")
        return process
