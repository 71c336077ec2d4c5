"""Every user edit as a Qt-free command: ``do(store)``, ``undo(store)`` and its own ``title``.

Each call is one store transaction, so an edit is on disk the moment it is made; a label edit on
an image marked reviewed also sets it back to in progress, in the same transaction and the same
undo step (the user changed what they had called done). Undo of a
deletion puts the rows back with their ids (``restore_*``), and the store never hands out an id
twice (AUTOINCREMENT), so a redo after an undo brings back the same ids and every later edit on
the stack that names them stays valid. The GUI wraps each edit in a ``QUndoCommand``
(``ui/undo.py``); anything else can run them directly.
"""
from __future__ import annotations

from typing import Optional, Sequence

from ..core import Box, BoxSource, BoxState, Expression, ImageRecord, ImageState, Proposal
from ..core.geometry import XYWH
from ..store import ProjectStore, ProposalBatch
from ..core.phrase import phrase_joined

NO_MERGE = -1  # Qt's convention: an edit with this merge id never merges
NUDGE_MERGE = 1
PROPOSE_MERGE = 2


def cut(text: str, limit: int = 40) -> str:
    """``text`` cut with an ellipsis when longer than ``limit``."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(text: str, limit: int = 40) -> str:
    """A phrase as edit titles show it: in quotes, cut with an ellipsis when long."""
    return f"“{cut(text, limit)}”"


def proposal_box(p: Proposal, state: BoxState = BoxState.ACCEPTED) -> Box:
    """A ``Proposal`` as the box spec the store takes (ids are assigned by the store)."""
    return Box(0, 0, tuple(float(v) for v in p.bbox), state, BoxSource.MODEL, float(p.score), p.model_version,
               p.explanation or None)


class Edit:
    """One undoable change to one image's labels (to many images' for ``ProposeBatch``, whose
    ``image_id`` is None: see ``image_ids``). Subclasses set ``title`` and implement
    ``_do``/``_undo``; ``do``/``undo`` run them in one transaction with the image's state."""

    merge_id = NO_MERGE  # edits with the same non-negative id may merge (``merge``)
    reopens = True  # a change to the labels of a reviewed image sets it back to in progress

    def __init__(self, image: Optional[ImageRecord], title: str):
        self.image_id = image.id if image is not None else None
        self.image_name = image.file_name if image is not None else ""
        self.title = title
        self.reopened = False

    @property
    def history_text(self) -> str:
        """The title with the image it belongs to, as the history and the Undo menu show it."""
        return f"{self.title} · {cut(self.image_name)}"

    @property
    def image_ids(self) -> tuple[int, ...]:
        """The images whose labels this edit changes."""
        return (self.image_id,)

    def do(self, store: ProjectStore) -> None:
        with store.transaction():
            self._do(store)
            if self.reopens:
                self.reopened = store.images.reopen(self.image_id)

    def undo(self, store: ProjectStore) -> None:
        with store.transaction():
            self._undo(store)
            if self.reopened:
                store.images.set_state(self.image_id, ImageState.REVIEWED)

    def _do(self, store: ProjectStore) -> None:
        raise NotImplementedError

    def _undo(self, store: ProjectStore) -> None:
        raise NotImplementedError

    @property
    def changed_nothing(self) -> bool:
        """Done, and nothing changed (not worth an undo step)."""
        return False

    def merge(self, later: "Edit") -> bool:
        """Absorb ``later`` (pushed right after this one) into this edit; False to keep both."""
        return False


def _set_box_states(store: ProjectStore, box_ids: Sequence[int], state: BoxState) -> None:
    for box_id in box_ids:
        store.labels.update_box(box_id, state=state)


def take_back_absent(store: ProjectStore, expression_id: int, boxes: Sequence[Box]) -> Optional[Expression]:
    """A phrase with a box is never "not in image": when a box that says where the thing is (not a
    rejected one) joins a no-target phrase, the flag goes in the same edit, and the phrase remembers
    it (``Expression.absent_before``). Returns the phrase's row as it was, for the undo
    (``put_back_expression``), or None when nothing changed."""
    expr = store.labels.expression(expression_id)
    if expr is None or not expr.no_target or all(b.state == BoxState.REJECTED for b in boxes):
        return None
    store.labels.take_back_no_target(expression_id)
    return expr


