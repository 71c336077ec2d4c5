"""The document model of the open image: the one owner of what the window edits.

``ImageDocument`` holds the current image, its annotations, the phrase being typed, the model's
proposals with their highlight and threshold, the one selection, and every editing rule (accept,
accept all, no target, reject, draw, move, nudge, delete, rename, review and next) as a method.
Rules turn into ``edits.Edit`` commands pushed on an ``EditStack``; the stack runs them through
``apply``, which writes the store and re-reads what changed. Views subscribe to the signals below
and read the state back: they keep no copies, so there is nothing to get out of step.

It has no Qt in it (the signals are ``events.Signal``), so the rules are tested without a window.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional, Protocol

from ..core import (Box, BoxState, Expression, ImageRecord, ImageState, PhraseError, Proposal, clamp_xywh,
                    clean_phrase, iou_xywh, keep_inside)
from ..core.geometry import XYWH
from ..core.proposal import is_stored
from ..core.phrase_parse import parse_phrase
from ..store import ProjectStore, StoreError
from ..store.phrases import phrase_joined
from . import edits
from .events import Batch, Signal
from .state import Annotation, Answer, ModelState, PendingAccept, ProposalQuery, Selection, SelectionKind, Tone

DUPLICATE_IOU = 0.5  # a singular phrase refuses a proposal overlapping its box this much (COCO's match)
NUDGE_BIG_STEP = 10


class EditStack(Protocol):
    """Where edits go: ``push`` runs the edit (through ``ImageDocument.apply``) and keeps it for undo."""

    def push(self, edit: edits.Edit) -> bool:
        """False if the edit failed (it is then not kept)."""
        ...

    def clear(self) -> None: ...

    def count(self) -> int: ...


class ImageDocument:
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
        self._stack: Optional[EditStack] = None
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
        self.absent_before: set[int] = set()   # phrases whose "not in image" a box took back (this session)

    # ------------------------------------------------------------------ project and image
    def open_project(self, store: ProjectStore, stack: EditStack) -> None:
        self.store, self._stack = store, stack
        self.open_image(None)

    def close_project(self) -> None:
        self.open_image(None)
        if self._stack is not None:
            self._stack.clear()
        if self.store is not None:
            self.store.close()
        self.store = self._stack = None
        self.absent_before.clear()

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
        rec = self.store.image(image_id)
        if rec is None or rec.error == error:
            return
        try:
            self.store.set_image_error(image_id, error)
        except StoreError:
            return  # shown as unreadable anyway; the next decode tries again
        rec = self.store.image(image_id)
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
            rec = self.store.image(self.image.id)
            with self._batch():
                self.image = rec if rec is not None and not rec.missing else None
                self._reload()
                self._notify(self.image_changed, self.query_changed)

    def _reload(self) -> None:
        """Re-read the current image's annotations; drop a selection whose row is gone."""
        rows = self.store.annotations(self.image.id) if self.image is not None and self.store else []
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
            self.error.emit(str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}")
        if ok and not undo:
            self.absent_before.update(edit.absent_taken)
        if edit.image_id is None:
            self._applied_to_many(edit.image_ids)
            return ok
        rec = self.store.image(edit.image_id)
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
        records = [r for r in map(self.store.image, image_ids) if r is not None]
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

    # ------------------------------------------------------------------ phrase, hint, model
    @property
    def query(self) -> Optional[ProposalQuery]:
        """What the model should be asked now, or None when nothing can be asked."""
        if self.phrase is None or self.image is None or not self.image.readable or self.store is None:
            return None
        return ProposalQuery(self.image.id, self.path_of(self.image), self.phrase, self.hint)

    @property
    def up_to_date(self) -> bool:
        """The proposals shown answer the phrase typed now, on this image, with this hint."""
        q = self.query
        return q is not None and self.answer is not None and self.answer.query == q and not self.answer.error

    @property
    def waiting(self) -> bool:
        """Proposals for what is typed can still come: a usable phrase on a readable image, a
        model loading or ready, and no answer (nor failure) for it yet. Anything that cannot
        produce proposals is not waiting (an over-long phrase, a failed model, an unreadable file)."""
        q = self.query
        return q is not None and self.model_state.coming \
            and (self.answer is None or self.answer.query != q)

    def set_text(self, text: str) -> None:
        """The phrase bar's text changed (each keystroke): clean it, and ask again."""
        with self._batch():
            self.text = text
            self.wanted = None
            if not text.strip():
                self.phrase, self.plural = None, False
                self._drop_answer()
                self.info.emit("", Tone.NORMAL)
            else:
                try:
                    self.phrase = clean_phrase(text)
                except PhraseError as exc:
                    self.phrase, self.plural = None, False
                    self._drop_answer()
                    self.info.emit(f"{str(exc)[0].upper()}{str(exc)[1:]}.", Tone.ERROR)
                else:
                    self.plural = parse_phrase(self.phrase).plural
                    self._explain()
            self._notify(self.query_changed)

    def look_for(self, phrase: str, bbox: XYWH) -> None:
        """Ask for ``phrase`` as if typed, and highlight the proposal at ``bbox`` when the answer
        comes (a search result opened: its best box)."""
        with self._batch():
            self.set_text(phrase)
            self.phrase_set.emit(self.text)
            self.wanted = tuple(bbox)

    def set_hint(self, point: Optional[tuple[float, float]]) -> None:
        with self._batch():
            self.hint = point
            self._notify(self.hint_changed, self.query_changed)
            if self.phrase:
                self._explain()
            elif point is not None:
                self.info.emit("Hint point set: now type what is there.", Tone.NORMAL)

    def set_threshold(self, value: float) -> None:
        """What counts as confident: proposals under it are drawn faint, stored ones too (Space
        accepts only those at or above it)."""
        self.threshold = float(value)
        with self._batch():
            self._notify(self.proposals_changed, self.annotations_changed)

    def set_model_state(self, state: ModelState) -> None:
        with self._batch():
            self.model_state = state
            self._notify(self.query_changed)
            self._explain()

    def clear_query(self) -> bool:
        """Esc: forget the phrase, the hint and the proposals. False if there was nothing to clear."""
        if not (self.text or self.hint is not None or self.proposals):
            return False
        with self._batch():
            self.pending = None
            self._reset_phrase(keep=False)
        return True

    def _explain(self) -> None:
        """Say what happens to the phrase typed: looked for, waits for the model, or cannot be."""
        if self.phrase is None or self.image is None:
            return
        if not self.image.readable:
            self.info.emit("This image cannot be read, so the model cannot look at it.", Tone.ERROR)
        elif self.model_state == ModelState.FAILED:
            self.info.emit("Model unavailable: draw boxes yourself (W).", Tone.ERROR)
        elif self.model_state != ModelState.READY:
            self.info.emit("Model loading… proposals will follow.", Tone.BUSY)
        elif not self.up_to_date:
            self.info.emit(f"Looking for “{self.phrase}”…", Tone.BUSY)

    # ------------------------------------------------------------------ proposals
    def take_answer(self, answer: Answer) -> None:
        """The model answered ``answer.query``; an answer to anything but the current query is stale."""
        if answer.query != self.query:
            return
        with self._batch():
            self.answer = answer
            if answer.error:
                self._set_proposals(())
                self.info.emit(f"The model failed on this image: {answer.error}", Tone.ERROR)
                self.pending = None
                return
            self._filter_proposals(keep_highlight=False)
            wanted, self.wanted = self.wanted, None
            if wanted is not None:
                self.set_highlight(next((i for i, p in enumerate(self.proposals) if is_stored(p.bbox, [wanted])),
                                        self.highlight))
            self.info.emit(*self._answer_message())
            pending, self.pending = self.pending, None
            if pending == PendingAccept.ONE:
                self._accept_queued()
            elif pending == PendingAccept.ALL:
                self.accept_all()

    def _accept_queued(self) -> None:
        """Enter pressed before the answer: accept now, unless the match is weak. A weak match is
        accepted only by an Enter pressed after the user could read so (the rule of every Enter)."""
        p = self.current_proposal()
        if p is not None and p.score < self.threshold:
            self.info.emit(f"Only weak matches (best {p.score:.2f}), so nothing was accepted: "
                           "Enter accepts it anyway, Shift+Enter: not in image.", Tone.NORMAL)
        else:
            self.accept()

    def _answer_message(self) -> tuple[str, Tone]:
        n, phrase = len(self.proposals), self.answer.query.phrase
        if not self.answer.proposals:
            return f"No match for “{phrase}”: draw it (W) or Shift+Enter for “not in image”.", Tone.NORMAL
        if n == 0:
            return "Every proposal is already stored for this phrase.", Tone.GOOD
        best = max(p.score for p in self.proposals)
        if best < self.threshold:
            return (f"Only weak matches (best {best:.2f}): Enter accepts anyway, "
                    "Shift+Enter: not in image."), Tone.NORMAL
        if self.plural:
            return f"{n} proposals · plural: Ctrl+Enter accepts all ≥ threshold", Tone.GOOD
        return f"{n} proposal{'s' if n != 1 else ''} · Enter accepts · Tab next", Tone.GOOD

    def _drop_answer(self) -> None:
        self.answer = None
        self._set_proposals(())

    def _filter_proposals(self, keep_highlight: bool = True) -> None:
        """Hide proposals that coincide with a box already stored for the answered phrase
        (accepted or rejected), so undoing an accept brings its proposal back by itself."""
        if self.answer is None or self.answer.error:
            return
        a = self.annotation_of_phrase(self.answer.query.phrase)
        stored = [b.bbox for b in a.boxes] if a is not None else []
        self._set_proposals(tuple(p for p in self.answer.proposals if not is_stored(p.bbox, stored)),
                            keep_highlight)

    def _set_proposals(self, shown: tuple[Proposal, ...], keep_highlight: bool = True) -> None:
        """A new answer highlights the best proposal; otherwise the highlight stays on the same
        proposal while it is shown, else near where it was."""
        old, index = self.current_proposal(), self.highlight
        if not shown:
            highlight = -1
        elif keep_highlight and old is not None and old in shown:
            highlight = shown.index(old)
        elif keep_highlight and index >= 0:
            highlight = min(index, len(shown) - 1)
        else:
            highlight = 0
        changed = self.proposals_changed if shown != self.proposals else \
            self.highlight_changed if highlight != self.highlight else None
        self.proposals, self.highlight = shown, highlight
        if changed is not None:
            self._notify(changed)

    def current_proposal(self) -> Optional[Proposal]:
        return self.proposals[self.highlight] if 0 <= self.highlight < len(self.proposals) else None

    def move_highlight(self, step: int) -> None:
        if self.proposals:
            self.set_highlight((self.highlight + step) % len(self.proposals))

    def set_highlight(self, index: int) -> None:
        if 0 <= index < len(self.proposals) and index != self.highlight:
            self.highlight = index
            self._notify(self.highlight_changed)

    def _answer_ready(self, pending: PendingAccept) -> bool:
        """True if the proposals shown answer the phrase typed; else accept once they arrive."""
        if self.up_to_date:
            return True
        if self.waiting:
            self.pending = pending
            self.info.emit("Will accept when the proposals arrive…", Tone.BUSY)
        return False

    # ------------------------------------------------------------------ editing rules
    def accept(self, index: Optional[int] = None) -> None:
        """Store one proposal (the highlighted one, or ``index``: a click) as a box of its phrase.
        A plural phrase stays in the bar for the next one. A singular phrase names one thing: a
        proposal on the box it already has is refused, and a second box is pointed out."""
        if self.image is None:
            return
        if index is None and self.stored_proposal_selected:
            box = self.selected_box
            with self._batch():
                self._push(edits.AcceptStored(self.image, box, self.annotation_of_box(box.id).expression.text))
                self.select_box(box.id)
            return
        if index is None and not self._answer_ready(PendingAccept.ONE):
            return
        with self._batch():
            if index is not None:
                self.set_highlight(index)
            p = self.current_proposal()
            if p is None:
                return
            phrase = self.answer.query.phrase
            a = self.annotation_of_phrase(phrase)
            had = a.kept if a is not None and not self.plural else ()
            overlap = max((iou_xywh(p.bbox, b.bbox) for b in had), default=0.0)
            if overlap >= DUPLICATE_IOU:
                self.info.emit(f"“{a.expression.text}” already has this box (overlap {overlap:.2f}): "
                               "Tab to another proposal, or correct the box itself.", Tone.ERROR)
                return
            if self._push(edits.AcceptProposals(self.image, phrase, [p])):
                self._after_add(phrase, keep_phrase=self.plural)
                if had:
                    self.notice.emit(f"“{a.expression.text}” now has {len(had) + 1} boxes; "
                                     "a phrase for several things reads best in the plural (“the cups”).")

    def accept_all(self) -> None:
        """Store every proposal scoring at least the threshold ("the horses")."""
        if self.image is None or not self._answer_ready(PendingAccept.ALL):
            return
        chosen = [p for p in self.proposals if p.score >= self.threshold]
        if not chosen:
            self.info.emit(f"No proposal scores ≥ {self.threshold:.2f}; Enter accepts the highlighted one.",
                           Tone.ERROR)
            return
        with self._batch():
            phrase = self.answer.query.phrase
            if self._push(edits.AcceptProposals(self.image, phrase, chosen)):
                self._after_add(phrase, keep_phrase=False)

    def accept_no_target(self) -> None:
        """The phrase names nothing in this image: a negative example. A phrase already stored
        whose boxes were all rejected may still be said so; one with boxes may not."""
        if self.image is None:
            return
        if self.phrase is None:
            self.info.emit("Type the phrase first.", Tone.ERROR)
            return
        a = self.annotation_of_phrase(self.phrase)
        if a is not None and (a.kept or a.expression.no_target):
            self.info.emit(f"“{self.phrase}” is already stored for this image.", Tone.ERROR)
            return
        with self._batch():
            phrase = self.phrase
            if self._push(edits.AddNoTarget(self.image, phrase, a.expression.id if a is not None else None)):
                self._after_add(phrase, keep_phrase=False)

    def reject(self) -> None:
        """Store the highlighted proposal as a rejected box ("this box is wrong", a hard negative);
        it is hidden then. The phrase still needs its box, or Shift+Enter if the thing is absent."""
        p = self.current_proposal()
        if self.image is None or p is None:
            return
        with self._batch():
            phrase = self.answer.query.phrase
            if self._push(edits.RejectProposal(self.image, phrase, p)) and not self.annotation_of_phrase(phrase).kept:
                self.info.emit(f"Rejected: “{phrase}” still needs a box. Tab to another, W to draw it, "
                               "Shift+Enter if it is not in the image.", Tone.NORMAL)

    def draw_box(self, bbox: XYWH, phrase: Optional[str] = None) -> bool:
        """A box drawn by hand, named by ``phrase`` (the user's choice) or else the typed phrase;
        never by whatever happens to be selected. False when nothing names it: ask, then call again."""
        if self.image is None:
            return True
        if phrase is not None:
            phrase = self._new_text(phrase)
            if phrase is None:
                return True
        elif self.phrase is not None:
            phrase = self.phrase
        else:
            return False
        bbox = clamp_xywh(bbox, self.image.width, self.image.height)
        with self._batch():
            edit = edits.DrawBox(self.image, phrase, bbox)
            if self._push(edit):
                self.select_box(edit.boxes[0].id)
        return True

    def move_box(self, box_id: int, bbox: XYWH, resized: bool = False) -> None:
        """A box dragged (or resized) to ``bbox``; kept inside the image."""
        box, a = self.box(box_id), self.annotation_of_box(box_id)
        if self.image is None or box is None:
            return
        bbox = keep_inside(bbox, self.image.width, self.image.height)
        if tuple(bbox) != tuple(box.bbox):
            verb = "Resize" if resized else "Move"
            self._push(edits.MoveBox(self.image, box, bbox, f"{verb} box of {edits.quoted(a.expression.text)}"))

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
            self._push(edits.MoveBox(self.image, box, bbox, "Nudge box", nudge=True))

    def delete_selected(self) -> None:
        """Del: the selected box, or the selected phrase with its boxes. A phrase's only box takes
        the phrase with it (a phrase with no box is unfinished), except on a phrase that was "not
        in image" until a box came (``absent_before``): deleting its last box that says where the
        thing is makes it that again. After a box, the selection moves to the next box of the same
        phrase (of the same kind: drawn, or rejected), or to nothing: never to the phrase, so a
        second Del cannot take the whole phrase by surprise."""
        if self.image is None:
            return
        box, expr = self.selected_box, self.selected_expression
        if expr is None:
            self.notice.emit("Select a box or a phrase to delete")
            return
        annotation = self.annotation(expr.id)
        boxes = annotation.boxes
        absent_again = box is not None and expr.id in self.absent_before and annotation.kept == (box,)
        with self._batch():
            if box is not None and (len(boxes) > 1 or absent_again):
                rejected = box.state == BoxState.REJECTED
                siblings = [b for b in boxes if (b.state == BoxState.REJECTED) == rejected]
                at = siblings.index(box)
                following = (siblings[at + 1:] or siblings[:at][-1:] or [None])[0]
                if self._push(edits.DeleteBox(self.image, box.id, expr.text, absent_again)):
                    self.select_box(following.id if following is not None else None)
            else:
                self._push(edits.DeletePhrase(self.image, expr))
                self.select(None)

    def _new_text(self, text: str) -> Optional[str]:
        """``text`` cleaned, or None after saying why it is refused."""
        try:
            return clean_phrase(text)
        except PhraseError as exc:
            self.notice.emit(f"Phrase refused: {exc}")
            return None

    def rename(self, expression_id: int, text: str) -> None:
        """Give a phrase new text (all its boxes follow). Text that joins another phrase of the
        image (``phrase_joined``: "The  Dog" joins "the dog") merges the phrase into it, one undo
        step, or is refused with the reason where the two say opposite things."""
        a = self.annotation(expression_id)
        new = self._new_text(text) if self.image is not None and a is not None else None
        if new is None or new == a.expression.text:
            return
        target = self.annotation_of_phrase(new)
        if target is None or target is a:
            self._push(edits.RenamePhrase(self.image, a.expression, new))
            return
        if target.kept and not a.kept and a.expression.no_target:
            self.notice.emit(f"Not merged: “{target.expression.text}” has a box here and “{a.expression.text}” "
                             "says it is not in the image; delete the one that is wrong.")
            return
        with self._batch():
            if self._push(edits.MergePhrase(self.image, a.expression, target.expression)):
                self.select_phrase(target.expression.id)
                self.notice.emit(f"“{a.expression.text}” merged into “{target.expression.text}”, which this "
                                 "image already has.")

    def relabel_box(self, box_id: int, text: str) -> None:
        """F2 on a box: that box alone goes to the phrase ``text``, an existing one of the image
        (same phrase key) or a new one; its old phrase keeps its other boxes. A box that is its
        phrase's only box takes the phrase's new text with it (the same result, one id kept)."""
        box, a = self.box(box_id), self.annotation_of_box(box_id)
        new = self._new_text(text) if self.image is not None and box is not None else None
        if new is None:
            return
        target = self.annotation_of_phrase(new)
        if target is a or (target is None and len(a.boxes) == 1):
            if len(a.boxes) == 1:
                self.rename(a.expression.id, new)
            return
        with self._batch():
            self._push(edits.RelabelBox(self.image, box, a.expression, new,
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
            self._push(edits.SetImageState(self.image, ImageState.REVIEWED, accept=confident))
        target = next((r.id for r in after
                       if r.id != self.image.id and r.state != ImageState.REVIEWED and r.readable), None)
        if target is None:
            self.notice.emit("Every image in the list is reviewed.")
        return target

    def _after_add(self, phrase: str, keep_phrase: bool) -> None:
        """Select what was just stored (the phrase's newest box, or the phrase), then clear the bar
        for the next phrase, or keep it (plural) with the hint point dropped."""
        a = self.annotation_of_phrase(phrase)
        if a is not None:
            newest = max(a.kept, key=lambda b: b.id, default=None)
            self.select(Selection(SelectionKind.BOX, newest.id) if newest is not None
                        else Selection(SelectionKind.PHRASE, a.expression.id))
        self._reset_phrase(keep=keep_phrase)

    def _reset_phrase(self, keep: bool) -> None:
        """Drop the hint point, and the phrase with its proposals unless ``keep``."""
        self.hint = None
        if not keep:
            self.text, self.phrase, self.plural = "", None, False
            self._drop_answer()
            self.info.emit("", Tone.NORMAL)
        self.phrase_set.emit(self.text)
        self._notify(self.hint_changed, self.query_changed)
        self._explain()

    # ------------------------------------------------------------------ helpers
    def _notify(self, *signals: Signal) -> None:
        for s in signals:
            self._batch.notify(s)

