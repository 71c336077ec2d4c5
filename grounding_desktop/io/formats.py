"""The export formats, declared once. The CLI's ``--format`` (its choices and help), the Export
dialog's list, the file name it proposes and the options it offers, and ``export_project`` all
read ``EXPORT_FORMATS``: adding a format is its writer module and one line here.

A writer module has ``rules(options) -> SelectionRules``, ``write(selected, layout, options,
staged, ticker, categories)``, ``LAYOUT_NAME``, ``SUFFIX`` and ``PER_PHRASE_CATEGORIES`` (see
``coco_detection`` for the smallest). A folder format of classes (yolo, voc) also has
``image_target(layout, image)`` (it always writes the images there), ``categories(selected,
options)`` and ``CLASSES_FROM`` (the summary's classes), ``SUMMARY_FILES`` (the parts of the folder
the summary names), ``EMPTY_SPLIT`` (what an empty split means for it), ``warnings(selected,
options)`` and ``JPEG_IMAGES`` (VOC: other image formats are re-encoded as JPEG); RefCOCO has
``SPLIT_IMAGES = False`` (one images/ folder). The import formats are declared in ``importers``.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Callable, Sequence

from . import coco_detection, coco_grounding, odvg, refcoco, voc, yolo
from .export_options import ExportOptions
from .selection import SelectedImage

# The ExportOptions fields (``export_options.EXPORT_OPTIONS``) every format takes.
COMMON_OPTIONS = frozenset({"with_images", "reviewed_only", "include_rejected", "splits", "label_map"})

Notes = Callable[[Sequence[SelectedImage], ExportOptions], list[str]]


def no_notes(selected: Sequence[SelectedImage], options: ExportOptions) -> list[str]:
    return []


@dataclass(frozen=True)
class ExportFormat:
    """``name``: the CLI's ``--format``; ``title``: the dialog's; ``default_name``: the file (or
    folder, ``out_is_folder``) the dialog proposes; ``options``: the ``ExportOptions`` fields it
    takes (the dialog offers only those); ``notes``: what the summary should tell about the
    result (``ExportSummary.notes``)."""

    name: str
    title: str
    default_name: str
    writer: ModuleType
    options: frozenset[str] = COMMON_OPTIONS
    out_is_folder: bool = False
    notes: Notes = no_notes


EXPORT_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("coco-grounding", "COCO grounding (MDETR / GLIP: one entry per phrase)", "grounding_coco.json",
                 coco_grounding, COMMON_OPTIONS | {"dataset_name"}, notes=coco_grounding.notes),
    ExportFormat("coco", "COCO detection (one category per phrase or label map)", "detection_coco.json",
                 coco_detection),
    ExportFormat("odvg", "ODVG jsonl (Open-GroundingDino, MM-Grounding-DINO)", "grounding_odvg.jsonl", odvg,
                 COMMON_OPTIONS - {"include_rejected"}),
    ExportFormat("refcoco", "RefCOCO-style refs.json + instances.json (folder)", "refcoco", refcoco,
                 out_is_folder=True),
    # Folders of classes with their images always written (no --with-images), never rejected boxes.
    ExportFormat("yolo", "Ultralytics YOLO (folder: data.yaml, labels, images; head nouns or label map as classes)",
                 "yolo", yolo, COMMON_OPTIONS - {"include_rejected", "with_images"}, out_is_folder=True),
    ExportFormat("voc", "Pascal VOC (folder: Annotations, JPEGImages, ImageSets)", "voc", voc,
                 COMMON_OPTIONS - {"include_rejected", "with_images"}, out_is_folder=True),
)
EXPORT_FORMAT = {f.name: f for f in EXPORT_FORMATS}
