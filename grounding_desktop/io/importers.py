"""The importers by the name the CLI gives them (``import --coco/--odvg/--refcoco/...``); each takes
``(store, path, as_proposals, dry_run, progress, cancelled, max_bytes)`` and returns an
``ImportSummary``."""
from __future__ import annotations

from .coco_import import import_coco
from .label_studio_import import import_label_studio
from .labelme_import import import_labelme
from .odvg_import import import_odvg
from .refcoco_import import import_refcoco

IMPORTERS = {
    "coco": import_coco,
    "odvg": import_odvg,
    "refcoco": import_refcoco,
    "labelme": import_labelme,
    "label_studio": import_label_studio,
}
