"""Import COCO files: the project's own COCO grounding export (one ``images`` entry per phrase),
MDETR/GLIP-style grounding files, and plain COCO detection files. The checks every format shares,
and the all-or-nothing rule, are in ``import_plan`` and ``import_checks``.

- grounding files (every ``images`` entry has a ``caption``): an entry's annotations are boxes of
  its caption. When they all share one ``tokens_positive`` span set (our own files; MDETR's
  referring expressions, where the span marks only the head noun: "the red bicycle" -> "bicycle"),
  the phrase is the whole caption. Only when they carry different span sets (Flickr30k-style
  sentences) does each span set become a phrase of the words it spans. An entry with no
  annotations is a no-target phrase. ``image_state: reviewed`` marks the image reviewed again
  (not with ``as_proposals``).
- detection files: the annotations of one image and one category become one phrase named by the
  category ("person" with five boxes), or by the phrase our own export recorded on them (its case
  kept: "A dog"); an image's recorded no-target phrases come back too, and the file's categories
  keep their ids in the project (``store.imports.merge_phrases``), so a re-export writes the same
  categories. ``iscrowd: 1`` annotations are skipped (counted).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Optional

from ..core import Box, ImageRecord, ImageState, phrase_key, shown
from .coco_common import OWN_KEY
from .import_checks import (
    ImageMatcher,
    Problems,
    box_from,
    checked_box,
    clean_text,
    entry_name,
    image_size_matches,
    is_id,
    own_fields,
)
from .import_files import read_json
from .import_plan import ImportPlan, ImportRequest, PlannedPhrase, finish_plan, importer
from .import_summary import ImportSummary
from .progress import Ticker

__all__ = ["import_coco", "plan_coco"]


@dataclass
class _ImageEntry:
    """One ``images`` entry, matched to its project image."""

    image: ImageRecord
    index: int
    caption: Optional[str] = None  # as in the file (spans index into it)
    text: Optional[str] = None  # the caption, cleaned as a phrase
    reviewed: bool = False
    absent: list[str] = field(default_factory=list)  # no-target phrases our detection export recorded
    span_groups: dict[tuple, list[Box]] = field(default_factory=dict)  # span set -> boxes, in file order


@dataclass
class _CocoFile:
    images: list
    annotations: list
    categories: list
    grounding: bool



def plan_coco(req: ImportRequest) -> ImportPlan:
    """Validate the file against the project and work out what to add; touches nothing."""
    problem = Problems(req.path)
    data = _top_level(read_json(req.path, req.max_bytes), problem)
    summary = ImportSummary(file=req.path, flavour="coco-grounding" if data.grounding else "coco",
                            as_proposals=req.as_proposals)
    req.ticker.set_total(len(data.images) + len(data.annotations))
    entries = _image_entries(data, ImageMatcher(req.store.images.all()), summary, problem, req.ticker)
    names = {} if data.grounding else _category_names(data.categories, summary, problem)
    detection = _annotations(data, entries, names, req, summary, problem)
    problem.raise_if_any()
    if data.grounding:
        phrases, reviewed = _grounding_phrases(entries, data.annotations, req.as_proposals, summary, problem)
        problem.raise_if_any()
        categories = {}
    else:
        phrases = [PlannedPhrase(img_id, text, boxes) for (img_id, text), boxes in detection.items()]
        phrases += [PlannedPhrase(e.image.id, text, []) for e in entries.values() for text in e.absent]
        reviewed, categories = set(), {phrase_key(name): cat_id for cat_id, name in names.items()}
    return finish_plan(phrases, reviewed, summary, categories)


def _top_level(data: Any, problem: Problems) -> _CocoFile:
    if not isinstance(data, dict):
        raise problem.fatal("not a COCO file (the top level must be a JSON object with 'images' and 'annotations')")
    images, annotations, categories = data.get("images"), data.get("annotations", []), data.get("categories", [])
    if not isinstance(images, list):
        raise problem.fatal("not a COCO file: no 'images' list")
    if not isinstance(annotations, list):
        raise problem.fatal("'annotations' must be a list")
    if not isinstance(categories, list):
        raise problem.fatal("'categories' must be a list")
    with_caption = sum(1 for im in images if isinstance(im, dict) and "caption" in im)
    if with_caption and with_caption != len(images):
        raise problem.fatal(f"{with_caption} of {len(images)} images entries have a 'caption'; "
                            f"a grounding file needs one on every entry")
    return _CocoFile(images, annotations, categories, grounding=with_caption > 0)


def _image_entries(data: _CocoFile, matcher: ImageMatcher, summary: ImportSummary, problem: Problems,
                   ticker: Ticker) -> dict[Any, _ImageEntry]:
    entries: dict[Any, _ImageEntry] = {}
    for i, im in enumerate(data.images):
        ticker.step()
        where = entry_name("images", i, im)
        if not isinstance(im, dict):
            problem(f"{where}: must be an object")
            continue
        im_id = im.get("id")
        if not is_id(im_id):
            problem(f"{where}: 'id' must be an integer")
            continue
        if im_id in entries:
            problem(f"{where}: id {shown(im_id)} appears twice in 'images'")
            continue
        file_name = im.get("file_name")
        img = matcher.usable(file_name, where, problem)
        if img is None or not image_size_matches(im, img, file_name, where, problem):
            continue
        entry = _ImageEntry(img, i, reviewed=own_fields(im).get("image_state") == ImageState.REVIEWED.value)
        if data.grounding:
            entry.caption = im.get("caption")
            entry.text = clean_text(entry.caption, "caption", where, problem, summary)
            if entry.text is None:
                continue
        else:
            entry.absent = _recorded_phrases(im, "no_target", where, problem, summary)
        entries[im_id] = entry
    return entries


def _recorded_phrases(obj: dict, key: str, where: str, problem: Problems, summary: ImportSummary) -> list[str]:
    """The phrases our own export recorded under ``"grounding_desktop": {key: [...]}``."""
    own = obj.get(OWN_KEY)
    texts = own.get(key, []) if isinstance(own, dict) else []
    if not isinstance(texts, list):
        problem(f"{where}: '{OWN_KEY}.{key}' must be a list of phrases")
        return []
    return [t for t in (clean_text(t, key, where, problem, summary) for t in texts) if t is not None]


def _category_names(categories: list, summary: ImportSummary, problem: Problems) -> dict[Any, str]:
    names: dict[Any, str] = {}
    seen: set = set()
    for k, cat in enumerate(categories):
        where = entry_name("categories", k, cat)
        if not isinstance(cat, dict) or not is_id(cat.get("id")):
            problem(f"{where}: needs an 'id' (an integer) and a 'name'")
            continue
        if cat["id"] in seen:
            problem(f"{where}: id {shown(cat['id'])} appears twice in 'categories'")
            continue
        seen.add(cat["id"])
        name = clean_text(cat.get("name"), "name", where, problem, summary)
        if name is not None:
            names[cat["id"]] = name
    return names


def _annotations(data: _CocoFile, entries: dict[Any, _ImageEntry], names: dict[Any, str], req: ImportRequest,
                 summary: ImportSummary, problem: Problems) -> dict[tuple[int, str], list[Box]]:
    """Check every annotation; a grounding box goes into its entry's span group, a detection box
    into the returned ``(image id, category name) -> boxes``."""
    image_ids = {im.get("id") for im in data.images if isinstance(im, dict) and is_id(im.get("id"))}
    category_ids = {c.get("id") for c in data.categories if isinstance(c, dict) and is_id(c.get("id"))}
    detection: dict[tuple[int, str], list[Box]] = defaultdict(list)
    seen_ids: set = set()
    for j, ann in enumerate(data.annotations):
        req.ticker.step()
        where = entry_name("annotations", j, ann)
        if not isinstance(ann, dict):
            problem(f"{where}: must be an object")
            continue
        ann_id = ann.get("id")
        if ann_id is not None:
            if not is_id(ann_id):
                problem(f"{where}: 'id' must be an integer")
                continue
            if ann_id in seen_ids:
                problem(f"{where}: id {shown(ann_id)} appears twice in 'annotations'")
                continue
            seen_ids.add(ann_id)
        image_id = ann.get("image_id")
        entry = entries.get(image_id) if is_id(image_id) else None
        if entry is None:
            if not is_id(image_id) or image_id not in image_ids:
                problem(f"{where}: image_id {shown(image_id)} does not exist in 'images'")
            continue  # otherwise its images entry was already reported
        if ann.get("iscrowd") in (1, True):
            summary.skipped["crowd annotation (not one object)"] += 1
            continue
        bbox = checked_box(ann.get("bbox"), entry.image, where, problem)
        box = None if bbox is None else box_from(ann, bbox, req.as_proposals, where, problem)
        if box is None:
            continue
        if data.grounding:
            spans = _spans(ann.get("tokens_positive"), entry.caption, where, problem)
            if spans is not None:
                entry.span_groups.setdefault(spans, []).append(box)
            continue
        cat_id = ann.get("category_id")
        name = names.get(cat_id) if is_id(cat_id) else None
        if name is None:
            if not is_id(cat_id) or cat_id not in category_ids:
                problem(f"{where}: category_id {shown(cat_id)} does not exist in 'categories'")
            continue
        own = ann.get(OWN_KEY)
        phrase = own.get("phrase") if isinstance(own, dict) else None
        if phrase is not None:
            phrase = clean_text(phrase, "phrase", where, problem, summary)
            if phrase is None:
                continue
        detection[(entry.image.id, phrase or name)].append(box)
    return detection


def _spans(spans: Any, caption: str, where: str, problem: Problems) -> Optional[tuple]:
    """The annotation's ``tokens_positive`` as a hashable span set (``()``: none given)."""
    if spans is None or spans == []:
        return ()
    if not (isinstance(spans, list) and all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in s)
            and 0 <= s[0] < s[1] <= len(caption) for s in spans)):
        problem(f"{where}: 'tokens_positive' must be [start, end] character spans inside the caption "
                f"(length {len(caption)}), got {shown(spans)}")
        return None
    return tuple(sorted(tuple(s) for s in spans))


