"""Help → Keyboard shortcuts: the same table the menus are built from.

"What it does" wraps, never cut: row heights follow the column's width whenever it changes (the
stretched column only gets its width once the dialog is shown, and again when it is resized)."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from .shortcuts import ACTIONS, MOUSE, shown_keys


class ShortcutsDialog(QDialog):
    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(1000, 680)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Every action, its keys, and the mouse gestures of the image view."))
        rows = [(a.menu, a.text.replace("&", "").rstrip("…"), shown_keys(a),
                 a.tip + (f" ({a.notes})" if a.notes else "")) for a in ACTIONS]
        rows += [("Mouse", d, g, "") for g, d in MOUSE]
        self.table = QTableWidget(len(rows), 4, self)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Menu", "Action", "Keys", "What it does"])
        for r, values in enumerate(rows):
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(v))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        h = self.table.horizontalHeader()
        self.table.resizeColumnsToContents()
        # Long mouse-gesture texts would make the first columns eat the explanations: cap them
        # and let the last column take the rest, wrapping.
        for c, cap in ((1, 260), (2, 230)):
            h.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            h.resizeSection(c, min(h.sectionSize(c), cap))
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        # Rows follow the stretched column's width; it changes with the dialog, after (or before)
        # the table's own resize, so the rows are measured once both have happened.
        self._fit_rows = QTimer(self)
        self._fit_rows.setSingleShot(True)
        self._fit_rows.setInterval(0)
        self._fit_rows.timeout.connect(self.table.resizeRowsToContents)
        h.sectionResized.connect(lambda *_: self._fit_rows.start())
        self.table.viewport().installEventFilter(self)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if obj is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_rows.start()
        return super().eventFilter(obj, event)
