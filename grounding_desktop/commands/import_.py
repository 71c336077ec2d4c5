"""``grounding-desktop import FOLDER --coco FILE``: add boxes from a COCO file to a project.

Reads the project's own COCO grounding export and plain COCO detection files; images are matched
by file name. Everything is checked first and then added in one transaction, or nothing is.
"""
from __future__ import annotations

import argparse
import json

from . import CliError, add_folder_arguments, open_folder_project


def add_parser(sub) -> None:
    p = sub.add_parser(
        "import", help="import boxes from a COCO grounding or detection file",
        description="Import a COCO file (grounding flavour as exported by this tool, or plain detection). "
                    "Images are matched by path relative to FOLDER, else by unique file name. "
                    "The file is checked completely before anything is written.",
    )
    add_folder_arguments(p)
    p.add_argument("--coco", required=True, metavar="FILE", help="COCO JSON file to import")
    p.add_argument("--as-proposals", action="store_true",
                   help="add the boxes as proposals to review instead of accepted labels")
    p.add_argument("--dry-run", action="store_true", help="check the file and print what would be added")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io.coco_import import CocoImportError, import_coco

    store = open_folder_project(args)
    with store:
        try:
            summary = import_coco(store, args.coco, as_proposals=args.as_proposals, dry_run=args.dry_run)
        except CocoImportError as exc:
            raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(summary.to_dict(), sort_keys=True))
    else:
        print("\n".join(summary.lines()))
    return 0
