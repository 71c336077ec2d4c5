"""Import a Label Studio JSON export (Export → JSON): a list of tasks, each with its image in
``data`` and the annotators' ``annotations``.

- The image is matched by the name Label Studio gave it: an upload ``/data/upload/3/1a2b3c4d-a.jpg``
  is ``a.jpg`` (the eight hex digits are Label Studio's prefix), a local file
  ``/data/local-files/?d=photos/a.jpg`` is ``photos/a.jpg``, a URL or cloud path its path.
- A ``rectanglelabels`` result (or a ``rectangle`` with a ``labels`` result of the same id) is a
  box of each of its labels (a label is a phrase); its ``x``, ``y``, ``width``, ``height`` are
  percentages of ``original_width``/``original_height``, which must be the project image's size. A rotated rectangle (``rotation``, clockwise around its top-left
  corner) and a ``polygonlabels`` result become the box around them, counted in the summary.
  Other results (choices, text, keypoints, brushes) and the ``predictions`` are skipped, counted.
- Cancelled annotations are skipped; a box that several annotators drew alike is kept once.
"""
from __future__ import annotations

import math
import re
from typing import Any, Optional
from urllib.parse import parse_qs, unquote, urlsplit

from .import_checks import (ImageMatcher, Problems, box_from, checked_box, clean_text, entry_name, image_size_matches,
                            is_id, is_number)
from .import_files import read_json
from .import_plan import ImportPlan, ImportRequest, PlannedPhrase, finish_plan, importer
from .import_summary import ImportSummary

__all__ = ["import_label_studio", "plan_label_studio", "task_image_name"]

_UPLOAD = re.compile(r"^/data/upload/\d+/[0-9a-fA-F]{8}-(.+)$")
# result type -> its shape; "...labels" results name their labels under the same key, a bare
# "rectangle" or "polygon" (a <Rectangle> tool beside a <Labels> one) takes those of the "labels"
# result with the same id
BOX_RESULTS = {"rectanglelabels": "rectangle", "polygonlabels": "polygon", "rectangle": "rectangle",
               "polygon": "polygon"}
DECIMALS = 3  # percentages back to pixels, to a thousandth of a pixel (10 px stays 10, not 10.000000000000002)


def task_image_name(url: str) -> str:
    """The file name a task's image URL stands for (module docstring)."""
    parts = urlsplit(url)
    local = parse_qs(parts.query).get("d")
    if local:
        return local[0]
    path = unquote(parts.path)
    upload = _UPLOAD.match(path)
    return upload.group(1) if upload else path


def plan_label_studio(req: ImportRequest) -> ImportPlan:
    problem = Problems(req.path)
    tasks = read_json(req.path, req.max_bytes)
    if not isinstance(tasks, list):
        raise problem.fatal("not a Label Studio JSON export (the top level must be a list of tasks)")
    summary = ImportSummary(file=req.path, flavour="label-studio", as_proposals=req.as_proposals)
    matcher = ImageMatcher(req.store.images.all())
    req.ticker.set_total(len(tasks))
    phrases: dict[tuple[int, str], PlannedPhrase] = {}  # in file order
    for k, task in enumerate(tasks):
        req.ticker.step()
        where = entry_name("tasks", k, task)
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict) \
                or not isinstance(task.get("annotations"), list):
            problem(f"{where}: not a Label Studio task (needs 'data' and an 'annotations' list)")
            continue
        url = _image_url(task["data"])
        img = matcher.usable(task_image_name(url) if isinstance(url, str) else url, f"{where}: image", problem)
        if img is None:
            continue
        if task.get("predictions"):
            summary.skipped["prediction (not an annotation)"] += len(task["predictions"]) \
                if isinstance(task["predictions"], list) else 1
        for a, annotation in enumerate(task["annotations"]):
            at = f"{where}, annotations[{a}]"
            if not isinstance(annotation, dict) or not isinstance(annotation.get("result"), list):
                problem(f"{at}: needs a 'result' list")
                continue
            if annotation.get("was_cancelled"):
                summary.skipped["cancelled annotation"] += 1
                continue
            named = _labels_by_id(annotation["result"])
            for r, result in enumerate(annotation["result"]):
                if isinstance(result, dict) and result.get("type") == "labels":
                    continue  # the labels of a bare rectangle or polygon: read with it
                where = f"{at}, result[{r}]"
                bbox, texts = _labelled_box(result, named, img, where, problem, summary)
                box = None if bbox is None else box_from({}, bbox, req.as_proposals, where, problem)
                for text in texts if box is not None else ():
                    phrase = phrases.setdefault((img.id, text), PlannedPhrase(img.id, text))
                    if all(b.bbox != box.bbox for b in phrase.boxes):
                        phrase.boxes.append(box)
    problem.raise_if_any()
    return finish_plan(list(phrases.values()), set(), summary)


