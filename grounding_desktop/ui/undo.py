"""The window's view of the document's undo stack: ``UndoStack`` is a ``QUndoStack`` (and with it
Ctrl+Z, the history view and its titles) kept in step with ``editing.edit_stack.EditStack``, which
holds the edits and their rules (what is kept, what merges, what a failure drops).

Each kept edit is mirrored by one ``EditCommand``: Qt's undo and redo (Ctrl+Z, a click in the
history view) call the plain stack's; an edit the plain stack dropped (a failed undo or redo) is
marked obsolete, which makes ``QUndoStack`` drop it too, and an edit the plain stack merged is
merged here as well.
"""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoCommand, QUndoStack

from ..editing.document import ImageDocument
from ..editing.edit_stack import EditStack
from ..editing.edits import Edit


class EditCommand(QUndoCommand):
    """One kept ``Edit`` of ``stack``; its text (the title and the image it belongs to, so the
    history says where each step was made) and merge id are the edit's own."""

    def __init__(self, edit: Edit, stack: EditStack, merged: bool):
        super().__init__(edit.history_text)
        self.edit, self.stack, self.merged = edit, stack, merged
        self._pushed = False  # the plain stack ran it already: Qt's first redo (in push) does nothing

    def redo(self) -> None:
        if self._pushed:
            self._after(self.stack.redo())
        self._pushed = True

    def undo(self) -> None:
        self._after(self.stack.undo())

    def _after(self, kept: bool) -> None:
        if kept:
            self.setText(self.edit.history_text)  # an edit over many images counts those it changed
        else:
            self.setObsolete(True)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return self.edit.merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if isinstance(other, EditCommand) and other.merged:
            self.setText(self.edit.history_text)
            return True
        return False


class UndoStack(QUndoStack):
    """The document's ``EditStack`` as a ``QUndoStack``: ``push(edit)`` runs it at once and keeps
    it for undo; ``edits`` is the plain stack underneath."""

    def __init__(self, doc: ImageDocument, parent: QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self.edits = EditStack(doc.apply)

    def push(self, edit: Edit) -> bool:  # type: ignore[override] - takes an Edit, not a QUndoCommand
        if not self.edits.push(edit):
            return False
        if not edit.changed_nothing:  # kept: on top of the stack, or merged into the edit there
            super().push(EditCommand(edit, self.edits, merged=not self.edits.on_top(edit)))
        return True

    def clear(self) -> None:
        self.edits.clear()
        super().clear()
