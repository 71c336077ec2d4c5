"""The window's message boxes: a warning, the model that could not load, About. Each opens
without blocking (``open``, not ``exec``): the window stays usable behind it."""
from __future__ import annotations

import os

from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from .. import __version__

APP_TITLE = "Grounding Desktop"


def warn(window: QMainWindow, title: str, text: str) -> None:
    """Say it in the status bar, and in a box when there is someone to click OK."""
    window.statusBar().showMessage(f"{title}: {text}", 8000)
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, window).open()


def model_failed(window: QWidget, reason: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Warning, "The grounding model could not load",
                      f"{reason}\n\nYou can keep labelling by hand: draw boxes with W and type their phrases.",
                      QMessageBox.StandardButton.Ok, window)
    box.setObjectName("modelFailedDialog")
    box.finished.connect(lambda _r: window.activateWindow())
    box.open()
    return box


def about(window: QWidget, model: str, database: str) -> None:
    QMessageBox(QMessageBox.Icon.Information, f"About {APP_TITLE}",
                f"{APP_TITLE} {__version__}\n\nModel: {model}\nProject database: {database}\n\n"
                "Everything runs on this computer; nothing is sent anywhere.",
                QMessageBox.StandardButton.Ok, window).open()