def _head_spans(spans: tuple, entry: _ImageEntry) -> tuple[tuple[int, int], ...]:
    """The spans an entry's boxes share, kept with the phrase when they mark part of it (MDETR's
    head noun) and the caption is the phrase as stored (cleaning moved no character)."""
    if not spans or entry.text != entry.caption or spans == ((0, len(entry.caption)),):
        return ()
    return spans


def _grounding_phrases(entries: dict[Any, _ImageEntry], annotations: list, as_proposals: bool,
                       summary: ImportSummary, problem: Problems) -> tuple[list[PlannedPhrase], set[int]]:
    """Phrases in file order (module docstring: one span set -> the caption; several -> the words
    each spans); an entry with no annotation is a no-target phrase."""
    had_boxes = {ann.get("image_id") for ann in annotations if isinstance(ann, dict) and is_id(ann.get("image_id"))}
    phrases: list[PlannedPhrase] = []
    reviewed: set[int] = set()
    for im_id, entry in entries.items():
        img_id = entry.image.id
        groups = entry.span_groups
        if len(groups) == 1:
            (spans, boxes), = groups.items()
            phrases.append(PlannedPhrase(img_id, entry.text, boxes, _head_spans(spans, entry)))
        elif groups:
            where = f"images[{entry.index}] (id {shown(im_id)})"
            for spans, boxes in groups.items():
                words = " ".join(entry.caption[s:e] for s, e in spans) if spans else entry.caption
                text = clean_text(words, "span text", where, problem, summary)
                if text is not None:
                    phrases.append(PlannedPhrase(img_id, text, boxes))
        elif im_id in had_boxes:
            summary.skipped["phrase whose boxes were all skipped"] += 1
        else:
            phrases.append(PlannedPhrase(img_id, entry.text, []))
        if entry.reviewed and not as_proposals and entry.image.state != ImageState.REVIEWED:
            reviewed.add(img_id)
    return phrases, reviewed


import_coco = importer(plan_coco, "COCO file")
