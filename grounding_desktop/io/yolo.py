"""Ultralytics YOLO detection datasets: a folder that ``yolo train data=OUT/data.yaml`` reads::

    OUT/data.yaml                               path, train/val/test image folders, names
    OUT/images/<split>/<path in the project>    the images, EXIF-rotated ones turned upright
    OUT/labels/<split>/<path without suffix>.txt   one "class cx cy w h" line per box

Coordinates are normalised to the image's upright size, 6 decimals; class ids count from 0 in the
order of ``names`` (see ``yolo_voc.py`` for the classes and what is written). Lines are sorted,
so the same labels give the same file. An image with no box gets an empty label file (a
background image). Without ``--splits`` every image is in ``train`` and data.yaml's ``val`` names
the same folder (Ultralytics needs one); a split with no image is left out of data.yaml.

A label file sits where Ultralytics looks for it: the image's path with its last ``/images/``
replaced by ``/labels/`` and its suffix by ``.txt`` (``ultralytics.data.utils.img2label_paths``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import yaml

from . import yolo_voc
from .coco_common import Categories
from .export_layout import ExportLayout
from .export_options import ExportOptions
from .progress import Ticker
from .selection import SPLIT_NAMES, SelectedImage, SelectionRules
from .staged_files import StagedFiles

FORMAT = "yolo"
LAYOUT_NAME, SUFFIX = "yolo", ".txt"
PER_PHRASE_CATEGORIES = False
CLASSES_FROM = yolo_voc.CLASSES_FROM
DATA_YAML = "data.yaml"
SUMMARY_FILES = (DATA_YAML, "labels", "images")
EMPTY_SPLIT = "data.yaml leaves it out"
categories = yolo_voc.categories


def rules(options: ExportOptions) -> SelectionRules:
    return yolo_voc.rules(FORMAT, options)


def image_target(layout: ExportLayout, si: SelectedImage) -> Path:
    return layout.out / "images" / yolo_voc.split_of(si) / si.image.path


def label_path(image: Path) -> Path:
    """Where Ultralytics reads the labels of ``image`` (``img2label_paths``)."""
    images, labels = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return Path(labels.join(str(image).rsplit(images, 1)).rsplit(".", 1)[0] + ".txt")


def write(selected: Sequence[SelectedImage], layout: ExportLayout, options: ExportOptions, staged: StagedFiles,
          ticker: Ticker, categories: Categories) -> None:
    owner: dict[Path, str] = {}
    for si in selected:
        ticker.step()
        label = label_path(image_target(layout, si))
        yolo_voc.refuse_shared(owner, label, si.image.path)
        staged.write(label, label_text(si, categories))
    staged.write(layout.out / DATA_YAML, data_yaml(layout.out, _splits(selected), categories))


def label_text(si: SelectedImage, categories: Categories) -> str:
    w, h = si.image.width, si.image.height
    rows = sorted((categories.id_of(sp) - 1, (x + bw / 2) / w, (y + bh / 2) / h, bw / w, bh / h)
                  for sp in si.phrases for x, y, bw, bh in (b.bbox for b in sp.boxes))
    return "".join(f"{c} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}\n" for c, cx, cy, bw, bh in rows)


def _splits(selected: Sequence[SelectedImage]) -> list[str]:
    present = {yolo_voc.split_of(si) for si in selected}
    return [name for name in SPLIT_NAMES if name in present]


def data_yaml(out: Path, splits: list[str], categories: Categories) -> str:
    data: dict[str, Any] = {"path": str(out.resolve())}
    first = f"images/{splits[0]}" if splits else f"images/{yolo_voc.UNSPLIT}"
    data["train"] = "images/train" if "train" in splits else first
    data["val"] = "images/val" if "val" in splits else data["train"]
    if "test" in splits:
        data["test"] = "images/test"
    data["names"] = {i - 1: name for name, i in categories.ids.items()}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def warnings(selected: Sequence[SelectedImage], options: ExportOptions) -> list[str]:
    splits = _splits(selected)
    if selected and "val" not in splits:
        return ["data.yaml's val names the training images (no image in a val split): "
                "export with --splits 80,20 for a held-out set"]
    return []
