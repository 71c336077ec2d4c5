"""The rows of a referring-expression set, one JSON object a line: ``{"image": path relative to the
set's folder, "phrase": ..., the box}``, the box as ``"xyxy": [x0, y0, x1, y1]`` (refdev) or
``"bbox_xywh": [x, y, w, h]`` (coco8). Every reader gets both forms."""
from __future__ import annotations

import json
from pathlib import Path


def read_rows(path: Path) -> list[dict]:
    """The set's rows, each with both ``xyxy`` and ``bbox_xywh``; ValueError names a row without a box."""
    rows = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        r = json.loads(line)
        if "xyxy" in r:
            x0, y0, x1, y1 = r["xyxy"]
            r.setdefault("bbox_xywh", [x0, y0, x1 - x0, y1 - y0])
        elif "bbox_xywh" in r:
            x, y, w, h = r["bbox_xywh"]
            r["xyxy"] = [x, y, x + w, y + h]
        else:
            raise ValueError(f"{path}:{n}: no box (\"xyxy\" or \"bbox_xywh\")")
        rows.append(r)
    return rows
