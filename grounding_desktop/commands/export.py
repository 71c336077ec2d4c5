"""``grounding-desktop export FOLDER --format F --out PATH``: write training data from a project.

What goes out is decided by ``io/selection.py`` (the rules are written down there), each format's
fields by its module in ``io/``; the summary says what was skipped and why.
"""
from __future__ import annotations

import argparse
import json
import sys

from ..io.export import FORMATS
from . import CliError, add_folder_arguments, open_folder_project


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export", help="export labels as COCO grounding, COCO detection, ODVG jsonl, RefCOCO, YOLO or Pascal VOC",
        description="Export the project's accepted boxes and no-target phrases as training data. "
                    "Proposals are never exported; a phrase that only has unreviewed proposals is skipped. "
                    "Detection tools (supervision, globox, FiftyOne, datumaro) need --format coco; Ultralytics "
                    "--format yolo (a dataset folder with data.yaml); VOC readers --format voc. yolo and voc name "
                    "classes, not phrases: the --label-map's categories, else each phrase's head noun "
                    "(\"the horses on the left\" -> horse); voc keeps the phrase in each object.",
    )
    add_folder_arguments(p)
    p.add_argument("--format", required=True, choices=tuple(FORMATS), dest="fmt", help="output format")
    p.add_argument("--out", required=True, metavar="PATH",
                   help="output file (a folder for refcoco, yolo, voc and with --with-images); with --splits, files "
                        "get _train/_val/_test suffixes")
    p.add_argument("--with-images", action="store_true",
                   help="write a self-contained folder: OUT/annotations/<name>_<split>.json and the images in "
                        "OUT/images/<split>/, EXIF-rotated ones turned upright (trainers ignore EXIF)")
    p.add_argument("--reviewed-only", action="store_true", help="only images marked reviewed")
    p.add_argument("--splits", metavar="TRAIN,VAL[,TEST]",
                   help="split images by a hash of their path, e.g. 80,10,10 (refcoco: the refs' split field)")
    p.add_argument("--include-rejected", action="store_true",
                   help="also write rejected boxes, tagged \"grounding_desktop\": {\"state\": \"rejected\"} (for hard "
                        "negatives or a full backup; trainers that ignore the tag read them as positives; not odvg, yolo or voc)")
    p.add_argument("--label-map", metavar="JSON",
                   help="JSON object phrase -> category name; phrases not in it are skipped; category ids follow "
                        "the map's order. For odvg it switches to detection records and writes <out>_label_map.json")
    p.add_argument("--dataset-name", metavar="NAME",
                   help="coco-grounding: the images' dataset_name (refcoco, refcoco+ or refcocog for MDETR's refexp "
                        "evaluator, which then needs one box per phrase: no-target and plural phrases are skipped)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io.export import Cancelled, ExportError, ExportOptions, export_project, load_label_map, parse_splits

    try:
        options = ExportOptions(
            reviewed_only=args.reviewed_only,
            include_rejected=args.include_rejected,
            splits=parse_splits(args.splits) if args.splits else None,
            label_map=load_label_map(args.label_map) if args.label_map else None,
            with_images=args.with_images,
            dataset_name=args.dataset_name,
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
        print("\n".join(summary.lines(warnings=False)))
    for line in summary.warning_lines():
        print(line, file=sys.stderr)
    return 0
