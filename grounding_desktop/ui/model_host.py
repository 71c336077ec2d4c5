"""``GrounderHost``: the window's side of the model, which runs in a process of its own
(``model_worker``, decision 4).

The host starts the process, asks it for proposals, features and lessons, hands its answers to the
GUI thread, restarts it once if it dies (then the model is unavailable and the window keeps working
for manual labelling), and ends it at quit without waiting for anything, a load included. What the
model learns is read here from the project database, which this process alone writes: the lessons
go to the model, the region embeddings it makes come back and are stored here. An answer to a query
that is not the document's current one is dropped by the document, so fast typing never shows
stale boxes; the model process itself drops a request superseded before it started.
"""
from __future__ import annotations

import pickle
from typing import Any, Optional, Sequence

from PySide6.QtCore import QObject, Signal

from ..core import GrounderFactory, Proposal, short_error
from ..core.detector_choice import DetectorChoice
from ..editing.state import ModelState, ProposalQuery
from ..grounder_factory import loaded_grounder
from ..evaluation import EvaluationPlan, Outcome
from ..folder.engine import FeatureResult, ProposeResult
from ..model_worker.client import IsCancelled, ModelProcess, Progress, exit_reason
from ..model_worker.messages import (Cancel, IndexFeatures, Learn, Learned, Load, Loaded, ModelInfo, Prepare,
                                     Prepared, Propose, Proposed)
from ..project_concepts import image_lesson, keep_embeddings, project_lessons
from ..store import ProjectStore, StoreError
from .workers import BackgroundTasks

# A project opened with boxes never embedded (labelled before, or imported): this many of their
# images are looked at before the first proposal (about 0.15 s each on a CPU), the rest after.
LEARN_FIRST_IMAGES = 8
RESTARTS = 1  # a model process that dies is started again this many times, then the model is unavailable


class GrounderHost(QObject):
    """The model, in its own process: loads it in the background, asks it for proposals, teaches it
    the project's boxes (stored embeddings first) and stores the embeddings it makes."""

    state_changed = Signal(object)  # ModelState
    failed = Signal(str)  # one-line reason
    answered = Signal(object)  # Answer
    learn_failed = Signal(str)  # the model could not learn from the boxes (they are stored all the same)
    notice = Signal(str)  # a line for the status bar: the model process stopped and restarts

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
        self._tasks = BackgroundTasks(1, self)  # reads a project's lessons from its database
        self._latest_request = 0
        self._prepared: set[str] = set()
        self._project: Optional[ProjectStore] = None  # every (re)load learns its boxes first
        self._epoch = 0  # bumped whenever the project's lessons are read again
        self._project_epoch = 0  # the first epoch of the open project: embeddings made since are its own
        self._held: Optional[list] = None  # requests held back while the project's lessons are read

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
        self._process.send(Load(self._generation, self._factory, self._device, self.detector))

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

    # -- answers -----------------------------------------------------------------------------
    def _send(self, message: Any) -> None:
        if self._held is not None:
            self._held.append(message)
        elif self._process is not None:
            self._process.send(message)

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
            self._on_learned(message)

    def _on_loaded(self, loaded: Loaded) -> None:
        if loaded.generation != self._generation:
            return  # another detector was chosen meanwhile; its own load is queued
        if loaded.info is None:
            self._fail(loaded.error)
            return
        self.info = loaded.info
        if self._project is not None:
            self._teach_project()  # its lessons go ahead of every proposal
        self._set_state(ModelState.READY)

    # -- features ----------------------------------------------------------------------------
    def prepare(self, path: str, prefetch: bool = False) -> None:
        """Compute an image's CNN features now, so the first keystroke of a phrase is fast (and,
        when nothing else waits, the second CNN's maps, so learning from a box there is too)."""
        if self.ready and path not in self._prepared:
            self._send(Prepare(path, prefetch))

    def is_prepared(self, path: str) -> bool:
        return path in self._prepared

    # -- learning from the user's boxes ------------------------------------------------------------
    def learn(self, store: ProjectStore, image_id: Optional[int] = None) -> None:
        """Teach the model the labelled boxes of one image (after an edit there: accept, reject,
        draw, move, delete, undo) or, with no ``image_id``, of the whole project (just opened,
        rescanned or imported into; a model still loading, or loaded again, learns it when it is
        there). The lessons are read here, the one writer of the database; the model learns them
        in its process and sends back the embeddings it made, which are stored here."""
        if image_id is None:
            if store is not self._project:
                self._project_epoch = self._epoch + 1
            self._project = store
            if self.ready:
                self._teach_project()
            return
        if not (self.ready and self.info.learns and store is self._project):
            return  # a model that does not learn; or a project no longer open
        try:
            record = store.images.get(image_id)
            if record is not None:
                self._send(Learn(self._epoch, (image_lesson(store, record, self.info.embedding_model),)))
        except StoreError as exc:
            self.learn_failed.emit(str(exc))

    def _teach_project(self) -> None:
        """Read every lesson of the project off the GUI thread; until they are sent, requests are
        held back, so no proposal comes before them."""
        self._epoch += 1
        if not self.info.learns:
            return
        epoch, store, model = self._epoch, self._project, self.info.embedding_model
        self._held = []
        self._tasks.run(lambda: project_lessons(store, model, look=False),
                        lambda lessons, error: self._on_project_read(epoch, lessons, error), store=store)

    def _on_project_read(self, epoch: int, lessons: Optional[list], error: Optional[BaseException]) -> None:
        if epoch != self._epoch or self._held is None:
            return  # read again meanwhile (or the model was reloaded): that read sends its own
        held, self._held = self._held, None
        if error is not None:
            self.learn_failed.emit(short_error(error))
        else:
            # What the database keeps teaches at once; images whose boxes were never embedded are
            # looked at in tasks of their own: the first few before any proposal, the rest after.
            self._send(Learn(epoch, tuple(lessons), clear=True))
            for n, lesson in enumerate(lesson for lesson in lessons if lesson.waiting):
                self._send(Learn(epoch, (lesson.looking(),), urgent=n < LEARN_FIRST_IMAGES))
        for message in held:
            self._send(message)

    def _on_learned(self, learned: Learned) -> None:
        if learned.error:
            self.learn_failed.emit(learned.error)
        if learned.made and self._project is not None and learned.epoch >= self._project_epoch:
            try:  # on the GUI thread, the database's writer, as every edit is
                keep_embeddings(self._project, self.info.embedding_model, learned.made)
            except StoreError as exc:
                self.learn_failed.emit(str(exc))

    # -- proposals ---------------------------------------------------------------------------
    def request(self, query: ProposalQuery, top_k: int) -> None:
        """Ask for proposals; ``answered`` brings the ``Answer`` (or its error) back."""
        self._latest_request += 1
        if self.ready:
            self._send(Propose(self._latest_request, query, top_k))

    def cancel(self) -> None:
        """Make every request in flight stale (e.g. the phrase was cleared)."""
        self._latest_request += 1
        self._send(Cancel(self._latest_request))

    # -- search ------------------------------------------------------------------------------
    def index_features(self, rows: tuple, clear: bool = False) -> None:
        """Make prepared images searchable in the model process (``messages.IndexFeatures``);
        a model loaded again starts with none (``ui.folder_pass`` sends them again)."""
        if self.ready and self._process is not None:
            self._process.send(IndexFeatures(rows, clear))

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
