"""What the COCO-shaped exports share (COCO grounding, COCO detection, RefCOCO's instances.json):
category ids, annotation entries, the caption spans, the block of our own fields, the file header.

Category ids are stable across exports: with a label map they follow the order in which its
categories first appear (1, 2, ...); a category per phrase takes the id the project's
``categories`` table gave that phrase (by :func:`core.phrase_key`) the first time it was exported,
so adding a phrase never renumbers the others.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..core import Box
from .export_layout import ExportLayout
from .export_options import ExportOptions
from .progress import Ticker
from .selection import SelectedImage, SelectedPhrase, group_by_split
from .staged_files import StagedFiles, json_chunks
from .store_protocol import LabelStore

# Our own fields on COCO entries live under this one key, so tools that treat an unknown top-level
# field as meaningful (globox reads a top-level "score" as a prediction) see plain ground truth.
OWN_KEY = "grounding_desktop"


@dataclass(frozen=True)
class Categories:
    """COCO ``categories`` and each phrase's category id."""

    ids: dict[str, int]  # category key (SelectedPhrase.category) -> id; empty: the one "object" class

    def coco(self) -> list[dict[str, Any]]:
        if not self.ids:
            return [{"id": 1, "name": "object", "supercategory": "object"}]
        return [{"id": i, "name": n, "supercategory": "object"} for n, i in sorted(self.ids.items(), key=lambda kv: kv[1])]

    def id_of(self, phrase: SelectedPhrase) -> int:
        return self.ids[phrase.category] if self.ids else 1


def categories_for(store: LabelStore, selected: Sequence[SelectedImage], options: ExportOptions,
                   per_phrase: bool) -> Categories:
    """The label map's categories in its order; else, with ``per_phrase``, one per phrase key with
    the project's stable id; else the single category "object"."""
    if options.label_map is not None:
        names = dict.fromkeys(options.label_map.values())
        return Categories({n: i for i, n in enumerate(names, 1)})
    if per_phrase:
        return Categories(store.categories.ids(sp.category for si in selected for sp in si.phrases))
    return Categories({})


def own_fields(b: Box, **more: Any) -> dict[str, Any]:
    """The box's state, source, score and model version (and ``more``): trainers ignore them, the
    importer reads them back for a lossless round trip."""
    extra: dict[str, Any] = {"state": b.state.value, "source": b.source.value}
    if b.score is not None:
        extra["score"] = b.score
    if b.model_version:
        extra["model_version"] = b.model_version
    extra.update(more)
    return extra


def coco_annotation(b: Box, image_id: int, category_id: int, **fields: Any) -> dict[str, Any]:
    """One COCO ``annotations`` entry for a box (``id`` = box id), with ``fields`` added."""
    x, y, w, h = b.bbox
    return {"id": b.id, "image_id": image_id, "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0,
            "category_id": category_id, **fields}


def info_block(fmt: str) -> dict[str, Any]:
    """The file header. No date: two exports of the same project are byte-identical."""
    from .. import __version__

    return {"description": f"grounding-desktop {fmt} export", "version": __version__}


def coco_splits_writer(build: Callable[..., dict[str, Any]]) -> Callable[..., None]:
    """A COCO format's ``write``: one JSON file of ``build(images, categories, options, ticker)``, or
    one per split, all sharing one category list so train/val/test agree."""

    def write(selected: Sequence[SelectedImage], layout: ExportLayout, options: ExportOptions, staged: StagedFiles,
              ticker: Ticker, categories: Categories) -> None:
        for split, group in group_by_split(selected, options).items():
            staged.write(layout.annotations(split), json_chunks(build(group, categories, options, ticker), ticker))

    return write
