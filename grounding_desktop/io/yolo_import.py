"""Import an Ultralytics YOLO detection dataset (what ``yolo.py`` writes, and Ultralytics' own):
a folder with a ``data.yaml`` (or the YAML file itself).

- ``names`` (a list, or a mapping from class id) names the classes; each class with boxes on an
  image becomes a phrase of that image named by the class.
- ``train``, ``val`` and ``test`` are image folders (or text files listing images, one a line)
  relative to ``path`` when that folder exists, else to the YAML's folder, and inside the YAML's
  folder (the dataset: a YAML from elsewhere cannot send the import over the disk); an image listed twice
  (``val`` naming the training images) is read once. A YAML with none of them (supervision's
  ``as_yolo`` writes only the names) means the ``images/`` folder beside it. Each image is matched to a project image by
  its path under its split folder (then by unique file name, as every import does).
- an image's labels are where Ultralytics looks (``yolo.label_path``): one ``class cx cy w h`` line
  per box, normalised to the image's upright size. An empty or missing label file is a
  background image: the image is marked reviewed (nothing in it to label).

The YAML is read with ``yaml.safe_load`` (no Python objects are built from it).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterator, Optional

import yaml

from ..core import ImageState
from .errors import ImportFileError
from .images import IMAGE_SUFFIXES
from .import_checks import ImageMatcher, Problems, box_from, checked_box, clean_text
from .import_files import read_text
from .import_plan import ImportPlan, ImportRequest, PlannedPhrase, finish_plan, importer
from .import_summary import ImportSummary
from .yolo import DATA_YAML, label_path

__all__ = ["import_yolo", "plan_yolo"]

SPLIT_KEYS = ("train", "val", "test")


def _yaml_file(path: Path, problem: Problems) -> Path:
    if path.is_file():
        return path
    if not path.is_dir():
        raise problem.fatal("not found" if not path.exists() else "not a folder or a YAML file")
    if (path / DATA_YAML).is_file():
        return path / DATA_YAML
    found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if len(found) != 1:
        raise problem.fatal(f"no {DATA_YAML} in the folder" if not found else
                            f"no {DATA_YAML} and several YAML files ({', '.join(p.name for p in found[:3])}): name one")
    return found[0]


def read_data_yaml(path: Path, max_bytes: int) -> Any:
    text = read_text(path, max_bytes, "YAML file", starts=None)
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ImportFileError([f"{path}: malformed YAML{at}: {exc.problem or exc}"]) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise ImportFileError([f"{path}: not a usable YAML file: {str(exc)[:200]}"]) from None


def _names(data: dict, where: str, problem: Problems, summary: ImportSummary) -> dict[int, str]:
    raw = data.get("names")
    if isinstance(raw, list):
        raw = dict(enumerate(raw))
    if not isinstance(raw, dict) or not raw:
        raise problem.fatal(f"{where}: 'names' must be a list or a mapping of class names")
    names = {}
    for key, value in raw.items():
        if isinstance(key, bool) or not isinstance(key, int):
            problem(f"{where}: class id {str(key)[:40]!r} of 'names' is not an integer")
            continue
        text = clean_text(value if not isinstance(value, (int, float)) else str(value), "class name",
                          f"{where}, names[{key}]", problem, summary)
        if text is not None:
            names[key] = text
    return names


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _split_images(base: Path, root: Path, value: Any, key: str, max_bytes: int,
                  problem: Problems) -> Iterator[tuple[Path, str]]:
    """(image file, its name under the split) for the folders or image lists ``value`` names; they
    must lie inside the dataset's folder ``root`` (a hostile YAML naming ``/`` would walk the disk)."""
    for entry in value if isinstance(value, list) else [value]:
        if not isinstance(entry, str):
            problem(f"'{key}' must name folders or image lists, got {str(entry)[:60]}")
            continue
        where = base / entry
        if not _inside(where, root):
            problem(f"'{key}': {entry[:200]} lies outside the dataset folder {root}")
        elif where.is_dir():
            for image in sorted(p for p in where.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()):
                yield image, image.relative_to(where).as_posix()
        elif where.is_file():
            for line in read_text(where, max_bytes, "list of images", starts=None).splitlines():
                if line.strip():
                    image = (where.parent / line.strip()).resolve()
                    yield image, line.strip()
        else:
            problem(f"'{key}': {entry} is not a folder or a file under {base}")


