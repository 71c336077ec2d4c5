"""The editing rules of ``ImageDocument`` (see ``editing.document``): accept, accept all, no
target, reject, draw, move, nudge, delete, rename, relabel, review and next. Each turns into an
``edits.Edit`` pushed on the document's stack. A part of the document class, as the store's parts
are of ``ProjectStore``: it reads and writes the attributes ``ImageDocument.__init__`` sets."""
from __future__ import annotations

from typing import Iterable, Optional

from ..core import (BoxState, ImageRecord, ImageState, PhraseError, clamp_xywh, clean_phrase, iou_xywh,
                    keep_inside)
from ..core.geometry import XYWH
from ..store.phrases import phrase_joined
from . import edits
from .keys import key
from .query import NO_HIGHLIGHT
from .state import PendingAccept, Selection, SelectionKind, Tone

DUPLICATE_IOU = 0.5  # a singular phrase refuses a proposal overlapping its box this much (COCO's match)
NUDGE_BIG_STEP = 10


class LabelRules:
    """Every rule that changes the labels of the open image."""

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
                if self.proposals:
                    self.info.emit(NO_HIGHLIGHT, Tone.NORMAL)
                return
            phrase = self.answer.query.phrase
            a = self.annotation_of_phrase(phrase)
            had = a.kept if a is not None and not self.plural else ()
            overlap = max((iou_xywh(p.bbox, b.bbox) for b in had), default=0.0)
            if overlap >= DUPLICATE_IOU:
                self.info.emit(f"“{a.expression.text}” already has this box (overlap {overlap:.2f}): "
                               f"{key('next_proposal')} to another proposal, or correct the box itself.", Tone.ERROR)
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
            self.info.emit(f"No proposal scores ≥ {self.threshold:.2f}; {key('accept')} accepts the highlighted one.",
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
                self.info.emit(f"Rejected: “{phrase}” still needs a box. {key('next_proposal')} to another, "
                               f"{key('draw_mode')} to draw it, {key('accept_none')} if it is not in the image.", Tone.NORMAL)

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
            self.clear_highlight()  # the drawn box is the answer: no proposal stays ready for Enter
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
        in image" until a box came (``Expression.absent_before``, kept in the store): deleting its
        last box that says where the thing is makes it that again. After a box, the selection moves
        to the next box of the same phrase (of the same kind: drawn, or rejected), or to nothing:
        never to the phrase, so a second Del cannot take the whole phrase by surprise."""
        if self.image is None:
            return
        box, expr = self.selected_box, self.selected_expression
        if expr is None:
            self.notice.emit("Select a box or a phrase to delete")
            return
        annotation = self.annotation(expr.id)
        boxes = annotation.boxes
        absent_again = box is not None and annotation.expression.absent_before and annotation.kept == (box,)
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
