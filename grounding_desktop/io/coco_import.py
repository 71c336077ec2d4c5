"""Import COCO files into a project: the project's own grounding export (MDETR/GLIP style, one
``images`` entry per expression) and plain COCO detection files.

Everything is checked before anything is written, and the whole file then lands in ONE store
transaction, so an import never half-applies. Problems are reported naming the file and the entry
(``images[3] (id 17)``, ``annotations[40] (id 9)``) and what is wrong with it.

Mapping onto project images is by file name: the exact project-relative path first, then the
longest trailing part of the name that is a project path (``photos/sub/a.jpg`` -> ``sub/a.jpg``),
then the bare file name when exactly one project image has it.

- grounding files: each ``images`` entry is an expression whose text is the ``caption``; its
  annotations are its boxes. Annotations whose ``tokens_positive`` cover only part of the caption
  (Flickr30k-style sentences) become an expression per distinct span set, with the spanned words as
  text. An entry with no annotations is a no-target expression. ``image_state: reviewed`` marks the
  image reviewed again (not with ``as_proposals``).
- detection files: the annotations of one image and one category become one expression whose text is
  the category name ("person" with five boxes).
- boxes come in ``accepted`` (or the ``state`` the project's own export recorded), or as
  ``proposed`` with ``as_proposals``; ``score``/``source``/``model_version`` are kept when present.
  A box may stick out of its image by at most :data:`BOX_TOLERANCE_PX` (rounding in other tools)
  and is then clipped; further out is an error. ``iscrowd: 1`` annotations are skipped (counted).
- captions and category names are checked and cleaned as typed phrases are (``core.clean_phrase``:
  whitespace collapsed; empty or absurdly long ones refused).
- an expression already on the image with the same text and the same boxes is skipped as a
  duplicate, so importing a file twice does not double the labels.
"""
from __future__ import annotations

import json
import math
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..core import Box, BoxSource, BoxState, ImageRecord, ImageState, PhraseError, clamp_xywh, clean_phrase
from .export_common import CancelFn, Cancelled, ProgressFn, Ticker, gc_paused

BOX_TOLERANCE_PX = 1.0
MAX_REPORTED_PROBLEMS = 20


class CocoImportError(ValueError):
    """A file that cannot be imported; ``problems`` lists every problem found (up to a limit)."""

    def __init__(self, problems: list[str], more: int = 0):
        self.problems = problems
        self.more = more
        text = problems[0]
        extra = len(problems) - 1 + more
        if extra:
            text += f" (and {extra} more problem{'s' if extra != 1 else ''})"
        super().__init__(text)


@dataclass
class ImportSummary:
    file: str
    flavour: str = ""  # "coco-grounding" or "coco"
    images: int = 0  # project images that receive labels
    expressions: int = 0
    no_target: int = 0
    boxes: int = 0
    reviewed: int = 0
    duplicates: int = 0
    as_proposals: bool = False
    applied: bool = False
    skipped: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "flavour": self.flavour, "images": self.images,
                "expressions": self.expressions, "no_target": self.no_target, "boxes": self.boxes,
                "reviewed": self.reviewed, "duplicates": self.duplicates, "as_proposals": self.as_proposals,
                "applied": self.applied, "skipped": dict(sorted(self.skipped.items()))}

    def lines(self) -> list[str]:
        verb = "imported" if self.applied else "would import"
        kind = "proposed" if self.as_proposals else "labelled"
        out = [f"{verb} {self.flavour} file {self.file}",
               f"images {self.images}, expressions {self.expressions} (no-target {self.no_target}), "
               f"{kind} boxes {self.boxes}"]
        if self.reviewed:
            out.append(f"marked reviewed {self.reviewed}")
        if self.duplicates:
            out.append(f"skipped {self.duplicates} expressions already in the project")
        for reason, n in sorted(self.skipped.items()):
            out.append(f"skipped {n}: {reason}")
        return out


@dataclass
class ImportPlan:
    """What an import will write: ``(image_id, text, boxes)`` items and images to mark reviewed."""

    items: list[tuple[int, str, list[Box]]]
    reviewed: set[int]
    summary: ImportSummary


