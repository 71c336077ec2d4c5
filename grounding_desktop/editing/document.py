"""The document model of the open image: the one owner of what the window edits.

``ImageDocument`` holds the current image, its annotations, the phrase being typed, the model's
proposals with their highlight and threshold, the one selection, and every editing rule (accept,
accept all, no target, reject, draw, move, nudge, delete, rename, review and next) as a method.
Rules turn into ``edits.Edit`` commands pushed on a ``Stack`` (``edit_stack.EditStack``, or the
window's ``ui.undo.UndoStack`` over it); the stack runs them through ``apply``, which writes the
store and re-reads what changed. Views subscribe to the signals below and read the state back:
they keep no copies, so there is nothing to get out of step.

It has no Qt in it (the signals are ``events.Signal``), so the rules are tested without a window.
The class is written in three modules by what they hold: this one (the project, the image, its
annotations, the selection, running edits), ``query`` (the phrase, the hint, the model's proposals)
and ``rules`` (every rule that changes labels).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Protocol

from ..core import Box, BoxState, Expression, ImageRecord, Proposal, short_error
from ..core.geometry import XYWH
from ..store import ProjectStore, StoreError
from ..store.phrases import phrase_joined
from . import edits
from .events import Batch, Signal
from .query import QueryRules
from .rules import LabelRules
from .state import Annotation, Answer, ModelState, PendingAccept, Selection, SelectionKind, Tone


class Stack(Protocol):
    """Where edits go: ``push`` runs the edit (through ``ImageDocument.apply``) and keeps it for undo."""

    def push(self, edit: edits.Edit) -> bool:
        """False if the edit failed (it is then not kept)."""
        ...

    def clear(self) -> None: ...

    def count(self) -> int: ...


class ImageDocument(QueryRules, LabelRules):
    """The open image of a project, its labels and the grounding state; see the module docstring."""

    def __init__(self) -> None:
        # -- signals (argument-less ones are coalesced per user action: see ``events.Batch``)
        self.image_changed = Signal()        # another image, or the current one's record (state, error)
        self.annotations_changed = Signal()  # the current image's phrases or boxes
        self.selection_changed = Signal()
        self.proposals_changed = Signal()    # the proposals shown, or the threshold that dims them
        self.highlight_changed = Signal()    # only the highlighted proposal moved (Tab)
        self.hint_changed = Signal()
        self.query_changed = Signal()        # what the model should be asked (``query``) changed
        self.phrase_set = Signal()           # (str) the document set the phrase itself (cleared after Enter)
        self.info = Signal()                 # (str, Tone) the phrase bar's line: what Enter will do, or why not
        self.notice = Signal()               # (str) a short status message: a rule refused, and why
        self.error = Signal()                # (str) an edit could not be saved
        self.record_changed = Signal()       # (ImageRecord) an image's row changed by an edit or a decode
        self.records_changed = Signal()      # (list[ImageRecord]) many images' rows changed by one edit
                                             # (proposals for every image: nothing to learn from)
        self.other_image_edited = Signal()   # (image id) undo/redo changed an image that is not shown
        self._batch = Batch()

        self.store: Optional[ProjectStore] = None
        self._stack: Optional[Stack] = None
        self.image: Optional[ImageRecord] = None
        self.annotations: tuple[Annotation, ...] = ()
        self.selection: Optional[Selection] = None
        self.text = ""                         # the phrase bar as typed
        self.phrase: Optional[str] = None      # ``text`` cleaned, when usable
        self.plural = False
        self.hint: Optional[tuple[float, float]] = None
        self.threshold = 0.5                   # what counts as a confident proposal
        self.model_state = ModelState.IDLE
        self.answer: Optional[Answer] = None   # the latest answer taken (its proposals may be filtered)
        self.proposals: tuple[Proposal, ...] = ()  # shown: the answer minus boxes already stored
        self.highlight = -1
        self.pending: Optional[PendingAccept] = None
        self.wanted: Optional[XYWH] = None     # the proposal to highlight when the answer comes (a search result)

    # ------------------------------------------------------------------ project and image
    def open_project(self, store: ProjectStore, stack: Stack) -> None:
        self.store, self._stack = store, stack
        self.open_image(None)

    def close_project(self) -> None:
        self.open_image(None)
        if self._stack is not None:
            self._stack.clear()
        if self.store is not None:
            self.store.close()
        self.store = self._stack = None

    def path_of(self, record: ImageRecord) -> str:
        return str(Path(self.store.root) / record.path)

    def open_image(self, record: Optional[ImageRecord]) -> None:
        """Show ``record`` (None: no image). The typed phrase stays and is asked again."""
        with self._batch():
            self.image = record
            self.selection = None
            self.pending = None
            self.wanted = None
            self.hint = None
            self._drop_answer()
            self._reload()
            self._notify(self.image_changed, self.selection_changed, self.hint_changed, self.query_changed)
            self._explain()

    def mark_unreadable(self, image_id: int, error: str) -> None:
        """A file found unreadable at full decode (after the scan said it was fine). Written outside
        the undo stack on purpose: it sets only ``images.error``, which no edit reads or writes."""
        rec = self.store.images.get(image_id)
        if rec is None or rec.error == error:
            return
        try:
            self.store.images.set_error(image_id, error)
        except StoreError:
            return  # shown as unreadable anyway; the next decode tries again
        rec = self.store.images.get(image_id)
        self.record_changed.emit(rec)
        if self.image is not None and self.image.id == image_id:
            with self._batch():
                self.image = rec
                self._notify(self.image_changed, self.query_changed)
                self._explain()

    def changed_outside(self, clear_history: bool, what: str) -> None:
        """The store was written outside the undo stack (an import, a rescan: ``what`` says which). With
        ``clear_history`` the rows under the stack's edits may have changed, so the stack is
        cleared (and the user told) rather than left to undo into rows that are not there."""
        if clear_history and self._stack is not None and self._stack.count():
            self._stack.clear()
            self.notice.emit(f"{what}; the undo history was cleared (the edits stay saved)")
        if self.image is not None:
            rec = self.store.images.get(self.image.id)
            with self._batch():
                self.image = rec if rec is not None and not rec.missing else None
                self._reload()
                self._notify(self.image_changed, self.query_changed)

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
        self._filter_proposals()

    # ------------------------------------------------------------------ running edits
    def apply(self, edit: edits.Edit, undo: bool = False) -> bool:
        """Run ``edit`` (or its undo) on the store and show the result; the stack calls this.
        A failure (say, the disk is full) is reported and returns False: the stack drops the edit."""
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
            with self._batch():
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
            with self._batch():
                self.image = current
                self._notify(self.image_changed)
                self._reload()

    def _push(self, edit: edits.Edit) -> bool:
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
        """The phrase of the image that ``phrase`` joins (``store.phrases.phrase_joined``)."""
        return phrase_joined(phrase, self.annotations, lambda a: a.expression.text)

    # ------------------------------------------------------------------ selection
    @property
    def selected_box(self) -> Optional[Box]:
        sel = self.selection
        return self.box(sel.id) if sel is not None and sel.kind == SelectionKind.BOX else None

    @property
    def stored_proposal_selected(self) -> bool:
        """A proposed box is selected and no phrase is typed: Enter accepts that box."""
        box = self.selected_box
        return box is not None and box.state == BoxState.PROPOSED and self.phrase is None

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

    # ------------------------------------------------------------------ helpers
    def _notify(self, *signals: Signal) -> None:
        for s in signals:
            self._batch.notify(s)

