"""File → Export… and File → Import…: the io exporters/importers run on a worker thread with a
progress bar, a Cancel button and a summary at the end. A cancelled or failed run leaves earlier
files (and the database) untouched: the io layer guarantees it, the dialog only reports it."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
    QLabel, QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget,
)

from ..io.coco_import import import_coco
from ..io.errors import ImportFileError
from ..io.export import (FORMATS, OUT_IS_FOLDER, Cancelled, ExportError, ExportOptions, export_project, load_label_map,
                         parse_splits)
from ..store import ProjectStore, StoreError
from .workers import BackgroundTasks, short_error

FORMAT_TITLES = {
    "coco-grounding": "COCO grounding (MDETR / GLIP: one entry per phrase)",
    "coco": "COCO detection (one category per phrase or label map)",
    "odvg": "ODVG jsonl (Open-GroundingDino, MM-Grounding-DINO)",
    "refcoco": "RefCOCO-style refs.json + instances.json (folder)",
    "yolo": "Ultralytics YOLO (folder: data.yaml, labels, images; head nouns or label map as classes)",
    "voc": "Pascal VOC (folder: Annotations, JPEGImages, ImageSets)",
}
DEFAULT_NAMES = {"coco-grounding": "grounding_coco.json", "coco": "detection_coco.json",
                 "odvg": "grounding_odvg.jsonl", "refcoco": "refcoco", "yolo": "yolo", "voc": "voc"}


class _Job(QObject):
    """Runs ``work(progress, cancelled)`` off the GUI thread (``workers.BackgroundTasks``) and
    reports back through signals, on the GUI thread. ``progress(done, total, stage="")``: the
    stage, when given, names what is counted ("preparing")."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, work: Callable, store: ProjectStore, parent=None):
        super().__init__(parent)
        self._work = work
        self._store = store
        self._tasks = BackgroundTasks(1, self)
        self.cancel_event = threading.Event()
        self.running = False

    def start(self) -> None:
        self.running = True
        progress = lambda done, total, stage="": self._tasks.post(self.progressed.emit, done, total, stage)  # noqa: E731
        self._tasks.run(lambda: self._work(progress, self.cancel_event.is_set), self._done, store=self._store)

    def _done(self, result, error: Optional[BaseException]) -> None:
        self.running = False
        if error is None:
            self.succeeded.emit(result)
        elif isinstance(error, Cancelled):
            self.failed.emit("Cancelled: nothing was written.")
        elif isinstance(error, ImportFileError):
            self.failed.emit("Failed, nothing was imported:\n" + "\n".join(error.problems)
                             + (f"\n… and {error.more} more" if error.more else ""))
        else:
            reason = str(error) if isinstance(error, (ExportError, StoreError, OSError)) else short_error(error)
            self.failed.emit(f"Failed: {reason}\nNothing was written.")
        self.finished.emit()