# -- reading ------------------------------------------------------------------------------------
def read_json(path: os.PathLike | str) -> Any:
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise CocoImportError([f"file not found: {path}"]) from None
    except IsADirectoryError:
        raise CocoImportError([f"{path} is a folder, not a COCO JSON file"]) from None
    except UnicodeDecodeError as exc:
        raise CocoImportError([f"{path}: not UTF-8 text (byte {exc.start}); is it a JSON file?"]) from None
    except OSError as exc:
        raise CocoImportError([f"cannot read {path}: {exc.strerror or exc}"]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CocoImportError([f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]) from None
    except RecursionError:
        raise CocoImportError([f"{path}: JSON nested too deeply"]) from None


class ImageMatcher:
    """Finds the project image a COCO ``file_name`` means (see module docstring)."""

    def __init__(self, images: list[ImageRecord]):
        self.by_path = {img.path: img for img in images}
        self.by_name: dict[str, list[ImageRecord]] = defaultdict(list)
        for img in images:
            self.by_name[img.file_name].append(img)

    def match(self, file_name: str) -> tuple[Optional[ImageRecord], str]:
        """(image, "") or (None, why not)."""
        name = file_name.replace("\\", "/")
        while name.startswith("./"):
            name = name[2:]
        parts = [p for p in name.split("/") if p]
        for k in range(len(parts)):
            hit = self.by_path.get("/".join(parts[k:]))
            if hit is not None:
                return hit, ""
        if not parts:
            return None, "is empty"
        same = self.by_name.get(parts[-1], [])
        if len(same) == 1:
            return same[0], ""
        if same:
            listed = ", ".join(sorted(i.path for i in same)[:3])
            return None, f"matches several project images ({listed}); use a path relative to the project folder"
        return None, "matches no image of the project"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _hashable(v: Any) -> bool:
    return isinstance(v, (int, str, float, type(None))) and not isinstance(v, bool)


def _entry(kind: str, index: int, obj: Any) -> str:
    if isinstance(obj, dict) and "id" in obj:
        return f"{kind}[{index}] (id {obj['id']!r})"
    return f"{kind}[{index}]"


# -- planning (all validation happens here; nothing is written) ---------------------------------
def plan_import(store: Any, data: Any, path: os.PathLike | str, as_proposals: bool = False,
                ticker: Optional[Ticker] = None) -> ImportPlan:
    """Validate ``data`` (a parsed COCO file) against the project and work out what to add.

    Raises :class:`CocoImportError` listing the problems; touches nothing."""
    path = str(path)
    problems: list[str] = []
    more = 0

    def problem(msg: str) -> None:
        nonlocal more
        if len(problems) < MAX_REPORTED_PROBLEMS:
            problems.append(f"{path}: {msg}")
        else:
            more += 1

    def fail() -> None:
        if problems:
            raise CocoImportError(problems, more)

    if not isinstance(data, dict):
        raise CocoImportError([f"{path}: not a COCO file (the top level must be a JSON object with "
                               f"'images' and 'annotations')"])
    images = data.get("images")
    annotations = data.get("annotations", [])
    categories = data.get("categories", [])
    if not isinstance(images, list):
        raise CocoImportError([f"{path}: not a COCO file: no 'images' list"])
    if not isinstance(annotations, list):
        raise CocoImportError([f"{path}: 'annotations' must be a list"])
    if not isinstance(categories, list):
        raise CocoImportError([f"{path}: 'categories' must be a list"])

    with_caption = sum(1 for im in images if isinstance(im, dict) and "caption" in im)
    grounding = with_caption > 0
    if grounding and with_caption != len(images):
        raise CocoImportError([f"{path}: {with_caption} of {len(images)} images entries have a 'caption'; "
                               f"a grounding file needs one on every entry"])
    summary = ImportSummary(file=path, flavour="coco-grounding" if grounding else "coco", as_proposals=as_proposals)
    if ticker is not None:
        ticker.set_total(len(images) + len(annotations))

    # images entries -> project images
    matcher = ImageMatcher(store.images())
    entries: dict[Any, dict] = {}  # file image id -> {"image", "text", "state", "index"}
    for i, im in enumerate(images):
        if ticker is not None:
            ticker.step()
        where = _entry("images", i, im)
        if not isinstance(im, dict):
            problem(f"{where}: must be an object")
            continue
        im_id = im.get("id")
        if not isinstance(im_id, (int, str)) or isinstance(im_id, bool):
            problem(f"{where}: 'id' must be an integer")
            continue
        if im_id in entries:
            problem(f"{where}: id {im_id!r} appears twice in 'images'")
            continue
        file_name = im.get("file_name")
        if not isinstance(file_name, str):
            problem(f"{where}: 'file_name' must be a string")
            continue
        img, why = matcher.match(file_name)
        if img is None:
            problem(f"{where}: file_name {file_name!r} {why}")
            continue
        if not img.readable or img.width <= 0 or img.height <= 0:
            problem(f"{where}: file_name {file_name!r} is unreadable in the project ({img.error or 'no size'})")
            continue
        w, h = im.get("width"), im.get("height")
        if w is not None or h is not None:
            if not (_is_number(w) and _is_number(h)):
                problem(f"{where}: 'width' and 'height' must be numbers")
                continue
            if (w, h) != (img.width, img.height):
                hint = " (EXIF orientation not applied?)" if (w, h) == (img.height, img.width) else ""
                problem(f"{where}: {file_name!r} is {w:g}x{h:g} in the file but {img.width}x{img.height} "
                        f"in the project{hint}")
                continue
        text = None
        if grounding:
            caption = im.get("caption")
            if not isinstance(caption, str):
                problem(f"{where}: 'caption' must be a string")
                continue
            try:
                text = clean_phrase(caption)
            except PhraseError as exc:
                problem(f"{where}: caption {caption[:60]!r}: {exc}")
                continue
        entries[im_id] = {"image": img, "caption": im.get("caption"), "text": text,
                          "reviewed": im.get("image_state") == "reviewed", "index": i}

    category_names: dict[Any, str] = {}
    if not grounding:
        for k, cat in enumerate(categories):
            where = _entry("categories", k, cat)
            if not isinstance(cat, dict) or "id" not in cat or not isinstance(cat.get("name"), str):
                problem(f"{where}: needs an 'id' and a 'name'")
                continue
            try:
                category_names[cat["id"]] = clean_phrase(cat["name"])
            except PhraseError as exc:
                problem(f"{where}: name {cat['name']!r}: {exc}")

    # annotations -> boxes, grouped into expressions
    all_image_ids = {im.get("id") for im in images if isinstance(im, dict) and _hashable(im.get("id"))}
    all_category_ids = {c.get("id") for c in categories if isinstance(c, dict) and _hashable(c.get("id"))}
    groups: dict[tuple, list[Box]] = defaultdict(list)  # key -> boxes
    group_text: dict[tuple, str] = {}
    seen_ann_ids: set = set()
    for j, ann in enumerate(annotations):
        if ticker is not None:
            ticker.step()
        where = _entry("annotations", j, ann)
        if not isinstance(ann, dict):
            problem(f"{where}: must be an object")
            continue
        ann_id = ann.get("id")
        if ann_id is not None:
            if not isinstance(ann_id, (int, str)) or isinstance(ann_id, bool):
                problem(f"{where}: 'id' must be an integer")
                continue
            if ann_id in seen_ann_ids:
                problem(f"{where}: id {ann_id!r} appears twice in 'annotations'")
                continue
            seen_ann_ids.add(ann_id)
        image_id = ann.get("image_id")
        entry = entries.get(image_id) if _hashable(image_id) else None
        if entry is None:
            if not _hashable(image_id) or image_id not in all_image_ids:
                problem(f"{where}: image_id {image_id!r} does not exist in 'images'")
            continue  # otherwise its images entry was already reported
        if ann.get("iscrowd") in (1, True):
            summary.skipped["crowd annotation (not one object)"] += 1
            continue
        img: ImageRecord = entry["image"]
        bbox = ann.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(_is_number(v) for v in bbox)):
            problem(f"{where}: 'bbox' must be four numbers [x, y, width, height], got {bbox!r}")
            continue
        x, y, bw, bh = (float(v) for v in bbox)
        if bw <= 0 or bh <= 0:
            problem(f"{where}: box {bbox!r} has no area (width and height must be positive)")
            continue
        tol = BOX_TOLERANCE_PX
        if x < -tol or y < -tol or x + bw > img.width + tol or y + bh > img.height + tol:
            problem(f"{where}: box {bbox!r} lies outside its image {img.path} ({img.width}x{img.height})")
            continue
        inside = 0 <= x and 0 <= y and x + bw <= img.width and y + bh <= img.height
        clipped = (x, y, bw, bh) if inside else clamp_xywh((x, y, bw, bh), img.width, img.height)
        box = _box_from(ann, clipped, as_proposals, where, problem)
        if box is None:
            continue
        if grounding:
            key_text = _grounding_text(ann, entry, where, problem)
            if key_text is None:
                continue
            key = ("g", image_id, key_text)
        else:
            cat_id = ann.get("category_id")
            name = category_names.get(cat_id)
            if name is None:
                if not _hashable(cat_id) or cat_id not in all_category_ids:
                    problem(f"{where}: category_id {cat_id!r} does not exist in 'categories'")
                continue
            key = ("d", img.id, name)
            key_text = name
        groups[key].append(box)
        group_text[key] = key_text
    fail()

    # expressions in file order: a grounding entry's groups, or an entry with none as no-target
    items: list[tuple[int, str, list[Box]]] = []
    reviewed: set[int] = set()
    by_entry: dict[Any, list[tuple]] = defaultdict(list)
    for key in groups:
        by_entry[key[1]].append(key)
    if grounding:
        had_boxes = {ann.get("image_id") for ann in annotations if isinstance(ann, dict)}
        for im_id, entry in entries.items():
            keys = by_entry.get(im_id, [])
            img = entry["image"]
            if keys:
                items.extend((img.id, group_text[k], groups[k]) for k in keys)
            elif im_id in had_boxes:
                summary.skipped["expression whose boxes were all skipped"] += 1
            else:
                items.append((img.id, entry["text"], []))
            if entry["reviewed"] and not as_proposals and img.state != ImageState.REVIEWED:
                reviewed.add(img.id)
    else:
        items.extend((key[1], group_text[key], boxes) for key, boxes in groups.items())

    # skip expressions already in the project (same image, text and boxes)
    existing = store.all_annotations()
    known: set[tuple] = set()
    for image_id, pairs in existing.items():
        for expr, boxes in pairs:
            known.add((image_id, expr.text, _box_key(boxes)))
    kept = []
    for image_id, text, boxes in items:
        if (image_id, text, _box_key(boxes)) in known:
            summary.duplicates += 1
            continue
        kept.append((image_id, text, boxes))
    summary.images = len({i for i, _, _ in kept} | reviewed)
    summary.expressions = len(kept)
    summary.no_target = sum(1 for _, _, b in kept if not b)
    summary.boxes = sum(len(b) for _, _, b in kept)
    summary.reviewed = len(reviewed)
    return ImportPlan(kept, reviewed, summary)


