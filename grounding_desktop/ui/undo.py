"""The Qt undo stack over the document's Qt-free edits: ``QUndoStack`` (and with it Ctrl+Z, the
history view and its titles) drives ``editing.edits`` through ``ImageDocument.apply``.

An edit that fails (a store error), or that changed nothing (a batch of proposals all there
already), marks its command obsolete, which makes ``QUndoStack`` drop it instead of keeping a step
that did not happen.
"""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoCommand, QUndoStack

from ..editing.document import ImageDocument
from ..editing.edits import Edit


class EditCommand(QUndoCommand):
    """A ``QUndoCommand`` that runs one ``Edit``; its text (the title and the image it belongs to,
    so the history says where each step was made) and merge id are the edit's own."""

    def __init__(self, edit: Edit, doc: ImageDocument):
        super().__init__(edit.history_text)
        self.edit = edit
        self.doc = doc
        self.failed = False

    def redo(self) -> None:
        self._run(undo=False)

    def undo(self) -> None:
        self._run(undo=True)

    def _run(self, undo: bool) -> None:
        if not self.doc.apply(self.edit, undo=undo):
            self.failed = True
            self.setObsolete(True)
        elif self.edit.changed_nothing:
            self.setObsolete(True)
        else:
            self.setText(self.edit.history_text)  # an edit over many images counts those it changed

    def id(self) -> int:  # noqa: A003 - Qt's name
        return self.edit.merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if isinstance(other, EditCommand) and self.edit.merge(other.edit):
            self.setText(self.edit.history_text)
            return True
        return False


class UndoStack(QUndoStack):
    """The document's ``EditStack``: ``push(edit)`` runs it at once and keeps it for undo."""

    def __init__(self, doc: ImageDocument, parent: QObject | None = None):
        super().__init__(parent)
        self.doc = doc

    def push(self, edit: Edit) -> bool:  # type: ignore[override] - takes an Edit, not a QUndoCommand
        command = EditCommand(edit, self.doc)
        super().push(command)
        return not command.failed
