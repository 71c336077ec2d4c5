"""Import ODVG jsonl files (the format ``odvg.py`` writes; Open-GroundingDino and MM-Grounding-DINO
read it): one JSON object per line, with ``grounding`` regions or ``detection`` instances.

- grounding lines: each region's ``phrase`` is a phrase of the image, its ``bbox`` ``[x1, y1, x2, y2]``
  one of its boxes. When the caption is GroundingDINO-style phrases joined by ``" . "`` (as this
  tool writes it) and every region's phrase is one of them, the phrases with no region are the
  image's no-target phrases; a sentence caption only gives the regions' phrases.
- detection lines: the instances of one ``category`` on an image become one phrase named by it.
"""
from __future__ import annotations

from typing import Optional

from ..core import Box
from .errors import ImportFileError
from .import_checks import ImageMatcher, Problems, box_from, checked_box, clean_text, image_size_matches
from .import_files import json_lines, parse_json, read_text
from .import_plan import ImportPlan, ImportRequest, PlannedPhrase, finish_plan, importer
from .import_summary import ImportSummary
from .odvg import SEPARATOR

__all__ = ["import_odvg", "plan_odvg"]



def plan_odvg(req: ImportRequest) -> ImportPlan:
    problem = Problems(req.path)
    lines = json_lines(read_text(req.path, req.max_bytes, "ODVG jsonl file"))
    summary = ImportSummary(file=req.path, flavour="odvg", as_proposals=req.as_proposals)
    matcher = ImageMatcher(req.store.images.all())
    req.ticker.set_total(len(lines))
    phrases: dict[tuple[int, str], PlannedPhrase] = {}  # in file order
    kinds = set()
    for n, line in enumerate(lines, 1):
        req.ticker.step()
        if not line.strip():
            continue
        where = f"line {n}"
        try:
            rec = parse_json(line, where)
        except ImportFileError as exc:
            problem(exc.problems[0])
            continue
        if not isinstance(rec, dict):
            problem(f"{where}: must be a JSON object")
            continue
        img = matcher.usable(rec.get("filename"), where, problem)
        if img is None or not image_size_matches(rec, img, rec["filename"], where, problem):
            continue
        if isinstance(rec.get("grounding"), dict):
            kinds.add("grounding")
            found = _grounding(rec["grounding"], img, req.as_proposals, where, problem, summary)
        elif isinstance(rec.get("detection"), dict):
            kinds.add("detection")
            found = _detection(rec["detection"], img, req.as_proposals, where, problem, summary)
        else:
            problem(f"{where}: needs a 'grounding' or a 'detection' object")
            continue
        for text, boxes, spans in found:
            phrases.setdefault((img.id, text), PlannedPhrase(img.id, text, spans=spans)).boxes.extend(boxes)
    problem.raise_if_any()
    if kinds == {"detection"}:
        summary.flavour = "odvg detection"
    return finish_plan(list(phrases.values()), set(), summary)


Found = list[tuple[str, list[Box], tuple[tuple[int, int], ...]]]  # (phrase, its boxes, its spans)


def _grounding(g: dict, img, as_proposals: bool, where: str, problem: Problems, summary: ImportSummary) -> Found:
    caption, regions = g.get("caption"), g.get("regions")
    if not isinstance(caption, str) or not isinstance(regions, list):
        problem(f"{where}: 'grounding' needs a 'caption' string and a 'regions' list")
        return []
    segments = _caption_phrases(caption)
    offsets = _segment_offsets(segments or [])
    by_phrase: dict[str, tuple[list[Box], tuple[tuple[int, int], ...]]] = {}
    raw_phrases: list[str] = []
    for k, region in enumerate(regions):
        at = f"{where}, regions[{k}]"
        if not isinstance(region, dict):
            problem(f"{at}: must be an object")
            continue
        raw = region.get("phrase")
        text = clean_text(raw, "phrase", at, problem, summary)
        bbox = checked_box(region.get("bbox"), img, at, problem, xyxy=True)
        box = None if bbox is None or text is None else box_from(region, bbox, as_proposals, at, problem)
        if box is not None:
            raw_phrases.append(raw.strip())
            spans = _spans_in_phrase(region.get("tokens_positive"), offsets.get(text), len(text))
            by_phrase.setdefault(text, ([], spans))[0].append(box)
    if segments is None or not set(raw_phrases) <= set(segments):
        return [(text, boxes, spans) for text, (boxes, spans) in by_phrase.items()]
    out: dict[str, tuple[list[Box], tuple[tuple[int, int], ...]]] = {}
    for segment in segments:
        text = clean_text(segment, "caption phrase", where, problem, summary)
        if text is not None:
            out.setdefault(text, by_phrase.get(text, ([], ())))
    return [(text, boxes, spans) for text, (boxes, spans) in out.items()]


def _segment_offsets(segments: list[str]) -> dict[str, int]:
    """Where each phrase of a GroundingDINO-style caption starts in it (its first occurrence)."""
    offsets: dict[str, int] = {}
    pos = 0
    for segment in segments:
        offsets.setdefault(segment, pos)
        pos += len(segment) + len(SEPARATOR)
    return offsets


def _spans_in_phrase(tokens_positive, offset: Optional[int], length: int) -> tuple[tuple[int, int], ...]:
    """A region's ``tokens_positive`` (caption offsets) as spans of its phrase, when they lie inside
    the phrase at ``offset`` and mark only part of it (MDETR-style head words); else none."""
    if offset is None or not isinstance(tokens_positive, list):
        return ()
    spans = []
    for span in tokens_positive:
        if not (isinstance(span, list) and len(span) == 2 and all(type(v) is int for v in span)):
            return ()
        start, end = span[0] - offset, span[1] - offset
        if not 0 <= start < end <= length:
            return ()
        spans.append((start, end))
    return () if spans == [(0, length)] else tuple(sorted(spans))


def _caption_phrases(caption: str) -> Optional[list[str]]:
    """The phrases of a GroundingDINO-style caption (``"a . b ."``), or None for any other caption."""
    if not caption.endswith(" ."):
        return None
    return [p.strip() for p in caption[:-2].split(SEPARATOR)]


def _detection(d: dict, img, as_proposals: bool, where: str, problem: Problems, summary: ImportSummary) -> Found:
    instances = d.get("instances")
    if not isinstance(instances, list):
        problem(f"{where}: 'detection' needs an 'instances' list")
        return []
    by_category: dict[str, list[Box]] = {}
    for k, inst in enumerate(instances):
        at = f"{where}, instances[{k}]"
        if not isinstance(inst, dict):
            problem(f"{at}: must be an object")
            continue
        text = clean_text(inst.get("category"), "category", at, problem, summary)
        bbox = checked_box(inst.get("bbox"), img, at, problem, xyxy=True)
        box = None if bbox is None or text is None else box_from(inst, bbox, as_proposals, at, problem)
        if box is not None:
            by_category.setdefault(text, []).append(box)
    return [(text, boxes, ()) for text, boxes in by_category.items()]


import_odvg = importer(plan_odvg, "ODVG file")
