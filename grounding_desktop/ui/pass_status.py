"""The feature pass in the status bar: what it is doing, a progress bar, and Cancel (or Resume)."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from ..folder.feature_pass import PassReport
from .folder_pass import FolderPass

DONE_SHOWN_MS = 5000  # "All images prepared" stays this long


class PassStatus(QWidget):
    def __init__(self, folder_pass: FolderPass, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("passStatus")
        self.folder_pass = folder_pass
        self.setToolTip("The model prepares every image once, so that search and propose for every image are "
                        "fast; the image you look at always comes first. Grounding → Prepare Images in the "
                        "Background turns the automatic start off.")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("passProgress")
        self.bar.setMaximumWidth(100)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.button = QToolButton(self)
        self.button.setObjectName("passButton")
        self.button.clicked.connect(self._clicked)
        for w in (self.label, self.bar, self.button):
            layout.addWidget(w)
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.timeout.connect(self.hide)
        self._done = (0, 0)
        folder_pass.progressed.connect(self.show_progress)
        folder_pass.finished.connect(self.show_finished)
        self.hide()

    def show_progress(self, done: int, total: int) -> None:
        self._hide_timer.stop()
        self._done = (done, total)
        self.label.setText(f"Preparing images {done:,} / {total:,}" if total else "Preparing images…")
        self.bar.setRange(0, total)  # (0, 0): busy, until the pass knows how many
        self.bar.setValue(done)
        self.bar.show()
        self.button.setText("Cancel")
        self.button.setEnabled(True)
        self.button.show()
        self.show()

    def show_finished(self, report: Optional[PassReport], error: str) -> None:
        done, total = self._done
        self.bar.hide()
        if error or (report is not None and report.cancelled):
            what = f"stopped: {error}" if error else "paused"
            self.label.setText(f"Image preparation {what} ({done:,} / {total:,})" if total
                               else f"Image preparation {what}")
            self.button.setText("Resume")
            self.button.setEnabled(True)
            self.show()
        elif report is not None and (report.prepared or report.failed):
            failed = len(report.failed)
            self.label.setText("All images prepared" + (f"; {failed:,} could not be read" if failed else ""))
            self.button.hide()
            self._hide_timer.start(DONE_SHOWN_MS)
        else:
            self.hide()

    def _clicked(self) -> None:
        if self.folder_pass.running:
            self.folder_pass.cancel()
            self.button.setEnabled(False)
            self.label.setText("Stopping after this batch…")
        else:
            self.folder_pass.start()
