"""The status bar's permanent labels: the image shown, the zoom, the model's latency and state.

A message (a scan's result, draw mode, a refusal) needs the room: while one is shown, the image,
zoom and latency labels step aside, and the labels that stay are at most ``LABEL_MAX_PX`` wide
(cut with "…"; whole in their tooltip), so a message is never cut at a window's usual widths."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from ..core import ImageRecord
from ..editing.state import Answer, ModelState, Tone
from .image_list import status_label

LABEL_MAX_PX = 280
NO_LATENCY = "Proposals: – ms"
MODEL_TEXT = {ModelState.IDLE: ("Model: not started", Tone.NORMAL),
              ModelState.LOADING: ("Model: loading in the background…", Tone.BUSY),
              ModelState.RESTARTING: ("Model: stopped unexpectedly, restarting…", Tone.BUSY),
              ModelState.FAILED: ("Model: unavailable (manual labelling works)", Tone.ERROR)}


def set_tone(label: QLabel, tone: Tone) -> None:
    """Colour a label by its tone (the style sheet matches the ``tone`` property)."""
    label.setProperty("tone", tone.value)
    label.style().unpolish(label)
    label.style().polish(label)


class CutLabel(QLabel):
    """A one-line label at most ``LABEL_MAX_PX`` wide: ``text()`` is the whole text, the paint
    cuts it with "…"."""

    def __init__(self, text: str = "", parent: Optional[QWidget] = None):
        super().__init__(text, parent)
        self.setMaximumWidth(LABEL_MAX_PX)

    def shown_text(self) -> str:
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
                                  self.palette(), self.isEnabled(), self.shown_text(), self.foregroundRole())


class StatusLabels:
    def __init__(self, bar: QStatusBar):
        self.model = CutLabel(MODEL_TEXT[ModelState.IDLE][0], bar)
        self.model.setObjectName("modelStatus")
        self.latency = QLabel(NO_LATENCY, bar)
        self.latency.setObjectName("latencyStatus")
        self.latency.setToolTip("Time the model took for the last proposals")
        self.zoom = QLabel("", bar)
        self.zoom.setObjectName("zoomStatus")
        self.image = CutLabel("", bar)
        self.image.setObjectName("imageStatus")
        for w in (self.image, self.zoom, self.latency, self.model):
            bar.addPermanentWidget(w)
        bar.messageChanged.connect(self._make_room)

    def _make_room(self, message: str) -> None:
        for w in (self.image, self.zoom, self.latency):
            w.setVisible(not message)

    def show_model(self, state: ModelState, device: str = "", version: str = "", runtime: str = "") -> None:
        if state == ModelState.READY:
            short = version.split("+")[0]
            short = short if len(short) <= 32 else short[:31] + "…"
            runtime = runtime or device
            text, tone = f"Model: {short} · {runtime}", Tone.GOOD
            self.model.setToolTip(f"Model {version}\nDevice {device}\nRuns on {runtime}")
        else:
            text, tone = MODEL_TEXT[state]
            self.model.setToolTip(text)
        self.model.setText(text)
        set_tone(self.model, tone)

    def show_answer(self, answer: Optional[Answer]) -> None:
        if answer is not None and answer.latency_ms is not None:
            extra = " (incl. CNN features)" if answer.cold else ""
            self.latency.setText(f"Proposals: {answer.latency_ms:.0f} ms{extra}")

    def forget_answer(self) -> None:
        """Another project: no latency of the last one's proposals."""
        self.latency.setText(NO_LATENCY)

    def show_zoom(self, zoom: float) -> None:
        self.zoom.setText(f"{zoom * 100:.0f} %")

    def show_image(self, rec: Optional[ImageRecord]) -> None:
        text = f"{rec.path} · {rec.width} × {rec.height} px · {status_label(rec)}" if rec else ""
        self.image.setText(text)
        self.image.setToolTip(text)
