"""Grounding → Evaluate…: how well the model grounds this project's own phrases, per phrase, with
learned concepts judged leave-one-image-out (``evaluation.py``). The work runs on a thread of its
own with a progress bar and Cancel; the model is the window's (its locks make that safe)."""
from __future__ import annotations

import threading
from typing import Optional

from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel,
                               QProgressBar, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..evaluation import Evaluation, PhraseResult, evaluate_project
from ..io.errors import Cancelled
from ..store import ProjectStore

COLUMNS = ("Phrase", "Tried", "Acc@0.5", "Mean IoU", "Evidence")


class _EvaluationJob(QThread):
    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, grounder, store: ProjectStore, parent=None):
        super().__init__(parent)
        self.grounder, self.store = grounder, store
        self.cancel_event = threading.Event()

    def run(self) -> None:
        try:
            report = evaluate_project(self.grounder, self.store, self.progressed.emit,
                                      self.cancel_event.is_set)
        except Cancelled:
            self.failed.emit("Cancelled.")
        except Exception as exc:  # noqa: BLE001 - shown in the dialog, the window keeps working
            self.failed.emit(f"The evaluation failed: {exc}")
        else:
            self.succeeded.emit(report)
        finally:
            self.store.release_thread()


class EvaluateDialog(QDialog):
    """``EvaluateDialog(store, grounder)``; Run starts, the table fills when it is done."""

    def __init__(self, store: ProjectStore, grounder, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.store, self.grounder = store, grounder
        self.job: Optional[_EvaluationJob] = None
        self.setWindowTitle("Evaluate the model on this project")
        self.setMinimumSize(620, 420)
        intro = QLabel("Grounds every phrase that has accepted boxes and compares the model's top box "
                       "with them. Concepts learned from your boxes are judged on each image without "
                       "that image's own boxes.")
        intro.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("evaluationTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel("")
        self.summary.setObjectName("evaluationSummary")
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.run_button = self.buttons.addButton("Run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.run_button.setDefault(True)
        self.cancel_button = self.buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.setEnabled(False)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (intro, self.progress, self.table, self.summary, self.buttons):
            layout.addWidget(widget)

    def start(self) -> None:
        if self.grounder is None:
            self.summary.setText("The model has not loaded yet: try again in a moment.")
            return
        self.table.setRowCount(0)
        self.summary.setText("Evaluating…")
        self.progress.setRange(0, 0)
        self.job = _EvaluationJob(self.grounder, self.store, self)
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(self._show)
        self.job.failed.connect(self.summary.setText)
        self.job.finished.connect(self._on_finished)
        self.run_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel_event.set()
            self.cancel_button.setEnabled(False)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_finished(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.run_button.setEnabled(True)
        self.close_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _show(self, report: Evaluation) -> None:
        rows = report.phrases + ([report.total] if report.phrases else [])
        self.table.setRowCount(len(rows))
        for row, result in enumerate(rows):
            for col, text in enumerate(_cells(result)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        if not report.phrases:
            self.summary.setText(report.empty_message)
            return
        total = report.total
        self.summary.setText(f"Acc@0.5 {100 * total.accuracy:.1f} % and mean IoU "
                             f"{total.mean_iou:.2f} over {total.tried} phrases; "
                             + "; ".join(report.notes()) + ".")

    def reject(self) -> None:  # Esc and Close: never leave a job running behind a closed dialog
        self.cancel()
        if self.job is not None:
            self.job.wait()
        super().reject()


def _cells(r: PhraseResult) -> tuple[str, ...]:
    return r.phrase, str(r.tried), f"{100 * r.accuracy:.0f} %", f"{r.mean_iou:.2f}", r.evidence_text
