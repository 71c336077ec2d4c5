"""Asking for a phrase: to name a box just drawn, to give one box another phrase (F2 on a box), or
to edit a phrase's text (F2 on a phrase). ``PhraseQuestions`` asks them for the window and hands
the answers to the document's rules.

The image's phrases are offered under the text field: typing narrows the list to the phrases that
contain what is typed, Up/Down walk it (putting the phrase in the field), Enter takes the field's
text: never a completion the person did not see (inline completion would turn "the cup" into "the
cup holder" on Enter). The
dialog opens beside the box it is about, never over it, so the person sees what they are naming.
It is window-modal and answers through ``chosen``, so the window (and a test) keeps running.
"""
from __future__ import annotations

from typing import Optional, Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QLineEdit, QListWidget, QVBoxLayout,
                               QWidget)

from ..editing.document import ImageDocument
from .canvas import Canvas

GAP_PX = 12  # between the box and the dialog
MAX_LIST_ROWS = 8  # phrases shown at once; more scroll


def place_beside(size: QSize, avoid: QRect, area: QRect) -> QPoint:
    """Top-left for a window of ``size`` inside ``area`` that does not cover ``avoid``: to the right
    of it, else the left, below, above; if none fits, the spot that covers the least of it."""
    centre = avoid.center()
    spots = [QPoint(avoid.right() + GAP_PX, centre.y() - size.height() // 2),
             QPoint(avoid.left() - GAP_PX - size.width(), centre.y() - size.height() // 2),
             QPoint(centre.x() - size.width() // 2, avoid.bottom() + GAP_PX),
             QPoint(centre.x() - size.width() // 2, avoid.top() - GAP_PX - size.height())]

    def inside(p: QPoint) -> QPoint:
        x = min(max(p.x(), area.left()), area.right() - size.width())
        y = min(max(p.y(), area.top()), area.bottom() - size.height())
        return QPoint(max(x, area.left()), max(y, area.top()))

    def covered(p: QPoint) -> int:
        r = QRect(p, size).intersected(avoid)
        return r.width() * r.height() if r.isValid() else 0

    return min((inside(p) for p in spots), key=covered)


class PhraseDialog(QDialog):
    """``PhraseDialog(parent, title, prompt, phrases, text)``; ``chosen(str)`` on OK. ``show_beside``
    opens it next to a rectangle of the screen (global coordinates)."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget, title: str, prompt: str, phrases: Sequence[str] = (), text: str = ""):
        super().__init__(parent)
        self.setObjectName("phraseDialog")
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt, self))
        self.edit = QLineEdit(text, self)
        self.edit.setObjectName("phraseDialogEdit")
        self.edit.setMinimumWidth(320)
        self.edit.selectAll()
        layout.addWidget(self.edit)
        self.list = QListWidget(self)
        self.list.setObjectName("phraseDialogList")
        self.list.addItems(list(dict.fromkeys(phrases)))
        self.list.setVisible(bool(phrases))
        rows = min(self.list.count(), MAX_LIST_ROWS)
        self.list.setFixedHeight(rows * self.list.sizeHintForRow(0) + 2 * self.list.frameWidth() + 4 if rows else 0)
        self.list.setToolTip("The phrases already on this image: click one to choose it")
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.edit.textEdited.connect(self._filter)
        self.list.itemClicked.connect(lambda item: self.edit.setText(item.text()))
        self.list.itemDoubleClicked.connect(lambda item: (self.edit.setText(item.text()), self.accept()))
        self.edit.installEventFilter(self)

    def phrases(self) -> list[str]:
        """The phrases the list offers now (after filtering by what is typed)."""
        return [self.list.item(i).text() for i in range(self.list.count()) if not self.list.item(i).isHidden()]

    def show_beside(self, avoid: QRect) -> None:
        """Open the dialog next to ``avoid`` (global coordinates), inside the parent window."""
        self.adjustSize()
        area = self.parentWidget().window().frameGeometry()
        self.move(place_beside(self.frameGeometry().size(), avoid, area))
        self.open()
        self.edit.setFocus()

    def accept(self) -> None:
        self.chosen.emit(self.edit.text())
        super().accept()

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """Up/Down in the text field walk the (filtered) list of phrases (and are not the window's
        nudge keys meanwhile)."""
        walk = obj is self.edit and isinstance(event, QKeyEvent) and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) \
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        if walk and event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        if walk and event.type() == QEvent.Type.KeyPress and self.phrases():
            shown = self.phrases()
            current = self.list.currentItem()
            at = shown.index(current.text()) if current is not None and current.text() in shown else -1
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            choice = shown[(at + step) % len(shown)] if at >= 0 else shown[0 if step > 0 else -1]
            self.list.setCurrentItem(self.list.findItems(choice, Qt.MatchFlag.MatchExactly)[0])
            self.edit.setText(choice)
            return True
        return super().eventFilter(obj, event)


class PhraseQuestions(QObject):
    """The window's questions about phrases; ``dialog`` is the one open now (None when none is)."""

    def __init__(self, window: QWidget, doc: ImageDocument, canvas: Canvas):
        super().__init__(window)
        self.window, self.doc, self.canvas = window, doc, canvas
        self.dialog: Optional[PhraseDialog] = None

    def name_drawn_box(self, xywh: tuple) -> None:
        """A box drawn: the typed phrase names it; with none typed, ask, beside the box (outlined
        meanwhile). The selection never names it."""
        if not self.doc.draw_box(xywh):
            self.canvas.mark_pending(xywh)
            dialog = self._beside(xywh, "Phrase for the new box", "What does this box show?")
            dialog.chosen.connect(lambda text: self.doc.draw_box(xywh, text))
            dialog.finished.connect(lambda _result: self.canvas.mark_pending(None))

    def edit_selected(self) -> None:
        """F2 (or a double-click): on a box, give that box alone another phrase; on a phrase,
        change its text (all its boxes follow)."""
        box, expr = self.doc.labels.selected_box, self.doc.labels.selected_expression
        if expr is None:
            self.doc.labels.notice.emit("Select a box or a phrase to edit its phrase")
        elif box is not None:
            dialog = self._beside(box.bbox, "Phrase for this box", "This box shows (only this box changes):", expr.text)
            dialog.chosen.connect(lambda text: self.doc.labels.relabel_box(box.id, text))
        else:
            dialog = self._open(PhraseDialog(self.window, "Edit phrase", "Phrase (all its boxes follow):",
                                             text=expr.text))
            dialog.chosen.connect(lambda text: self.doc.labels.rename(expr.id, text))
            dialog.open()

    def _beside(self, xywh: tuple, title: str, prompt: str, text: str = "") -> PhraseDialog:
        """The dialog for a box, offering the image's phrases, opened beside the box."""
        dialog = self._open(PhraseDialog(self.window, title, prompt, [a.expression.text for a in self.doc.labels.annotations],
                                         text))
        dialog.show_beside(self.canvas.global_rect(xywh))
        return dialog

    def _open(self, dialog: PhraseDialog) -> PhraseDialog:
        self.dialog = dialog
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        return dialog
