"""Which images, phrases and boxes an export writes, and which split each image falls in.

Rules (the one place they are written down; the CLI's help and the README point here):

- images: readable and present on disk; with ``reviewed_only`` only images marked reviewed; a file
  name that is not valid UTF-8 cannot be written into a JSON file and is skipped; an image with no
  exported phrase is left out ("no labels").
- boxes: ``accepted`` ones. ``rejected`` boxes only with ``include_rejected`` (tagged
  ``"grounding_desktop": {"state": "rejected"}``, for hard-negative mining and full backups:
  trainers that ignore the tag read them as positives). ``proposed`` boxes are model guesses, not
  labels, and never go out. Boxes are clipped to their image; one with no area left is skipped.
- phrases: one with exported boxes goes out with them. One with none goes out as a no-target
  phrase only when the user said the thing is not in the image (Shift+Enter, or an imported
  phrase with no box), where the format allows. One whose boxes were all rejected is skipped: a
  rejected box says "this box is wrong", not "the thing is absent", so the phrase still needs its
  box (``--include-rejected`` writes it with its rejected boxes). One that still has only
  unreviewed proposals is skipped too: exporting it as "nothing here" would be a wrong label.
  The rule of what a phrase's boxes add up to is ``core.phrase_status``.
- a format that cannot represent no-target or plural (several-box) phrases skips them, counted;
  one whose lines need a box (ODVG grounding) skips images that only have no-target phrases.
- a format that writes boxes per category (COCO detection, ODVG detection) writes each
  (image, category, box) once: two phrases for one object ("the dog", "the puppy") mapped to one
  category would otherwise be two ground-truth boxes, and a perfect detector would lose AP.
- a format that names classes, not phrases (YOLO, VOC), puts a phrase without a label map in the
  class of its head noun (``core.head_noun``), and writes an image marked reviewed that has no
  phrase at all as a background image (no boxes): the user looked and there is nothing to label.
- splits: an image's split comes from a hash of its path, the same on every run and machine.

Selecting reads the whole project, seconds on 300k boxes: it reports progress and checks for a
cancel while it reads (``selection_steps`` ticks) and for each image.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Optional, Sequence

from ..core import Box, BoxState, Expression, ImageRecord, ImageState, PhraseStatus, phrase_key, phrase_status
from .export_options import ExportOptions
from .export_summary import ExportSummary
from .progress import Ticker
from .store_protocol import LabelStore

SPLIT_NAMES = ("train", "val", "test")


# -- splits -------------------------------------------------------------------------------------
def split_names(weights: Sequence[float]) -> tuple[str, ...]:
    return SPLIT_NAMES[: len(weights)]


def used_splits(weights: Optional[Sequence[float]]) -> list[Optional[str]]:
    """The output files' splits: every named split with a weight, or ``[None]`` for one file."""
    if not weights:
        return [None]
    return [name for name, w in zip(split_names(weights), weights) if w > 0]


