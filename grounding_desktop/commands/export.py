"""``grounding-desktop export FOLDER --format F --out PATH``: write training data from a project.

What goes out is decided by ``io/selection.py`` (the rules are written down there), each format's
fields by its module in ``io/``; the summary says what was skipped and why.
"""
from __future__ import annotations

import argparse
import json
import sys

from ..io.export_options import EXPORT_OPTIONS
from ..io.formats import EXPORT_FORMATS
from . import CliError, add_declared_options, add_folder_arguments, add_quiet_argument, open_folder_project


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export", help="export labels as " + ", ".join(f.name for f in EXPORT_FORMATS),
        description="Export the project's accepted boxes and no-target phrases as training data. "
                    "Proposals are never exported; a phrase that only has unreviewed proposals is skipped. "
                    "Detection tools (supervision, globox, FiftyOne, datumaro) need --format coco; Ultralytics "
                    "--format yolo (a dataset folder with data.yaml); VOC readers --format voc. yolo and voc name "
                    "classes, not phrases: the --label-map's categories, else each phrase's head noun "
                    "(\"the horses on the left\" -> horse); voc keeps the phrase in each object.",
    )
    add_folder_arguments(p)
    p.add_argument("--format", required=True, choices=tuple(f.name for f in EXPORT_FORMATS), dest="fmt",
                   help="output format: " + "; ".join(f"{f.name}: {f.title}" for f in EXPORT_FORMATS))
    p.add_argument("--out", required=True, metavar="PATH",
                   help="output file (a folder for " + ", ".join(f.name for f in EXPORT_FORMATS if f.out_is_folder)
                        + " and with --with-images); with --splits, files get _train/_val/_test suffixes")
    add_declared_options(p, EXPORT_OPTIONS)
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_quiet_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io.export import Cancelled, ExportError, export_options, export_project
    from ..io.progress import TerminalProgress

    try:
        options = export_options(vars(args))
    except ExportError as exc:
        raise CliError(str(exc)) from exc
    store = open_folder_project(args)
    with store, TerminalProgress("exporting", "step", args.quiet) as bar:
        try:
            summary = export_project(store, args.fmt, args.out, options, progress=bar)
        except ExportError as exc:
            raise CliError(str(exc)) from exc
        except Cancelled as exc:  # pragma: no cover - the CLI has no cancel button
            raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(summary.to_dict(), sort_keys=True))
    else:
        print("\n".join(summary.lines(warnings=False)))
    for line in summary.warning_lines():
        print(line, file=sys.stderr)
    return 0