class AddBoxes(Edit):
    """Store boxes for a phrase. If the image already has the phrase (``phrase_joined``), the
    boxes join it (a second horse for "the horses"; a no-target phrase stops being one); otherwise
    the phrase is created with them."""

    def __init__(self, image: ImageRecord, text: str, boxes: Sequence[Box], title: str):
        super().__init__(image, title)
        self.text = text
        self.specs = list(boxes)
        self.expression: Optional[Expression] = None
        self.boxes: list[Box] = []
        self.created_expression = False
        self.was_absent: Optional[Expression] = None  # the joined phrase as it was, when the boxes took back its "not in image"
        self._done_once = False

    def _do(self, store: ProjectStore) -> None:
        if self._done_once:  # a redo: the same rows, with the same ids
            if self.created_expression:
                store.labels.restore_expression(self.expression, self.boxes)
            else:
                for b in self.boxes:
                    store.labels.restore_box(b)
                if self.was_absent is not None:
                    store.labels.take_back_no_target(self.expression.id)
            return
        existing = phrase_joined(self.text, store.labels.expressions(self.image_id))
        if existing is None:
            self.expression, self.boxes = store.labels.add_expression(self.image_id, self.text, self.specs)
            self.created_expression = True
        else:
            self.expression = existing
            self.boxes = [store.labels.add_box(existing.id, b) for b in self.specs]
            self.was_absent = take_back_absent(store, existing.id, self.boxes)
        self._done_once = True

    def _undo(self, store: ProjectStore) -> None:
        if self.created_expression:
            # The snapshot keeps created/updated times, so a redo restores the row exactly.
            self.expression, self.boxes = store.labels.delete_expression(self.expression.id)
        else:
            for b in reversed(self.boxes):
                store.labels.delete_box(b.id)
            if self.was_absent is not None:
                store.labels.put_back_expression(self.was_absent)


class AcceptProposals(AddBoxes):
    """One proposal (Enter, a click) or all above the threshold (Ctrl+Enter), as accepted boxes."""

    def __init__(self, image: ImageRecord, phrase: str, proposals: Sequence[Proposal]):
        n = len(proposals)
        title = (f"Accept {quoted(phrase)} ({proposals[0].score:.2f})" if n == 1
                 else f"Accept {n} × {quoted(phrase)}")
        super().__init__(image, phrase, [proposal_box(p) for p in proposals], title)


class RejectProposal(AddBoxes):
    """A proposal stored as a rejected box: "this box is wrong", a hard negative for training,
    hidden from then on. It says nothing about whether the thing is in the image."""

    def __init__(self, image: ImageRecord, phrase: str, proposal: Proposal):
        super().__init__(image, phrase, [proposal_box(proposal, BoxState.REJECTED)],
                         f"Reject proposal for {quoted(phrase)} ({proposal.score:.2f})")


class DrawBox(AddBoxes):
    """A box drawn by hand, for a phrase."""

    def __init__(self, image: ImageRecord, phrase: str, bbox: XYWH):
        box = Box(0, 0, tuple(float(v) for v in bbox), BoxState.ACCEPTED, BoxSource.MANUAL)
        super().__init__(image, phrase, [box], f"Draw box for {quoted(phrase)}")


class AddNoTarget(Edit):
    """The user says what the phrase names is not in this image (a negative example): the phrase
    is stored so, or an existing one (whose proposals were all rejected) is marked so."""

    def __init__(self, image: ImageRecord, phrase: str, expression_id: Optional[int] = None):
        super().__init__(image, f"Add {quoted(phrase)} (not in image)")
        self.text = phrase
        self.expression_id = expression_id
        self.created: Optional[Expression] = None
        self.before: Optional[Expression] = None  # the existing phrase as it was, for the undo

    def _do(self, store: ProjectStore) -> None:
        if self.expression_id is not None:
            self.before = store.labels.expression(self.expression_id)
            store.labels.set_no_target(self.expression_id, True)
        elif self.created is not None:  # a redo
            store.labels.restore_expression(self.created)
        else:
            self.created, _ = store.labels.add_expression(self.image_id, self.text, no_target=True)

    def _undo(self, store: ProjectStore) -> None:
        if self.expression_id is not None:
            store.labels.put_back_expression(self.before)
        else:
            self.created, _ = store.labels.delete_expression(self.created.id)


class AcceptStored(Edit):
    """A proposed box already stored (propose for every image, an import) made a label, as it is
    drawn (Enter on the selected box)."""

    def __init__(self, image: ImageRecord, box: Box, phrase: str):
        score = f" ({box.score:.2f})" if box.score is not None else ""
        super().__init__(image, f"Accept proposed box of {quoted(phrase)}{score}")
        self.box_id = box.id

    def _do(self, store: ProjectStore) -> None:
        _set_box_states(store, [self.box_id], BoxState.ACCEPTED)

    def _undo(self, store: ProjectStore) -> None:
        _set_box_states(store, [self.box_id], BoxState.PROPOSED)


class MoveBox(Edit):
    """A box dragged, resized or nudged. Edited model boxes become ``model+edited``. Arrow-key
    nudges of one box merge into one undo step."""

    def __init__(self, image: ImageRecord, box: Box, new_bbox: XYWH, title: str, nudge: bool = False):
        super().__init__(image, title)
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

    def _do(self, store: ProjectStore) -> None:
        store.labels.update_box(self.box_id, bbox=self.new_bbox, source=self.new_source)

    def _undo(self, store: ProjectStore) -> None:
        store.labels.update_box(self.box_id, bbox=self.old_bbox, source=self.old_source)


