"""``grounding-desktop import FOLDER (--coco FILE | --odvg FILE | --refcoco DIR | --yolo DIR | --voc DIR)``:
add labels from a file or a dataset folder to a project.

Reads the formats ``export`` writes (and MDETR/GLIP grounding, plain COCO detection, ODVG,
RefCOCO, Ultralytics YOLO and Pascal VOC datasets from elsewhere); images are matched by file name. Everything is checked first and
then added in one transaction, or nothing is.
"""
from __future__ import annotations

import argparse
import json

from ..io.importers import IMPORT_FORMATS, IMPORT_OPTIONS
from . import CliError, add_declared_options, add_folder_arguments, add_quiet_argument, open_folder_project


def add_parser(sub) -> None:
    p = sub.add_parser(
        "import", help="import boxes from a " + ", ".join(f.name for f in IMPORT_FORMATS) + " file or folder",
        description="Import labels: " + "; ".join(f.title for f in IMPORT_FORMATS) + ". Images are matched by "
                    "path relative to FOLDER, else by unique file name. The file is checked completely before "
                    "anything is written.",
    )
    add_folder_arguments(p)
    source = p.add_mutually_exclusive_group(required=True)
    for f in IMPORT_FORMATS:
        source.add_argument(f.flag, metavar=f.metavar, help=f.help)
    add_declared_options(p, IMPORT_OPTIONS)
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_quiet_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io.errors import ImportFileError
    from ..io.importers import import_options
    from ..io.progress import TerminalProgress

    fmt = next(f for f in IMPORT_FORMATS if getattr(args, f.name) is not None)
    try:
        options = import_options(vars(args))
    except ImportFileError as exc:
        raise CliError(str(exc)) from exc
    store = open_folder_project(args)
    with store, TerminalProgress("importing", "entry", args.quiet) as bar:
        try:
            summary = fmt.read(store, getattr(args, fmt.name), options, progress=bar)
        except ImportFileError as exc:
            raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(summary.to_dict(), sort_keys=True))
    else:
        print("\n".join(summary.lines()))
    return 0
