"""Where an export's files go.

Plain: ``--out`` names the file (with splits ``out_train.json`` ...; RefCOCO: a folder).
With images (``--with-images``), ``--out`` is a self-contained folder in the standard COCO layout
that torchvision, MDETR, GLIP, Open-GroundingDino and datumaro all read::

    OUT/annotations/<name>_<split>.json      (.jsonl for ODVG)
    OUT/images/<split>/<path in the project>

``<name>`` is ``instances`` (COCO), ``grounding`` (COCO grounding) or ``odvg``; without splits the
split is ``default`` (datumaro and CVAT's name for it; datumaro finds no dataset without one).
RefCOCO keeps its folder (refs.json, refs(unc).p, instances.json; one file for all splits) and
adds ``images/<path in the project>``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .selection import split_path

UNSPLIT = "default"


@dataclass(frozen=True)
class ExportLayout:
    out: Path
    with_images: bool
    name: str  # the annotation file's name in a --with-images folder
    suffix: str  # ".json" or ".jsonl"
    split_images: bool = True  # images/<split>/...; False: one images/ folder (RefCOCO)

    def annotations(self, split: Optional[str]) -> Path:
        if not self.with_images:
            return split_path(self.out, split)
        return self.out / "annotations" / f"{self.name}_{split or UNSPLIT}{self.suffix}"

    def beside_annotations(self, suffix: str) -> Path:
        """A file shared by the splits' annotation files (ODVG's label map): ``<stem>_<suffix>``."""
        if self.with_images:
            return self.out / "annotations" / f"{self.name}_{suffix}"
        return self.out.with_name(f"{self.out.stem}_{suffix}")

    def images(self, split: Optional[str]) -> Path:
        if not self.split_images:
            return self.out / "images"
        return self.out / "images" / (split or UNSPLIT)
