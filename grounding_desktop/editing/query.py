"""The query session of the open image: the phrase typed, the hint point, the model's state, its
answer and the proposals shown with their highlight, and what Enter will do before the answer
came (a pending accept).

``QuerySession`` is one of the two parts ``editing.document.ImageDocument`` composes (the other is
``editing.labels.LabelsDocument``). It changes no label: it reads the labels it needs through
``ShownLabels`` (the image shown, its file, the threshold, the boxes a phrase has already), so it
is driven and tested with any object that offers those. No Qt: the signals are ``events.Signal``.
"""
from __future__ import annotations

from typing import Optional, Protocol

from ..core import ImageRecord, PhraseError, Proposal, clean_phrase
from ..core.geometry import XYWH
from ..core.phrase_parse import parse_phrase
from ..core.proposal import is_stored
from . import messages
from .events import Batch, Signal
from .messages import Line
from .state import Answer, ModelState, PendingAccept, ProposalQuery


class ShownLabels(Protocol):
    """What the query session reads of the labels (``LabelsDocument`` is one)."""

    image: Optional[ImageRecord]
    threshold: float

    def path_of(self, record: ImageRecord) -> str: ...

    def stored_boxes(self, phrase: str) -> list[XYWH]: ...  # boxes of the phrase it joins, any state


