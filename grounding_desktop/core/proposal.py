"""What the grounding model answers for a phrase: shared by the model, the GUI and the CLI."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .geometry import XYWH


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
