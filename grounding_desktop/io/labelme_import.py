"""Import a labelme folder: one JSON file per image, as labelme's ``LabelFile.save`` writes it
(``shapes``, ``imagePath`` relative to the JSON file, ``imageWidth``/``imageHeight``).

Each shape's ``label`` is a phrase of the image; the shapes of one label on one image are that
phrase's boxes. A ``rectangle`` is a box (its two corners, in either order); a ``polygon`` (also a
shape with no ``shape_type``, as labelme reads it) and an ``oriented_rectangle`` (four corners)
become their bounding box, counted in the summary; circles, lines, points and masks are no boxes
and are skipped, counted. JSON files without
``shapes`` are not labelme files: a problem, as every other check.
"""
from __future__ import annotations

import os
from pathlib import Path, PureWindowsPath
from typing import Any

from .errors import ImportFileError
from .import_checks import ImageMatcher, Problems, box_from, checked_box, clean_text, image_size_matches, is_number
from .import_files import parse_json, read_text
from .import_plan import ImportPlan, ImportRequest, PlannedPhrase, finish_plan, importer
from .import_summary import ImportSummary

__all__ = ["import_labelme", "plan_labelme"]

BOX_SHAPES = {"rectangle"}
OUTLINE_SHAPES = {"polygon", "oriented_rectangle"}  # kept as the box around their points


def plan_labelme(req: ImportRequest) -> ImportPlan:
    folder = Path(req.path)
    problem = Problems(req.path)
    if not folder.is_dir():
        raise problem.fatal("a labelme import reads a folder of labelme JSON files (one per image)")
    files = sorted(p for p in folder.rglob("*.json")
                   if not any(part.startswith(".") for part in p.relative_to(folder).parts))  # not .grounding/
    if not files:
        raise problem.fatal("no .json files in the folder")
    summary = ImportSummary(file=req.path, flavour="labelme", as_proposals=req.as_proposals)
    matcher = ImageMatcher(req.store.images.all())
    req.ticker.set_total(len(files))
    phrases: dict[tuple[int, str], PlannedPhrase] = {}  # in file order
    budget = req.max_bytes
    for path in files:
        req.ticker.step()
        where = path.relative_to(folder).as_posix()
        text = read_text(path, budget, "labelme JSON file")
        budget -= len(text.encode("utf-8"))  # the folder as a whole stays under the import limit
        try:
            data = parse_json(text, where)
        except ImportFileError as exc:
            problem(exc.problems[0])
            continue
        if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
            problem(f"{where}: not a labelme file (no 'shapes' list)")
            continue
        img = matcher.usable(_image_name(path, data.get("imagePath")), f"{where}: imagePath", problem)
        size = {"width": data.get("imageWidth"), "height": data.get("imageHeight")}
        if img is None or not image_size_matches(size, img, str(data["imagePath"]), where, problem):
            continue
        for k, shape in enumerate(data["shapes"]):
            at = f"{where}: shapes[{k}]"
            found = _shape_box(shape, at, problem, summary)
            if found is None:
                continue
            label, bbox = found
            phrase = clean_text(label, "label", at, problem, summary)
            bbox = checked_box(bbox, img, at, problem, xyxy=True)
            box = None if bbox is None or phrase is None else box_from({}, bbox, req.as_proposals, at, problem)
            if box is not None:
                phrases.setdefault((img.id, phrase), PlannedPhrase(img.id, phrase)).boxes.append(box)
    problem.raise_if_any()
    return finish_plan(list(phrases.values()), set(), summary)


def _image_name(json_path: Path, image_path: Any) -> Any:
    """``imagePath`` (relative to the JSON file, Windows separators allowed) as a path the
    project's matcher can take; anything but a string is passed on for it to refuse."""
    if not isinstance(image_path, str) or not image_path.strip():
        return image_path
    return os.path.normpath(json_path.parent / PureWindowsPath(image_path).as_posix())


def _shape_box(shape: Any, at: str, problem: Problems, summary: ImportSummary):
    """``(label, [x1, y1, x2, y2])`` of a rectangle or an outline; None for a shape that is no box
    (skipped and counted) or a broken one (a problem)."""
    if not isinstance(shape, dict):
        problem(f"{at}: must be an object")
        return None
    kind, points = shape.get("shape_type") or "polygon", shape.get("points")  # labelme's default: polygon
    if not isinstance(kind, str) or kind not in BOX_SHAPES | OUTLINE_SHAPES:
        summary.skipped[f"labelme {str(kind)[:20]} shape (not a box)"] += 1
        return None
    if not (isinstance(points, list) and len(points) >= 2 and all(
            isinstance(p, list) and len(p) == 2 and all(is_number(v) for v in p) for p in points)):
        problem(f"{at}: 'points' must be a list of [x, y] points, got {str(points)[:80]}")
        return None
    if kind in BOX_SHAPES and len(points) != 2:
        problem(f"{at}: a rectangle has two points, got {len(points)}")
        return None
    if kind in OUTLINE_SHAPES:
        summary.from_outlines += 1
    xs, ys = [float(p[0]) for p in points], [float(p[1]) for p in points]
    return shape.get("label"), [min(xs), min(ys), max(xs), max(ys)]


import_labelme = importer(plan_labelme, "labelme folder")
