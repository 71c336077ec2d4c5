"""The main window's widgets laid out (the image with its phrase bar, the docks), and the window as
the session's view (``editing.session.SessionView``): what Esc, navigation and opening a project
do to the widgets when the session's rules say so. ``Window`` is the window as its helpers (this
module, ``folder_tools``) use it, so they never import ``main_window``, which imports them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QDialog, QDockWidget, QMainWindow, QStackedWidget, QStatusBar, QUndoView, QVBoxLayout,
                               QWidget)

from .canvas import Canvas
from .expressions_panel import ExpressionsPanel
from .image_list import ImageListPanel
from .phrase_bar import PhraseBar

if TYPE_CHECKING:
    from ..editing.document import ImageDocument
    from .model_host import GrounderHost
    from .undo import UndoStack


class Window(Protocol):
    """What ``ui.main_window.MainWindow`` offers its helpers: the document, the model's host, the
    widgets ``build_widgets`` made, the actions, and showing an image or a dialog."""

    doc: ImageDocument
    host: GrounderHost
    settings: QSettings
    undo_stack: UndoStack
    pages: QStackedWidget
    phrase_bar: PhraseBar
    canvas: Canvas
    image_list: ImageListPanel
    panel: ExpressionsPanel
    images_dock: QDockWidget
    actions_by_name: dict[str, QAction]

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 - Qt's name

    def tabifyDockWidget(self, first: QDockWidget, second: QDockWidget) -> None: ...  # noqa: N802 - Qt's name

    def show_image(self, image_id: int) -> None: ...

    def open_dialog(self, dialog: QDialog) -> QDialog: ...


def add_dock(window: QMainWindow, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setWidget(widget)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    window.addDockWidget(area, dock)
    return dock


def build_widgets(w: QMainWindow, undo_stack: UndoStack) -> None:
    """The window's widgets, as its attributes: ``pages`` (the image with its phrase bar; or, with no
    folder open, a welcome), ``phrase_bar``, ``canvas``, ``image_list``, ``panel``, ``history`` (of
    ``undo_stack``) and their docks."""
    w.pages = QStackedWidget(w)
    central = QWidget(w.pages)
    layout = QVBoxLayout(central)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    w.phrase_bar = PhraseBar(central)
    layout.addWidget(w.phrase_bar)
    w.canvas = Canvas(central)
    w.canvas.keep_focus_elsewhere = lambda: w.phrase_bar.edit.hasFocus() and bool(w.phrase_bar.text().strip())
    layout.addWidget(w.canvas, 1)
    w.pages.addWidget(central)
    w.setCentralWidget(w.pages)
    w.image_list = ImageListPanel(w)
    w.images_dock = add_dock(w, "Images", "imagesDock", w.image_list, Qt.DockWidgetArea.LeftDockWidgetArea)
    w.panel = ExpressionsPanel(w)
    w.panel_dock = add_dock(w, "Phrases and boxes", "phrasesDock", w.panel, Qt.DockWidgetArea.RightDockWidgetArea)
    w.history = QUndoView(undo_stack, w)
    w.history.setObjectName("historyView")
    w.history.setEmptyLabel("Opened project")
    w.history_dock = add_dock(w, "History", "historyDock", w.history, Qt.DockWidgetArea.RightDockWidgetArea)
    w.history_dock.hide()


class WindowView:
    """``editing.session.SessionView`` on the window's widgets."""

    def __init__(self, window: Window) -> None:
        self.w = window

    def show_image(self, image_id: int) -> None:
        self.w.show_image(image_id)

    def say(self, text: str, ms: int) -> None:
        self.w.statusBar().showMessage(text, ms)

    def show_placeholder(self, title: str, detail: str, final: bool) -> None:
        self.w.canvas.show_message(title, detail, final=final)

    def cancel_interaction(self) -> bool:
        return self.w.canvas.cancel_interaction()

    def leave_draw_mode(self) -> bool:
        draw = self.w.actions_by_name["draw_mode"]
        was_on = draw.isChecked()
        draw.setChecked(False)
        return was_on

    def phrase_has_focus(self) -> bool:
        return self.w.phrase_bar.edit.hasFocus()

    def focus_image(self) -> None:
        self.w.canvas.setFocus()
