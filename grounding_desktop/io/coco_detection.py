"""Plain COCO detection: one ``images`` entry per image (``id`` = project image id), one annotation
per box (``id`` = box id), one category per distinct phrase (:func:`core.phrase_key`) or, with a
label map, per category of the map (ids: see ``coco_common``). Each (image, category, box) is
written once, so paraphrases of one object are one ground-truth box.

An image whose phrases are all no-target is written with no annotations (COCO's background image).
Our own fields go under ``"grounding_desktop"``: on annotations ``phrase`` (as typed, case kept),
``state``, ``source``, ``score``, ``model_version``; on images ``no_target``, the image's no-target
phrases (their categories are in ``categories`` with no annotation). The importer reads them back,
so export -> import -> export keeps every phrase, category and category id. This is the format for detection tools (supervision, globox, FiftyOne,
datumaro): COCO grounding repeats an image once per phrase, which they refuse or double-count.
"""
from __future__ import annotations

from typing import Any, Sequence

from .coco_common import OWN_KEY, Categories, coco_annotation, coco_splits_writer, info_block, own_fields
from .export_options import ExportOptions
from .progress import Ticker
from .selection import SelectedImage, SelectionRules

FORMAT = "coco"
LAYOUT_NAME, SUFFIX = "instances", ".json"
PER_PHRASE_CATEGORIES = True


def rules(options: ExportOptions) -> SelectionRules:
    return SelectionRules(one_box_per_category=True)


def build(selected: Sequence[SelectedImage], categories: Categories, options: ExportOptions,
          ticker: Ticker) -> dict[str, Any]:
    images: list[dict] = []
    annotations: list[dict] = []
    for si in selected:
        ticker.step()
        img = si.image
        entry = {"id": img.id, "file_name": img.path, "height": img.height, "width": img.width}
        absent = [sp.text for sp in si.phrases if sp.no_target]
        if absent:
            entry[OWN_KEY] = {"no_target": absent}
        images.append(entry)
        for sp in si.phrases:
            cat = categories.id_of(sp)
            annotations.extend(coco_annotation(b, img.id, cat, **{OWN_KEY: own_fields(b, phrase=sp.text)})
                               for b in sp.boxes)
    return {"info": info_block(FORMAT), "licenses": [], "images": images, "annotations": annotations,
            "categories": categories.coco()}


write = coco_splits_writer(build)
