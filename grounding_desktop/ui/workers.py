"""Work that must never run on the GUI thread: loading the model, CNN features, proposals,
decoding images, scanning the folder, exports and imports.

One mechanism for all of it: ``BackgroundTasks``, a ``QThreadPool`` whose tasks hand their result
back to the GUI thread, where the owner's callback runs. After ``shutdown`` nothing more is handed
back, so a result or a progress report that lands after the window closed is dropped instead of
reaching widgets that are gone. A task given a store closes its thread's connection when it ends
(SQLite connections belong to one thread, and the GUI thread can only close its own).

``GrounderHost`` owns the ``Grounder``. All model work runs on one private worker thread, because
the model is the bottleneck and two tasks on it would only slow each other down; proposals get a
higher priority than feature pre-computation. A proposal request that is no longer the latest is
skipped before it starts; an answer to a query that is not the document's current one is dropped
there, so fast typing never shows stale boxes.
"""
from __future__ import annotations

import time
import traceback
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from ..core import Grounder, GrounderFactory, ImageReadError
from ..core.detector_choice import DetectorChoice
from ..editing.state import Answer, ModelState, ProposalQuery
from ..store import ProjectStore

# Pools whose running task nobody waits for (a model load at quit): kept referenced, not destroyed,
# because destroying a QThreadPool waits for its threads.
_UNWAITED: list[QThreadPool] = []

PRIORITY_LEARN = 20  # ahead of queued proposals: an accept is used by the very next proposal
PRIORITY_PROPOSE = 10
PRIORITY_PREPARE = 5
PRIORITY_PREFETCH = 0
PRIORITY_IDLE = -5  # the second CNN's feature maps: only when nothing else waits
# A project opened with boxes never embedded (labelled before, or imported): this many of their
# images are looked at before the first proposal (about 0.15 s each on a CPU), the rest after.
LEARN_FIRST_IMAGES = 8


def default_grounder_factory(device: Optional[str], detector: Optional[DetectorChoice] = None) -> Grounder:
    """Build the real model. Imported here, on the worker thread, so torch never loads on the GUI thread."""
    from ..grounder_factory import make_grounder

    grounder = make_grounder(device, detector=detector)
    grounder.load()  # models load lazily otherwise: do it here, not on the first keystroke
    return grounder


def short_error(exc: BaseException) -> str:
    """An exception as one line for the user."""
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, (RuntimeError, OSError, ValueError)) else f"{type(exc).__name__}: {text}"


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], None]):
        super().__init__()
        self._fn = fn
        self.setAutoDelete(True)

    def run(self) -> None:
        self._fn()


