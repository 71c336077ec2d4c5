"""The status bar's permanent labels: the image shown, the zoom, the model's latency and state."""
from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QLabel, QStatusBar

from ..core import ImageRecord
from ..editing.state import Answer, ModelState, Tone
from .image_list import status_label

MODEL_TEXT = {ModelState.IDLE: ("Model: not started", Tone.NORMAL),
              ModelState.LOADING: ("Model: loading in the background…", Tone.BUSY),
              ModelState.RESTARTING: ("Model: stopped unexpectedly, restarting…", Tone.BUSY),
              ModelState.FAILED: ("Model: unavailable (manual labelling works)", Tone.ERROR)}


def set_tone(label: QLabel, tone: Tone) -> None:
    """Colour a label by its tone (the style sheet matches the ``tone`` property)."""
    label.setProperty("tone", tone.value)
    label.style().unpolish(label)
    label.style().polish(label)


class StatusLabels:
    def __init__(self, bar: QStatusBar):
        self.model = QLabel(MODEL_TEXT[ModelState.IDLE][0], bar)
        self.model.setObjectName("modelStatus")
        self.latency = QLabel("Proposals: – ms", bar)
        self.latency.setObjectName("latencyStatus")
        self.latency.setToolTip("Time the model took for the last proposals")
        self.zoom = QLabel("", bar)
        self.zoom.setObjectName("zoomStatus")
        self.image = QLabel("", bar)
        self.image.setObjectName("imageStatus")
        for w in (self.image, self.zoom, self.latency, self.model):
            bar.addPermanentWidget(w)

    def show_model(self, state: ModelState, device: str = "", version: str = "", runtime: str = "") -> None:
        if state == ModelState.READY:
            short = version.split("+")[0]
            short = short if len(short) <= 32 else short[:31] + "…"
            runtime = runtime or device
            text, tone = f"Model: {short} · {runtime}", Tone.GOOD
            self.model.setToolTip(f"Model {version}\nDevice {device}\nRuns on {runtime}")
        else:
            text, tone = MODEL_TEXT[state]
        self.model.setText(text)
        set_tone(self.model, tone)

    def show_answer(self, answer: Optional[Answer]) -> None:
        if answer is not None and answer.latency_ms is not None:
            extra = " (incl. CNN features)" if answer.cold else ""
            self.latency.setText(f"Proposals: {answer.latency_ms:.0f} ms{extra}")

    def show_zoom(self, zoom: float) -> None:
        self.zoom.setText(f"{zoom * 100:.0f} %")

    def show_image(self, rec: Optional[ImageRecord]) -> None:
        self.image.setText(f"{rec.path} · {rec.width} × {rec.height} px · {status_label(rec)}" if rec else "")
