"""The folder's feature pass in the app, and what it makes searchable.

As soon as a project is open and its model loaded, every image not prepared yet is prepared in the
background: the model process computes a batch at a time (``GrounderHost.features``: it lets proposals
and the image shown go first, before each detector step) and a worker thread of this process, the
one writer of the features file, writes each batch as it comes (``folder.feature_pass``), so a
cancel, a closed window or a crash keeps every finished batch and the next start goes on from
there. The GUI thread only shows progress.

Search runs in the model process over what it was sent (``messages.IndexFeatures``): the features
kept from before, then each batch the pass writes, so images are searched as the pass reaches them.
The kept features are sent whenever a project opens and the model is loaded (again: a crash,
another detector) and after a rescan; the pass that prepares the rest starts then too, unless the
automatic start is turned off (Grounding → Prepare Images in the Background, remembered per
person). Resume in the status bar starts a pass by hand.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QObject, QSettings, Signal

from ..core import short_error
from ..folder.feature_pass import PassReport, preparable, run_feature_pass
from ..model_worker.folder_engine import ProcessEngine
from ..store import ProjectStore
from ..store.features import FeatureStore
from .model_host import GrounderHost
from .settings import prepares_in_background, set_prepares_in_background
from .workers import BackgroundTasks

INDEX_ROWS = 256  # kept records per message to the model process (about 4 MB)


class IndexingFeatures:
    """The features file, each batch written also sent (``send(rows)``) to the search index; paths
    are those of the first image showing each content hash. Everything else is the file's."""

    def __init__(self, features: FeatureStore, paths: dict[str, str], send: Callable[[list], None]) -> None:
        self._features, self._paths, self._send = features, paths, send

    def put(self, model: str, rows) -> None:
        self._features.put(model, rows)
        self._send([(h, self._paths[h], data) for h, data in rows if h in self._paths])

    def __getattr__(self, name: str):
        return getattr(self._features, name)


def first_paths(store: ProjectStore) -> dict[str, str]:
    """Content hash -> the path of the first image (natural order) that shows it."""
    paths: dict[str, str] = {}
    for r in preparable(store):
        paths.setdefault(r.content_hash, str(Path(store.root) / r.path))
    return paths


