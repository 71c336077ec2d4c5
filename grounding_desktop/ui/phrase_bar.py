"""The phrase bar: where a person types what to find, a line that says what Enter will do, and the
threshold. It shows the document's phrase and passes each keystroke on; it keeps no state.

Its height never changes with what it says: the line under the phrase is one line, cut with "…"
when a message is longer (whole in its tooltip), so the image below never re-fits while typing."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence, QPainter, QPaintEvent
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QLabel, QLineEdit, QSizePolicy, QWidget

from ..core import MAX_PHRASE_CHARS
from ..editing.document import ImageDocument
from ..editing.keys import key
from ..editing.state import Tone

PLACEHOLDER = f"Type a phrase, e.g. “the cat on the left”  ({key('focus_phrase')})"  # whole at the first-start width


class PhraseEdit(QLineEdit):
    """A line edit that lets Ctrl+Z reach the project's undo when it has no typing of its own to
    undo: after Enter accepted a phrase (and the bar was cleared), Ctrl+Z must undo the accept."""

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ShortcutOverride and isinstance(e, QKeyEvent):
            if (e.matches(QKeySequence.StandardKey.Undo) and not self.isUndoAvailable()) or \
                    (e.matches(QKeySequence.StandardKey.Redo) and not self.isRedoAvailable()) or \
                    (e.key() == Qt.Key.Key_Y and e.modifiers() == Qt.KeyboardModifier.ControlModifier
                     and not self.isRedoAvailable()):
                e.ignore()
                return False
        return super().event(e)


class InfoLine(QLabel):
    """A label of exactly one line: ``text()`` is the whole message, the paint cuts it to fit."""

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().height() + 4)

    def shown_text(self) -> str:
        """What fits on the line now."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment()), self.palette(), self.isEnabled(),
                                  self.shown_text(), self.foregroundRole())


class PhraseBar(QWidget):
    text_edited = Signal(str)  # the raw text, at each keystroke (the document cleans it)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("phraseBar")
        layout = QGridLayout(self)
        layout.setContentsMargins(10, 8, 10, 6)
        layout.setHorizontalSpacing(10)
        layout.setVerticalSpacing(4)

        self.edit = PhraseEdit(self)
        self.edit.setObjectName("phraseEdit")
        self.edit.setPlaceholderText(PLACEHOLDER)
        self.edit.setClearButtonEnabled(True)
        self.edit.setMaxLength(MAX_PHRASE_CHARS + 50)
        f = QFont(self.edit.font())
        f.setPointSizeF(max(f.pointSizeF(), 9.0) * 1.3)
        self.edit.setFont(f)
        self.edit.setMinimumWidth(280)
        layout.addWidget(self.edit, 0, 0)
        layout.setColumnStretch(0, 1)

        self.info = InfoLine(self)
        self.info.setObjectName("phraseInfo")
        layout.addWidget(self.info, 1, 0, 1, 3)

        tl = QLabel("Threshold", self)
        tl.setToolTip(f"{key('accept_all')} accepts every proposal scoring at least this")
        layout.addWidget(tl, 0, 1)
        self.threshold = QDoubleSpinBox(self)
        self.threshold.setObjectName("threshold")
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(0.5)
        self.threshold.setToolTip(tl.toolTip())
        self.threshold.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        tl.setBuddy(self.threshold)
        layout.addWidget(self.threshold, 0, 2)

        self._programmatic = False
        self.edit.textEdited.connect(self.text_edited)
        self.edit.textChanged.connect(self._on_changed)

    def _on_changed(self, text: str) -> None:
        # The line edit's clear button empties the text without textEdited on some Qt versions.
        if not text and not self._programmatic:
            self.text_edited.emit(text)

    def bind(self, doc: ImageDocument) -> None:
        """Type into ``doc`` and show its phrase, threshold and messages from now on."""
        self.threshold.setValue(doc.labels.threshold)
        self.text_edited.connect(doc.query.set_text)
        self.threshold.valueChanged.connect(doc.labels.set_threshold)
        doc.query.info.connect(self.set_info)
        doc.query.phrase_set.connect(self.show_phrase)

    # -- API ---------------------------------------------------------------------------------
    def focus(self) -> None:
        """Ctrl+L: the cursor in the phrase bar, the phrase selected (typing replaces it)."""
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    def text(self) -> str:
        return self.edit.text()

    def set_text(self, text: str) -> None:
        """Set the phrase as if typed."""
        self._set(text)
        self.text_edited.emit(text)

    def show_phrase(self, text: str) -> None:
        """Show the document's phrase (selected, so typing replaces it) without passing it back."""
        self._set(text)
        self.edit.selectAll()

    def _set(self, text: str) -> None:
        self._programmatic = True
        try:
            if self.edit.text() != text:
                self.edit.setText(text)
        finally:
            self._programmatic = False

    def forget_typing_history(self) -> None:
        """After a project edit, Ctrl+Z should undo that edit, not the typing before it."""
        if not (self.edit.isUndoAvailable() or self.edit.isRedoAvailable()):
            return
        pos = self.edit.cursorPosition()
        start, length = self.edit.selectionStart(), len(self.edit.selectedText())
        self._programmatic = True
        try:
            self.edit.setText(self.edit.text())  # setText() resets the line edit's own undo history
        finally:
            self._programmatic = False
        if start >= 0 and length:
            self.edit.setSelection(start, length)
        else:
            self.edit.setCursorPosition(pos)

    def set_info(self, text: str, tone: Tone = Tone.NORMAL) -> None:
        self.info.setText(text)
        self.info.setToolTip(text)
        self.info.setProperty("tone", tone.value)
        self.info.style().unpolish(self.info)
        self.info.style().polish(self.info)
