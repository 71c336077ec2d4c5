"""ODVG jsonl (Open-GroundingDino, MM-Grounding-DINO): one JSON object per line, one line per image.

Grounding records (the default)::

    {"filename", "height", "width",
     "grounding": {"caption", "regions": [{"bbox": [x1, y1, x2, y2], "phrase", "tokens_positive"}]}}

The caption joins the image's expressions GroundingDINO-style, ``"the dog on the left . the cat ."``
(its tokenizer splits sub-sentences at ``.``); each region is one box, so a plural phrase gives
one region per box, all with the same phrase and span. ``tokens_positive`` is ``[[start, end]]``
into the joined caption and cuts out exactly the phrase. No-target expressions stay in the caption
(as negatives) with no region.

Detection records (when a label map is given)::

    {"filename", "height", "width", "detection": {"instances": [{"bbox", "label", "category"}]}}

with ``label`` from 0 in sorted category-name order, and the label map written beside the output
as ``<name>_label_map.json`` (``{"0": "cat", "1": "dog"}``), as Open-GroundingDino reads it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Sequence

from .export_common import (
    ExportOptions,
    SelectedImage,
    StagedFiles,
    Ticker,
    dump_json,
    group_by_split,
    iter_lines,
    split_path,
)

FORMAT = "odvg"
ALLOWS_NO_TARGET = True
SEPARATOR = " . "


def label_map_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}_label_map.json")


def write(selected: Sequence[SelectedImage], out: Path, options: ExportOptions, staged: StagedFiles,
          ticker: Ticker) -> None:
    detection = options.label_map is not None
    labels: dict[str, int] = {}
    if detection:
        names = sorted(set(options.label_map.values()))
        labels = {n: i for i, n in enumerate(names)}
        staged.write(label_map_path(out), dump_json({str(i): n for n, i in labels.items()}))
    for split, group in group_by_split(selected, options).items():
        records = (detection_record(si, labels) if detection else grounding_record(si) for si in group)
        staged.write(split_path(out, split), iter_lines(records, ticker))


def _base(si: SelectedImage) -> dict[str, Any]:
    return {"filename": si.image.path, "height": si.image.height, "width": si.image.width}


def grounding_record(si: SelectedImage) -> dict[str, Any]:
    parts: list[str] = []
    regions: list[dict] = []
    pos = 0
    for se in si.expressions:
        phrase = se.text.strip()
        span = [pos, pos + len(phrase)]
        parts.append(phrase)
        pos += len(phrase) + len(SEPARATOR)
        for b in se.boxes:
            x, y, w, h = b.bbox
            regions.append({"bbox": [x, y, x + w, y + h], "phrase": phrase, "tokens_positive": [span]})
    caption = SEPARATOR.join(parts) + " ."
    rec = _base(si)
    rec["grounding"] = {"caption": caption, "regions": regions}
    return rec


def detection_record(si: SelectedImage, labels: dict[str, int]) -> dict[str, Any]:
    instances = []
    for se in si.expressions:
        label = labels[se.category]
        for b in se.boxes:
            x, y, w, h = b.bbox
            instances.append({"bbox": [x, y, x + w, y + h], "label": label, "category": se.category})
    rec = _base(si)
    rec["detection"] = {"instances": instances}
    return rec


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of an ODVG file (for tests and checks)."""
    import json

    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
