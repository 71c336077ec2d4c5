"""The open image's pixels on the canvas: decoded off the GUI thread and cached, a "Loading…"
placeholder only when decoding is slow, the reason when a file cannot be shown, and the
neighbours decoded ahead so stepping through the list is instant."""
from __future__ import annotations

from typing import Iterable, Optional

from PySide6.QtCore import QObject, QTimer

from ..core import ImageRecord
from ..editing.document import ImageDocument
from ..editing.state import Tone
from .canvas import Canvas
from .workers import ImageLoader

LOADING_MESSAGE_DELAY_MS = 150  # a decode shorter than this shows no "Loading…" flash


class ImageDisplay(QObject):
    def __init__(self, doc: ImageDocument, canvas: Canvas, parent: QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self.canvas = canvas
        self.loader = ImageLoader(parent=self)
        self.loader.loaded.connect(self._on_decoded)

    def show(self, rec: ImageRecord) -> None:
        """Show ``rec`` (the document's image): cached pixels at once, else after decoding."""
        if rec.missing:
            self.canvas.show_message("File missing", f"{rec.path} is no longer on disk (its labels are kept)")
        elif rec.error:
            self.canvas.show_message("Cannot show this image", f"{rec.path}: {rec.error}", Tone.ERROR)
        else:
            cached = self.loader.cached(rec.id)
            if cached is not None:
                self.canvas.show_image(cached, rec.width, rec.height)
            else:
                self.canvas.hold_for_loading()
                QTimer.singleShot(LOADING_MESSAGE_DELAY_MS, lambda: self._show_loading(rec.id))
                self.loader.request(rec.id, self.doc.labels.path_of(rec))

    def prefetch(self, records: Iterable[ImageRecord]) -> None:
        for rec in records:
            if rec.readable:
                self.loader.request(rec.id, self.doc.labels.path_of(rec), prefetch=True)

    def _current(self, image_id: int) -> Optional[ImageRecord]:
        rec = self.doc.labels.image
        return rec if rec is not None and rec.id == image_id else None

    def _show_loading(self, image_id: int) -> None:
        rec = self._current(image_id)
        if rec is not None and rec.readable and not self.canvas.has_image and self.loader.cached(image_id) is None:
            self.canvas.show_message("Loading…", rec.path, final=False)

    def _on_decoded(self, image_id: int, qimg, error: str) -> None:
        if error:
            self.doc.mark_unreadable(image_id, error)
        rec = self._current(image_id)
        if rec is None:
            return
        if qimg is None:
            self.canvas.show_message("Cannot show this image", f"{rec.path}: {error}", Tone.ERROR)
        else:
            self.canvas.show_image(qimg, rec.width, rec.height)

    def forget(self) -> None:
        self.loader.forget()

    def shutdown(self) -> None:
        self.loader.shutdown()