class BackgroundTasks(QObject):
    """A pool of worker threads whose results come back on the GUI thread (see the module docstring)."""

    _deliver = Signal(object, object)  # callback, args: emitted on a worker, received on the GUI thread

    def __init__(self, threads: int = 1, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._pool.setExpiryTimeout(-1)  # keep the threads: the model keeps one thread (torch likes that)
        self._closed = False
        self._deliver.connect(self._on_deliver)

    def run(self, work: Callable[[], Any], done: Optional[Callable[[Any, Optional[BaseException]], None]] = None,
            priority: int = 0, store: Optional[ProjectStore] = None) -> None:
        """Run ``work()`` on a worker; then ``done(result, None)`` or ``done(None, exception)`` on the
        GUI thread. With ``store``, the worker's connection to it is closed when ``work`` ends."""
        def task() -> None:
            result, error = None, None
            try:
                result = work()
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to its owner
                error = exc
            finally:
                if store is not None:
                    store.release_thread()
            if done is not None:
                self.post(done, result, error)

        self._pool.start(_Task(task), priority)

    def post(self, callback: Callable[..., None], *args: Any) -> None:
        """Call ``callback(*args)`` on the GUI thread, unless shut down by then (thread-safe)."""
        if self._closed:
            return
        try:
            self._deliver.emit(callback, args)
        except RuntimeError:  # shut down and deleted meanwhile: there is no one to tell
            pass

    def _on_deliver(self, callback: Callable[..., None], args: tuple) -> None:
        if not self._closed:
            callback(*args)

    def shutdown(self, wait: bool = True) -> None:
        """Drop queued tasks and everything still to be handed back; wait for the running one, or
        (``wait=False``) let it finish on its own, its result dropped."""
        self._closed = True
        self._pool.clear()
        if wait:
            self._pool.waitForDone()
        else:
            self._pool.setParent(None)
            _UNWAITED.append(self._pool)


class GrounderHost(QObject):
    """Loads the grounder in the background and runs its ``prepare``/``propose`` off the GUI thread."""

    state_changed = Signal(object)  # ModelState
    failed = Signal(str, str)  # one-line reason, details (traceback)
    answered = Signal(object)  # Answer
    learn_failed = Signal(str)  # the model could not learn from the boxes (they are stored all the same)

    def __init__(self, factory: GrounderFactory = default_grounder_factory, device: Optional[str] = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._factory = factory
        self._device = device
        self.grounder: Optional[Grounder] = None
        self.state = ModelState.IDLE
        self.error: Optional[str] = None
        self.detector: Optional[DetectorChoice] = None  # the project's choice; None: the factory's default
        self.runtime = ""  # what runs the detector ("onnxruntime 1.x CPU"), once loaded
        self._generation = 0  # bumped by use_detector: a load started before it is dropped
        self._tasks = BackgroundTasks(1, self)
        self._latest_request = 0
        self._prepared: set[str] = set()
        self._wanted_prepare: set[str] = set()
        self._project: Optional[ProjectStore] = None  # every (re)load learns its boxes first

    # -- loading -----------------------------------------------------------------------------
    def start_loading(self) -> None:
        if self.state in (ModelState.LOADING, ModelState.READY):
            return
        self._set_state(ModelState.LOADING)
        generation, detector = self._generation, self.detector
        self._tasks.run(lambda: self._build(detector),
                        lambda built, error: self._on_loaded(generation, built, error))

    def _build(self, detector: Optional[DetectorChoice]) -> tuple[Grounder, str]:
        """On the worker: the grounder, and what runs its detector (asking may load it)."""
        grounder = self._factory(self._device) if detector is None else self._factory(self._device, detector=detector)
        return grounder, grounder.runtime

    def _on_loaded(self, generation: int, built: Optional[tuple[Grounder, str]],
                   error: Optional[BaseException]) -> None:
        if generation != self._generation:
            return  # another detector was chosen meanwhile; its own load is queued
        if error is not None:
            self.error = short_error(error)
            self._set_state(ModelState.FAILED)
            self.failed.emit(self.error, "".join(traceback.format_exception(error)))
            return
        self.grounder, self.runtime = built
        if self._project is not None:
            self._queue_learn(self._project, None)  # queued before READY: every proposal waits for it
        self._set_state(ModelState.READY)

    def use_detector(self, detector: Optional[DetectorChoice]) -> None:
        """Use the project's detector choice from now on: a model already loaded (or loading, or
        failed) with another one is built again in the background. The default choice is kept as
        None, so the factory is called as ``factory(device)`` unless a project chose otherwise."""
        if detector == DetectorChoice():
            detector = None
        if detector == self.detector:
            return
        self.detector = detector
        if self.state == ModelState.IDLE:
            return  # start_loading will use it
        self._generation += 1
        self.cancel()
        self._wanted_prepare.clear()
        self._prepared.clear()
        self.grounder, self.runtime, self.state = None, "", ModelState.IDLE
        self.start_loading()

    def _set_state(self, state: ModelState) -> None:
        self.state = state
        self.state_changed.emit(state)

    @property
    def ready(self) -> bool:
        return self.state == ModelState.READY

    # -- features ----------------------------------------------------------------------------
    def prepare(self, path: str, prefetch: bool = False) -> None:
        """Compute an image's CNN features now, so the first keystroke of a phrase is fast."""
        if not self.ready or path in self._prepared:
            return
        if not prefetch:
            self._wanted_prepare = {path}
        else:
            self._wanted_prepare.add(path)
        self._tasks.run(lambda: self._prepare(path), self._on_prepared,
                        PRIORITY_PREFETCH if prefetch else PRIORITY_PREPARE)

    def _prepare(self, path: str) -> Optional[str]:
        if path in self._prepared or path not in self._wanted_prepare:
            return None  # the user has moved on; don't spend the CPU on it
        self.grounder.prepare(path, key=path)
        return path

    def _on_prepared(self, path: Optional[str], error: Optional[BaseException]) -> None:
        if path is not None:  # an unreadable image is reported when shown, not here
            self._prepared.add(path)
            if hasattr(self.grounder, "prepare_features"):  # learning from a box then costs no CNN pass
                self._tasks.run(lambda: self._prepare_features(path), priority=PRIORITY_IDLE)

    def _prepare_features(self, path: str) -> None:
        if path in self._wanted_prepare:  # else the user has moved on
            self.grounder.prepare_features(path, key=path)

    # -- learning from the user's boxes ------------------------------------------------------------
    def learn(self, store: ProjectStore, image_id: Optional[int] = None) -> None:
        """Teach the model the labelled boxes of one image (after an edit there: accept, reject,
        draw, move, delete, undo) or, with no ``image_id``, of the whole project (just opened; a
        model still loading, or loaded again for another detector, learns it when it is there)."""
        if image_id is None:
            self._project = store
        if self.ready:
            self._queue_learn(store, image_id)

    def _queue_learn(self, store: ProjectStore, image_id: Optional[int]) -> None:
        if hasattr(self.grounder, "learn"):  # a stand-in grounder may not learn
            self._tasks.run(lambda: self._learn(store, image_id), self._on_learned, PRIORITY_LEARN, store)

    def _learn(self, store: ProjectStore, image_id: Optional[int]) -> None:
        """On the worker. A whole project learns what its database keeps first; its images whose
        boxes were never embedded come next, one task each: the first few before any proposal,
        the others after the proposals asked for."""
        from ..project_concepts import teach_image, teach_project

        if store is not self._project:
            return  # another project was opened meanwhile
        if image_id is None:
            for n, later in enumerate(teach_project(self.grounder, store, look=False)):
                self._tasks.run(lambda later=later: self._learn(store, later), self._on_learned,
                                PRIORITY_LEARN if n < LEARN_FIRST_IMAGES else PRIORITY_PREFETCH, store)
            return
        record = store.image(image_id)
        if record is not None:
            teach_image(self.grounder, store, record)

    def _on_learned(self, _result: None, error: Optional[BaseException]) -> None:
        if error is not None:
            self.learn_failed.emit(short_error(error))

    def is_prepared(self, path: str) -> bool:
        return path in self._prepared

    # -- proposals ---------------------------------------------------------------------------
    def request(self, query: ProposalQuery, top_k: int) -> None:
        """Ask for proposals; ``answered`` brings the ``Answer`` (or its error) back."""
        self._latest_request += 1
        rid = self._latest_request
        if self.ready:
            self._tasks.run(lambda: self._propose(rid, query, top_k), self._on_answer, PRIORITY_PROPOSE)

    def cancel(self) -> None:
        """Make every request in flight stale (e.g. the phrase was cleared)."""
        self._latest_request += 1

    def _propose(self, rid: int, query: ProposalQuery, top_k: int) -> Optional[Answer]:
        if rid != self._latest_request:
            return None  # superseded while queued
        cold = query.path not in self._prepared
        t0 = time.perf_counter()
        try:
            result = tuple(self.grounder.propose(query.path, query.phrase, hint=query.hint, top_k=top_k))
        except Exception as exc:  # noqa: BLE001 - shown in the phrase bar; the window keeps working
            return Answer(query, error=short_error(exc))
        return Answer(query, result, (time.perf_counter() - t0) * 1000.0, cold)

    def _on_answer(self, answer: Optional[Answer], error: Optional[BaseException]) -> None:
        if answer is None:
            return
        if not answer.error:
            self._prepared.add(answer.query.path)
        self.answered.emit(answer)

    def shutdown(self) -> None:
        """Drop queued work and wait for the task running now; but not for a model load, which
        cannot be interrupted and is no longer needed (the process may end while it runs)."""
        self._latest_request += 1
        self._wanted_prepare.clear()
        self._tasks.shutdown(wait=self.state != ModelState.LOADING)


# -- image decoding and folder scans ------------------------------------------------------------
class ImageLoader(QObject):
    """Decodes images (EXIF applied, downscaled for display) on a small pool; keeps a few in memory."""

    loaded = Signal(int, object, str)  # image id, QImage or None, error ("" when fine)

    def __init__(self, max_side: int = 4096, cache_size: int = 8, parent: QObject | None = None):
        super().__init__(parent)
        self.max_side = max_side
        self._tasks = BackgroundTasks(2, self)
        self._cache: dict[int, QImage] = {}
        self._order: list[int] = []
        self._pending: set[int] = set()
        self._cache_size = cache_size

    def cached(self, image_id: int) -> Optional[QImage]:
        return self._cache.get(image_id)

    def request(self, image_id: int, path: str, prefetch: bool = False) -> None:
        if image_id in self._cache:
            if not prefetch:
                self.loaded.emit(image_id, self._cache[image_id], "")
            return
        if image_id in self._pending:
            return
        self._pending.add(image_id)
        self._tasks.run(lambda: self._decode(path), lambda result, error: self._on_decoded(image_id, result, error),
                        0 if prefetch else 10)

    def _decode(self, path: str) -> tuple[Optional[QImage], str]:
        from ..io.images import load_image

        try:
            img = load_image(path, max_side=self.max_side)
        except ImageReadError as exc:
            return None, str(exc)
        except OSError as exc:
            return None, f"cannot read file: {exc.strerror or exc}"
        return QImage(img.tobytes(), img.width, img.height, 3 * img.width, QImage.Format.Format_RGB888).copy(), ""

    def _on_decoded(self, image_id: int, result: Optional[tuple[Optional[QImage], str]],
                    failure: Optional[BaseException]) -> None:
        qimg, error = result if result is not None else (None, short_error(failure))
        self._pending.discard(image_id)
        if qimg is not None:
            self._cache[image_id] = qimg
            if image_id in self._order:
                self._order.remove(image_id)
            self._order.append(image_id)
            while len(self._order) > self._cache_size:
                self._cache.pop(self._order.pop(0), None)
        self.loaded.emit(image_id, qimg, error)

    def forget(self) -> None:
        self._cache.clear()
        self._order.clear()

    def shutdown(self) -> None:
        self._tasks.shutdown()


class FolderScanner(QObject):
    """Runs the folder scan (headers, hashes) in the background."""

    progress = Signal(int, int)
    finished = Signal(object, str)  # ScanReport or None, error

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._tasks = BackgroundTasks(1, self)

    def scan(self, store: ProjectStore) -> None:
        from ..project import rescan_project

        self._tasks.run(lambda: rescan_project(store, lambda i, n: self._tasks.post(self.progress.emit, i, n)),
                        lambda report, error: self.finished.emit(report, short_error(error) if error else ""),
                        store=store)

    def shutdown(self) -> None:
        self._tasks.shutdown()
