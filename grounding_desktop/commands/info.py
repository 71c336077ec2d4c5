"""``grounding-desktop info FOLDER``: what a project holds, by state, and which files need a look."""
from __future__ import annotations

import argparse
import json

from ..core import display_path
from . import add_folder_arguments, open_folder_project

_LISTED = 20  # files listed per kind in the text output; --json lists them all


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="print counts of images, phrases and boxes by state, and the files to look at")
    add_folder_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_folder_project(args)
    with store:
        counts = store.counts()
        images = store.images.all()
    unreadable = [{"path": display_path(r.path), "reason": r.error} for r in images if r.error]
    flagged = [{"path": display_path(r.path), "reason": r.review_reason} for r in images if r.review_reason]
    if args.json:
        print(json.dumps({**counts, "unreadable_files": unreadable, "flagged_files": flagged}, sort_keys=True))
        return 0
    print(f"project   {display_path(str(store.db_path))}")
    print(f"images    {counts['images']}  (new {counts['images_new']}, in progress {counts['images_in_progress']}, "
          f"reviewed {counts['images_reviewed']})")
    print(f"unreadable {counts['unreadable']}")
    _list(unreadable)
    if flagged:
        print(f"flagged   {len(flagged)}  (labelled files replaced by a different picture: check their labels)")
        _list(flagged)
    if counts["missing"]:
        print(f"missing   {counts['missing']}  (labelled files no longer on disk; labels kept)")
    print(f"phrases   {counts['phrases']}")
    print(f"boxes     {counts['boxes']}  (accepted {counts['boxes_accepted']}, proposed {counts['boxes_proposed']}, "
          f"rejected {counts['boxes_rejected']})")
    return 0


def _list(files: list[dict]) -> None:
    for f in files[:_LISTED]:
        print(f"  {f['path']}: {f['reason']}")
    if len(files) > _LISTED:
        print(f"  ... and {len(files) - _LISTED} more (info --json lists them all)")
