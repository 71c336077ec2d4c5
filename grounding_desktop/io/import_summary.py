"""What an import read, added, promoted and skipped (the CLI prints it, the GUI shows it)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ImportSummary:
    file: str
    flavour: str = ""  # "coco-grounding", "coco", "odvg", "odvg-detection", "refcoco", "labelme", "label-studio"
    images: int = 0  # project images the file has labels for
    phrases: int = 0  # phrases read from the file (after the skips below)
    no_target: int = 0
    boxes: int = 0
    phrases_added: int = 0
    boxes_added: int = 0
    proposals_promoted: int = 0
    duplicates: int = 0  # phrases the project already had with these boxes
    reviewed: int = 0
    cleaned: int = 0  # captions, phrases or names whose control characters were removed
    from_outlines: int = 0  # boxes that are the bounding boxes of polygons or rotated boxes
    as_proposals: bool = False
    applied: bool = False
    skipped: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "flavour": self.flavour, "images": self.images, "phrases": self.phrases,
                "no_target": self.no_target, "boxes": self.boxes, "phrases_added": self.phrases_added,
                "boxes_added": self.boxes_added, "proposals_promoted": self.proposals_promoted,
                "duplicates": self.duplicates, "reviewed": self.reviewed, "cleaned": self.cleaned,
                "boxes_from_outlines": self.from_outlines,
                "as_proposals": self.as_proposals, "applied": self.applied,
                "skipped": dict(sorted(self.skipped.items()))}

    def lines(self) -> list[str]:
        verb = "imported" if self.applied else "would import"
        kind = "proposed" if self.as_proposals else "labelled"
        out = [f"{verb} {self.flavour} file {self.file}",
               f"read images {self.images}, phrases {self.phrases} (no-target {self.no_target}), boxes {self.boxes}",
               f"{'added' if self.applied else 'would add'} phrases {self.phrases_added}, {kind} boxes {self.boxes_added}"]
        if self.from_outlines:
            out.append(f"boxes around polygons or rotated boxes {self.from_outlines}")
        if self.proposals_promoted:
            out.append(f"proposals confirmed by the file {self.proposals_promoted}")
        if self.reviewed:
            out.append(f"marked reviewed {self.reviewed}")
        if self.duplicates:
            out.append(f"skipped {self.duplicates} phrase{'s' if self.duplicates != 1 else ''} already in the project")
        if self.cleaned:
            out.append(f"removed control characters from {self.cleaned} caption{'s' if self.cleaned != 1 else ''} or names")
        for reason, n in sorted(self.skipped.items()):
            out.append(f"skipped {n}: {reason}")
        return out
