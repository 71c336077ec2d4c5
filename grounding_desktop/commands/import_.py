"""``grounding-desktop import FOLDER (--coco FILE | --odvg FILE | --refcoco DIR | --yolo DIR | --voc DIR)``:
add labels from a file or a dataset folder to a project.

Reads the formats ``export`` writes (and MDETR/GLIP grounding, plain COCO detection, ODVG,
RefCOCO, Ultralytics YOLO and Pascal VOC datasets from elsewhere); images are matched by file name. Everything is checked first and
then added in one transaction, or nothing is.
"""
from __future__ import annotations

import argparse
import json

from . import CliError, add_folder_arguments, open_folder_project


def add_parser(sub) -> None:
    p = sub.add_parser(
        "import", help="import boxes from a COCO, ODVG, RefCOCO, YOLO or Pascal VOC dataset",
        description="Import labels: a COCO file (grounding flavour, or plain detection), an ODVG jsonl file "
                    "(grounding or detection records), a RefCOCO folder (refs.json or refs(unc).p beside "
                    "instances.json), an Ultralytics YOLO dataset (its data.yaml, labels/*.txt) or a Pascal VOC "
                    "folder (Annotations/*.xml). Images are matched by path relative to FOLDER, else by unique file name. "
                    "The file is checked completely before anything is written.",
    )
    add_folder_arguments(p)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--coco", metavar="FILE", help="COCO JSON file to import")
    source.add_argument("--odvg", metavar="FILE", help="ODVG jsonl file to import")
    source.add_argument("--refcoco", metavar="DIR", help="RefCOCO folder to import")
    source.add_argument("--yolo", metavar="DIR",
                        help="YOLO dataset to import: its folder with data.yaml (or the YAML file); each class is "
                             "a phrase, an image with no box is marked reviewed")
    source.add_argument("--voc", metavar="DIR",
                        help="Pascal VOC folder to import (Annotations/*.xml, or a folder of .xml files); the "
                             "<phrase> of an object when it has one, else its <name>")
    p.add_argument("--as-proposals", action="store_true",
                   help="add the boxes as proposals to review instead of accepted labels")
    p.add_argument("--dry-run", action="store_true", help="check the file and print what would be added")
    p.add_argument("--max-size-mb", type=float, metavar="MB",
                   help="refuse files larger than this (default 1024 MB)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io.errors import ImportFileError
    from ..io.import_files import MAX_FILE_BYTES
    from ..io.importers import IMPORTERS

    fmt = next(name for name in IMPORTERS if getattr(args, name.replace("-", "_")))
    source = getattr(args, fmt.replace("-", "_"))
    if args.max_size_mb is not None and not 0 < args.max_size_mb < float("inf"):
        raise CliError(f"--max-size-mb must be a positive number, got {args.max_size_mb:g}")
    max_bytes = int(args.max_size_mb * 2**20) if args.max_size_mb is not None else MAX_FILE_BYTES
    store = open_folder_project(args)
    with store:
        try:
            summary = IMPORTERS[fmt](store, source, as_proposals=args.as_proposals, dry_run=args.dry_run,
                                     max_bytes=max_bytes)
        except ImportFileError as exc:
            raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(summary.to_dict(), sort_keys=True))
    else:
        print("\n".join(summary.lines()))
    return 0
