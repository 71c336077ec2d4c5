"""What the window shows before a folder is open: a way to open one, and the folders opened lately."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class WelcomePage(QWidget):
    """"Open a folder…" (the window's Open action) and a button per recent folder that still exists;
    ``folder_chosen`` names the one clicked."""

    folder_chosen = Signal(str)

    def __init__(self, open_action: QAction, parent: Optional[QWidget] = None):
        super().__init__(parent)
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
        self.recent_title = QLabel("Recent folders", self)
        self.recent_title.setObjectName("recentTitle")
        layout.addSpacing(12)
        layout.addWidget(self.recent_title, 0, Qt.AlignmentFlag.AlignHCenter)
        self._recent = QVBoxLayout()
        layout.addLayout(self._recent)
        self.recent_buttons: list[QPushButton] = []

    def set_recent(self, folders: Sequence[str]) -> None:
        for button in self.recent_buttons:
            self._recent.removeWidget(button)
            button.deleteLater()
        self.recent_buttons = []
        for folder in (f for f in folders if Path(f).is_dir()):
            button = QPushButton(folder, self)
            button.setFlat(True)
            button.setToolTip(f"Open {folder}")
            button.clicked.connect(lambda _checked=False, f=folder: self.folder_chosen.emit(f))
            self._recent.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
            self.recent_buttons.append(button)
        self.recent_title.setVisible(bool(self.recent_buttons))