class DeleteBox(Edit):
    """One box deleted. ``absent_again``: the box was the last that said where the thing of a
    phrase is, and a box had taken back that phrase's "not in image": the phrase says so again
    (what was there before the box came)."""

    def __init__(self, image: ImageRecord, box_id: int, phrase: str, absent_again: bool = False):
        super().__init__(image, f"Delete box of {quoted(phrase)}" + (" (not in image again)" if absent_again else ""))
        self.box_id = box_id
        self.absent_again = absent_again
        self.snapshot: Optional[Box] = None
        self.phrase_before: Optional[Expression] = None

    def _do(self, store: ProjectStore) -> None:
        self.snapshot = store.labels.delete_box(self.box_id)
        if self.absent_again:
            self.phrase_before = store.labels.expression(self.snapshot.expression_id)
            store.labels.set_no_target(self.snapshot.expression_id, True)

    def _undo(self, store: ProjectStore) -> None:
        store.labels.restore_box(self.snapshot)
        if self.phrase_before is not None:
            store.labels.put_back_expression(self.phrase_before)


class DeletePhrase(Edit):
    """A phrase and all its boxes (one undo step)."""

    def __init__(self, image: ImageRecord, expression: Expression):
        super().__init__(image, f"Delete phrase {quoted(expression.text)}")
        self.expression_id = expression.id
        self.snapshot: Optional[tuple[Expression, list[Box]]] = None

    def _do(self, store: ProjectStore) -> None:
        self.snapshot = store.labels.delete_expression(self.expression_id)

    def _undo(self, store: ProjectStore) -> None:
        expr, boxes = self.snapshot
        store.labels.restore_expression(expr, boxes)


class RenamePhrase(Edit):
    """New text for a phrase: every box of it follows. The new text names them as a whole (the old
    text's spans no longer fit it); undo brings the old text back with its spans."""

    def __init__(self, image: ImageRecord, expression: Expression, new_text: str):
        super().__init__(image, f"Edit phrase {quoted(expression.text)} → {quoted(new_text)}")
        self.expression_id = expression.id
        self.old_text, self.old_spans = expression.text, expression.spans
        self.new_text = new_text

    def _do(self, store: ProjectStore) -> None:
        store.labels.set_expression_text(self.expression_id, self.new_text)

    def _undo(self, store: ProjectStore) -> None:
        store.labels.set_expression_text(self.expression_id, self.old_text, self.old_spans)


class MergePhrase(Edit):
    """A phrase renamed onto the text of another phrase of its image (``phrase_joined``): its boxes
    join that phrase and it goes, in one undo step. The merged phrase is "not in image" when either
    was and it has no box that says where the thing is (such a box takes the answer back). Undo
    puts both back as they were, with their ids, text, spans and boxes."""

    def __init__(self, image: ImageRecord, source: Expression, target: Expression):
        super().__init__(image, f"Merge phrase {quoted(source.text)} into {quoted(target.text)}")
        self.source_id, self.target_id = source.id, target.id
        self.box_ids: tuple[int, ...] = ()
        self.removed: Optional[Expression] = None
        self.target_before: Optional[Expression] = None

    def _do(self, store: ProjectStore) -> None:
        boxes = store.labels.boxes(self.source_id)
        self.box_ids = tuple(b.id for b in boxes)
        for b in boxes:
            store.labels.move_box(b.id, self.target_id)
        target = store.labels.expression(self.target_id)
        absent = (target.no_target or store.labels.expression(self.source_id).no_target) and all(
            b.state == BoxState.REJECTED for b in store.labels.boxes(self.target_id))
        self.target_before = target if absent != target.no_target else None
        if absent and not target.no_target:
            store.labels.set_no_target(self.target_id, True)
        elif self.target_before is not None:
            store.labels.take_back_no_target(self.target_id)
        self.removed, _ = store.labels.delete_expression(self.source_id)

    def _undo(self, store: ProjectStore) -> None:
        store.labels.restore_expression(self.removed)
        for box_id in self.box_ids:
            store.labels.move_box(box_id, self.source_id)
        if self.target_before is not None:
            store.labels.put_back_expression(self.target_before)


