"""The import formats and the import's options, declared once. The CLI's ``import --coco/--odvg/
--refcoco`` (and its help), and the Import dialog's list of formats, its Browse… and its options
all read ``IMPORT_FORMATS`` and ``IMPORT_OPTIONS``: adding a format is its importer module and one
line here. Each importer takes ``(store, path, as_proposals, dry_run, progress, cancelled,
max_bytes)`` and returns an ``ImportSummary``; see ``import_plan.importer``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .coco_import import import_coco
from .errors import ImportFileError
from .import_files import MAX_FILE_BYTES
from .import_plan import ImportOptions
from .label_studio_import import import_label_studio
from .labelme_import import import_labelme
from .odvg_import import import_odvg
from .option_spec import OptionKind, OptionSpec, parsed_values
from .refcoco_import import import_refcoco
from .voc_import import import_voc
from .yolo_import import import_yolo


@dataclass(frozen=True)
class ImportFormat:
    """``name``: the CLI's flag (``--coco``); ``title``: the dialog's; ``help``: the CLI's help;
    ``folder``: the source is a folder, not a file; ``file_types``: the dialog's Browse… filter."""

    name: str
    title: str
    help: str
    read: Callable[..., Any]
    folder: bool = False
    file_types: str = "JSON (*.json)"

    @property
    def flag(self) -> str:
        """The CLI's option: ``--label-studio`` for ``label_studio`` (argparse's dest is the name)."""
        return "--" + self.name.replace("_", "-")

    @property
    def metavar(self) -> str:
        return "DIR" if self.folder else "FILE"


IMPORT_FORMATS: tuple[ImportFormat, ...] = (
    ImportFormat("coco", "COCO JSON (grounding flavour, or plain detection)", "COCO JSON file to import",
                 import_coco),
    ImportFormat("odvg", "ODVG jsonl (grounding or detection lines)", "ODVG jsonl file to import", import_odvg,
                 file_types="JSON lines (*.jsonl *.json)"),
    ImportFormat("refcoco", "RefCOCO folder (refs.json or refs(unc).p beside instances.json)",
                 "RefCOCO folder to import", import_refcoco, folder=True, file_types=""),
    ImportFormat("labelme", "labelme folder (one JSON per image; polygons as their bounding boxes)",
                 "labelme folder to import: rectangles are boxes, polygons their bounding boxes", import_labelme,
                 folder=True, file_types=""),
    ImportFormat("label_studio", "Label Studio JSON export (rectangle and polygon labels)",
                 "Label Studio JSON export to import: rectangle (and polygon) labels", import_label_studio),
    ImportFormat("yolo", "Ultralytics YOLO dataset (its folder with data.yaml, labels/*.txt)",
                 "YOLO dataset to import: its folder with data.yaml (or the YAML file); each class is a phrase, "
                 "an image with no box is marked reviewed", import_yolo, folder=True, file_types=""),
    ImportFormat("voc", "Pascal VOC folder (Annotations/*.xml)",
                 "Pascal VOC folder to import (Annotations/*.xml, or a folder of .xml files); the <phrase> of an "
                 "object when it has one, else its <name>", import_voc, folder=True, file_types=""),
)
IMPORT_FORMAT = {f.name: f for f in IMPORT_FORMATS}
IMPORTERS = {f.name: f.read for f in IMPORT_FORMATS}


def max_bytes(megabytes: str) -> int:
    """``--max-size-mb`` as bytes: a positive number of MB."""
    try:
        mb = float(megabytes)
    except ValueError:
        mb = float("nan")
    if not 0 < mb < float("inf"):
        raise ImportFileError([f"--max-size-mb must be a positive number, got {megabytes!r}"])
    return int(mb * 2**20)


IMPORT_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("as_proposals", "--as-proposals", "Add boxes as proposals to review (not as accepted labels)",
               "add the boxes as proposals to review instead of accepted labels"),
    OptionSpec("dry_run", "--dry-run", "Check only: say what would be added, add nothing",
               "check the file and print what would be added"),
    OptionSpec("max_bytes", "--max-size-mb", "Largest file (MB)",
               f"refuse files larger than this (default {MAX_FILE_BYTES // 2**20} MB)", OptionKind.TEXT, "MB",
               f"{MAX_FILE_BYTES // 2**20}", max_bytes),
)


def import_options(raw: Mapping[str, Any]) -> ImportOptions:
    """The importer's options from the values of ``IMPORT_OPTIONS`` by field (the CLI's parsed
    arguments or the Import dialog's widgets). Raises :class:`ImportFileError`."""
    return ImportOptions(**parsed_values(IMPORT_OPTIONS, raw))
