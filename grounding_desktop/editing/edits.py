"""Every user edit as a Qt-free command: ``do(store)``, ``undo(store)`` and its own ``title``.

Each call is one store transaction, so an edit is on disk the moment it is made. Undo of a
deletion puts the rows back with their ids (``restore_*``), and the store never hands out an id
twice (AUTOINCREMENT), so a redo after an undo brings back the same ids and every later edit on
the stack that names them stays valid. The GUI wraps each edit in a ``QUndoCommand``
(``ui/undo.py``); anything else can run them directly.
"""
from __future__ import annotations

from typing import Optional, Sequence

from ..core import Box, BoxSource, BoxState, Expression, ImageRecord, ImageState, Proposal, phrase_key
from ..core.geometry import XYWH
from ..store import ProjectStore, ProposalBatch

NO_MERGE = -1  # Qt's convention: an edit with this merge id never merges
NUDGE_MERGE = 1


def quoted(text: str, limit: int = 40) -> str:
    """A phrase as edit titles show it: in quotes, cut with an ellipsis when long."""
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def proposal_box(p: Proposal, state: BoxState = BoxState.ACCEPTED) -> Box:
    """A ``Proposal`` as the box spec the store takes (ids are assigned by the store)."""
    return Box(0, 0, tuple(float(v) for v in p.bbox), state, BoxSource.MODEL, float(p.score), p.model_version,
               p.explanation or None)


class Edit:
    """One undoable change to one image's labels (to many images' for ``ProposeBatch``).
    Subclasses set ``title`` and implement do/undo."""

    merge_id = NO_MERGE  # edits with the same non-negative id may merge (``merge``)

    def __init__(self, image_id: Optional[int], title: str):
        self.image_id = image_id
        self.title = title

    @property
    def image_ids(self) -> tuple[int, ...]:
        """The images whose labels this edit changes."""
        return (self.image_id,)

    def do(self, store: ProjectStore) -> None:
        raise NotImplementedError

    def undo(self, store: ProjectStore) -> None:
        raise NotImplementedError

    def merge(self, later: "Edit") -> bool:
        """Absorb ``later`` (pushed right after this one) into this edit; False to keep both."""
        return False


class AddBoxes(Edit):
    """Store boxes for a phrase. If the image already has the phrase (same ``phrase_key``), or
    ``expression_id`` names one, the boxes join it (a second horse for "the horses"); otherwise the
    phrase is created with them. With no boxes: the phrase names nothing in the image."""

    def __init__(self, image_id: int, text: str, boxes: Sequence[Box], title: str,
                 expression_id: Optional[int] = None):
        super().__init__(image_id, title)
        self.text = text
        self.specs = list(boxes)
        self.target_expression_id = expression_id
        self.expression: Optional[Expression] = None
        self.boxes: list[Box] = []
        self.created_expression = False
        self._done_once = False

    def _existing(self, store: ProjectStore) -> Optional[Expression]:
        if self.target_expression_id is not None:
            return store.expression(self.target_expression_id)
        key = phrase_key(self.text)
        return next((e for e in store.expressions(self.image_id) if phrase_key(e.text) == key), None)

    def do(self, store: ProjectStore) -> None:
        if self._done_once:  # a redo: the same rows, with the same ids
            if self.created_expression:
                store.restore_expression(self.expression, self.boxes)
            else:
                for b in self.boxes:
                    store.restore_box(b)
            return
        existing = self._existing(store)
        if existing is None:
            self.expression, self.boxes = store.add_expression(self.image_id, self.text, self.specs)
            self.created_expression = True
        else:
            self.expression = existing
            self.boxes = [store.add_box(existing.id, b.bbox, b.state, b.source, b.score, b.model_version,
                                        b.explanation) for b in self.specs]
        self._done_once = True

    def undo(self, store: ProjectStore) -> None:
        if self.created_expression:
            # The snapshot keeps created/updated times, so a redo restores the row exactly.
            self.expression, self.boxes = store.delete_expression(self.expression.id)
        else:
            for b in reversed(self.boxes):
                store.delete_box(b.id)


class AcceptProposals(AddBoxes):
    """One proposal (Enter, a click) or all above the threshold (Ctrl+Enter), as accepted boxes."""

    def __init__(self, image_id: int, phrase: str, proposals: Sequence[Proposal]):
        n = len(proposals)
        title = (f"Accept {quoted(phrase)} ({proposals[0].score:.2f})" if n == 1
                 else f"Accept {n} × {quoted(phrase)}")
        super().__init__(image_id, phrase, [proposal_box(p) for p in proposals], title)


class RejectProposal(AddBoxes):
    """A proposal stored as a rejected box: a hard negative for training, hidden from then on."""

    def __init__(self, image_id: int, phrase: str, proposal: Proposal):
        super().__init__(image_id, phrase, [proposal_box(proposal, BoxState.REJECTED)],
                         f"Reject proposal for {quoted(phrase)} ({proposal.score:.2f})")


