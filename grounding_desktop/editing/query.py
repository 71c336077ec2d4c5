"""The query side of ``ImageDocument`` (see ``editing.document``): the phrase typed, the hint
point, the model's answer and its proposals with the highlight and threshold, what Enter will
do before the answer came. A part of the document class, as the store's parts are of ``ProjectStore``:
it reads and writes the attributes ``ImageDocument.__init__`` sets."""
from __future__ import annotations

from typing import Optional

from ..core import PhraseError, Proposal, clean_phrase
from ..core.geometry import XYWH
from ..core.proposal import is_stored
from ..core.phrase_parse import parse_phrase
from .keys import key
from .state import Answer, ModelState, PendingAccept, ProposalQuery, Tone

STANDS_OUT = 2.0  # the best proposal stands out when it scores at least this many times the next
NO_HIGHLIGHT = f"No proposal is highlighted: {key('next_proposal')} picks one."


class QueryRules:
    """The phrase, the hint and the model's proposals of the open image."""

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
            self.info.emit(f"Model unavailable: draw boxes yourself ({key('draw_mode')}).", Tone.ERROR)
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
        """Enter pressed before the answer: accept now, unless the best scores under the threshold.
        Such a box is accepted only by an Enter pressed after the user could see it."""
        p = self.current_proposal()
        if p is not None and p.score < self.threshold:
            self.info.emit(f"Nothing was accepted before you saw it (best {p.score:.2f}, under the "
                           f"{self.threshold:.2f} threshold): {key('accept')} accepts it, "
                           f"{key('next_proposal')} shows the others.", Tone.NORMAL)
        else:
            self.accept()

    def _answer_message(self) -> tuple[str, Tone]:
        n, phrase = len(self.proposals), self.answer.query.phrase
        if not self.answer.proposals:
            return (f"No match for “{phrase}”: draw it ({key('draw_mode')}) or {key('accept_none')} for "
                    "“not in image”."), Tone.NORMAL
        if n == 0:
            return "Every proposal is already stored for this phrase.", Tone.GOOD
        best, *others = sorted((p.score for p in self.proposals), reverse=True)
        if best < self.threshold:
            # What the scores say, never a verdict: the model's numbers are relative, so a right
            # box may score under the threshold; whether it stands out of the others is known.
            if not others or best >= STANDS_OUT * others[0]:
                ahead = f", far ahead of the next ({others[0]:.2f})" if others else ""
                return (f"Best match {best:.2f}{ahead} · {key('accept')} accepts · {key('next_proposal')} next",
                        Tone.NORMAL)
            return (f"The best matches score alike ({best:.2f}, {others[0]:.2f}): "
                    f"{key('next_proposal')} to compare, {key('accept')} accepts, {key('accept_none')}: not in image."), Tone.NORMAL
        if self.plural:
            return f"{n} proposals · plural: {key('accept_all')} accepts all ≥ threshold", Tone.GOOD
        return f"{n} proposal{'s' if n != 1 else ''} · {key('accept')} accepts · {key('next_proposal')} next", Tone.GOOD

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
        elif keep_highlight and self.proposals:
            highlight = -1  # taken away on purpose (drawing): Tab brings it back
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
            self.info.emit(NO_HIGHLIGHT, Tone.NORMAL)

    def _answer_ready(self, pending: PendingAccept) -> bool:
        """True if the proposals shown answer the phrase typed; else accept once they arrive."""
        if self.up_to_date:
            return True
        if self.waiting:
            self.pending = pending
            self.info.emit("Will accept when the proposals arrive…", Tone.BUSY)
        return False
