"""``grounding-desktop info FOLDER``: what a project holds, by state."""
from __future__ import annotations

import argparse
import json

from . import add_folder_arguments, open_folder_project


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="print counts of images, expressions and boxes by state")
    add_folder_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_folder_project(args)
    with store:
        counts = store.counts()
    if args.json:
        print(json.dumps(counts, sort_keys=True))
        return 0
    print(f"project   {store.db_path}")
    print(f"images    {counts['images']}  (new {counts['images_new']}, in progress {counts['images_in_progress']}, "
          f"reviewed {counts['images_reviewed']})")
    print(f"unreadable {counts['unreadable']}")
    if counts["missing"]:
        print(f"missing   {counts['missing']}  (labelled files no longer on disk; labels kept)")
    print(f"expressions {counts['expressions']}")
    print(f"boxes     {counts['boxes']}  (accepted {counts['boxes_accepted']}, proposed {counts['boxes_proposed']}, "
          f"rejected {counts['boxes_rejected']})")
    return 0
