"""What the grounding model answers for a phrase: shared by the model, the GUI and the CLI."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from .geometry import XYWH, iou_xywh

SAME_BOX_IOU = 0.9  # a proposal this close to a stored box of its phrase is that box
SCORE_PLACES = 4    # a proposal's score is rounded to this many decimal places


def is_stored(bbox: XYWH, stored: Iterable[XYWH]) -> bool:
    """Whether a proposed ``bbox`` is one of the ``stored`` boxes of its phrase (whatever their
    state): such a proposal is neither shown nor stored again."""
    return any(iou_xywh(bbox, s) >= SAME_BOX_IOU for s in stored)


@dataclass(frozen=True)
class Proposal:
    """One proposed box for a phrase, in original-image pixels (EXIF-corrected), best first.

    ``explanation`` is a short human-readable line (the scorer's module scores) for tooltips;
    ``modules`` holds the per-module scores behind it so the learning step can refit weights.
    """

    bbox: XYWH
    score: float
    label: str = ""
    explanation: str = ""
    modules: dict = field(default_factory=dict)
    model_version: Optional[str] = None
