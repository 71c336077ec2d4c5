"""RefCOCO-style referring expressions, laid out as the ``refer`` API (lichengunc/refer) and MDETR's
``scripts/fine-tuning/refexp_coco_format.py`` read them. ``--out`` is the dataset folder::

    DATA_ROOT/refcoco/refs(unc).p      pickle (protocol 2, loads in Python 2 and 3): the refs
    DATA_ROOT/refcoco/refs.json        the same refs as JSON
    DATA_ROOT/refcoco/instances.json   COCO detection: images, annotations, categories

so ``REFER(DATA_ROOT, "refcoco", "unc")`` loads it when the folder is named ``refcoco``.

- ``instances.json``: one image per exported image (``id`` = project image id), one annotation per
  distinct box, with a box polygon ``segmentation`` (``getMask``/``showRef`` need one). Boxes with
  identical coordinates on one image (two phrases for the same object) are one annotation, as in
  RefCOCO, where an object has several sentences.
- refs: ``{ref_id, ann_id, image_id, category_id, file_name, split, sent_ids, sentences:
  [{sent_id, raw, sent, tokens}]}``, one ref per annotation, holding every phrase that points at
  that box. ``file_name`` follows RefCOCO's ``<image stem>_<ann_id>.<ext>``: MDETR's converter
  drops the last ``_`` part to find the image (and appends ``.jpg``). ``raw`` is the phrase as
  typed, ``sent`` its lower-case words, ``tokens`` those words.
- ``split`` is ``train``/``val``/``test`` from ``--splits``, or ``train`` for every ref without it.
- A ref is one object: no-target phrases and plural phrases (several boxes) cannot be represented
  and are skipped, counted in the summary (a plural phrase split into one ref per box would be
  graded against one box each).
- Categories: the single ``object`` category, or the label map's categories.
- A rejected box (``--include-rejected``) carries ``"grounding_desktop": {"state": "rejected"}``.
"""
from __future__ import annotations

import pickle
import posixpath
import re
from typing import Any, Sequence

from ..core import BoxState
from .coco_common import OWN_KEY, Categories, coco_annotation, info_block
from .errors import ExportError
from .export_layout import ExportLayout
from .export_options import ExportOptions
from .progress import Ticker
from .selection import SelectedImage, SelectionRules
from .staged_files import StagedFiles, json_chunks

FORMAT = "refcoco"
LAYOUT_NAME, SUFFIX = "refcoco", ""
SPLIT_IMAGES = False  # one images/ folder: the refs carry the split, as RefCOCO has it
PER_PHRASE_CATEGORIES = False
REFS_NAME = "refs.json"
REFS_PICKLE_NAME = "refs(unc).p"
INSTANCES_NAME = "instances.json"
PICKLE_PROTOCOL = 2  # the refer API is Python 2 code: cPickle reads protocols 0-2
_WORD = re.compile(r"[\w']+")


def rules(options: ExportOptions) -> SelectionRules:
    return SelectionRules(no_target=False, no_target_reason="no-target phrase (RefCOCO cannot represent it)",
                          plural=False, plural_reason="plural phrase (a RefCOCO ref is one object)")


def tokens_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def box_polygon(bbox) -> list[list[float]]:
    x, y, w, h = bbox
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def write(selected: Sequence[SelectedImage], layout: ExportLayout, options: ExportOptions, staged: StagedFiles,
          ticker: Ticker, categories: Categories) -> None:
    out = layout.out
    if out.exists() and not out.is_dir():
        raise ExportError(f"RefCOCO export writes a folder, but {out} is a file")
    images: list[dict] = []
    annotations: list[dict] = []
    refs: list[dict] = []
    sent_id = 0
    tokens_cache: dict[str, list[str]] = {}
    for si in selected:
        ticker.step()
        img = si.image
        images.append({"id": img.id, "file_name": img.path, "height": img.height, "width": img.width})
        stem, ext = posixpath.splitext(img.path)  # a ref's file_name is <stem>_<ann_id><ext>
        by_box: dict[tuple, dict] = {}
        for sp in si.phrases:
            cat = categories.id_of(sp)
            (b,) = sp.boxes  # rules(): one box per phrase
            key = (cat, b.bbox)  # the same box accepted for two phrases has the same coordinates
            ref = by_box.get(key)
            if ref is None:
                ann = coco_annotation(b, img.id, cat, segmentation=box_polygon(b.bbox))
                if b.state == BoxState.REJECTED:  # only with --include-rejected
                    ann[OWN_KEY] = {"state": b.state.value}
                annotations.append(ann)
                ref = {"ref_id": len(refs) + 1, "ann_id": b.id, "image_id": img.id, "category_id": cat,
                       "file_name": f"{stem}_{b.id}{ext}", "split": si.split or "train",
                       "sent_ids": [], "sentences": []}
                refs.append(ref)
                by_box[key] = ref
            sent_id += 1
            tokens = tokens_cache.get(sp.text)
            if tokens is None:
                tokens = tokens_cache[sp.text] = tokens_of(sp.text)
            ref["sent_ids"].append(sent_id)
            ref["sentences"].append({"sent_id": sent_id, "raw": sp.text, "sent": " ".join(tokens), "tokens": tokens})
    instances: dict[str, Any] = {"info": info_block(FORMAT), "licenses": [], "images": images,
                                 "annotations": annotations, "categories": categories.coco()}
    staged.write(out / INSTANCES_NAME, json_chunks(instances, ticker))
    staged.write(out / REFS_NAME, json_chunks(refs, ticker))
    staged.write_bytes(out / REFS_PICKLE_NAME, pickle.dumps(refs, protocol=PICKLE_PROTOCOL))