def _box_key(boxes) -> tuple:
    return tuple(sorted(tuple(float(v) for v in b.bbox) for b in boxes))


def _box_from(ann: dict, bbox, as_proposals: bool, where: str, problem) -> Optional[Box]:
    state_name = ann.get("state", "accepted")
    source_name = ann.get("source")
    score = ann.get("score")
    model_version = ann.get("model_version")
    try:
        state = BoxState(state_name)
    except ValueError:
        problem(f"{where}: unknown box state {state_name!r} (accepted, rejected or proposed)")
        return None
    try:
        source = BoxSource(source_name) if source_name is not None else None
    except ValueError:
        problem(f"{where}: unknown box source {source_name!r} (model, manual or model+edited)")
        return None
    if score is not None and not _is_number(score):
        problem(f"{where}: 'score' must be a number, got {score!r}")
        return None
    if model_version is not None and not isinstance(model_version, str):
        model_version = str(model_version)
    if as_proposals:
        state, source = BoxState.PROPOSED, source or BoxSource.MODEL
    else:
        source = source or BoxSource.MANUAL
    return Box(0, 0, tuple(bbox), state, source, None if score is None else float(score), model_version)


def _grounding_text(ann: dict, entry: dict, where: str, problem) -> Optional[str]:
    """The expression a grounding annotation belongs to: the whole caption, or the words its
    ``tokens_positive`` spans cut out when they cover only part of it."""
    caption: str = entry["caption"]
    spans = ann.get("tokens_positive")
    if spans is None or spans == []:
        return entry["text"]
    if not (isinstance(spans, list) and all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in s)
            and 0 <= s[0] < s[1] <= len(caption) for s in spans)):
        problem(f"{where}: 'tokens_positive' must be [start, end] character spans inside the caption "
                f"(length {len(caption)}), got {spans!r}")
        return None
    key = tuple(tuple(s) for s in spans)
    cache = entry.setdefault("span_texts", {})
    if key in cache:
        return cache[key]
    text = " ".join(caption[s:e] for s, e in sorted(spans))
    try:
        text = clean_phrase(text)
    except PhraseError as exc:
        problem(f"{where}: the span text {text!r}: {exc}")
        return None
    cache[key] = text
    return text


# -- applying -----------------------------------------------------------------------------------
def import_coco(
    store: Any,
    path: os.PathLike | str,
    as_proposals: bool = False,
    dry_run: bool = False,
    progress: Optional[ProgressFn] = None,
    cancelled: Optional[CancelFn] = None,
) -> ImportSummary:
    """Validate ``path`` against the project of ``store`` (a ``store.ProjectStore``), then add it in
    one transaction. Raises :class:`CocoImportError` (nothing written) or :class:`Cancelled`
    (nothing written). With ``dry_run`` only the summary of what would be added is returned."""
    ticker = Ticker(progress, cancelled, 1)
    ticker.check()
    with gc_paused():
        data = read_json(path)
        try:
            plan = plan_import(store, data, path, as_proposals, ticker)
        except Cancelled:
            raise Cancelled("import cancelled") from None
    if cancelled is not None and cancelled():
        raise Cancelled("import cancelled")
    if not dry_run and (plan.items or plan.reviewed):
        store.add_expressions_bulk(plan.items, reviewed=plan.reviewed)
    plan.summary.applied = not dry_run
    ticker.finish()
    return plan.summary
