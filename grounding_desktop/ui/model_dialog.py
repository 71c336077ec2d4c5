"""Grounding → Model…: which detector proposes the boxes in this project.

The bundled SSD on a chosen backend, or the user's own ONNX detector (with an optional class file;
settings in ``FILE.yaml`` beside it, see ``grounding/detectors/onnx_detector.py``). The choice is kept in the
project database (``meta`` key ``detector``), so each project reopens with its own detector; the
window then reloads the model in the background (``GrounderHost.use_detector``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QRadioButton, QVBoxLayout, QWidget,
)

from ..core.detector_choice import META_KEY, DetectorChoice, DetectorChoiceError
from ..grounding.detectors import backends
from ..store import ProjectStore


def project_detector(store: ProjectStore) -> tuple[DetectorChoice, str]:
    """The detector this project chose, and a problem to tell the user ('' when none): an
    unreadable setting falls back to the default detector."""
    try:
        choice = DetectorChoice.from_json(store.get_meta(META_KEY))
        backends.backend(choice.backend)  # a name this version declares
        return choice, ""
    except DetectorChoiceError as exc:
        return DetectorChoice(), f"{exc}; using the bundled detector"


def remember_detector(store: ProjectStore, choice: DetectorChoice) -> None:
    store.set_meta(META_KEY, choice.to_json())


class ModelDialog(QDialog):
    """Emits ``chosen(DetectorChoice)`` when the user confirms a usable choice."""

    chosen = Signal(object)

    def __init__(self, current: DetectorChoice, runtime: str = "", parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("modelDialog")
        self.setWindowTitle("Detector model")
        layout = QVBoxLayout(self)
        now = QLabel(f"Running now: {runtime}" if runtime else "The model is not loaded yet.", self)
        layout.addWidget(now)

        self.bundled = QRadioButton("Bundled detector: SSD-MobileNetV2, COCO's 80 classes", self)
        self.backend = QComboBox(self)
        for declared in backends.BACKENDS:
            self.backend.addItem(declared.title, declared.name)
        self.own = QRadioButton("My ONNX detector (YOLOv5, YOLOv8/YOLO11, or boxes/scores/labels)", self)
        self.model_file = QLineEdit(self)
        self.model_file.setPlaceholderText("FILE.onnx")
        self.classes_file = QLineEdit(self)
        self.classes_file.setPlaceholderText("optional: one class name a line (default: the model's metadata)")
        form = QFormLayout()
        form.addRow("Runs on", self.backend)
        own_form = QFormLayout()
        own_form.addRow("Model", self._with_browse(self.model_file, "ONNX models (*.onnx)"))
        own_form.addRow("Classes", self._with_browse(self.classes_file, "Text files (*.txt *.names);;All files (*)"))
        layout.addWidget(self.bundled)
        layout.addLayout(form)
        layout.addWidget(self.own)
        layout.addLayout(own_form)
        hint = QLabel("Input size, normalisation and letterboxing come from the model, or from "
                      "FILE.yaml beside it. The choice is remembered for this project.", self)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.error = QLabel("", self)
        self.error.setObjectName("modelDialogError")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for widget in (self.bundled, self.own):
            widget.toggled.connect(self._sync)
        self.set_choice(current)

    def _with_browse(self, edit: QLineEdit, pattern: str) -> QWidget:
        row = QWidget(self)
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(edit, 1)
        button = QPushButton("Browse…", row)
        button.clicked.connect(lambda: self._browse(edit, pattern))
        box.addWidget(button)
        return row

    def _browse(self, edit: QLineEdit, pattern: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a file", edit.text() or str(Path.home()), pattern)
        if path:
            edit.setText(path)
            self.own.setChecked(True)

    def _sync(self) -> None:
        own = self.own.isChecked()
        self.backend.setEnabled(not own)
        self.model_file.setEnabled(own)
        self.classes_file.setEnabled(own)

    def set_choice(self, choice: DetectorChoice) -> None:
        self.backend.setCurrentIndex(max(0, self.backend.findData(choice.backend)))
        self.model_file.setText(choice.onnx_file or "")
        self.classes_file.setText(choice.classes_file or "")
        (self.bundled if choice.bundled else self.own).setChecked(True)
        self._sync()

    def choice(self) -> DetectorChoice:
        """What the dialog shows now; ``DetectorChoiceError`` or ``ValueError`` when unusable."""
        if self.bundled.isChecked():
            return DetectorChoice(backend=self.backend.currentData())
        model = self.model_file.text().strip()
        classes = self.classes_file.text().strip() or None
        if not model:
            raise ValueError("Choose the ONNX model file.")
        for path in filter(None, (model, classes)):
            if not Path(path).is_file():
                raise ValueError(f"{path}: no such file")
        return DetectorChoice(onnx_file=str(Path(model).resolve()),
                              classes_file=str(Path(classes).resolve()) if classes else None)

    def accept(self) -> None:
        try:
            choice = self.choice()
        except ValueError as exc:  # DetectorChoiceError is one
            self.error.setText(str(exc))
            return
        self.chosen.emit(choice)
        super().accept()
