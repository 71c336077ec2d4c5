"""Every user edit as a ``QUndoCommand`` over the store.

Each command writes through ``ProjectStore`` (one SQLite transaction per call, so an edit is on
disk the moment it is made) and then tells the document which image changed. Undo of a deletion
uses the store's ``restore_*`` operations, so a redo after an undo brings back the *same* ids and
later commands on the stack that refer to those ids stay valid.

A store error (say, the disk is full) does not leave a half-applied command on the stack: the
command marks itself obsolete, which makes ``QUndoStack`` drop it, and the document reports it.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from PySide6.QtGui import QUndoCommand

from ..core import Box, BoxSource, BoxState, Expression, ImageState
from ..core.geometry import XYWH
from .document import ProjectDocument

_NUDGE_ID = 4201


def _quote(text: str, limit: int = 40) -> str:
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


class StoreCommand(QUndoCommand):
    """Runs ``_do``/``_undo`` and reports failures instead of leaving the stack inconsistent."""

    def __init__(self, doc: ProjectDocument, image_id: int, title: str):
        super().__init__(title)
        self.doc = doc
        self.image_id = image_id
        self.failed: Optional[str] = None

    def redo(self) -> None:
        self._guarded(self._do)

    def undo(self) -> None:
        self._guarded(self._undo)

    def _guarded(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - any store failure must not corrupt the stack
            self.failed = str(exc)
            self.setObsolete(True)
            self.doc.report(exc)
        self.doc.notify(self.image_id)

    def _do(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _undo(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class AddBoxesCommand(StoreCommand):
    """Store boxes for a phrase: accepted proposals, a rejected proposal, or a drawn box.

    If the image already has an expression with exactly this text the boxes join it (a second
    horse for "the horses"); otherwise the expression is created with them.
    """

    def __init__(self, doc: ProjectDocument, image_id: int, text: str, boxes: Sequence[Box], title: str,
                 expression_id: Optional[int] = None):
        super().__init__(doc, image_id, title)
        self.text = text
        self.specs = list(boxes)
        self.target_expression_id = expression_id
        self.expression: Optional[Expression] = None
        self.boxes: list[Box] = []
        self.created_expression = False
        self._done_once = False

    def _find_expression(self) -> Optional[Expression]:
        if self.target_expression_id is not None:
            return self.doc.store.expression(self.target_expression_id)
        for e in self.doc.store.expressions(self.image_id):
            if e.text == self.text:
                return e
        return None

    def _do(self) -> None:
        store = self.doc.store
        if not self._done_once:
            existing = self._find_expression()
            if existing is None:
                self.expression, self.boxes = store.add_expression(self.image_id, self.text, self.specs)
                self.created_expression = True
            else:
                self.expression = existing
                self.boxes = [store.add_box(existing.id, b.bbox, b.state, b.source, b.score, b.model_version,
                                           b.explanation)
                              for b in self.specs]
            self._done_once = True
        elif self.created_expression:
            store.restore_expression(self.expression, self.boxes)
        else:
            for b in self.boxes:
                store.restore_box(b)

    def _undo(self) -> None:
        store = self.doc.store
        if self.created_expression:
            # The snapshot keeps created/updated times, so a redo restores the row exactly.
            self.expression, self.boxes = store.delete_expression(self.expression.id)
        else:
            for b in reversed(self.boxes):
                store.delete_box(b.id)


class MoveResizeBoxCommand(StoreCommand):
    """A box dragged, resized or nudged. Edited model boxes become ``model+edited``."""

    def __init__(self, doc: ProjectDocument, image_id: int, box: Box, new_bbox: XYWH, title: str,
                 nudge: bool = False):
        super().__init__(doc, image_id, title)
        self.box_id = box.id
        self.old_bbox = tuple(box.bbox)
        self.new_bbox = tuple(float(v) for v in new_bbox)
        self.old_source = box.source
        self.new_source = BoxSource.MODEL_EDITED if box.source == BoxSource.MODEL else box.source
        self.nudge = nudge

    def id(self) -> int:  # noqa: A003 - Qt's name
        return _NUDGE_ID if self.nudge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        """Arrow-key nudges of one box collapse into one undo step."""
        if not isinstance(other, MoveResizeBoxCommand) or not (self.nudge and other.nudge):
            return False
        if other.box_id != self.box_id:
            return False
        self.new_bbox = other.new_bbox
        return True

    def _do(self) -> None:
        self.doc.store.update_box(self.box_id, bbox=self.new_bbox, source=self.new_source)

    def _undo(self) -> None:
        self.doc.store.update_box(self.box_id, bbox=self.old_bbox, source=self.old_source)


class DeleteBoxCommand(StoreCommand):
    def __init__(self, doc: ProjectDocument, image_id: int, box_id: int, title: str = "Delete box"):
        super().__init__(doc, image_id, title)
        self.box_id = box_id
        self.snapshot: Optional[Box] = None

    def _do(self) -> None:
        self.snapshot = self.doc.store.delete_box(self.box_id)

    def _undo(self) -> None:
        self.doc.store.restore_box(self.snapshot)


class DeleteExpressionCommand(StoreCommand):
    def __init__(self, doc: ProjectDocument, image_id: int, expression: Expression):
        super().__init__(doc, image_id, f"Delete phrase {_quote(expression.text)}")
        self.expression_id = expression.id
        self.snapshot: Optional[tuple[Expression, list[Box]]] = None

    def _do(self) -> None:
        self.snapshot = self.doc.store.delete_expression(self.expression_id)

    def _undo(self) -> None:
        expr, boxes = self.snapshot
        self.doc.store.restore_expression(expr, boxes)


class RenameExpressionCommand(StoreCommand):
    def __init__(self, doc: ProjectDocument, image_id: int, expression: Expression, new_text: str):
        super().__init__(doc, image_id, f"Edit phrase {_quote(expression.text)} → {_quote(new_text)}")
        self.expression_id = expression.id
        self.old_text = expression.text
        self.new_text = new_text

    def _do(self) -> None:
        self.doc.store.set_expression_text(self.expression_id, self.new_text)

    def _undo(self) -> None:
        self.doc.store.set_expression_text(self.expression_id, self.old_text)


class SetImageStateCommand(StoreCommand):
    def __init__(self, doc: ProjectDocument, image_id: int, old: ImageState, new: ImageState, name: str):
        super().__init__(doc, image_id, f"Mark {name} {ImageState(new).value}")
        self.old = ImageState(old)
        self.new = ImageState(new)

    def _do(self) -> None:
        self.doc.store.set_image_state(self.image_id, self.new)

    def _undo(self) -> None:
        self.doc.store.set_image_state(self.image_id, self.old)


def proposal_box(p, state: BoxState = BoxState.ACCEPTED) -> Box:
    """A ``Proposal`` as the box spec the store takes (ids are assigned by the store)."""
    return Box(0, 0, tuple(float(v) for v in p.bbox), state, BoxSource.MODEL, float(p.score), p.model_version,
               p.explanation or None)
