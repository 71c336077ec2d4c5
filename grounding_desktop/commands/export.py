"""``grounding-desktop export FOLDER --format F --out PATH``: write training data from a project.

Formats: ``coco-grounding`` (MDETR/GLIP, one images entry per expression), ``coco`` (plain
detection, a category per distinct phrase or per label-map category), ``odvg`` (jsonl; detection
records when ``--label-map`` is given), ``refcoco`` (a folder with refs.json and instances.json).
Rules for what goes out are in ``io/export_common.py``; the summary says what was skipped and why.
"""
from __future__ import annotations

import argparse
import json
import sys

from ..io.export import FORMATS
from . import CliError, add_folder_arguments, open_folder_project



def add_parser(sub) -> None:
    p = sub.add_parser(
        "export", help="export labels as COCO grounding, COCO detection, ODVG jsonl or RefCOCO",
        description="Export the project's accepted boxes and no-target expressions as training data. "
                    "Proposals are never exported; an expression that only has unreviewed proposals is skipped.",
    )
    add_folder_arguments(p)
    p.add_argument("--format", required=True, choices=tuple(FORMATS), dest="fmt", help="output format")
    p.add_argument("--out", required=True, metavar="PATH",
                   help="output file (a folder for refcoco); with --splits, files get _train/_val/_test suffixes")
    p.add_argument("--reviewed-only", action="store_true", help="only images marked reviewed")
    p.add_argument("--splits", metavar="TRAIN,VAL[,TEST]",
                   help="split images by a hash of their path, e.g. 80,10,10 (refcoco: the refs' split field)")
    p.add_argument("--include-rejected", action="store_true",
                   help="also write rejected boxes, tagged \"state\": \"rejected\" (for hard negatives or a "
                        "full backup; trainers that ignore the tag read them as positives)")
    p.add_argument("--label-map", metavar="JSON",
                   help="JSON object phrase -> category name; phrases not in it are skipped. "
                        "For odvg it switches to detection records and writes <out>_label_map.json")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io.export import Cancelled, ExportError, ExportOptions, export_project
    from ..io.export_common import load_label_map, parse_splits

    try:
        options = ExportOptions(
            reviewed_only=args.reviewed_only,
            include_rejected=args.include_rejected,
            splits=parse_splits(args.splits) if args.splits else None,
            label_map=load_label_map(args.label_map) if args.label_map else None,
        )
    except ExportError as exc:
        raise CliError(str(exc)) from exc
    store = open_folder_project(args)
    with store:
        try:
            summary = export_project(store, args.fmt, args.out, options)
        except ExportError as exc:
            raise CliError(str(exc)) from exc
        except Cancelled as exc:  # pragma: no cover - the CLI has no cancel button
            raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(summary.to_dict(), sort_keys=True))
    else:
        print("\n".join(summary.lines()))
    if summary.images == 0:
        print("warning: nothing was exported; see the skipped counts above", file=sys.stderr)
    return 0