def split_of(path: str, weights: Sequence[float]) -> str:
    """The split of an image, from a SHA-1 of its project-relative path: the same on every run and
    machine (Python's ``hash`` is salted per process), so an image never changes or shares splits."""
    digest = hashlib.sha1(path.encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0**64
    total = float(sum(weights))
    edge = 0.0
    names = split_names(weights)
    for name, w in zip(names, weights):
        edge += w / total
        if u < edge and w > 0:
            return name
    return next(n for n, w in zip(reversed(names), reversed(weights)) if w > 0)


def split_path(out: Path, split: Optional[str]) -> Path:
    """``out.json`` -> ``out_train.json`` (``out.jsonl`` -> ``out_train.jsonl``)."""
    if split is None:
        return out
    return out.with_name(f"{out.stem}_{split}{out.suffix}")


# -- selection ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SelectionRules:
    """What a format can represent; a format module gives them for the options at hand."""

    no_target: bool = True
    no_target_reason: str = ""
    plural: bool = True
    plural_reason: str = ""
    one_box_per_category: bool = False
    image_needs_box: bool = False  # an image whose phrases are all no-target is left out
    image_needs_box_reason: str = ""
    category_of: Optional[Callable[[str], str]] = None  # without a label map: a phrase's class (else its key)
    reviewed_background: bool = False  # a reviewed image with no phrase goes out with none


@dataclass(frozen=True)
class SelectedPhrase:
    expression: Expression
    boxes: tuple[Box, ...]  # clipped to the image; empty for a no-target phrase
    mapped: Optional[str] = None  # the label map's category, or the format's class of the phrase

    @property
    def text(self) -> str:
        return self.expression.text

    @cached_property
    def category(self) -> str:
        """The label map's or the format's category, else the phrase's key (:func:`core.phrase_key`); computed
        when a format asks (most phrases of a large export never need it)."""
        return self.mapped if self.mapped is not None else phrase_key(self.text)

    @property
    def no_target(self) -> bool:
        return not self.boxes


@dataclass(frozen=True)
class SelectedImage:
    image: ImageRecord
    phrases: tuple[SelectedPhrase, ...]
    split: Optional[str] = None


def _utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # a surrogate-escaped byte of a non-UTF-8 file name
        return False
    return True


def _exported_boxes(boxes: Sequence[Box], width: int, height: int, include_rejected: bool,
                    summary: ExportSummary) -> tuple[list[Box], int]:
    """(kept boxes clipped to the image, boxes with no area left)."""
    kept: list[Box] = []
    proposed = lost = 0
    for b in boxes:
        if b.state == BoxState.PROPOSED:
            proposed += 1
            continue
        if b.state == BoxState.REJECTED and not include_rejected:
            summary.skip("boxes", "rejected")
            continue
        x, y, w, h = b.bbox
        if 0 <= x and 0 <= y and 0 < w and 0 < h and x + w <= width and y + h <= height:
            kept.append(b)  # the common case, checked inline: exports run over 100k boxes
            continue
        clipped = b.clamped(width, height)
        if clipped.bbox[2] <= 0 or clipped.bbox[3] <= 0:
            lost += 1
            summary.skip("boxes", "no area inside the image")
            continue
        kept.append(clipped)
    summary.skip("boxes", "proposal, not a label", proposed)
    return kept, lost


def selection_steps(counts: dict[str, int]) -> int:
    """The ticker steps ``select`` takes for a project of ``store.counts()``: a row read, an image."""
    return counts["boxes"] + counts["phrases"] + counts["images"] + counts["missing"]


def select(store: LabelStore, options: ExportOptions, rules: SelectionRules, summary: ExportSummary,
           ticker: Ticker) -> list[SelectedImage]:
    """Apply the selection rules (module docstring) to the project; count what is left out and
    what is chosen in ``summary``."""
    annotations = store.labels.all_annotations(ticker.step)
    images = store.images.all(include_missing=True)
    label_map = options.label_map
    weights = options.splits
    out: list[SelectedImage] = []
    for img in images:
        ticker.step()
        anns = annotations.get(img.id, ())
        if img.missing:
            summary.skip("images", "file missing on disk")
            continue
        if img.error is not None or img.width <= 0 or img.height <= 0:
            summary.skip("images", "unreadable image")
            continue
        if options.reviewed_only and img.state != ImageState.REVIEWED:
            summary.skip("images", "not reviewed")
            continue
        background = not anns and rules.reviewed_background and img.state == ImageState.REVIEWED
        if not anns and not background:
            summary.skip("images", "no labels")
            continue
        if not _utf8(img.path):
            summary.skip("images", "file name is not valid UTF-8")
            continue
        chosen: list[SelectedPhrase] = []
        written: set[tuple[str, tuple]] = set()  # (category, bbox) with one_box_per_category
        for expr, boxes in anns:
            if not expr.text.strip():
                summary.skip("phrases", "empty phrase")
                continue
            mapped = None
            if label_map is not None:
                mapped = label_map.get(phrase_key(expr.text))
                if mapped is None:
                    summary.skip("phrases", "phrase not in the label map")
                    continue
            elif rules.category_of is not None:
                mapped = rules.category_of(expr.text)
            kept, lost = _exported_boxes(boxes, img.width, img.height, options.include_rejected, summary)
            if rules.one_box_per_category and kept:
                category = mapped if mapped is not None else phrase_key(expr.text)
                fresh = [b for b in kept if (category, b.bbox) not in written]
                summary.skip("boxes", "same box as another phrase of its category", len(kept) - len(fresh))
                written.update((category, b.bbox) for b in fresh)
                if not fresh:
                    summary.skip("phrases", "its boxes were written for another phrase of its category")
                    continue
                kept = fresh
            if not kept:
                status = phrase_status(expr, boxes)
                if status == PhraseStatus.TO_REVIEW:
                    summary.skip("phrases", "only unreviewed proposals")
                    continue
                if lost:
                    summary.skip("phrases", "all boxes outside the image")
                    continue
                if status == PhraseStatus.NEEDS_BOX:
                    summary.skip("phrases", "needs a box (none accepted, not said to be absent)")
                    continue
                if not rules.no_target:
                    summary.skip("phrases", rules.no_target_reason)
                    continue
            elif len(kept) > 1 and not rules.plural:
                summary.skip("phrases", rules.plural_reason)
                continue
            chosen.append(SelectedPhrase(expr, tuple(kept), mapped))
        if not chosen and not background:
            summary.skip("images", "no labels")
            continue
        if rules.image_needs_box and all(sp.no_target for sp in chosen):
            summary.skip("images", rules.image_needs_box_reason)
            continue
        split = split_of(img.path, weights) if weights else None
        out.append(SelectedImage(img, tuple(chosen), split))
        summary.count(split, len(chosen), sum(1 for sp in chosen if sp.no_target),
                      sum(len(sp.boxes) for sp in chosen))
    return out


def group_by_split(selected: Sequence[SelectedImage], options: ExportOptions) -> dict[Optional[str], list[SelectedImage]]:
    """Images per output file, in project order; every named split gets a file, even an empty one,
    so a trainer config that lists train/val/test files finds them all (the summary warns)."""
    groups: dict[Optional[str], list[SelectedImage]] = {name: [] for name in used_splits(options.splits)}
    for si in selected:
        groups[si.split].append(si)
    return groups
