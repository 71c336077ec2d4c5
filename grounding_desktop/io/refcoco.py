"""RefCOCO-style referring expressions: a folder with ``refs.json`` and ``instances.json``, as the
``refer`` API (lichengunc/refer) and the MAttNet / MDETR data scripts read them.

- ``instances.json``: COCO detection; one image per exported image (``id`` = project image id), one
  annotation per distinct box. Boxes with identical coordinates on one image (two phrases for the
  same object) are one annotation, as in RefCOCO, where an object has several sentences.
- ``refs.json``: a list of ``{ref_id, ann_id, image_id, category_id, file_name, split, sent_ids,
  sentences: [{sent_id, raw, sent, tokens}]}``, one ref per annotation, holding every expression
  that points at that box. A plural expression ("the horses") therefore gives one ref per box, each
  with the same sentence text (RefCOCO refers to one object per ref). ``raw`` is the phrase as typed,
  ``sent`` its lower-case words, ``tokens`` those words.
- ``split`` is ``train``/``val``/``test`` from ``--splits``, or ``train`` for every ref without it.
- No-target expressions cannot be represented (a ref needs an object) and are counted as skipped.
- Categories: the single ``object`` category, or the label map's categories.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

from ..core import BoxState
from .export_common import (
    ExportOptions,
    SelectedImage,
    StagedFiles,
    Ticker,
    categories_of,
    coco_annotation,
    dump_json,
    info_block,
)

FORMAT = "refcoco"
ALLOWS_NO_TARGET = False
NO_TARGET_REASON = "no-target expression (RefCOCO cannot represent it)"
REFS_NAME = "refs.json"
INSTANCES_NAME = "instances.json"
_WORD = re.compile(r"[\w']+")


def tokens_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def write(selected: Sequence[SelectedImage], out: Path, options: ExportOptions, staged: StagedFiles,
          ticker: Ticker) -> None:
    if out.exists() and not out.is_dir():
        from .export_common import ExportError

        raise ExportError(f"RefCOCO export writes a folder, but {out} is a file")
    categories, category_id = categories_of(selected, options, per_phrase=False)
    images: list[dict] = []
    annotations: list[dict] = []
    refs: list[dict] = []
    sent_id = 0
    tokens_cache: dict[str, list[str]] = {}
    for si in selected:
        ticker.step()
        img = si.image
        images.append({"id": img.id, "file_name": img.path, "height": img.height, "width": img.width})
        by_box: dict[tuple, dict] = {}
        for se in si.expressions:
            cat = category_id(se)
            for b in se.boxes:
                key = (cat, b.bbox)  # the same box accepted for two phrases has the same coordinates
                ref = by_box.get(key)
                if ref is None:
                    ann = coco_annotation(b, img.id, cat)
                    if b.state == BoxState.REJECTED:  # only with --include-rejected
                        ann["state"] = b.state.value
                    annotations.append(ann)
                    ref = {"ref_id": len(refs) + 1, "ann_id": b.id, "image_id": img.id, "category_id": cat,
                           "file_name": img.path, "split": si.split or "train", "sent_ids": [], "sentences": []}
                    refs.append(ref)
                    by_box[key] = ref
                sent_id += 1
                tokens = tokens_cache.get(se.text)
                if tokens is None:
                    tokens = tokens_cache[se.text] = tokens_of(se.text)
                ref["sent_ids"].append(sent_id)
                ref["sentences"].append({"sent_id": sent_id, "raw": se.text, "sent": " ".join(tokens),
                                         "tokens": tokens})
    instances: dict[str, Any] = {"info": info_block(FORMAT), "licenses": [], "images": images,
                                 "annotations": annotations, "categories": categories}
    staged.write(out / INSTANCES_NAME, dump_json(instances))
    staged.write(out / REFS_NAME, dump_json(refs))
