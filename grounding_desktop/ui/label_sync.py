"""``LabelSync``: what the model is told when the labels change.

The model learns from the project's boxes (``project_concepts``). The lessons are read here, in the
GUI process, the database's one writer, and sent to the model's process through the
``GrounderHost``; the region embeddings the model makes come back and are stored here. A whole
project is taught when it opens, is rescanned or imported into, and whenever the model (re)loads:
its stored embeddings first, before any proposal (the host holds requests back while they are
read), then the images whose boxes were never embedded, a few before the first proposal and the
rest after. An edit of one image teaches that image again (accept, reject, draw, move, delete,
undo: a box no longer there is forgotten).
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject, Signal

from ..core import short_error
from ..model_worker.messages import Learned, ModelInfo
from ..project_concepts import Lesson, image_lesson, keep_embeddings, project_lessons
from ..store import ProjectStore, StoreError
from .model_host import GrounderHost
from .workers import BackgroundTasks

# A project opened with boxes never embedded (labelled before, or imported): this many of their
# images are looked at before the first proposal (about 0.15 s each on a CPU), the rest after.
LEARN_FIRST_IMAGES = 8


class LabelSync(QObject):
    """Teaches the host's model the open project's boxes (stored embeddings first) and stores the
    embeddings it makes."""

    learn_failed = Signal(str)  # the model could not learn from the boxes (they are stored all the same)

    def __init__(self, host: GrounderHost, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.host = host
        self._tasks = BackgroundTasks(1, self)  # reads a project's lessons from its database
        self._project: Optional[ProjectStore] = None  # every (re)load learns its boxes first
        self._epoch = 0  # bumped whenever the project's lessons are read again
        self._project_epoch = 0  # the first epoch of the open project: embeddings made since are its own
        host.loaded.connect(self._on_loaded)
        host.learned.connect(self._on_learned)

    def teach_project(self, store: ProjectStore) -> None:
        """Teach the model every labelled box of ``store`` (just opened, rescanned or imported
        into; a model still loading, or loaded again, learns it when it is there)."""
        if store is not self._project:
            self._project_epoch = self._epoch + 1
        self._project = store
        if self.host.ready:
            self._teach_project(self.host.info)

    def teach_image(self, store: ProjectStore, image_id: int) -> None:
        """Teach the model what one image's boxes are now (after an edit there)."""
        info = self.host.info
        if not (self.host.ready and info is not None and info.learns and store is self._project):
            return  # a model that does not learn; or a project no longer open
        try:
            record = store.images.get(image_id)
            if record is not None:
                self.host.teach(self._epoch, (image_lesson(store, record, info.embedding_model),))
        except StoreError as exc:
            self.learn_failed.emit(str(exc))

    def shutdown(self) -> None:
        self._tasks.shutdown()

    def _on_loaded(self, info: ModelInfo) -> None:
        if self._project is not None:
            self._teach_project(info)

    def _teach_project(self, info: ModelInfo) -> None:
        """Read every lesson of the project off the GUI thread; until they are sent, the host holds
        requests back, so no proposal comes before them."""
        self._epoch += 1
        if not info.learns:
            return
        epoch, store, model = self._epoch, self._project, info.embedding_model
        self.host.hold()
        self._tasks.run(lambda: project_lessons(store, model, look=False),
                        lambda lessons, error: self._on_project_read(epoch, lessons, error), store=store)

    def _on_project_read(self, epoch: int, lessons: list[Lesson], error: Optional[BaseException]) -> None:
        if epoch != self._epoch or not self.host.holding:
            return  # read again meanwhile (or the model was reloaded): that read sends its own
        if error is not None:
            self.learn_failed.emit(short_error(error))
            self.host.release()
            return

        def send_lessons() -> None:
            # What the database keeps teaches at once; images whose boxes were never embedded are
            # looked at in lessons of their own: the first few before any proposal, the rest after.
            self.host.teach(epoch, lessons, clear=True)
            for n, lesson in enumerate(lesson for lesson in lessons if lesson.waiting):
                self.host.teach(epoch, (lesson.looking(),), urgent=n < LEARN_FIRST_IMAGES)

        self.host.release(send_lessons)

    def _on_learned(self, learned: Learned) -> None:
        if learned.error:
            self.learn_failed.emit(learned.error)
        info = self.host.info
        if learned.made and self._project is not None and info is not None and learned.epoch >= self._project_epoch:
            try:  # on the GUI thread, the database's writer, as every edit is
                keep_embeddings(self._project, info.embedding_model, learned.made)
            except StoreError as exc:
                self.learn_failed.emit(str(exc))
