"""Work that must never run on the GUI thread: decoding images, scanning the folder, exports and
imports (the model runs in a process of its own: ``model_host.GrounderHost``).

One mechanism for work in this process: ``BackgroundTasks``, a ``QThreadPool`` whose tasks hand
their result back to the GUI thread, where the owner's callback runs. After ``shutdown`` nothing
more is handed back, so a result or a progress report that lands after the window closed is dropped
instead of reaching widgets that are gone. A task given a store closes its thread's connection when
it ends (SQLite connections belong to one thread, and the GUI thread can only close its own).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from ..core import ImageReadError, short_error
from ..store import ProjectStore


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
        self._pool.setExpiryTimeout(-1)  # keep the threads: starting one again costs more than keeping it
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

    def shutdown(self) -> None:
        """Drop queued tasks and everything still to be handed back; wait for the running one."""
        self._closed = True
        self._pool.clear()
        self._pool.waitForDone()


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
