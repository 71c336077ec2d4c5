"""The labels of the open image: the project, the image shown, its annotations, the one selection,
the threshold that says which stored proposals are confident, and the editing rules that need no
proposal from the model (move, nudge, delete, rename, relabel, review and next).

``LabelsDocument`` is one of the two parts ``editing.document.ImageDocument`` composes (the other
is ``editing.query.QuerySession``); it knows nothing of the phrase being typed. Rules turn into
``edits.Edit`` commands pushed on a ``Stack`` (``edit_stack.EditStack``, or the window's
``ui.undo.UndoStack`` over it); the stack runs them through ``ImageDocument.apply``, which writes
the store here (``apply``) and re-reads what changed. No Qt: the signals are ``events.Signal``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional, Protocol

from ..core import (Box, BoxState, Expression, ImageRecord, ImageState, PhraseError, clean_phrase, keep_inside,
                    short_error)
from ..core.geometry import XYWH
from ..store import ProjectStore, StoreError
from ..core.phrase import phrase_joined
from . import edits, messages
from .events import Batch, Signal
from .state import Annotation, Selection, SelectionKind

NUDGE_BIG_STEP = 10


class Stack(Protocol):
    """Where edits go: ``push`` runs the edit (through ``ImageDocument.apply``) and keeps it for undo."""

    def push(self, edit: edits.Edit) -> bool:
        """False if the edit failed (it is then not kept)."""
        ...

    def clear(self) -> None: ...

    def count(self) -> int: ...


class LabelsDocument:
    """The open image of a project with its labels and selection; see the module docstring.
    ``batch`` coalesces the signals of one user action (shared with the query session)."""

    def __init__(self, batch: Optional[Batch] = None) -> None:
        # -- signals (argument-less ones are coalesced per user action: see ``events.Batch``)
        self.image_changed = Signal()        # another image, or the current one's record (state, error)
        self.annotations_changed = Signal()  # the current image's phrases or boxes, or the threshold
        self.selection_changed = Signal()
        self.threshold_changed = Signal()    # what counts as confident (proposals are drawn by it too)
        self.notice = Signal()               # (str) a short status message: a rule refused, and why
        self.error = Signal()                # (str) an edit could not be saved
        self.record_changed = Signal()       # (ImageRecord) an image's row changed by an edit or a decode
        self.records_changed = Signal()      # (list[ImageRecord]) many images' rows changed by one edit
                                             # (proposals for every image: nothing to learn from)
        self.other_image_edited = Signal()   # (image id) undo/redo changed an image that is not shown
        self.batch = batch if batch is not None else Batch()

        self.store: Optional[ProjectStore] = None
        self._stack: Optional[Stack] = None
        self.image: Optional[ImageRecord] = None
        self.annotations: tuple[Annotation, ...] = ()
        self.selection: Optional[Selection] = None
        self.threshold = 0.5                   # what counts as a confident proposal

    # ------------------------------------------------------------------ project and image
    def open_project(self, store: ProjectStore, stack: Stack) -> None:
        self.store, self._stack = store, stack
        self.show(None)

    def close_project(self) -> None:
        self.show(None)
        if self._stack is not None:
            self._stack.clear()
        if self.store is not None:
            self.store.close()
        self.store = self._stack = None

    def path_of(self, record: ImageRecord) -> str:
        return str(Path(self.store.root) / record.path)

    def show(self, record: Optional[ImageRecord]) -> None:
        """Show ``record`` (None: no image), with nothing selected."""
        with self.batch():
            self.image = record
            self.selection = None
            self._reload()
            self._notify(self.image_changed, self.selection_changed)

    def mark_unreadable(self, image_id: int, error: str) -> bool:
        """A file found unreadable at full decode (after the scan said it was fine). Written outside
        the undo stack on purpose: it sets only ``images.error``, which no edit reads or writes.
        True if the image shown is the one (its record changed)."""
        rec = self.store.images.get(image_id)
        if rec is None or rec.error == error:
            return False
        try:
            self.store.images.set_error(image_id, error)
        except StoreError:
            return False  # shown as unreadable anyway; the next decode tries again
        rec = self.store.images.get(image_id)
        self.record_changed.emit(rec)
        if self.image is None or self.image.id != image_id:
            return False
        self.image = rec
        self._notify(self.image_changed)
        return True

    def changed_outside(self, clear_history: bool, what: str) -> None:
        """The store was written outside the undo stack (an import, a rescan: ``what`` says which). With
        ``clear_history`` the rows under the stack's edits may have changed, so the stack is
        cleared (and the user told) rather than left to undo into rows that are not there."""
        if clear_history and self._stack is not None and self._stack.count():
            self._stack.clear()
            self.notice.emit(messages.history_cleared(what))
        if self.image is not None:
            rec = self.store.images.get(self.image.id)
            with self.batch():
                self.image = rec if rec is not None and not rec.missing else None
                self._reload()
                self._notify(self.image_changed)

    def _reload(self) -> None:
        """Re-read the current image's annotations; drop a selection whose row is gone."""
        rows = self.store.labels.annotations(self.image.id) if self.image is not None and self.store else []
        self.annotations = tuple(Annotation(e, tuple(bs)) for e, bs in rows)
        self._notify(self.annotations_changed)
        sel = self.selection
        if sel is not None and ((sel.kind == SelectionKind.BOX and self.box(sel.id) is None)
                                or (sel.kind == SelectionKind.PHRASE and self.annotation(sel.id) is None)):
            self.selection = None
            self._notify(self.selection_changed)

    def set_threshold(self, value: float) -> None:
        """What counts as confident: proposals under it are drawn faint, stored ones too (Space
        accepts only those at or above it)."""
        self.threshold = float(value)
        with self.batch():
            self._notify(self.threshold_changed, self.annotations_changed)

    # ------------------------------------------------------------------ running edits
    def apply(self, edit: edits.Edit, undo: bool = False) -> bool:
        """Run ``edit`` (or its undo) on the store and show the result (``ImageDocument.apply``
        calls this). A failure (say, the disk is full) is reported and returns False."""
        ok = True
        try:
            edit.undo(self.store) if undo else edit.do(self.store)
        except Exception as exc:  # noqa: BLE001 - any store failure must reach the user, not the stack
            ok = False
            self.error.emit(short_error(exc))
        if edit.image_id is None:
            self._applied_to_many(edit.image_ids)
            return ok
        rec = self.store.images.get(edit.image_id)
        if rec is not None:
            self.record_changed.emit(rec)
        if self.image is not None and edit.image_id == self.image.id:
            with self.batch():
                self.image = rec
                self._notify(self.image_changed)
                self._reload()
        elif rec is not None:
            self.other_image_edited.emit(edit.image_id)
        return ok

    def _applied_to_many(self, image_ids: tuple[int, ...]) -> None:
        """An edit over many images (``ProposeBatch``) ran: their rows, and the open image if it
        is one of them, are read again; no other image is shown."""
        records = [r for r in map(self.store.images.get, image_ids) if r is not None]
        self.records_changed.emit(records)
        current = next((r for r in records if self.image is not None and r.id == self.image.id), None)
        if current is not None:
            with self.batch():
                self.image = current
                self._notify(self.image_changed)
                self._reload()

    def push(self, edit: edits.Edit) -> bool:
        """Run ``edit`` on the stack; False without a project or when it failed."""
        return self._stack is not None and self._stack.push(edit)

    # ------------------------------------------------------------------ lookups
    def is_confident(self, box: Box) -> bool:
        """A stored proposal the model scores at least the threshold: Space accepts it; weaker
        ones are drawn faint."""
        return box.state == BoxState.PROPOSED and box.score is not None and box.score >= self.threshold

    def box(self, box_id: int) -> Optional[Box]:
        return next((b for a in self.annotations for b in a.boxes if b.id == box_id), None)

    def annotation(self, expression_id: int) -> Optional[Annotation]:
        return next((a for a in self.annotations if a.expression.id == expression_id), None)

    def annotation_of_box(self, box_id: int) -> Optional[Annotation]:
        return next((a for a in self.annotations if any(b.id == box_id for b in a.boxes)), None)

    def annotation_of_phrase(self, phrase: str) -> Optional[Annotation]:
        """The phrase of the image that ``phrase`` joins (``core.phrase_joined``)."""
        return phrase_joined(phrase, self.annotations, lambda a: a.expression.text)

    def stored_boxes(self, phrase: str) -> list[XYWH]:
        """The boxes (any state) of the phrase ``phrase`` joins: proposals on them are not shown."""
        a = self.annotation_of_phrase(phrase)
        return [b.bbox for b in a.boxes] if a is not None else []

    # ------------------------------------------------------------------ selection
    @property
    def selected_box(self) -> Optional[Box]:
        sel = self.selection
        return self.box(sel.id) if sel is not None and sel.kind == SelectionKind.BOX else None

    @property
    def selected_expression(self) -> Optional[Expression]:
        """The selected phrase, or the phrase of the selected box."""
        sel = self.selection
        if sel is None:
            return None
        a = self.annotation_of_box(sel.id) if sel.kind == SelectionKind.BOX else self.annotation(sel.id)
        return a.expression if a is not None else None

    def select(self, selection: Optional[Selection]) -> None:
        if selection is not None and (self.box(selection.id) if selection.kind == SelectionKind.BOX
                                      else self.annotation(selection.id)) is None:
            selection = None
        if selection != self.selection:
            self.selection = selection
            self._notify(self.selection_changed)

    def select_box(self, box_id: Optional[int]) -> None:
        self.select(Selection(SelectionKind.BOX, box_id) if box_id is not None else None)

    def select_phrase(self, expression_id: int) -> None:
        self.select(Selection(SelectionKind.PHRASE, expression_id))

    def select_newest(self, phrase: str) -> None:
        """Select what was just stored for ``phrase``: its newest box that says where the thing
        is, or the phrase (no target)."""
        a = self.annotation_of_phrase(phrase)
        if a is not None:
            newest = max(a.kept, key=lambda b: b.id, default=None)
            self.select(Selection(SelectionKind.BOX, newest.id) if newest is not None
                        else Selection(SelectionKind.PHRASE, a.expression.id))

    # ------------------------------------------------------------------ editing rules
    def move_box(self, box_id: int, bbox: XYWH, resized: bool = False) -> None:
        """A box dragged (or resized) to ``bbox``; kept inside the image."""
        box, a = self.box(box_id), self.annotation_of_box(box_id)
        if self.image is None or box is None:
            return
        bbox = keep_inside(bbox, self.image.width, self.image.height)
        if tuple(bbox) != tuple(box.bbox):
            verb = "Resize" if resized else "Move"
            self.push(edits.MoveBox(self.image, box, bbox, f"{verb} box of {edits.quoted(a.expression.text)}"))

    def nudge(self, dx: int, dy: int, big: bool = False) -> None:
        """Arrow keys: move the selected box by 1 px (``big``: 10 px), never out of the image.
        Nudges of one box in a row are one undo step."""
        box = self.selected_box
        if self.image is None or box is None:
            return
        step = NUDGE_BIG_STEP if big else 1
        x, y, w, h = box.bbox
        bbox = keep_inside((x + dx * step, y + dy * step, w, h), self.image.width, self.image.height)
        if bbox != tuple(box.bbox):
            self.push(edits.MoveBox(self.image, box, bbox, "Nudge box", nudge=True))

    def delete_selected(self) -> None:
        """Del: the selected box, or the selected phrase with its boxes. A phrase's only box takes
        the phrase with it (a phrase with no box is unfinished), except on a phrase that was "not
        in image" until a box came (``Expression.absent_before``, kept in the store): deleting its
        last box that says where the thing is makes it that again. After a box, the selection moves
        to the next box of the same phrase (of the same kind: drawn, or rejected), or to nothing:
        never to the phrase, so a second Del cannot take the whole phrase by surprise."""
        if self.image is None:
            return
        box, expr = self.selected_box, self.selected_expression
        if expr is None:
            self.notice.emit(messages.NOTHING_TO_DELETE)
            return
        annotation = self.annotation(expr.id)
        boxes = annotation.boxes
        absent_again = box is not None and annotation.expression.absent_before and annotation.kept == (box,)
        with self.batch():
            if box is not None and (len(boxes) > 1 or absent_again):
                rejected = box.state == BoxState.REJECTED
                siblings = [b for b in boxes if (b.state == BoxState.REJECTED) == rejected]
                at = siblings.index(box)
                following = (siblings[at + 1:] or siblings[:at][-1:] or [None])[0]
                if self.push(edits.DeleteBox(self.image, box.id, expr.text, absent_again)):
                    self.select_box(following.id if following is not None else None)
            else:
                self.push(edits.DeletePhrase(self.image, expr))
                self.select(None)

    def new_text(self, text: str) -> Optional[str]:
        """``text`` cleaned, or None after saying why it is refused."""
        try:
            return clean_phrase(text)
        except PhraseError as exc:
            self.notice.emit(messages.phrase_refused(exc))
            return None

    def rename(self, expression_id: int, text: str) -> None:
        """Give a phrase new text (all its boxes follow). Text that joins another phrase of the
        image (``phrase_joined``: "The  Dog" joins "the dog") merges the phrase into it, one undo
        step, or is refused with the reason where the two say opposite things."""
        a = self.annotation(expression_id)
        new = self.new_text(text) if self.image is not None and a is not None else None
        if new is None or new == a.expression.text:
            return
        target = self.annotation_of_phrase(new)
        if target is None or target is a:
            self.push(edits.RenamePhrase(self.image, a.expression, new))
            return
        if target.kept and not a.kept and a.expression.no_target:
            self.notice.emit(messages.not_merged(target.expression.text, a.expression.text))
            return
        with self.batch():
            if self.push(edits.MergePhrase(self.image, a.expression, target.expression)):
                self.select_phrase(target.expression.id)
                self.notice.emit(messages.merged(a.expression.text, target.expression.text))

    def relabel_box(self, box_id: int, text: str) -> None:
        """F2 on a box: that box alone goes to the phrase ``text``, an existing one of the image
        (same phrase key) or a new one; its old phrase keeps its other boxes. A box that is its
        phrase's only box takes the phrase's new text with it (the same result, one id kept)."""
        box, a = self.box(box_id), self.annotation_of_box(box_id)
        new = self.new_text(text) if self.image is not None and box is not None else None
        if new is None:
            return
        target = self.annotation_of_phrase(new)
        if target is a or (target is None and len(a.boxes) == 1):
            if len(a.boxes) == 1:
                self.rename(a.expression.id, new)
            return
        with self.batch():
            self.push(edits.RelabelBox(self.image, box, a.expression, new,
                                       target.expression.id if target is not None else None))
            self.select_box(box_id)

    def review_and_next(self, after: Iterable[ImageRecord]) -> Optional[int]:
        """Space: accept what is on screen and move on. The image's proposed boxes scoring at least
        the threshold become labels and the image is marked reviewed, in one step (weaker proposals
        stay proposals: drawn faint, never exported; an unreadable image is not marked). Returns
        the id of the next image to do among ``after`` (the list after this one, wrapping): not
        reviewed and readable."""
        if self.image is None:
            return None
        confident = [b for a in self.annotations for b in a.boxes if self.is_confident(b)]
        if (self.image.state != ImageState.REVIEWED or confident) and not self.image.error:
            self.push(edits.SetImageState(self.image, ImageState.REVIEWED, accept=confident))
        target = next((r.id for r in after
                       if r.id != self.image.id and r.state != ImageState.REVIEWED and r.readable), None)
        if target is None:
            self.notice.emit(messages.ALL_REVIEWED)
        return target

    # ------------------------------------------------------------------ helpers
    def _notify(self, *signals: Signal) -> None:
        for s in signals:
            self.batch.notify(s)