class FolderPass(QObject):
    """``open(store)``, then the pass runs by itself when the model is ready (``auto``)."""

    progressed = Signal(int, int)  # images prepared so far, images of the folder (kept before included)
    finished = Signal(object, str)  # PassReport or None, error ("" when fine)
    indexed = Signal(int)  # images searchable now, sent to the model process

    def __init__(self, host: GrounderHost, settings: QSettings, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.host = host
        self.settings = settings
        self._tasks = BackgroundTasks(1, self)
        self.store: Optional[ProjectStore] = None
        self.features: Optional[FeatureStore] = None
        self._run = 0  # bumped by every start: news of an older run is dropped
        self._cancel = threading.Event()
        self._working = 0  # runs started and not yet off the worker thread, under ``_stopped``
        self._stopped = threading.Condition()
        self._shut = False
        self.running = False
        self.searchable = 0  # images in the model process's index
        self.to_prepare = 0  # images left to prepare, as the last progress report said
        host.state_changed.connect(lambda _state: self.start(prepare=self.auto) if self.host.ready else None)

    @property
    def auto(self) -> bool:
        """Whether a pass starts by itself (on open, on every model load, after a rescan)."""
        return prepares_in_background(self.settings)

    def set_auto(self, on: bool) -> None:
        set_prepares_in_background(self.settings, on)
        if on:
            self.start()
        else:
            self.cancel()

    # -- project -----------------------------------------------------------------------------
    def open(self, store: ProjectStore) -> None:
        self.close()
        self.store = store
        self.features = FeatureStore.of_project(store)
        self.start(prepare=self.auto)

    def close(self) -> None:
        """Stop (after the batch in hand) and let go of the project; the next project's
        features replace it in the model's index."""
        self.cancel()
        self._run += 1
        if self.running:
            self.running = False
            self.finished.emit(None, "")
        if self.features is not None:
            self.features.close()
        self.store = self.features = None
        self.searchable = self.to_prepare = 0

    def shutdown(self) -> None:
        self._shut = True
        self.cancel()
        self._tasks.shutdown()
        if self.features is not None:
            self.features.close()

    # -- the pass ----------------------------------------------------------------------------
    def start(self, prepare: bool = True) -> None:
        """Index what is kept and, with ``prepare``, prepare the rest, from the start (a run going
        on is stopped first). Nothing without a project, or a model that makes no features, or
        after ``shutdown``."""
        info = self.host.info
        if self._shut or self.store is None or not self.host.ready or info is None or not info.features_version:
            return
        self.cancel()
        self._run += 1
        self._cancel = cancel = threading.Event()
        run, store, features, version = self._run, self.store, self.features, info.features_version
        self.running = True
        self.searchable = 0
        if prepare:
            self.progressed.emit(0, 0)
        with self._stopped:
            self._working += 1
        self._tasks.run(lambda: self._work(run, store, features, version, cancel, prepare),
                        lambda report, error: self._done(run, report, error), store=store)

    def cancel(self) -> None:
        """Stop after the batch in hand (what is finished is kept)."""
        self._cancel.set()

    def hold(self) -> Callable[[], None]:
        """Stop the pass while other work prepares images itself (propose for every image; it
        calls ``wait_until_stopped`` first); call what this returns when it is done, to go on."""
        was_on = self.running
        self.cancel()
        return lambda: self.start() if was_on or self.auto else None

    def wait_until_stopped(self, cancelled: Callable[[], bool]) -> None:
        """(On a worker thread.) Return when no pass is on its thread any more (the batch in hand
        is written), or when ``cancelled()``."""
        with self._stopped:
            while self._working and not cancelled():
                self._stopped.wait(0.1)

    def indexed_features(self) -> IndexingFeatures:
        """(On a worker thread.) The features file, through which what is written is also made
        searchable: for other work that prepares images (propose for every image)."""
        run = self._run
        return IndexingFeatures(self.features, first_paths(self.store),
                                lambda rows: self._tasks.post(self._send, run, rows, False))

    def _work(self, run: int, store: ProjectStore, features: FeatureStore, version: str,
              cancel: threading.Event, prepare: bool) -> Optional[PassReport]:
        """On a worker thread: index the kept features, then (``prepare``) prepare the rest."""
        try:
            paths = first_paths(store)
            send = lambda rows, clear=False: self._tasks.post(self._send, run, rows, clear)  # noqa: E731
            send([], True)
            hashes = list(paths)
            for start in range(0, len(hashes), INDEX_ROWS):
                if cancel.is_set():
                    break
                chunk = hashes[start:start + INDEX_ROWS]
                kept = dict(features.features(version, chunk))
                send([(h, paths[h], kept[h]) for h in chunk if h in kept])
            if cancel.is_set():
                return PassReport(cancelled=True)
            if not prepare:
                return None
            engine = ProcessEngine(self.host, version)
            whole = len(hashes)  # progress counts the whole folder: what was kept before is done

            def progress(done: int, total: int) -> None:
                self._tasks.post(self._progress, run, max(whole - total, 0) + done, max(whole, total))

            return run_feature_pass(store, IndexingFeatures(features, paths, send), engine, progress=progress,
                                    cancelled=cancel.is_set)
        finally:
            features.release_thread()
            with self._stopped:
                self._working -= 1
                self._stopped.notify_all()

    def _send(self, run: int, rows: list, clear: bool) -> None:
        if run != self._run:
            return
        self.host.index_features(tuple(rows), clear)
        self.searchable += len(rows)
        if rows:
            self.indexed.emit(self.searchable)

    def _progress(self, run: int, done: int, total: int) -> None:
        if run == self._run:
            self.to_prepare = total - done
            self.progressed.emit(done, total)

    def _done(self, run: int, report: Optional[PassReport], error: Optional[BaseException]) -> None:
        if run != self._run:
            return
        self.running = False
        self.finished.emit(report, short_error(error) if error is not None else "")
