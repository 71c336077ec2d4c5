"""What an export wrote, what it left out and why, and what the user should know about the result
(the CLI prints it, the GUI shows it)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

CLASSES_NAMED = 20  # class names on the summary's line (its JSON lists them all)
_SINGULAR = {"images": "image", "phrases": "phrase", "boxes": "box"}


@dataclass
class ExportSummary:
    format: str
    files: list[str] = field(default_factory=list)
    through_links: dict[str, str] = field(default_factory=dict)  # file written -> the symlink --out named
    images: int = 0
    phrases: int = 0
    no_target: int = 0
    boxes: int = 0
    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, Counter] = field(
        default_factory=lambda: {"images": Counter(), "phrases": Counter(), "boxes": Counter()}
    )
    rotated: list[str] = field(default_factory=list)  # EXIF-rotated images exported without upright copies
    upright: int = 0  # with --with-images: rotated images re-encoded upright
    jpeg_encoded: int = 0  # VOC: images of other formats written as JPEG
    classes: list[str] = field(default_factory=list)  # YOLO, VOC: the class names, in class id order
    classes_from: str = ""  # where they came from: the label map, or the phrases' head nouns
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what to know to use the result (the format's ``notes``)

    def skip(self, kind: str, reason: str, n: int = 1) -> None:
        if n:
            self.skipped[kind][reason] += n

    def count(self, split: Optional[str], phrases: int, no_target: int, boxes: int) -> None:
        """One image chosen for the export, with its phrases (``no_target`` of them no-target) and boxes."""
        per = self.splits.setdefault(split, {"images": 0, "phrases": 0, "boxes": 0}) if split else None
        self.images += 1
        self.phrases += phrases
        self.no_target += no_target
        self.boxes += boxes
        if per is not None:
            per["images"] += 1
            per["phrases"] += phrases
            per["boxes"] += boxes

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "files": list(self.files), "through_links": dict(self.through_links),
            "images": self.images,
            "phrases": self.phrases, "no_target": self.no_target, "boxes": self.boxes,
            "splits": self.splits,
            "skipped": {k: dict(sorted(v.items())) for k, v in self.skipped.items()},
            "rotated": list(self.rotated), "upright": self.upright, "jpeg_encoded": self.jpeg_encoded,
            "warnings": list(self.warnings), "notes": list(self.notes),
            **({"classes": list(self.classes), "classes_from": self.classes_from} if self.classes_from else {}),
        }

    def warning_lines(self) -> list[str]:
        return [f"warning: {w}" for w in self.warnings]

    def lines(self, warnings: bool = True) -> list[str]:
        """The summary as text; the CLI prints the warnings on stderr instead (``warnings=False``)."""
        out = [f"wrote {f} (through the symlink {self.through_links[f]})" if f in self.through_links
               else f"wrote {f}" for f in self.files]
        out.append(f"images {self.images}, phrases {self.phrases} (no-target {self.no_target}), boxes {self.boxes}")
        if self.classes_from:
            named = ", ".join(self.classes[:CLASSES_NAMED]) + (", ..." if len(self.classes) > CLASSES_NAMED else "")
            out.append(f"classes {len(self.classes)} from {self.classes_from}: {named}")
        if self.upright:
            out.append(f"turned {self.upright} EXIF-rotated image{'s' if self.upright != 1 else ''} upright")
        if self.jpeg_encoded:
            out.append(f"wrote {self.jpeg_encoded} image{'s' if self.jpeg_encoded != 1 else ''} of other formats as JPEG")
        for name, c in self.splits.items():
            out.append(f"  {name}: images {c['images']}, phrases {c['phrases']}, boxes {c['boxes']}")
        for kind, reasons in self.skipped.items():
            for reason, n in sorted(reasons.items()):
                out.append(f"skipped {n} {kind if n != 1 else _SINGULAR[kind]}: {reason}")
        out.extend(f"note: {n}" for n in self.notes)
        if warnings:
            out.extend(self.warning_lines())
        return out
