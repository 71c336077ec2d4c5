"""What a proposal says, from one source (the model's answer), wherever it is shown: the tag on
its box on the canvas, its row in the phrases panel, and the tooltip of both. The name shown is
the model's ``label`` (what its score rests on); the tooltip starts with the tag itself, then the
model's explanation, so the box and its tooltip can never name different things."""
from __future__ import annotations

from ..core import Proposal


def proposal_tag(index: int, p: Proposal) -> str:
    """The tag on the box: rank, score, and what the model says it is ("1  0.98  fox squirrel")."""
    return f"{index + 1}  {p.score:.2f}" + (f"  {p.label}" if p.label else "")


def proposal_tooltip(index: int, p: Proposal) -> str:
    x, y, w, h = p.bbox
    lines = [proposal_tag(index, p), f"x {x:.0f}, y {y:.0f}, {w:.0f} × {h:.0f} px"]
    if p.explanation:
        lines.append(f"Why: {p.explanation}")
    if p.modules:
        lines.append("  ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                               for k, v in p.modules.items()))
    return "\n".join(lines)