def _image_url(data: dict) -> Any:
    """The task's image: ``data.image`` (Label Studio's default), else its one string value."""
    if "image" in data:
        return data["image"]
    strings = [v for v in data.values() if isinstance(v, str)]
    return strings[0] if len(strings) == 1 else None


def _labels_by_id(results: list) -> dict:
    """The labels each ``labels`` result gives the region of the same id."""
    return {r["id"]: r["value"].get("labels") for r in results
            if isinstance(r, dict) and r.get("type") == "labels" and is_id(r.get("id"))
            and isinstance(r.get("value"), dict)}


def _labelled_box(result: Any, named: dict, img, at: str, problem: Problems,
                  summary: ImportSummary) -> tuple[Optional[tuple], list[str]]:
    """The pixel box of a rectangle or polygon result and its labels as phrases (no box for other
    results, or one with a problem)."""
    if not isinstance(result, dict) or not isinstance(result.get("value"), dict):
        problem(f"{at}: must be an object with a 'value' object")
        return None, []
    kind, value = result.get("type"), result["value"]
    if kind not in BOX_RESULTS:
        summary.skipped[f"Label Studio {str(kind)[:20]} result (not a box)"] += 1
        return None, []
    size = {"width": result.get("original_width"), "height": result.get("original_height")}
    if not image_size_matches(size, img, img.path, at, problem):
        return None, []
    shape = BOX_RESULTS[kind]
    corners = _corners(shape, value, img.width, img.height, at, problem)
    if corners is None:
        return None, []
    if kind.endswith("labels"):
        labels = value.get(kind)
    else:
        labels = named.get(result["id"]) if is_id(result.get("id")) else None
    if not isinstance(labels, list) or not labels:
        problem(f"{at}: '{kind}' must be a non-empty list of labels" if kind.endswith("labels")
                else f"{at}: a {kind} with no 'labels' result of the same id")
        return None, []
    if shape == "polygon" or len(corners) == 4:
        summary.from_outlines += 1
    xs, ys = [round(c[0], DECIMALS) for c in corners], [round(c[1], DECIMALS) for c in corners]
    bbox = checked_box([min(xs), min(ys), max(xs), max(ys)], img, at, problem, xyxy=True)
    texts = [clean_text(label, "label", at, problem, summary) for label in labels]
    return bbox, [t for t in texts if t is not None]


def _corners(shape: str, value: dict, width: int, height: int, at: str,
             problem: Problems) -> Optional[list[tuple[float, float]]]:
    """The result's points in pixels: a rectangle's two opposite corners (four when rotated), a
    polygon's points."""
    if shape == "polygon":
        points = value.get("points")
        if not (isinstance(points, list) and len(points) >= 2 and all(
                isinstance(p, list) and len(p) == 2 and all(is_number(v) for v in p) for p in points)):
            problem(f"{at}: 'points' must be a list of [x, y] percentages, got {str(points)[:80]}")
            return None
        return [(p[0] * width / 100, p[1] * height / 100) for p in points]
    numbers = [value.get(key) for key in ("x", "y", "width", "height")]
    rotation = value.get("rotation", 0) or 0
    if not all(is_number(v) for v in numbers) or not is_number(rotation):
        problem(f"{at}: 'x', 'y', 'width', 'height' and 'rotation' must be numbers")
        return None
    x, y, w, h = (float(v) * scale / 100 for v, scale in zip(numbers, (width, height, width, height)))
    if rotation % 360 == 0:
        return [(x, y), (x + w, y + h)]
    t = math.radians(rotation)  # clockwise on screen (y points down), around the top-left corner
    return [(x + dx * math.cos(t) - dy * math.sin(t), y + dx * math.sin(t) + dy * math.cos(t))
            for dx, dy in ((0, 0), (w, 0), (w, h), (0, h))]


import_label_studio = importer(plan_label_studio, "Label Studio JSON export")
