"""The records the whole application shares: images, expressions (phrases) and boxes."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Optional, Sequence

from .geometry import XYWH, XYXY, area_xywh, clamp_xywh, iou_xywh, normalize_xywh, xywh_to_xyxy


class ImageReadError(ValueError):
    """An image file that cannot be shown or used, with a reason meant for the user.

    Lives in ``core`` because every layer meets it: ``io`` raises it while decoding, ``grounding``
    while preparing an image, and the CLI and GUI report it.
    """


class ImageState(str, Enum):
    """Where a labeller is with an image: untouched, started (it has phrases), or done."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    REVIEWED = "reviewed"

    @property
    def label(self) -> str:
        """The word the user sees ("in progress")."""
        return self.value.replace("_", " ")


class BoxState(str, Enum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class BoxSource(str, Enum):
    MODEL = "model"
    MANUAL = "manual"
    MODEL_EDITED = "model+edited"


@dataclass(frozen=True)
class ImageRecord:
    """One image file of the project. ``path`` is relative to the project root, with '/' separators.

    ``width``/``height`` are of the EXIF-corrected image (as a viewer shows it); ``error`` is set
    when the file cannot be read, and such images are shown and skipped rather than crashing.
    ``review_reason`` says why the image needs another look (its labelled file was replaced by a
    different picture); it is cleared when the image is marked reviewed. A ``path`` from a file
    name that is not valid UTF-8 holds surrogate escapes: show it with ``core.display_path``.
    """

    id: int
    path: str
    width: int
    height: int
    state: ImageState = ImageState.NEW
    content_hash: str = ""
    error: Optional[str] = None
    size: int = 0
    mtime: float = 0.0
    missing: bool = False
    review_reason: Optional[str] = None

    @property
    def readable(self) -> bool:
        return self.error is None and not self.missing

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Expression:
    """A phrase typed for one image, with any number of boxes.

    ``no_target`` is the user's statement that the thing is not in the image (Shift+Enter, or an
    imported phrase with no box). It is kept apart from the boxes because a rejected box says only
    "this box is wrong": a phrase whose boxes were all rejected is unfinished, not a negative, and
    one may be both (the proposals rejected, then "not in image"). See :func:`phrase_status`.
    ``absent_before``: the phrase was "not in image" until a box took that answer back (a phrase
    with a box never is); deleting its last box that says where the thing is brings it back.

    ``spans`` are the ``[start, end)`` character ranges of ``text`` that name the boxes, when an
    imported file said so (MDETR's referring expressions mark the head noun: "the red bicycle" ->
    "bicycle"); empty means the whole phrase. Exports write them back as ``tokens_positive``.
    """

    id: int
    image_id: int
    text: str
    created: float = 0.0
    updated: float = 0.0
    no_target: bool = False
    spans: tuple[tuple[int, int], ...] = ()
    absent_before: bool = False

    def positive_spans(self) -> list[list[int]]:
        """``tokens_positive`` of the phrase's boxes within ``text``: its spans, or the whole phrase
        (surrounding whitespace left out, so ``text[start:end]`` is exactly the phrase's words)."""
        if self.spans:
            return [list(s) for s in self.spans]
        return [[len(self.text) - len(self.text.lstrip()), len(self.text.rstrip())]]


@dataclass(frozen=True)
class Box:
    """A box of an expression, pixel ``bbox = (x, y, w, h)`` in the EXIF-corrected image frame."""

    id: int
    expression_id: int
    bbox: XYWH
    state: BoxState = BoxState.ACCEPTED
    source: BoxSource = BoxSource.MANUAL
    score: Optional[float] = None
    model_version: Optional[str] = None
    explanation: Optional[str] = None  # the model's reasons (module scores), for tooltips

    @property
    def xyxy(self) -> XYXY:
        return xywh_to_xyxy(self.bbox)

    @property
    def area(self) -> float:
        return area_xywh(self.bbox)

    def normalized(self, width: float, height: float) -> XYWH:
        return normalize_xywh(self.bbox, width, height)

    def clamped(self, width: float, height: float) -> "Box":
        return replace(self, bbox=clamp_xywh(self.bbox, width, height))

    def iou(self, other: "Box") -> float:
        return iou_xywh(self.bbox, other.bbox)


class PhraseStatus(str, Enum):
    """Where a phrase stands as a label; ``value`` is the word the user sees."""

    LABELLED = "labelled"        # it has accepted boxes
    TO_REVIEW = "to review"      # only the model's proposals (imported as proposals) say where it is
    NO_TARGET = "no target"      # the user said the thing is not in the image
    NEEDS_BOX = "needs a box"    # every box was rejected: where the thing is, is still unknown


def phrase_status(expression: Expression, boxes: Sequence[Box]) -> PhraseStatus:
    """The one rule for what a phrase's boxes and flag add up to (the phrases panel shows it, the
    export writes by it): accepted boxes win, then proposals waiting for review, then the user's
    "not in image"; a phrase with only rejected boxes still needs its box."""
    states = {b.state for b in boxes}
    if BoxState.ACCEPTED in states:
        return PhraseStatus.LABELLED
    if BoxState.PROPOSED in states:
        return PhraseStatus.TO_REVIEW
    return PhraseStatus.NO_TARGET if expression.no_target else PhraseStatus.NEEDS_BOX


@dataclass(frozen=True)
class ScanEntry:
    """What a folder scan learned of one file, before it is matched against the database."""

    path: str
    size: int
    mtime: float
    width: int = 0
    height: int = 0
    content_hash: str = ""
    error: Optional[str] = None
    unchanged: bool = field(default=False, compare=False)
