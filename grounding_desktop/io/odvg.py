"""ODVG jsonl (Open-GroundingDino ``datasets/odvg.py``, MM-Grounding-DINO ``ODVGDataset``): one JSON
object per line, one line per image.

Grounding records (the default)::

    {"filename", "height", "width",
     "grounding": {"caption", "regions": [{"bbox": [x1, y1, x2, y2], "phrase", "tokens_positive"}]}}

The caption joins the image's phrases GroundingDINO-style, ``"the dog on the left . the cat ."``
(its tokenizer splits sub-sentences at ``.``); each region is one box, so a plural phrase gives one
region per box, all with the same phrase and span. ``tokens_positive`` is ``[[start, end]]`` into
the joined caption and cuts out exactly the phrase (or the head words an imported file marked in
it). No-target phrases stay in the caption (as
negatives) with no region; an image with no region at all is not written (Open-GroundingDino
cannot unpack an empty ``regions``), counted in the summary.

Detection records (when a label map is given)::

    {"filename", "height", "width", "detection": {"instances": [{"bbox", "label", "category"}]}}

with ``label`` from 0 in the label map's category order, each (image, category, box) once, and
the label map written beside the output as ``<name>_label_map.json`` (``{"0": "cat", "1": "dog"}``),
as Open-GroundingDino reads it.

Coordinates are rounded to 2 decimals (a hundredth of a pixel). ODVG has no field for a rejected
box, and both loaders would read one as an object, so ``--include-rejected`` is refused.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Sequence

from .coco_common import Categories
from .errors import ExportError
from .export_layout import ExportLayout
from .export_options import ExportOptions
from .progress import Ticker
from .selection import SelectedImage, SelectionRules, group_by_split
from .staged_files import StagedFiles, dump_json, iter_lines

LAYOUT_NAME, SUFFIX = "odvg", ".jsonl"
PER_PHRASE_CATEGORIES = False
SEPARATOR = " . "
LABEL_MAP_SUFFIX = "label_map.json"


def rules(options: ExportOptions) -> SelectionRules:
    if options.include_rejected:
        raise ExportError("odvg cannot mark a box as rejected (trainers would read it as an object); "
                          "leave out --include-rejected, or use coco-grounding")
    if options.label_map is not None:
        return SelectionRules(one_box_per_category=True)
    return SelectionRules(image_needs_box=True,
                          image_needs_box_reason="only no-target phrases (an ODVG grounding line needs a region)")


def write(selected: Sequence[SelectedImage], layout: ExportLayout, options: ExportOptions, staged: StagedFiles,
          ticker: Ticker, categories: Categories) -> None:
    detection = options.label_map is not None
    if detection:
        staged.write(layout.beside_annotations(LABEL_MAP_SUFFIX),
                     dump_json({str(i - 1): name for name, i in categories.ids.items()}))
    for split, group in group_by_split(selected, options).items():
        records = (detection_record(si, categories) if detection else grounding_record(si) for si in group)
        staged.write(layout.annotations(split), iter_lines(records, ticker))


def _xyxy(bbox) -> list[float]:
    x, y, w, h = bbox
    return [round(x, 2), round(y, 2), round(x + w, 2), round(y + h, 2)]


def _base(si: SelectedImage) -> dict[str, Any]:
    return {"filename": si.image.path, "height": si.image.height, "width": si.image.width}


def grounding_record(si: SelectedImage) -> dict[str, Any]:
    parts: list[str] = []
    regions: list[dict] = []
    pos = 0
    for sp in si.phrases:
        phrase = sp.text.strip()
        lead = len(sp.text) - len(sp.text.lstrip())  # spans index the text; the caption holds it stripped
        positive = [[pos + start - lead, pos + end - lead] for start, end in sp.expression.positive_spans()]
        parts.append(phrase)
        pos += len(phrase) + len(SEPARATOR)
        regions.extend({"bbox": _xyxy(b.bbox), "phrase": phrase, "tokens_positive": positive} for b in sp.boxes)
    rec = _base(si)
    rec["grounding"] = {"caption": SEPARATOR.join(parts) + " .", "regions": regions}
    return rec


def detection_record(si: SelectedImage, categories: Categories) -> dict[str, Any]:
    instances = []
    for sp in si.phrases:
        label = categories.id_of(sp) - 1
        instances.extend({"bbox": _xyxy(b.bbox), "label": label, "category": sp.category} for b in sp.boxes)
    rec = _base(si)
    rec["detection"] = {"instances": instances}
    return rec


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of an ODVG file (for tests and checks)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