class QuerySession:
    """The phrase, the hint and the model's proposals of the open image; see the module docstring.
    ``batch`` coalesces the signals of one user action (shared with the labels document)."""

    def __init__(self, labels: ShownLabels, batch: Optional[Batch] = None) -> None:
        # -- signals (argument-less ones are coalesced per user action: see ``events.Batch``)
        self.proposals_changed = Signal()    # the proposals shown
        self.highlight_changed = Signal()    # only the highlighted proposal moved (Tab)
        self.hint_changed = Signal()
        self.request_changed = Signal()      # what the model should be asked (``request``) changed
        self.phrase_set = Signal()           # (str) the session set the phrase itself (cleared after Enter)
        self.info = Signal()                 # (str, Tone) the phrase bar's line: what Enter will do, or why not
        self.batch = batch if batch is not None else Batch()
        self.labels = labels

        self.text = ""                         # the phrase bar as typed
        self.phrase: Optional[str] = None      # ``text`` cleaned, when usable
        self.plural = False
        self.hint: Optional[tuple[float, float]] = None
        self.model_state = ModelState.IDLE      # the host's, as its ``state_changed`` last said
        self.answer: Optional[Answer] = None   # the latest answer taken (its proposals may be filtered)
        self.proposals: tuple[Proposal, ...] = ()  # shown: the answer minus boxes already stored
        self.highlight = -1
        self.pending: Optional[PendingAccept] = None
        self.wanted: Optional[XYWH] = None     # the proposal to highlight when the answer comes (a search result)

    # ------------------------------------------------------------------ what is asked
    @property
    def request(self) -> Optional[ProposalQuery]:
        """What the model should be asked now, or None when nothing can be asked."""
        image = self.labels.image
        if self.phrase is None or image is None or not image.readable:
            return None
        return ProposalQuery(image.id, self.labels.path_of(image), self.phrase, self.hint)

    @property
    def up_to_date(self) -> bool:
        """The proposals shown answer the phrase typed now, on this image, with this hint."""
        q = self.request
        return q is not None and self.answer is not None and self.answer.query == q and not self.answer.error

    @property
    def waiting(self) -> bool:
        """Proposals for what is typed can still come: a usable phrase on a readable image, a
        model loading or ready, and no answer (nor failure) for it yet. Anything that cannot
        produce proposals is not waiting (an over-long phrase, a failed model, an unreadable file)."""
        q = self.request
        return q is not None and self.model_state.coming \
            and (self.answer is None or self.answer.query != q)

    def set_text(self, text: str) -> None:
        """The phrase bar's text changed (each keystroke): clean it, and ask again."""
        with self.batch():
            self.text = text
            self.wanted = None
            if not text.strip():
                self.phrase, self.plural = None, False
                self.drop_answer()
                self.say(messages.CLEARED)
            else:
                try:
                    self.phrase = clean_phrase(text)
                except PhraseError as exc:
                    self.phrase, self.plural = None, False
                    self.drop_answer()
                    self.say(messages.phrase_error(exc))
                else:
                    self.plural = parse_phrase(self.phrase).plural
                    self.explain()
            self._notify(self.request_changed)

    def look_for(self, phrase: str, bbox: XYWH) -> None:
        """Ask for ``phrase`` as if typed, and highlight the proposal at ``bbox`` when the answer
        comes (a search result opened: its best box)."""
        with self.batch():
            self.set_text(phrase)
            self.phrase_set.emit(self.text)
            self.wanted = tuple(bbox)

    def set_hint(self, point: Optional[tuple[float, float]]) -> None:
        with self.batch():
            self.hint = point
            self._notify(self.hint_changed, self.request_changed)
            if self.phrase:
                self.explain()
            elif point is not None:
                self.say(messages.HINT_SET)

    def set_model_state(self, state: ModelState) -> None:
        """The model's state changed (``GrounderHost.state_changed``, its one writer)."""
        with self.batch():
            self.model_state = state
            self._notify(self.request_changed)
            self.explain()

    def image_changed(self, another: bool) -> None:
        """The labels show ``another`` image (the hint, the answer and a pending accept are
        dropped; the phrase stays and is asked again), or the same image's record or labels
        changed outside an edit (the proposals they stored are hidden)."""
        with self.batch():
            if another:
                self.pending = None
                self.wanted = None
                self.hint = None
                self.drop_answer()
                self._notify(self.hint_changed)
            else:
                self.refilter()
            self._notify(self.request_changed)
            self.explain()

    def clear(self) -> bool:
        """Esc: forget the phrase, the hint and the proposals. False if there was nothing to clear."""
        if not (self.text or self.hint is not None or self.proposals):
            return False
        with self.batch():
            self.pending = None
            self.reset(keep=False)
        return True

    def reset(self, keep: bool) -> None:
        """After a phrase was stored: drop the hint point, and the phrase with its proposals unless
        ``keep`` (a plural phrase stays for its next box)."""
        self.hint = None
        if not keep:
            self.text, self.phrase, self.plural = "", None, False
            self.drop_answer()
            self.say(messages.CLEARED)
        self.phrase_set.emit(self.text)
        self._notify(self.hint_changed, self.request_changed)
        self.explain()

    def explain(self) -> None:
        """Say what happens to the phrase typed: looked for, waits for the model, or cannot be."""
        image = self.labels.image
        if self.phrase is None or image is None:
            return
        if not image.readable:
            self.say(messages.UNREADABLE)
        elif self.model_state == ModelState.FAILED:
            self.say(messages.model_unavailable())
        elif self.model_state != ModelState.READY:
            self.say(messages.MODEL_LOADING)
        elif not self.up_to_date:
            self.say(messages.looking_for(self.phrase))

    def say(self, line: Line) -> None:
        self.info.emit(*line)

    # ------------------------------------------------------------------ the answer
    def take_answer(self, answer: Answer) -> Optional[PendingAccept]:
        """The model answered ``answer.query``; an answer to anything but the current request is
        stale and dropped. Returns the accept Enter (or Ctrl+Enter) asked for before it came: the
        caller runs it, inside this action's batch."""
        if answer.query != self.request:
            return None
        with self.batch():
            self.answer = answer
            if answer.error:
                self._set_proposals(())
                self.say(messages.model_failed_on_image(answer.error))
                self.pending = None
                return None
            self.refilter(keep_highlight=False)
            wanted, self.wanted = self.wanted, None
            if wanted is not None:
                self.set_highlight(next((i for i, p in enumerate(self.proposals) if is_stored(p.bbox, [wanted])),
                                        self.highlight))
            self.say(messages.answer(answer.query.phrase, len(answer.proposals), [p.score for p in self.proposals],
                                     self.labels.threshold, self.plural))
            pending, self.pending = self.pending, None
            return pending

    def drop_answer(self) -> None:
        self.answer = None
        self._set_proposals(())

    def refilter(self, keep_highlight: bool = True) -> None:
        """Hide proposals that coincide with a box already stored for the answered phrase
        (accepted or rejected), so undoing an accept brings its proposal back by itself."""
        if self.answer is None or self.answer.error:
            return
        stored = self.labels.stored_boxes(self.answer.query.phrase)
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
        elif keep_highlight and self.proposals:
            highlight = -1  # taken away on purpose (drawing): Tab brings it back
        else:
            highlight = 0
        changed = self.proposals_changed if shown != self.proposals else \
            self.highlight_changed if highlight != self.highlight else None
        self.proposals, self.highlight = shown, highlight
        if changed is not None:
            self._notify(changed)

    # ------------------------------------------------------------------ the highlight
    def current_proposal(self) -> Optional[Proposal]:
        return self.proposals[self.highlight] if 0 <= self.highlight < len(self.proposals) else None

    def move_highlight(self, step: int) -> None:
        """Tab (1) and Shift+Tab (-1); from no highlight, the first or the last proposal."""
        if self.proposals:
            start = self.highlight if self.highlight >= 0 else (-1 if step > 0 else 0)
            self.set_highlight((start + step) % len(self.proposals))

    def set_highlight(self, index: int) -> None:
        if 0 <= index < len(self.proposals) and index != self.highlight:
            self.highlight = index
            self._notify(self.highlight_changed)

    def clear_highlight(self) -> None:
        """No proposal highlighted (drawing a box by hand): Enter accepts none until Tab picks one."""
        self.pending = None
        if self.highlight != -1:
            self.highlight = -1
            self._notify(self.highlight_changed)
            self.say(messages.no_highlight())

    def answer_ready(self, pending: PendingAccept) -> bool:
        """True if the proposals shown answer the phrase typed; else accept once they arrive."""
        if self.up_to_date:
            return True
        if self.waiting:
            self.pending = pending
            self.say(messages.WILL_ACCEPT)
        return False

    def _notify(self, *signals: Signal) -> None:
        for s in signals:
            self.batch.notify(s)
