"""Grounding → Evaluate…: how well the model grounds this project's own phrases, per phrase, with
learned concepts judged leave-one-image-out, and how far its scores can be trusted: per phrase how
often a top box scoring above 0.5 was right, the reliability table (top boxes per tenth of the
score, the fraction right) and the picture of both (``evaluation.py``, ``evaluation_plot.py``).
The frame (progress bar, Cancel, a worker thread, a summary) is the export and import dialogs';
the plan is read from the project here and run by the window's model, in its process, beside the
proposals; the picture is drawn on the worker thread too."""
from __future__ import annotations

from functools import partial
from typing import Callable, Optional

from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QWidget)

from ..evaluation import Evaluation, PhraseResult, ScoreBin, calibration_error, evaluate_project
from ..evaluation_plot import plot_png
from ..model_worker.jobs import EVALUATE
from ..store import ProjectStore
from .model_host import GrounderHost
from .transfer_dialogs import WorkerDialog

COLUMNS = ("Phrase", "Tried", "Acc@0.5", "Mean IoU", "Right when > 0.5", "Evidence")
BIN_COLUMNS = ("Score", "Top boxes", "Right")
PICTURE_SIZE = (760, 320)


class EvaluateDialog(WorkerDialog):
    """``EvaluateDialog(store, host)``; Run starts, the tables and the picture fill when it is done."""

    def __init__(self, store: ProjectStore, host: GrounderHost, parent: Optional[QWidget] = None):
        super().__init__(store, "Evaluate the model on this project", parent)
        self.host = host
        self.setMinimumSize(PICTURE_SIZE[0] + 280, 720)
        intro = QLabel("Grounds every phrase that has accepted boxes and compares the model's top box "
                       "with them. Concepts learned from your boxes are judged on each image without "
                       "that image's own boxes. The reliability says how often a score was right.")
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.table = _table("evaluationTable", COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.bins_table = _table("reliabilityTable", BIN_COLUMNS)
        self.bins_table.setFixedWidth(240)
        self.bins_table.verticalHeader().setDefaultSectionSize(22)
        self.picture = QLabel()
        self.picture.setObjectName("evaluationPicture")
        self.picture.setMinimumSize(*PICTURE_SIZE)
        below = QHBoxLayout()
        below.addWidget(self.bins_table)
        below.addWidget(self.picture, 1)
        at = self.layout().indexOf(self.summary)
        self.layout().insertWidget(at, self.table, 1)
        self.layout().insertLayout(at + 1, below)

    def make_work(self) -> Optional[Callable]:
        if not self.host.ready:
            self.summary.setPlainText("The model has not loaded yet: try again in a moment.")
            return None
        self.table.setRowCount(0)
        self.bins_table.setRowCount(0)
        self.picture.clear()
        run = partial(self.host.run_job, EVALUATE)
        model = self.host.info.embedding_model

        def work(progress, cancelled) -> tuple[Evaluation, Optional[bytes]]:
            report = evaluate_project(self.store, model, run, progress, cancelled)
            return report, plot_png(report, *PICTURE_SIZE) if report.phrases else None

        return work

    def summary_lines(self, result: tuple[Evaluation, Optional[bytes]]) -> list[str]:
        report, png = result
        rows = report.phrases + ([report.total] if report.phrases else [])
        _fill(self.table, [_cells(r) for r in rows])
        if not report.phrases:
            return [report.empty_message]
        bins = report.reliability_bins
        _fill(self.bins_table, [_bin_cells(b) for b in bins])
        picture = QPixmap()
        if png is not None and picture.loadFromData(png, "PNG"):
            self.picture.setPixmap(picture)
        total = report.total
        trust = (f"top boxes scoring above 0.5 were right {total.above_half_right} of {total.above_half} times"
                 if total.above_half else "no top box scored above 0.5")
        error = calibration_error(bins)
        return [f"Acc@0.5 {100 * total.accuracy:.1f} % and mean IoU {total.mean_iou:.2f} over "
                f"{total.tried} phrases; {trust}"
                + (f"; expected calibration error {error:.2f}" if error is not None else "") + ".",
                "; ".join(report.notes()) + "."]


def _table(name: str, columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for row, cells in enumerate(rows):
        for col, text in enumerate(cells):
            table.setItem(row, col, QTableWidgetItem(text))


def _cells(r: PhraseResult) -> tuple[str, ...]:
    return (r.phrase, str(r.tried), f"{100 * r.accuracy:.0f} %", f"{r.mean_iou:.2f}", r.reliability_text,
            r.evidence_text)


def _bin_cells(b: ScoreBin) -> tuple[str, ...]:
    return (f"{b.low:.1f}–{b.high:.1f}", str(b.count),
            f"{100 * b.fraction_right:.0f} %" if b.fraction_right is not None else "–")
