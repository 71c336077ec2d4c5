"""The document model of the open image: the one owner of what the window edits, in two parts
composed by what they hold, and the rules that take the model's proposals into the labels.

- ``labels`` (``editing.labels.LabelsDocument``): the project, the image, its annotations, the
  selection, the threshold, and the rules that need no proposal (move, nudge, delete, rename,
  relabel, review and next);
- ``query`` (``editing.query.QuerySession``): the phrase typed, the hint point, the model's
  answer with the proposals shown and their highlight, a pending accept.

``ImageDocument`` keeps the two in step (another image drops the answer; an edit hides the
proposals it stored) and holds the rules that need both: accept, accept all, no target, reject,
draw. Views bind to the parts and subscribe to their signals (one ``events.Batch`` coalesces both
parts' signals per user action) and read their state back: they keep no copies. No Qt, so every
rule is tested without a window (``tests/unit/test_document.py``).
"""
from __future__ import annotations

from typing import Optional

from ..core import BoxState, ImageRecord, clamp_xywh, iou_xywh
from ..core.geometry import XYWH
from ..store import ProjectStore
from . import edits, messages
from .events import Batch
from .labels import LabelsDocument, Stack
from .query import QuerySession
from .state import Answer, PendingAccept

DUPLICATE_IOU = 0.5  # a singular phrase refuses a proposal overlapping its box this much (COCO's match)


