"""Help → Keyboard shortcuts: the same table the menus are built from."""
from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from .shortcuts import ACTIONS, MOUSE, display_keys


class ShortcutsDialog(QDialog):
    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(1000, 680)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Every action, its keys, and the mouse gestures of the image view."))
        rows = [(a.menu, a.text.replace("&", "").rstrip("…"), display_keys(a),
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
        h = self.table.horizontalHeader()
        self.table.resizeColumnsToContents()
        # Long mouse-gesture texts would make the first columns eat the explanations: cap them
        # and let the last column take the rest, wrapping.
        for c, cap in ((1, 260), (2, 230)):
            h.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            h.resizeSection(c, min(h.sectionSize(c), cap))
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
