"""Pascal VOC: the folder torchvision's ``VOCDetection``, mmdet, supervision and datumaro read::

    OUT/Annotations/<id>.xml            one per image
    OUT/JPEGImages/<id>.jpg             the image, upright; other formats re-encoded as JPEG
    OUT/ImageSets/Main/<split>.txt      the ids of each split (``train`` without --splits; empty
                                        for a split with no image)

``<id>`` is the image's path in the project without its suffix (``sub/a.png`` -> ``sub/a``). Each
box is an ``<object>`` whose ``<name>`` is its class (see ``yolo_voc.py``) and whose ``<phrase>``
(an element VOC readers pass over) is the phrase it was drawn for; a phrase said not to be in the
image is a ``<not_in_image>`` element of the annotation. ``<path>`` holds the image's path in the
project, which the importer matches first. Boxes are whole pixels in the VOC devkit's 1-based
inclusive indices (``xmin = x + 1``, ``xmax = x + width``, rounded), as supervision writes and reads
them.
Objects are sorted, so the same labels give the same file.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Sequence

from . import yolo_voc
from .coco_common import Categories
from .errors import ExportError
from .export_layout import ExportLayout
from .export_options import ExportOptions
from .progress import Ticker
from .selection import SelectedImage, SelectionRules, used_splits
from .staged_files import StagedFiles

FORMAT = "voc"
LAYOUT_NAME, SUFFIX = "voc", ".xml"
PER_PHRASE_CATEGORIES = False
CLASSES_FROM = yolo_voc.CLASSES_FROM
JPEG_IMAGES = True
ANNOTATIONS, IMAGES, IMAGE_SETS = "Annotations", "JPEGImages", "ImageSets/Main"
SUMMARY_FILES = (ANNOTATIONS, IMAGE_SETS, IMAGES)
PHRASE, NOT_IN_IMAGE = "phrase", "not_in_image"
categories = yolo_voc.categories


def rules(options: ExportOptions) -> SelectionRules:
    return yolo_voc.rules(FORMAT, options)


def image_id(si: SelectedImage) -> str:
    return yolo_voc.without_suffix(si.image.path)


def image_target(layout: ExportLayout, si: SelectedImage) -> Path:
    return layout.out / IMAGES / f"{image_id(si)}.jpg"


def write(selected: Sequence[SelectedImage], layout: ExportLayout, options: ExportOptions, staged: StagedFiles,
          ticker: Ticker, categories: Categories) -> None:
    owner: dict[Path, str] = {}
    ids: dict[str, list[str]] = {split or yolo_voc.UNSPLIT: [] for split in used_splits(options.splits)}
    for si in selected:
        ticker.step()
        name = image_id(si)
        if name != name.strip() or "\n" in name or "\r" in name:
            raise ExportError(f"image {si.image.path!r}: a VOC id cannot start or end with a space or hold a line "
                              f"break (ImageSets lists one id a line); rename it")
        target = layout.out / ANNOTATIONS / f"{name}.xml"
        yolo_voc.refuse_shared(owner, target, si.image.path)
        staged.write(target, annotation_xml(si, name))
        ids[yolo_voc.split_of(si)].append(name)
    for split, names in ids.items():
        staged.write(layout.out / IMAGE_SETS / f"{split}.txt", "".join(f"{n}\n" for n in sorted(names)))


def pixel_box(bbox: tuple, width: int, height: int) -> tuple[int, int, int, int]:
    """``(x, y, w, h)`` as VOC's 1-based inclusive ``(xmin, ymin, xmax, ymax)``, at least a pixel."""
    x, y, w, h = bbox
    x1, y1 = min(round(x + 1), width), min(round(y + 1), height)
    return x1, y1, max(round(x + w), x1), max(round(y + h), y1)


def _text(parent: ET.Element, tag: str, text) -> ET.Element:
    el = ET.SubElement(parent, tag)
    el.text = str(text)
    return el


def annotation_xml(si: SelectedImage, name: str) -> str:
    img = si.image
    root = ET.Element("annotation")
    _text(root, "folder", IMAGES)
    _text(root, "filename", f"{name}.jpg")
    _text(root, "path", img.path)
    _text(ET.SubElement(root, "source"), "database", "grounding-desktop")
    size = ET.SubElement(root, "size")
    _text(size, "width", img.width)
    _text(size, "height", img.height)
    _text(size, "depth", 3)
    _text(root, "segmented", 0)
    objects = sorted((sp.category, sp.text, pixel_box(b.bbox, img.width, img.height))
                     for sp in si.phrases for b in sp.boxes)
    for category, phrase, (x1, y1, x2, y2) in objects:
        obj = ET.SubElement(root, "object")
        _text(obj, "name", category)
        _text(obj, "pose", "Unspecified")
        _text(obj, "truncated", 0)
        _text(obj, "difficult", 0)
        box = ET.SubElement(obj, "bndbox")
        for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), (x1, y1, x2, y2)):
            _text(box, tag, v)
        _text(obj, PHRASE, phrase)
    for phrase in sorted(sp.text for sp in si.phrases if sp.no_target):
        _text(root, NOT_IN_IMAGE, phrase)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"