class RelabelBox(Edit):
    """One box given to another phrase of its image: ``target_id``, or a new phrase ``text``. The
    box keeps its id; a phrase left with no box goes with the move; a target phrase said "not in
    image" is no longer (one undo step)."""

    def __init__(self, image: ImageRecord, box: Box, source: Expression, text: str, target_id: Optional[int]):
        super().__init__(image, f"Relabel box {quoted(source.text)} → {quoted(text)}")
        self.box_id = box.id
        self.source_id = source.id
        self.text = text
        self.target_id = target_id
        self.created: Optional[Expression] = None  # the new phrase, kept for a redo
        self.emptied: Optional[Expression] = None  # the source phrase, removed with its last box
        self.target_before: Optional[Expression] = None  # the target as it was, when the box took back its "not in image"
        self._done_once = False

    def _do(self, store: ProjectStore) -> None:
        if not self._done_once:
            if self.target_id is None:
                self.created, _ = store.labels.add_expression(self.image_id, self.text)
            self._done_once = True
        elif self.created is not None:
            store.labels.restore_expression(self.created)
        box = store.labels.move_box(self.box_id, self.created.id if self.created is not None else self.target_id)
        if self.created is None:
            self.target_before = take_back_absent(store, self.target_id, [box])
        if not store.labels.boxes(self.source_id):
            self.emptied, _ = store.labels.delete_expression(self.source_id)

    def _undo(self, store: ProjectStore) -> None:
        if self.emptied is not None:
            store.labels.restore_expression(self.emptied)
            self.emptied = None
        store.labels.move_box(self.box_id, self.source_id)
        if self.target_before is not None:
            store.labels.put_back_expression(self.target_before)
        if self.created is not None:
            self.created, _ = store.labels.delete_expression(self.created.id)


class SetImageState(Edit):
    """Mark an image reviewed (Space), or give it back an earlier state (its undo). ``accept``: its
    proposed boxes that become labels in the same step (Space accepts what is on screen)."""

    reopens = False

    def __init__(self, image: ImageRecord, new: ImageState, accept: Sequence[Box] = ()):
        n = len(accept)
        super().__init__(image, f"Mark {new.label}" + (f", accept {n} proposal{'s' if n != 1 else ''}" if n else ""))
        self.old = image.state
        self.new = new
        self.accepted = [b.id for b in accept]

    def _do(self, store: ProjectStore) -> None:
        _set_box_states(store, self.accepted, BoxState.ACCEPTED)
        store.images.set_state(self.image_id, self.new)

    def _undo(self, store: ProjectStore) -> None:
        store.images.set_state(self.image_id, self.old)
        _set_box_states(store, self.accepted, BoxState.PROPOSED)


class ProposeBatch(Edit):
    """The model's boxes for phrases on many images, stored as proposals in one step (propose for
    every image; ``store.proposals.add`` says what is skipped). One undo removes exactly
    what it added; a redo puts back the same rows. It has no one ``image_id``: see ``image_ids``.

    A run that stores its answers batch by batch pushes one edit per batch with the same ``run``
    (and the run's ``phrases`` for the title): each joins the first (``merge``), so the whole run is
    one undo step."""

    reopens = False  # proposals are not labels: a reviewed image stays reviewed
    merge_id = PROPOSE_MERGE

    def __init__(self, items: Sequence[tuple[int, str, Sequence[Proposal]]], run: object = None,
                 phrases: Sequence[str] = ()):
        phrases = list(phrases) or list(dict.fromkeys(text for _, text, _ in items))
        named = ", ".join(quoted(p) for p in phrases[:3]) + (f" and {len(phrases) - 3} more" if len(phrases) > 3 else "")
        super().__init__(None, f"Propose {named}")
        self.run = run
        self.items = [(image_id, text, [proposal_box(p, BoxState.PROPOSED) for p in proposals])
                      for image_id, text, proposals in items]
        self.batch: Optional[ProposalBatch] = None

    @property
    def image_ids(self) -> tuple[int, ...]:
        """The images it changed (those it was given, until it is done)."""
        if self.batch is not None:
            return self.batch.image_ids
        return tuple(dict.fromkeys(image_id for image_id, _, _ in self.items))

    @property
    def history_text(self) -> str:
        images = len(self.image_ids)
        return f"{self.title} · {images} image{'s' if images != 1 else ''}"

    @property
    def changed_nothing(self) -> bool:
        return self.batch is not None and not self.batch.box_count

    def _do(self, store: ProjectStore) -> None:
        if self.batch is None:
            self.batch = store.proposals.add(self.items)
        else:  # a redo: the same rows, with the same ids
            store.proposals.restore(self.batch)

    def _undo(self, store: ProjectStore) -> None:
        store.proposals.remove(self.batch)

    def merge(self, later: Edit) -> bool:
        """A later batch of the same run (done already) joins this step."""
        if not isinstance(later, ProposeBatch) or self.run is None or later.run is not self.run \
                or self.batch is None or later.batch is None:
            return False
        a, b = self.batch, later.batch
        self.batch = ProposalBatch(a.phrases + b.phrases, a.boxes + b.boxes,
                                   tuple(dict.fromkeys(a.image_ids + b.image_ids)))
        return True
