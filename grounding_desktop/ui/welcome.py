"""What the window shows before a folder is open: a way to open one, and the folders opened lately."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget


class WelcomePage(QWidget):
    """"Open a folder…" (the window's Open action) and a button per recent folder that still exists;
    ``folder_chosen`` names the one clicked. It adds itself to ``pages`` and is shown until a
    project is opened."""

    folder_chosen = Signal(str)

    def __init__(self, open_action: QAction, recent: Sequence[str], pages: QStackedWidget):
        super().__init__(pages)
        self.setObjectName("welcome")
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.setSpacing(10)
        title = QLabel("No folder open", self)
        f = QFont(title.font())
        f.setPointSizeF(f.pointSizeF() * 1.8)
        title.setFont(f)
        layout.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(QLabel("Open a folder of images to label what phrases name in them.", self), 0,
                         Qt.AlignmentFlag.AlignHCenter)
        self.open_button = QPushButton("Open a folder…", self)
        self.open_button.setObjectName("openFolderButton")
        self.open_button.setDefault(True)
        self.open_button.setToolTip(open_action.toolTip())
        self.open_button.clicked.connect(open_action.trigger)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.recent_buttons: list[QPushButton] = []
        folders = [f for f in recent if Path(f).is_dir()]
        if folders:
            layout.addSpacing(12)
            layout.addWidget(QLabel("Recent folders", self), 0, Qt.AlignmentFlag.AlignHCenter)
        for folder in folders:
            button = QPushButton(folder, self)
            button.setObjectName("recentFolder")
            button.setFlat(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setToolTip(f"Open {folder}")
            button.clicked.connect(lambda _checked=False, f=folder: self.folder_chosen.emit(f))
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
            self.recent_buttons.append(button)
        pages.addWidget(self)
        pages.setCurrentWidget(self)
