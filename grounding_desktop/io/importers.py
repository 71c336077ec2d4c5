"""The importers by the name the CLI gives them (``import --coco/--odvg/--refcoco/--yolo/--voc``); each takes
``(store, path, as_proposals, dry_run, progress, cancelled, max_bytes)`` and returns an
``ImportSummary``."""
from __future__ import annotations

from .coco_import import import_coco
from .odvg_import import import_odvg
from .refcoco_import import import_refcoco
from .voc_import import import_voc
from .yolo_import import import_yolo

IMPORTERS = {"coco": import_coco, "odvg": import_odvg, "refcoco": import_refcoco, "yolo": import_yolo, "voc": import_voc}
