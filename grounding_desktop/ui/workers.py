"""Work that must never run on the GUI thread: loading the model, CNN features, proposals,
decoding images and scanning the folder.

``GrounderHost`` owns the ``Grounder``. All model work runs on one private worker thread (a
``QThreadPool`` of size one), because the model is the bottleneck and two tasks on it would only
slow each other down; proposals get a higher priority than feature pre-computation. Every
proposal request carries an id: a request that is no longer the latest is skipped before it
starts, and an answer that arrives late is dropped by the window, so fast typing never shows
stale boxes.
"""
from __future__ import annotations

import time
import traceback
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from ..core.detector_choice import DetectorChoice


# factory(device) builds the grounder; a project that chose a detector (Grounding → Model…)
# makes the host call factory(device, detector=DetectorChoice) instead.
GrounderFactory = Callable[..., Any]

PRIORITY_LEARN = 20  # ahead of queued proposals: an accept is used by the very next proposal
PRIORITY_PROPOSE = 10
PRIORITY_PREPARE = 5
PRIORITY_PREFETCH = 0
PRIORITY_IDLE = -5  # the second CNN's feature maps: only when nothing else waits


def default_grounder_factory(device: Optional[str], detector: Optional[DetectorChoice] = None) -> Any:
    """Build the real model. Imported here, on the worker thread, so torch never loads on the GUI thread."""
    from ..grounder_factory import make_grounder

    grounder = make_grounder(device, detector=detector)
    load = getattr(grounder, "load", None)
    if callable(load):
        load()  # models load lazily otherwise: do it here, not on the first keystroke
    return grounder


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], None]):
        super().__init__()
        self._fn = fn
        self.setAutoDelete(True)

    def run(self) -> None:
        self._fn()


def _short_error(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, (RuntimeError, OSError, ValueError)) else f"{type(exc).__name__}: {text}"


