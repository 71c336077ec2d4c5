"""``grounding-desktop info FOLDER``: what a project holds, by state."""
from __future__ import annotations

import argparse
import json

from . import CliError


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="print counts of images, expressions and boxes by state")
    p.add_argument("folder", help="image folder (its project is created and scanned if needed)")
    p.add_argument("--db", help="project database path (default FOLDER/.grounding/project.sqlite)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..project import open_project
    from ..store import StoreError

    try:
        store, _ = open_project(args.folder, args.db)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    with store:
        counts = store.counts()
    if args.json:
        print(json.dumps(counts, sort_keys=True))
        return 0
    print(f"project   {store.db_path}")
    print(f"images    {counts['images']}  (new {counts['images_new']}, proposed {counts['images_proposed']}, "
          f"reviewed {counts['images_reviewed']})")
    print(f"unreadable {counts['unreadable']}")
    if counts["missing"]:
        print(f"missing   {counts['missing']}  (labelled files no longer on disk; labels kept)")
    print(f"expressions {counts['expressions']}")
    print(f"boxes     {counts['boxes']}  (accepted {counts['boxes_accepted']}, proposed {counts['boxes_proposed']}, "
          f"rejected {counts['boxes_rejected']})")
    return 0
