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
    categories_of,
    dump_json,
    group_by_split,
    info_block,
    split_path,
)

FORMAT = "coco"
ALLOWS_NO_TARGET = True


def write(selected: Sequence[SelectedImage], out: Path, options: ExportOptions, staged: StagedFiles,
          ticker: Ticker) -> None:
    categories, category_id = categories_of(selected, options, per_phrase=True)
    for split, group in group_by_split(selected, options).items():
        staged.write(split_path(out, split), dump_json(build(group, categories, category_id, ticker)))


def build(selected: Sequence[SelectedImage], categories: list[dict],
          category_id: Callable[[SelectedExpression], int], ticker: Ticker | None = None,
          fmt: str = FORMAT) -> dict[str, Any]:
    images: list[dict] = []
    annotations: list[dict] = []
    for si in selected:
        if ticker is not None:
            ticker.step()
        img = si.image
        images.append({"id": img.id, "file_name": img.path, "height": img.height, "width": img.width})
        for se in si.expressions:
            cat = category_id(se)
            for b in se.boxes:
                x, y, w, h = b.bbox
                ann = {"id": b.id, "image_id": img.id, "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0,
                       "category_id": cat, "phrase": se.text}
                ann.update(box_extras(b))
                annotations.append(ann)
    return {"info": info_block(fmt), "licenses": [], "images": images, "annotations": annotations,
            "categories": categories}