class ImageDocument:
    """The labels and the query session of the open image; see the module docstring."""

    def __init__(self) -> None:
        self.batch = Batch()
        self.labels = LabelsDocument(self.batch)
        self.query = QuerySession(self.labels, self.batch)

    # ------------------------------------------------------------------ keeping the parts in step
    def open_project(self, store: ProjectStore, stack: Stack) -> None:
        self.labels.open_project(store, stack)
        self.open_image(None)

    def close_project(self) -> None:
        self.open_image(None)
        self.labels.close_project()

    def open_image(self, record: Optional[ImageRecord]) -> None:
        """Show ``record`` (None: no image). The typed phrase stays and is asked again."""
        with self.batch():
            self.labels.show(record)
            self.query.image_changed(another=True)

    def mark_unreadable(self, image_id: int, error: str) -> None:
        """A file found unreadable at full decode (``LabelsDocument.mark_unreadable``)."""
        with self.batch():
            if self.labels.mark_unreadable(image_id, error):
                self.query.image_changed(another=False)

    def changed_outside(self, clear_history: bool, what: str) -> None:
        """The store was written outside the undo stack (``LabelsDocument.changed_outside``)."""
        with self.batch():
            self.labels.changed_outside(clear_history, what)
            self.query.image_changed(another=False)

    def apply(self, edit: edits.Edit, undo: bool = False) -> bool:
        """Run ``edit`` (or its undo) on the store and show the result: the stack calls this. A
        failure is reported and returns False: the stack drops the edit."""
        with self.batch():
            ok = self.labels.apply(edit, undo)
            self.query.refilter()
        return ok

    def take_answer(self, answer: Answer) -> None:
        """The model answered (``QuerySession.take_answer``); an Enter pressed before it came is
        run now."""
        with self.batch():
            pending = self.query.take_answer(answer)
            if pending == PendingAccept.ONE:
                self._accept_queued()
            elif pending == PendingAccept.ALL:
                self.accept_all()

    # ------------------------------------------------------------------ proposals into labels
    @property
    def stored_proposal_selected(self) -> bool:
        """A proposed box is selected and no phrase is typed: Enter accepts that box."""
        box = self.labels.selected_box
        return box is not None and box.state == BoxState.PROPOSED and self.query.phrase is None

    def accept(self, index: Optional[int] = None) -> None:
        """Store one proposal (the highlighted one, or ``index``: a click) as a box of its phrase.
        A plural phrase stays in the bar for the next one. A singular phrase names one thing: a
        proposal on the box it already has is refused, and a second box is pointed out."""
        labels, query = self.labels, self.query
        if labels.image is None:
            return
        if index is None and self.stored_proposal_selected:
            box = labels.selected_box
            with self.batch():
                labels.push(edits.AcceptStored(labels.image, box, labels.annotation_of_box(box.id).expression.text))
                labels.select_box(box.id)
            return
        if index is None and not query.answer_ready(PendingAccept.ONE):
            return
        with self.batch():
            if index is not None:
                query.set_highlight(index)
            p = query.current_proposal()
            if p is None:
                if query.proposals:
                    query.say(messages.no_highlight())
                return
            phrase = query.answer.query.phrase
            a = labels.annotation_of_phrase(phrase)
            had = a.kept if a is not None and not query.plural else ()
            overlap = max((iou_xywh(p.bbox, b.bbox) for b in had), default=0.0)
            if overlap >= DUPLICATE_IOU:
                query.say(messages.duplicate_box(a.expression.text, overlap))
                return
            if labels.push(edits.AcceptProposals(labels.image, phrase, [p])):
                self._after_add(phrase, keep_phrase=query.plural)
                if had:
                    labels.notice.emit(messages.second_box(a.expression.text, len(had) + 1))

    def _accept_queued(self) -> None:
        """Enter pressed before the answer: accept now, unless the best scores under the threshold.
        Such a box is accepted only by an Enter pressed after the user could see it."""
        p = self.query.current_proposal()
        if p is not None and p.score < self.labels.threshold:
            self.query.say(messages.not_accepted_unseen(p.score, self.labels.threshold))
        else:
            self.accept()

    def accept_all(self) -> None:
        """Store every proposal scoring at least the threshold ("the horses")."""
        labels, query = self.labels, self.query
        if labels.image is None or not query.answer_ready(PendingAccept.ALL):
            return
        chosen = [p for p in query.proposals if p.score >= labels.threshold]
        if not chosen:
            query.say(messages.nothing_confident(labels.threshold))
            return
        with self.batch():
            phrase = query.answer.query.phrase
            if labels.push(edits.AcceptProposals(labels.image, phrase, chosen)):
                self._after_add(phrase, keep_phrase=False)

    def accept_no_target(self) -> None:
        """The phrase names nothing in this image: a negative example. A phrase already stored
        whose boxes were all rejected may still be said so; one with boxes may not."""
        labels, phrase = self.labels, self.query.phrase
        if labels.image is None:
            return
        if phrase is None:
            self.query.say(messages.TYPE_FIRST)
            return
        a = labels.annotation_of_phrase(phrase)
        if a is not None and (a.kept or a.expression.no_target):
            self.query.say(messages.already_stored(phrase))
            return
        with self.batch():
            if labels.push(edits.AddNoTarget(labels.image, phrase, a.expression.id if a is not None else None)):
                self._after_add(phrase, keep_phrase=False)

    def reject(self) -> None:
        """Store the highlighted proposal as a rejected box ("this box is wrong", a hard negative);
        it is hidden then. The phrase still needs its box, or Shift+Enter if the thing is absent."""
        labels, p = self.labels, self.query.current_proposal()
        if labels.image is None or p is None:
            return
        with self.batch():
            phrase = self.query.answer.query.phrase
            if labels.push(edits.RejectProposal(labels.image, phrase, p)) and not labels.annotation_of_phrase(phrase).kept:
                self.query.say(messages.rejected_needs_box(phrase))

    def draw_box(self, bbox: XYWH, phrase: Optional[str] = None) -> bool:
        """A box drawn by hand, named by ``phrase`` (the user's choice) or else the typed phrase;
        never by whatever happens to be selected. False when nothing names it: ask, then call again."""
        labels = self.labels
        if labels.image is None:
            return True
        if phrase is not None:
            phrase = labels.new_text(phrase)
            if phrase is None:
                return True
        elif self.query.phrase is not None:
            phrase = self.query.phrase
        else:
            return False
        bbox = clamp_xywh(bbox, labels.image.width, labels.image.height)
        with self.batch():
            self.query.clear_highlight()  # the drawn box is the answer: no proposal stays ready for Enter
            edit = edits.DrawBox(labels.image, phrase, bbox)
            if labels.push(edit):
                labels.select_box(edit.boxes[0].id)
        return True

    def _after_add(self, phrase: str, keep_phrase: bool) -> None:
        """Select what was just stored, then clear the bar for the next phrase, or keep it
        (plural) with the hint point dropped."""
        self.labels.select_newest(phrase)
        self.query.reset(keep=keep_phrase)
