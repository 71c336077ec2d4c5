"""The undo stack of the document's edits, in plain Python (glue's ``core/command.py``
``CommandStack`` is the pattern): ``push`` runs an edit through ``apply`` (``ImageDocument.apply``)
and keeps it; ``undo``/``redo`` walk it; ``set_index`` jumps (the history view).

An edit that fails (a store error), or that changed nothing (a batch of proposals all there
already), is not kept: on push it is dropped, on undo or redo it is taken out of the stack (Qt's
obsolete commands behave alike, so ``ui.undo.UndoStack``, the window's ``QUndoStack`` over this
stack, stays in step). An edit pushed right after one with the same ``merge_id`` (not
``NO_MERGE``) may join it (``Edit.merge``: nudges of one box, a propose run's batches).
"""
from __future__ import annotations

from typing import Callable, Optional

from .edits import NO_MERGE, Edit

Apply = Callable[[Edit, bool], bool]  # (edit, undo) -> False if it failed


class EditStack:
    def __init__(self, apply: Apply) -> None:
        self._apply = apply
        self._edits: list[Edit] = []
        self._index = 0  # self._edits[:index] are done

    # -- reading -------------------------------------------------------------------------------
    def count(self) -> int:
        return len(self._edits)

    def index(self) -> int:
        return self._index

    def text(self, i: int) -> str:
        """The history text of the ``i``-th edit (the title and the image it belongs to)."""
        return self._edits[i].history_text

    def on_top(self, edit: Edit) -> bool:
        """``edit`` is the last one done (pushed and kept on its own, not merged into another)."""
        return self._index > 0 and self._edits[self._index - 1] is edit

    # -- changing ------------------------------------------------------------------------------
    def push(self, edit: Edit) -> bool:
        """Run ``edit`` and keep it for undo (joined to the one before when they merge). False if
        it failed (it is then not kept); an edit that changed nothing is not kept either."""
        if not self._apply(edit, False):
            return False
        if not edit.changed_nothing:
            del self._edits[self._index:]
            top: Optional[Edit] = self._edits[-1] if self._edits else None
            if not (top is not None and edit.merge_id != NO_MERGE and top.merge_id == edit.merge_id
                    and top.merge(edit)):
                self._edits.append(edit)
            self._index = len(self._edits)
        return True

    def undo(self) -> bool:
        """Undo the last edit done; False if it failed or there was none (a failed one is dropped)."""
        if not self._index:
            return False
        self._index -= 1
        return self._run(self._index, undo=True)

    def redo(self) -> bool:
        """Redo the next edit undone; False if it failed or there was none (a failed one is dropped)."""
        if self._index == len(self._edits):
            return False
        kept = self._run(self._index, undo=False)
        if kept:
            self._index += 1
        return kept

    def set_index(self, index: int) -> None:
        """Undo or redo until ``index`` edits are done (or an edit on the way fails)."""
        while self._index > index and self.undo():
            pass
        while self._index < index and self.redo():
            pass

    def clear(self) -> None:
        self._edits.clear()
        self._index = 0

    def _run(self, i: int, undo: bool) -> bool:
        edit = self._edits[i]
        kept = self._apply(edit, undo) and not edit.changed_nothing
        if not kept:
            del self._edits[i]
        return kept