class WorkerDialog(QDialog):
    """Shared frame: an options form, a progress bar, a summary box, Run/Cancel/Close buttons."""

    finished_with_changes = Signal()
    run_text = "Run"

    def __init__(self, store: ProjectStore, title: str, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.store = store
        self.job: Optional[_Job] = None
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.form = QFormLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setPlaceholderText("The summary appears here.")
        self.summary.setMaximumHeight(150)
        self.buttons = QDialogButtonBox()
        self.run_button = self.buttons.addButton(self.run_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.run_button.setDefault(True)
        self.cancel_button = self.buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.setEnabled(False)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.run_button.clicked.connect(self._start)
        self.cancel_button.clicked.connect(self._cancel)
        self.close_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

    def _path_row(self, edit: QLineEdit, browse: Callable[[], None]) -> QWidget:
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(edit, 1)
        button = QPushButton("Browse…")
        button.clicked.connect(browse)
        h.addWidget(button)
        return row

    def make_work(self) -> Optional[Callable]:
        """The job to run, or None after telling the user what is wrong with the options."""
        raise NotImplementedError

    def summary_lines(self, result) -> list[str]:
        return result.lines()

    def _start(self) -> None:
        try:
            work = self.make_work()
        except ExportError as exc:
            self.summary.setPlainText(str(exc))
            return
        if work is None:
            return
        self.summary.clear()
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.job = _Job(work, self.store, self)
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(self._on_success)
        self.job.failed.connect(self._on_failure)
        self.job.finished.connect(self._on_finished)
        self.run_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.job.start()

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancel_event.set()
            self.cancel_button.setEnabled(False)

    def _on_progress(self, done: int, total: int, stage: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{stage} %v / %m" if stage else "%p%")

    def _on_success(self, result) -> None:
        self.progress.setFormat("%p%")
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.summary.setPlainText("\n".join(self.summary_lines(result)))
        self.finished_with_changes.emit()

    def _on_failure(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.summary.setPlainText(message)

    def _on_finished(self) -> None:
        self.run_button.setEnabled(True)
        self.close_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def reject(self) -> None:
        if self.job is not None and self.job.running:
            return  # Esc while running cancels instead of closing on a live thread
        super().reject()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        from PySide6.QtCore import Qt

        if event.key() == Qt.Key.Key_Escape and self.job is not None and self.job.running:
            self._cancel()
            return
        super().keyPressEvent(event)


class ExportDialog(WorkerDialog):
    run_text = "Export"

    def __init__(self, store: ProjectStore, parent: Optional[QWidget] = None, start_dir: Optional[Path] = None):
        super().__init__(store, "Export annotations", parent)
        self.start_dir = Path(start_dir or store.root)
        self.format = QComboBox()
        for key in FORMATS:
            self.format.addItem(FORMAT_TITLES.get(key, key), key)
        self.out = QLineEdit(str(self.start_dir / DEFAULT_NAMES["coco-grounding"]))
        self.reviewed_only = QCheckBox("Only images marked reviewed")
        self.include_rejected = QCheckBox("Include rejected boxes (tagged \"state\": \"rejected\")")
        self.splits = QLineEdit()
        self.splits.setPlaceholderText("e.g. 80,10,10 for train/val/test; empty for one file")
        self.label_map = QLineEdit()
        self.label_map.setPlaceholderText("optional JSON {\"phrase\": \"category\"}")
        self.form.addRow("Format", self.format)
        self.form.addRow("Write to", self._path_row(self.out, self._browse_out))
        self.form.addRow("", self.reviewed_only)
        self.form.addRow("", self.include_rejected)
        self.form.addRow("Splits", self.splits)
        self.form.addRow("Label map", self._path_row(self.label_map, self._browse_label_map))
        self.format.currentIndexChanged.connect(self._format_changed)

    def _format_changed(self) -> None:
        fmt = self.format.currentData()
        current = Path(self.out.text() or self.start_dir)
        self.out.setText(str(current.parent / DEFAULT_NAMES[fmt]))

    def _browse_out(self) -> None:
        fmt = self.format.currentData()
        if fmt in OUT_IS_FOLDER:
            path = QFileDialog.getExistingDirectory(self, "Export into folder", str(self.start_dir))
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to file", self.out.text())
        if path:
            self.out.setText(path)

    def _browse_label_map(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Label map", str(self.start_dir), "JSON (*.json)")
        if path:
            self.label_map.setText(path)

    def options(self) -> ExportOptions:
        splits = parse_splits(self.splits.text()) if self.splits.text().strip() else None
        label_map = load_label_map(self.label_map.text().strip()) if self.label_map.text().strip() else None
        return ExportOptions(reviewed_only=self.reviewed_only.isChecked(),
                             include_rejected=self.include_rejected.isChecked(),
                             splits=splits, label_map=label_map)

    def make_work(self) -> Optional[Callable]:
        if not self.out.text().strip():
            self.summary.setPlainText("Choose where to write the export.")
            return None
        fmt, out, options = self.format.currentData(), Path(self.out.text().strip()), self.options()
        return lambda progress, cancelled: export_project(self.store, fmt, out, options, progress, cancelled)


class ImportDialog(WorkerDialog):
    run_text = "Import"

    def __init__(self, store: ProjectStore, parent: Optional[QWidget] = None):
        super().__init__(store, "Import COCO annotations", parent)
        self.file = QLineEdit()
        self.file.setPlaceholderText("a COCO grounding export of this tool, or a plain COCO detection file")
        self.as_proposals = QCheckBox("Add boxes as proposals to review (not as accepted labels)")
        note = QLabel("Images are matched by path, then by file name. The whole file is checked "
                      "first; then all of it is added in one step, or nothing is.")
        note.setWordWrap(True)
        self.form.addRow("COCO file", self._path_row(self.file, self._browse))
        self.form.addRow("", self.as_proposals)
        self.form.addRow(note)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import COCO file", str(self.store.root), "JSON (*.json)")
        if path:
            self.file.setText(path)

    def make_work(self) -> Optional[Callable]:
        if not self.file.text().strip():
            self.summary.setPlainText("Choose a COCO file to import.")
            return None
        path, proposals = self.file.text().strip(), self.as_proposals.isChecked()
        return lambda progress, cancelled: import_coco(self.store, path, as_proposals=proposals,
                                                       progress=progress, cancelled=cancelled)
