"""The value types of the document model: what is selected, what the model is doing, what was
asked of it and what it answered, and the tone of a message. Plain, immutable, Qt-free."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional

from ..core import Box, BoxState, Expression, Proposal


class ModelState(Enum):
    """Where the grounding model is: not started, loading in the background, usable, loading again
    after its process stopped unexpectedly, or not usable."""

    IDLE = "idle"
    LOADING = "loading"
    READY = "ready"
    RESTARTING = "restarting"
    FAILED = "failed"

    @property
    def coming(self) -> bool:
        """Proposals can come: the model is usable, or will be."""
        return self in (ModelState.LOADING, ModelState.READY, ModelState.RESTARTING)


class Tone(Enum):
    """How a message reads (the style sheet colours it by ``value``)."""

    NORMAL = "normal"
    BUSY = "busy"
    ERROR = "error"
    GOOD = "good"


class PendingAccept(Enum):
    """Enter (ONE) or Ctrl+Enter (ALL) pressed before the proposals for the phrase arrived."""

    ONE = "one"
    ALL = "all"


class SelectionKind(Enum):
    BOX = "box"
    PHRASE = "phrase"


@dataclass(frozen=True)
class Selection:
    """The one selection of the window: a box, or a phrase (with all its boxes)."""

    kind: SelectionKind
    id: int


@dataclass(frozen=True)
class Annotation:
    """One phrase of the image with its boxes (rejected ones included), in creation order."""

    expression: Expression
    boxes: tuple[Box, ...]

    @property
    def kept(self) -> tuple[Box, ...]:
        """The boxes that say where the thing is (rejected ones say where it is not)."""
        return tuple(b for b in self.boxes if b.state != BoxState.REJECTED)


@dataclass(frozen=True)
class ProposalQuery:
    """What the model is asked: a phrase on an image file, maybe with a hint point."""

    image_id: int
    path: str
    phrase: str
    hint: Optional[tuple[float, float]] = None


@dataclass(frozen=True)
class Answer:
    """The model's answer to a query (``error`` set when it failed on it)."""

    query: ProposalQuery
    proposals: tuple[Proposal, ...] = ()
    latency_ms: Optional[float] = None
    cold: bool = False  # the CNN features of the image were computed for this answer too
    error: str = ""
