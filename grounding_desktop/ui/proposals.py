"""Click-and-type grounding state: the phrase, the hint point, and the model's latest answer.

Kept apart from the window so the rules are in one place: only the answer to the latest request
is shown; proposals that coincide with boxes the user already stored (accepted or rejected) for
the same phrase are hidden, so an undo of an accept brings its dashed proposal back by itself.
"""
from __future__ import annotations

from typing import Optional, Sequence

from PySide6.QtCore import QObject, Signal

from ..core import Box, Expression, PhraseError, Proposal, clean_phrase, iou_xywh
from .workers import GrounderHost

TOP_K = 5
SAME_BOX_IOU = 0.9


class ProposalSession(QObject):
    changed = Signal()  # shown proposals or highlight changed
    info = Signal(str, str)  # message for the phrase bar, tone: normal | busy | error | good
    answered = Signal(int)  # number of proposals shown after an answer arrived

    def __init__(self, host: GrounderHost, parent: QObject | None = None):
        super().__init__(parent)
        self.host = host
        self.image_id: Optional[int] = None
        self.image_path: Optional[str] = None
        self.readable = False
        self.text = ""
        self.phrase: Optional[str] = None  # cleaned, valid
        self.hint: Optional[tuple[float, float]] = None
        self.raw: list[Proposal] = []
        self.shown: list[Proposal] = []
        self.highlight = -1
        self.answered_phrase: Optional[str] = None
        self.answered_image: Optional[int] = None
        self.plural = False
        self.last_latency_ms: Optional[float] = None
        self.last_cold = False  # the last answer also ran the CNN on the image
        self.threshold = 0.5  # what counts as a confident proposal (the phrase bar's spin box)
        self._request: Optional[int] = None
        self._annotations: list[tuple[Expression, list[Box]]] = []
        host.proposals_ready.connect(self._on_ready)
        host.proposal_failed.connect(self._on_failed)
        host.loaded.connect(lambda *_: self.request())
        host.failed.connect(lambda *_: self._explain())

    # -- inputs ------------------------------------------------------------------------------
    def set_image(self, image_id: Optional[int], path: Optional[str], readable: bool) -> None:
        self.image_id, self.image_path, self.readable = image_id, path, readable
        self.hint = None
        self._drop()
        self.request()

    def set_text(self, text: str) -> None:
        self.text = text
        if not text.strip():
            self.phrase = None
            self.plural = False
            self._drop()
            self.info.emit("", "normal")
            return
        try:
            self.phrase = clean_phrase(text)
        except PhraseError as exc:
            self.phrase = None
            self._drop()
            self.info.emit(f"{str(exc)[0].upper()}{str(exc)[1:]}.", "error")
            return
        self.plural = self.host.is_plural(self.phrase)
        self.request()

    def set_hint(self, point: Optional[tuple[float, float]]) -> None:
        self.hint = point
        if self.phrase:
            self.request()
        elif point is not None:
            self.info.emit("Hint point set: now type what is there.", "normal")

    def set_annotations(self, annotations: Sequence[tuple[Expression, Sequence[Box]]]) -> None:
        self._annotations = [(e, list(bs)) for e, bs in annotations]
        self._filter(keep_highlight=True)

    # -- requests ----------------------------------------------------------------------------
    @property
    def waiting(self) -> bool:
        """A request for the current phrase is in flight (or waits for the model)."""
        return self.phrase is not None and (self._request is not None or self.host.state == "loading") \
            and not self.up_to_date

    @property
    def up_to_date(self) -> bool:
        return self.phrase is not None and self.answered_phrase == self.phrase and self.answered_image == self.image_id \
            and self._request is None

    def request(self) -> None:
        if not self.phrase or self.image_id is None:
            return
        if not self.readable:
            self.info.emit("This image cannot be read, so the model cannot look at it.", "error")
            return
        if self.host.state != "ready":
            self._explain()
            return
        self._request = self.host.request(self.image_path, self.phrase, self.hint, TOP_K)
        self.info.emit(f"Looking for “{self.phrase}”…", "busy")

    def _explain(self) -> None:
        if not self.phrase:
            return
        if self.host.state == "failed":
            self.info.emit("Model unavailable: draw boxes yourself (W).", "error")
        else:
            self.info.emit("Model loading… proposals will follow.", "busy")

    def _on_ready(self, rid: int, proposals: list, latency_ms: float, cold: bool = False) -> None:
        if rid != self._request or rid != self.host.latest_request:
            return  # stale: the phrase, hint or image changed since
        self._request = None
        self.last_latency_ms = latency_ms
        self.last_cold = cold
        self.raw = list(proposals)
        self.answered_phrase = self.phrase
        self.answered_image = self.image_id
        self._filter(keep_highlight=False)
        n = len(self.shown)
        if not self.raw:
            self.info.emit(f"No match for “{self.phrase}”: draw it (W) or Shift+Enter for “not in image”.", "normal")
        elif n == 0:
            self.info.emit("Every proposal is already stored for this phrase.", "good")
        elif max(p.score for p in self.shown) < self.threshold:
            best = max(p.score for p in self.shown)
            self.info.emit(f"Only weak matches (best {best:.2f}): Enter accepts anyway, "
                           "Shift+Enter stores “not in image”.", "normal")
        elif self.plural:
            self.info.emit(f"{n} proposals · plural: Ctrl+Enter accepts all ≥ threshold", "good")
        else:
            self.info.emit(f"{n} proposal{'s' if n != 1 else ''} · Enter accepts · Tab next", "good")
        self.answered.emit(n)

    def _on_failed(self, rid: int, reason: str) -> None:
        if rid != self._request:
            return
        self._request = None
        self.info.emit(f"The model failed on this image: {reason}", "error")

    def _drop(self) -> None:
        """Forget the answer on screen and make any request in flight stale."""
        if self._request is not None:
            self.host.cancel()
        self._request = None
        self.raw = []
        self.answered_phrase = None
        self.answered_image = None
        self._filter(keep_highlight=False)

    # -- what is shown -----------------------------------------------------------------------
    def _filter(self, keep_highlight: bool) -> None:
        stored = [b.bbox for e, bs in self._annotations if e.text == self.answered_phrase for b in bs]
        old = self.shown[self.highlight] if keep_highlight and 0 <= self.highlight < len(self.shown) else None
        old_index = self.highlight
        self.shown = [p for p in self.raw if all(iou_xywh(p.bbox, s) < SAME_BOX_IOU for s in stored)]
        if not self.shown:
            self.highlight = -1
        elif old is not None and old in self.shown:
            self.highlight = self.shown.index(old)
        elif keep_highlight and old_index >= 0:
            self.highlight = min(old_index, len(self.shown) - 1)
        else:
            self.highlight = 0
        self.changed.emit()

    def move_highlight(self, step: int) -> None:
        if self.shown:
            self.highlight = (self.highlight + step) % len(self.shown)
            self.changed.emit()

    def set_highlight(self, index: int) -> None:
        if 0 <= index < len(self.shown):
            self.highlight = index
            self.changed.emit()

    def current(self) -> Optional[Proposal]:
        return self.shown[self.highlight] if 0 <= self.highlight < len(self.shown) else None

    def above(self, threshold: float) -> list[Proposal]:
        return [p for p in self.shown if p.score >= threshold]

    def clear(self) -> None:
        self.text = ""
        self.phrase = None
        self.hint = None
        self._drop()
        self.info.emit("", "normal")