class DrawBox(AddBoxes):
    """A box drawn by hand, for a phrase (joining ``expression_id`` when given)."""

    def __init__(self, image_id: int, phrase: str, bbox: XYWH, expression_id: Optional[int] = None):
        box = Box(0, 0, tuple(float(v) for v in bbox), BoxState.ACCEPTED, BoxSource.MANUAL)
        super().__init__(image_id, phrase, [box], f"Draw box for {quoted(phrase)}", expression_id)


class AddNoTarget(AddBoxes):
    """The phrase stored with no box: what it names is not in this image (a negative example)."""

    def __init__(self, image_id: int, phrase: str):
        super().__init__(image_id, phrase, [], f"Add {quoted(phrase)} (not in image)")


class MoveBox(Edit):
    """A box dragged, resized or nudged. Edited model boxes become ``model+edited``. Arrow-key
    nudges of one box merge into one undo step."""

    def __init__(self, image_id: int, box: Box, new_bbox: XYWH, title: str, nudge: bool = False):
        super().__init__(image_id, title)
        self.box_id = box.id
        self.old_bbox = tuple(box.bbox)
        self.new_bbox = tuple(float(v) for v in new_bbox)
        self.old_source = box.source
        self.new_source = BoxSource.MODEL_EDITED if box.source == BoxSource.MODEL else box.source
        self.merge_id = NUDGE_MERGE if nudge else NO_MERGE

    def merge(self, later: Edit) -> bool:
        if not isinstance(later, MoveBox) or later.box_id != self.box_id \
                or NO_MERGE in (self.merge_id, later.merge_id):
            return False
        self.new_bbox = later.new_bbox
        return True

    def do(self, store: ProjectStore) -> None:
        store.update_box(self.box_id, bbox=self.new_bbox, source=self.new_source)

    def undo(self, store: ProjectStore) -> None:
        store.update_box(self.box_id, bbox=self.old_bbox, source=self.old_source)


class DeleteBox(Edit):
    def __init__(self, image_id: int, box_id: int, phrase: str):
        super().__init__(image_id, f"Delete box of {quoted(phrase)}")
        self.box_id = box_id
        self.snapshot: Optional[Box] = None

    def do(self, store: ProjectStore) -> None:
        self.snapshot = store.delete_box(self.box_id)

    def undo(self, store: ProjectStore) -> None:
        store.restore_box(self.snapshot)


class DeletePhrase(Edit):
    """A phrase and all its boxes (one undo step)."""

    def __init__(self, image_id: int, expression: Expression):
        super().__init__(image_id, f"Delete phrase {quoted(expression.text)}")
        self.expression_id = expression.id
        self.snapshot: Optional[tuple[Expression, list[Box]]] = None

    def do(self, store: ProjectStore) -> None:
        self.snapshot = store.delete_expression(self.expression_id)

    def undo(self, store: ProjectStore) -> None:
        expr, boxes = self.snapshot
        store.restore_expression(expr, boxes)


class RenamePhrase(Edit):
    def __init__(self, image_id: int, expression: Expression, new_text: str):
        super().__init__(image_id, f"Edit phrase {quoted(expression.text)} → {quoted(new_text)}")
        self.expression_id = expression.id
        self.old_text = expression.text
        self.new_text = new_text

    def do(self, store: ProjectStore) -> None:
        store.set_expression_text(self.expression_id, self.new_text)

    def undo(self, store: ProjectStore) -> None:
        store.set_expression_text(self.expression_id, self.old_text)


class SetImageState(Edit):
    def __init__(self, image: ImageRecord, new: ImageState):
        super().__init__(image.id, f"Mark {image.file_name} {new.label}")
        self.old = image.state
        self.new = new

    def do(self, store: ProjectStore) -> None:
        store.set_image_state(self.image_id, self.new)

    def undo(self, store: ProjectStore) -> None:
        store.set_image_state(self.image_id, self.old)


class ProposeBatch(Edit):
    """The model's boxes for phrases on many images, stored as proposals in one step (propose for
    every image; ``ProjectStore.add_proposals`` says what is skipped). One undo removes exactly
    what it added; a redo puts back the same rows. It has no one ``image_id``: see ``image_ids``."""

    def __init__(self, items: Sequence[tuple[int, str, Sequence[Proposal]]]):
        phrases = list(dict.fromkeys(text for _, text, _ in items))
        images = len({image_id for image_id, _, _ in items})
        named = ", ".join(quoted(p) for p in phrases[:3]) + (f" and {len(phrases) - 3} more" if len(phrases) > 3 else "")
        super().__init__(None, f"Propose {named} on {images} image{'s' if images != 1 else ''}")
        self.items = [(image_id, text, [proposal_box(p, BoxState.PROPOSED) for p in proposals])
                      for image_id, text, proposals in items]
        self.batch: Optional[ProposalBatch] = None

    @property
    def image_ids(self) -> tuple[int, ...]:
        """The images it changed (those it was given, until it is done)."""
        if self.batch is not None:
            return self.batch.image_ids
        return tuple(dict.fromkeys(image_id for image_id, _, _ in self.items))

    def do(self, store: ProjectStore) -> None:
        if self.batch is None:
            self.batch = store.add_proposals(self.items)
        else:  # a redo: the same rows, with the same ids
            store.restore_proposals(self.batch)

    def undo(self, store: ProjectStore) -> None:
        store.remove_proposals(self.batch)
