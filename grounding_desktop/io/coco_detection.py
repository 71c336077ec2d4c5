"""Plain COCO detection: one ``images`` entry per image (``id`` = project image id), one annotation
per box (``id`` = box id), one category per distinct phrase (lower case, single spaces) or, with a
label map, per category name of the map. Category ids are sorted by name from 1 and shared by all
split files, so train/val/test agree on them.

An image whose expressions are all no-target is written with no annotations (COCO's background
image). Extra annotation fields ``phrase``, ``state``, ``source``, ``score`` are ignored by trainers.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from .export_common import (
    ExportOptions,
    SelectedExpression,
    SelectedImage,
    StagedFiles,
    Ticker,
    box_extras,
    coco_annotation,
    info_block,
    write_coco_splits,
)

FORMAT = "coco"
ALLOWS_NO_TARGET = True


def write(selected: Sequence[SelectedImage], out: Path, options: ExportOptions, staged: StagedFiles,
          ticker: Ticker) -> None:
    write_coco_splits(selected, out, options, staged, ticker, build, per_phrase=True)


def build(selected: Sequence[SelectedImage], categories: list[dict],
          category_id: Callable[[SelectedExpression], int], ticker: Ticker) -> dict[str, Any]:
    images: list[dict] = []
    annotations: list[dict] = []
    for si in selected:
        ticker.step()
        img = si.image
        images.append({"id": img.id, "file_name": img.path, "height": img.height, "width": img.width})
        for se in si.expressions:
            cat = category_id(se)
            annotations.extend(coco_annotation(b, img.id, cat, phrase=se.text, **box_extras(b))
                               for b in se.boxes)
    return {"info": info_block(FORMAT), "licenses": [], "images": images, "annotations": annotations,
            "categories": categories}