def plan_yolo(req: ImportRequest) -> ImportPlan:
    problem = Problems(req.path)
    yaml_path = _yaml_file(Path(req.path), problem)
    data = read_data_yaml(yaml_path, req.max_bytes)
    if not isinstance(data, dict):
        raise problem.fatal(f"{yaml_path.name} must be a mapping with 'names' and image folders")
    summary = ImportSummary(file=req.path, flavour="yolo", as_proposals=req.as_proposals)
    names = _names(data, yaml_path.name, problem, summary)
    root = base = yaml_path.parent
    if isinstance(data.get("path"), str) and (base / data["path"]).is_dir() and _inside(base / data["path"], root):
        base = base / data["path"]
    splits = {key: data[key] for key in SPLIT_KEYS if data.get(key)}
    if not splits and (base / "images").is_dir():
        splits = {"images": "images"}  # a YAML of names only (supervision's as_yolo) beside images/ and labels/
    if not splits:
        raise problem.fatal(f"{yaml_path.name} names no image folder ('train', 'val' or 'test') and there is no "
                            f"images/ beside it")
    images = [found for key, value in splits.items()
              for found in _split_images(base, root, value, key, req.max_bytes, problem)]
    problem.raise_if_any()
    matcher = ImageMatcher(req.store.images.all())
    req.ticker.set_total(len(images))
    phrases: dict[tuple[int, str], PlannedPhrase] = {}
    reviewed: set[int] = set()
    seen_files: set[Path] = set()
    seen_images: set[int] = set()
    for image, name in images:
        req.ticker.step()
        if image.resolve() in seen_files:
            continue
        seen_files.add(image.resolve())
        img = matcher.usable(name, f"image {name}", problem)
        if img is None:
            continue
        if img.id in seen_images:
            problem(f"image {name}: its project image {img.path} is already labelled by another image of the dataset")
            continue
        seen_images.add(img.id)
        label = label_path(image)
        boxes = list(_boxes(label, f"labels of {name}", img, names, req, problem)) if label.is_file() else []
        for text, box in boxes:
            phrases.setdefault((img.id, text), PlannedPhrase(img.id, text)).boxes.append(box)
        if not boxes and not req.as_proposals and img.state != ImageState.REVIEWED:
            reviewed.add(img.id)
    problem.raise_if_any()
    return finish_plan(list(phrases.values()), reviewed, summary)


def _number(token: str) -> Optional[float]:
    try:
        v = float(token)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _boxes(label: Path, what: str, img, names: dict[int, str], req: ImportRequest,
           problem: Problems) -> Iterator[tuple[str, Any]]:
    try:
        text = read_text(label, req.max_bytes, "label file", starts=None)
    except ImportFileError as exc:
        problem(exc.problems[0])
        return
    for n, line in enumerate(text.splitlines(), 1):
        tokens = line.split()
        if not tokens:
            continue
        where = f"{what}, line {n}"
        if len(tokens) != 5:
            problem(f"{where}: {len(tokens)} values; a detection label is 5: class cx cy w h"
                    + (" (this looks like a segmentation polygon)" if len(tokens) > 5 and len(tokens) % 2 else ""))
            continue
        values = [_number(t) for t in tokens]
        if any(v is None for v in values) or values[0] != int(values[0]):
            problem(f"{where}: {line.strip()[:80]!r} is not a class id and four numbers")
            continue
        cls, cx, cy, w, h = int(values[0]), *values[1:]
        if cls not in names:
            problem(f"{where}: class {cls} is not in 'names' (0..{max(names)})" if names else f"{where}: no class names")
            continue
        W, H = img.width, img.height
        bbox = checked_box([(cx - w / 2) * W, (cy - h / 2) * H, w * W, h * H], img, where, problem)
        box = None if bbox is None else box_from({}, bbox, req.as_proposals, where, problem)
        if box is not None:
            yield names[cls], box


import_yolo = importer(plan_yolo, "YOLO dataset")
