"""Helpers for the GUI tests: a driver that works the real widgets with qtbot's keyboard and mouse."""
from __future__ import annotations

from typing import Callable, Optional

import fakes

from grounding_desktop.editing.state import ModelState

IMAGE_SIZE = (320, 240)
# How long a test waits for the real model's answer: a first one loads the second CNN and teaches
# a project's boxes, seconds on a busy 2-core machine (a wait, not a measure of speed).
REAL_MODEL_MS = 60_000


class Driver:
    """Drives a MainWindow the way a person would, and reads back what the store holds."""

    def __init__(self, qtbot, window):
        self.qtbot = qtbot
        self.w = window

    expected = staticmethod(fakes.expected)  # what the fake model answers

    # -- state -------------------------------------------------------------------------------
    @property
    def store(self):
        return self.w.doc.labels.store

    def annotations(self, image_id: Optional[int] = None):
        return self.store.labels.annotations(image_id if image_id is not None else self.w.doc.labels.image.id)

    def only_box(self):
        ann = self.annotations()
        assert len(ann) == 1 and len(ann[0][1]) == 1, ann
        return ann[0][0], ann[0][1][0]

    def wait(self, condition: Callable[[], bool], timeout: int = 5000) -> None:
        self.qtbot.waitUntil(condition, timeout=timeout)

    def wait_ready(self, timeout: int = 5000) -> None:
        self.wait(lambda: self.w.doc.labels.image is not None and self.w.last_painted_id == self.w.doc.labels.image.id)
        self.wait(lambda: self.w.host.state in (ModelState.READY, ModelState.FAILED), timeout)

    # -- keyboard ----------------------------------------------------------------------------
    def type_phrase(self, text: str, wait: bool = True, timeout: int = 5000) -> None:
        """Type ``text`` into the phrase bar and (``wait``) wait up to ``timeout`` ms for its answer."""
        from PySide6.QtCore import Qt

        edit = self.w.phrase_bar.edit
        edit.setFocus()
        self.qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        self.qtbot.keyClicks(edit, text)
        if wait:
            self.wait(lambda: self.w.doc.query.up_to_date and self.w.doc.query.answer.query.phrase == " ".join(text.split()),
                      timeout)

    def key(self, key, modifier=None, widget=None) -> None:
        from PySide6.QtCore import Qt

        if widget is not None and widget is not self.w.focusWidget():
            widget.setFocus()  # as a person would, by clicking it or pressing Esc in the phrase bar
        target = widget or self.w.focusWidget() or self.w
        self.qtbot.keyClick(target, key, modifier or Qt.KeyboardModifier.NoModifier)

    def answer_phrase(self, text: str) -> None:
        """Type ``text`` into the phrase dialog the window opened, as a person would, and press Enter."""
        from PySide6.QtCore import Qt

        self.wait(lambda: self.w.questions.dialog is not None and self.w.questions.dialog.isVisible())
        edit = self.w.questions.dialog.edit
        self.qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        self.qtbot.keyClicks(edit, text)
        self.qtbot.keyClick(edit, Qt.Key.Key_Return)

    # -- mouse (image pixel coordinates) -------------------------------------------------------
    def view_point(self, x: float, y: float):
        from PySide6.QtCore import QPointF

        return self.w.canvas.mapFromScene(QPointF(x, y))

    def click_image(self, x: float, y: float, modifier=None) -> None:
        from PySide6.QtCore import Qt

        self.qtbot.mouseClick(self.w.canvas.viewport(), Qt.MouseButton.LeftButton,
                              modifier or Qt.KeyboardModifier.NoModifier, self.view_point(x, y))

    def drag_image(self, start: tuple[float, float], end: tuple[float, float], button=None, steps: int = 5) -> None:
        from PySide6.QtCore import QPoint, Qt
        from PySide6.QtTest import QTest

        button = button or Qt.MouseButton.LeftButton
        vp = self.w.canvas.viewport()
        a, b = self.view_point(*start), self.view_point(*end)
        QTest.mousePress(vp, button, Qt.KeyboardModifier.NoModifier, a)
        for i in range(1, steps + 1):
            p = QPoint(round(a.x() + (b.x() - a.x()) * i / steps), round(a.y() + (b.y() - a.y()) * i / steps))
            QTest.mouseMove(vp, p)
        QTest.mouseRelease(vp, button, Qt.KeyboardModifier.NoModifier, b)


def make_window(qtbot, store, factory, **kwargs):
    from grounding_desktop.ui.main_window import MainWindow
    from grounding_desktop.ui.model_start import ModelStart

    window = MainWindow(store, ModelStart(factory), **kwargs)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    return window
