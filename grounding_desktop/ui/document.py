"""The open project as the widgets see it: the store, the undo stack, and change notifications.

Undo commands are the only writers (they call ``store`` and then ``notify``); widgets listen to
``changed`` and re-read what they show. Keeping the write path this narrow is what makes "every
edit is undoable and saved at once" hold by construction.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from ..core import ImageRecord
from ..store import ProjectStore, StoreError


class ProjectDocument(QObject):
    """One project opened in the window."""

    changed = Signal(int)  # image id whose expressions, boxes or state changed
    error = Signal(str)  # a store operation failed; the message is meant for the user

    def __init__(self, store: ProjectStore, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.undo_stack = QUndoStack(self)

    def notify(self, image_id: int) -> None:
        self.changed.emit(image_id)

    def push(self, command: QUndoCommand) -> bool:
        """Run ``command`` (its first redo) and keep it for undo; False if the store refused it."""
        self.undo_stack.push(command)
        failed = getattr(command, "failed", None)
        return failed is None

    def image(self, image_id: int) -> ImageRecord | None:
        return self.store.image(image_id)

    def report(self, exc: Exception) -> None:
        self.error.emit(str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        self.undo_stack.clear()
        self.store.close()
