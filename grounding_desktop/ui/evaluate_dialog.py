"""Grounding → Evaluate…: how well the model grounds this project's own phrases, per phrase, with
learned concepts judged leave-one-image-out (``evaluation.py``). The frame (progress bar, Cancel,
a worker thread, a summary) is the export and import dialogs'; the model is the window's (its
locks make sharing it with the window's own work safe)."""
from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QWidget

from ..evaluation import Evaluation, PhraseResult, evaluate_project
from ..store import ProjectStore
from .transfer_dialogs import WorkerDialog

COLUMNS = ("Phrase", "Tried", "Acc@0.5", "Mean IoU", "Evidence")


class EvaluateDialog(WorkerDialog):
    """``EvaluateDialog(store, grounder)``; Run starts, the table fills when it is done."""

    def __init__(self, store: ProjectStore, grounder, parent: Optional[QWidget] = None):
        super().__init__(store, "Evaluate the model on this project", parent)
        self.grounder = grounder
        self.setMinimumHeight(420)
        intro = QLabel("Grounds every phrase that has accepted boxes and compares the model's top box "
                       "with them. Concepts learned from your boxes are judged on each image without "
                       "that image's own boxes.")
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("evaluationTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.layout().insertWidget(self.layout().indexOf(self.summary), self.table, 1)

    def make_work(self) -> Optional[Callable]:
        if self.grounder is None:
            self.summary.setPlainText("The model has not loaded yet: try again in a moment.")
            return None
        self.table.setRowCount(0)
        return lambda progress, cancelled: evaluate_project(self.grounder, self.store, progress, cancelled)

    def summary_lines(self, report: Evaluation) -> list[str]:
        rows = report.phrases + ([report.total] if report.phrases else [])
        self.table.setRowCount(len(rows))
        for row, result in enumerate(rows):
            for col, text in enumerate(_cells(result)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        if not report.phrases:
            return [report.empty_message]
        total = report.total
        return [f"Acc@0.5 {100 * total.accuracy:.1f} % and mean IoU {total.mean_iou:.2f} over "
                f"{total.tried} phrases", "; ".join(report.notes()) + "."]


def _cells(r: PhraseResult) -> tuple[str, ...]:
    return r.phrase, str(r.tried), f"{100 * r.accuracy:.0f} %", f"{r.mean_iou:.2f}", r.evidence_text
