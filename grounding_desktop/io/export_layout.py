"""Where an export's files go.

Plain: ``--out`` names the file (with splits ``out_train.json`` ...; RefCOCO: a folder).
With images (``--with-images``), ``--out`` is a self-contained folder in the standard COCO layout
that torchvision, MDETR, GLIP, Open-GroundingDino and datumaro all read::

    OUT/annotations/<name>_<split>.json      (<name>.json without splits; .jsonl for ODVG)
    OUT/images/<split>/<path in the project>  (images/<path> without splits)

``<name>`` is ``instances`` (COCO), ``grounding`` (COCO grounding) or ``odvg``. RefCOCO keeps its
folder (refs.json, refs(unc).p, instances.json) and adds ``images/``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .selection import split_path


@dataclass(frozen=True)
class ExportLayout:
    out: Path
    with_images: bool
    name: str  # the annotation file's name in a --with-images folder
    suffix: str  # ".json" or ".jsonl"

    def annotations(self, split: Optional[str]) -> Path:
        if not self.with_images:
            return split_path(self.out, split)
        stem = self.name if split is None else f"{self.name}_{split}"
        return self.out / "annotations" / f"{stem}{self.suffix}"

    def beside_annotations(self, suffix: str) -> Path:
        """A file that goes with the annotation files (ODVG's label map): ``<stem>_<suffix>``."""
        first = self.annotations(None)
        return first.with_name(f"{first.stem}_{suffix}")

    def images(self, split: Optional[str]) -> Path:
        return self.out / "images" if split is None else self.out / "images" / split