class GrounderHost(QObject):
    """Loads the grounder in the background and runs its ``prepare``/``propose`` off the GUI thread."""

    loading = Signal()
    loaded = Signal(str, str)  # device, model version
    failed = Signal(str, str)  # one-line reason, details (traceback)
    proposals_ready = Signal(int, object, float, bool)  # request id, list[Proposal], latency ms, features computed too
    proposal_failed = Signal(int, str)  # request id, reason
    prepared = Signal(str, float)  # key, ms
    learn_failed = Signal(str)  # reason: the model could not learn from the boxes (labels are safe)

    def __init__(self, factory: GrounderFactory = default_grounder_factory, device: Optional[str] = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._factory = factory
        self._device = device
        self.grounder: Any = None
        self.state = "idle"  # idle | loading | ready | failed
        self.error: Optional[str] = None
        self.detector: Optional[DetectorChoice] = None  # the project's choice; None: the factory's default
        self.runtime = ""  # what runs the detector ("onnxruntime 1.x CPU"), once loaded
        self._generation = 0  # bumped by use_detector: a load started before it is dropped
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)  # keep the thread: torch likes a stable worker thread
        self._latest_request = 0
        self._prepared: set[str] = set()
        self._wanted_prepare: set[str] = set()
        self._project = None  # the open project's store: every (re)load learns its boxes first

    # -- loading -----------------------------------------------------------------------------
    def start_loading(self) -> None:
        if self.state in ("loading", "ready"):
            return
        self.state = "loading"
        self.loading.emit()
        generation, detector = self._generation, self.detector
        self._pool.start(_Task(lambda: self._load(generation, detector)))

    def _load(self, generation: int, detector: Optional[DetectorChoice]) -> None:
        try:
            grounder = self._factory(self._device) if detector is None else \
                self._factory(self._device, detector=detector)
            runtime = str(getattr(grounder, "runtime", ""))  # may load the detector: not on the GUI thread
        except BaseException as exc:  # noqa: BLE001 - any failure must reach the user, not kill the thread
            if generation == self._generation:
                self.state = "failed"
                self.error = _short_error(exc)
                self.failed.emit(self.error, traceback.format_exc())
            return
        if generation != self._generation:
            return  # another detector was chosen meanwhile; its own load is queued
        self.grounder, self.runtime = grounder, runtime
        self.state = "ready"  # a learn() from now on queues its own task (it runs after this one)
        if self._project is not None and hasattr(grounder, "learn"):
            self._learn(self._project, None)  # before any proposal: they wait for this task
        self.loaded.emit(str(getattr(grounder, "device", "?")), str(getattr(grounder, "model_version", "?")))

    def use_detector(self, detector: Optional[DetectorChoice]) -> None:
        """Use the project's detector choice from now on: a model already loaded (or loading, or
        failed) with another one is built again in the background. The default choice is kept as
        None, so the factory is called as ``factory(device)`` unless a project chose otherwise."""
        if detector == DetectorChoice():
            detector = None
        if detector == self.detector:
            return
        self.detector = detector
        if self.state == "idle":
            return  # start_loading will use it
        self._generation += 1
        self.cancel()
        self._wanted_prepare.clear()
        self._prepared.clear()
        self.grounder, self.runtime, self.state = None, "", "idle"
        self.start_loading()

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    # -- features ----------------------------------------------------------------------------
    def prepare(self, path: str, prefetch: bool = False) -> None:
        """Compute an image's CNN features now, so the first keystroke of a phrase is fast."""
        if not self.ready or path in self._prepared:
            return
        if not prefetch:
            self._wanted_prepare = {path}
        else:
            self._wanted_prepare.add(path)
        self._pool.start(_Task(lambda: self._prepare(path)), PRIORITY_PREFETCH if prefetch else PRIORITY_PREPARE)

    def _prepare(self, path: str) -> None:
        if path in self._prepared or path not in self._wanted_prepare:
            return  # the user has moved on; don't spend the CPU on it
        t0 = time.perf_counter()
        try:
            self.grounder.prepare(path, key=path)
        except Exception:  # noqa: BLE001 - unreadable images are reported when shown, not here
            return
        self._prepared.add(path)
        self.prepared.emit(path, (time.perf_counter() - t0) * 1000.0)
        if hasattr(self.grounder, "prepare_features"):  # learning from a box then costs no CNN pass
            self._pool.start(_Task(lambda: self._prepare_features(path)), PRIORITY_IDLE)

    def _prepare_features(self, path: str) -> None:
        if path not in self._wanted_prepare:
            return
        try:
            self.grounder.prepare_features(path, key=path)
        except Exception:  # noqa: BLE001 - as for prepare: reported when the image is used
            pass

    # -- learning from the user's boxes -----------------------------------------------------------
    def learn(self, store, image_id: Optional[int] = None) -> None:
        """Teach the model the labelled boxes of one image (after an edit there: accept, reject,
        draw, move, delete, undo) or, with no ``image_id``, of the whole project (just opened; a
        model still loading, or loaded again for another detector, learns it when it is there)."""
        if image_id is None:
            self._project = store
        if not self.ready or not hasattr(self.grounder, "learn"):
            return
        self._pool.start(_Task(lambda: self._learn(store, image_id)), PRIORITY_LEARN)

    def _learn(self, store, image_id: Optional[int]) -> None:
        from ..project_concepts import teach_image, teach_project

        try:
            if image_id is None:
                teach_project(self.grounder, store)
            else:
                record = store.image(image_id)
                if record is not None:
                    teach_image(self.grounder, store, record)
        except Exception as exc:  # noqa: BLE001 - the labels are stored; only the learning failed
            self.learn_failed.emit(_short_error(exc))
        finally:
            store.release_thread()

    # -- proposals ---------------------------------------------------------------------------
    def request(self, path: str, phrase: str, hint: Optional[tuple[float, float]] = None, top_k: int = 5) -> int:
        """Ask for proposals; returns the request id the answer will carry."""
        self._latest_request += 1
        rid = self._latest_request
        if self.ready:
            self._pool.start(_Task(lambda: self._propose(rid, path, phrase, hint, top_k)), PRIORITY_PROPOSE)
        return rid

    def cancel(self) -> int:
        """Make every request in flight stale (e.g. the phrase was cleared)."""
        self._latest_request += 1
        return self._latest_request

    @property
    def latest_request(self) -> int:
        return self._latest_request

    def _propose(self, rid: int, path: str, phrase: str, hint, top_k: int) -> None:
        if rid != self._latest_request:
            return  # superseded while queued
        cold = path not in self._prepared
        t0 = time.perf_counter()
        try:
            result = list(self.grounder.propose(path, phrase, hint=hint, top_k=top_k))
        except Exception as exc:  # noqa: BLE001 - shown in the status bar; the window keeps working
            self.proposal_failed.emit(rid, _short_error(exc))
            return
        self._prepared.add(path)
        latency = (time.perf_counter() - t0) * 1000.0
        self.proposals_ready.emit(rid, result, latency, cold)

    def is_plural(self, phrase: str) -> bool:
        if self.ready and hasattr(self.grounder, "is_plural"):
            try:
                return bool(self.grounder.is_plural(phrase))
            except Exception:  # noqa: BLE001
                return False
        return _looks_plural(phrase)

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Drop queued work and wait for the task running now (a model load can't be interrupted)."""
        self._latest_request += 1
        self._wanted_prepare.clear()
        self._pool.clear()
        return self._pool.waitForDone(timeout_ms)


def _looks_plural(phrase: str) -> bool:
    """Fallback before the model is loaded: the head noun (first word before a preposition) ends in s."""
    words = phrase.lower().split()
    stops = {"on", "in", "at", "of", "with", "next", "near", "behind", "under", "above", "left", "right", "holding"}
    head = ""
    for w in words:
        if w in stops:
            break
        head = w
    return head.endswith("s") and not head.endswith("ss") and len(head) > 3


# -- image decoding and folder scans ------------------------------------------------------------
class ImageLoader(QObject):
    """Decodes images (EXIF applied, downscaled for display) on a small pool; keeps a few in memory."""

    loaded = Signal(int, object, str)  # image id, QImage or None, error ("" when fine)

    def __init__(self, max_side: int = 4096, cache_size: int = 8, parent: QObject | None = None):
        super().__init__(parent)
        self.max_side = max_side
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
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
        self._pool.start(_Task(lambda: self._decode(image_id, path)), 0 if prefetch else 10)

    def _decode(self, image_id: int, path: str) -> None:
        from ..io.images import ImageReadError, load_image

        try:
            img = load_image(path, max_side=self.max_side)
            qimg = QImage(img.tobytes(), img.width, img.height, 3 * img.width, QImage.Format.Format_RGB888).copy()
            error = ""
        except ImageReadError as exc:
            qimg, error = None, str(exc)
        except OSError as exc:
            qimg, error = None, f"cannot read file: {exc.strerror or exc}"
        self.loaded.emit(image_id, qimg, error)

    def remember(self, image_id: int, qimg: Optional[QImage]) -> None:
        """Called on the GUI thread when a decode lands, so the cache is only touched by one thread."""
        self._pending.discard(image_id)
        if qimg is None:
            return
        self._cache[image_id] = qimg
        if image_id in self._order:
            self._order.remove(image_id)
        self._order.append(image_id)
        while len(self._order) > self._cache_size:
            self._cache.pop(self._order.pop(0), None)

    def forget(self, image_id: Optional[int] = None) -> None:
        if image_id is None:
            self._cache.clear()
            self._order.clear()
        else:
            self._cache.pop(image_id, None)
            if image_id in self._order:
                self._order.remove(image_id)

    def shutdown(self, timeout_ms: int = -1) -> bool:
        self._pool.clear()
        return self._pool.waitForDone(timeout_ms)


class FolderScanner(QObject):
    """Runs the folder scan (headers, hashes) in the background; the store is thread-safe per thread."""

    progress = Signal(int, int)
    finished = Signal(object, str)  # ScanReport or None, error

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)

    def scan(self, store) -> None:
        self._pool.start(_Task(lambda: self._scan(store)))

    def _scan(self, store) -> None:
        from ..project import rescan_project

        try:
            report = rescan_project(store, lambda i, n: self.progress.emit(i, n))
            error = ""
        except Exception as exc:  # noqa: BLE001
            report, error = None, _short_error(exc)
        self.finished.emit(report, error)

    def shutdown(self, timeout_ms: int = -1) -> bool:
        return self._pool.waitForDone(timeout_ms)
