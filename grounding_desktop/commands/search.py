"""``grounding-desktop search FOLDER "phrase" [--top N] [--json]``: the folder's images ranked by
how well their best region matches the phrase, best first, with that region's box. Images not
prepared yet are prepared first (and kept). ``--json`` prints ``{"phrase": P, "results": [{"image":
PATH, "score": S, "bbox": [x, y, w, h]}, ...]}``, paths as ``info`` prints them."""
from __future__ import annotations

import argparse
import json

from . import CliError, checked_phrases
from .folder_work import add_engine_arguments, folder_session, report_unprepared


def add_parser(sub) -> None:
    p = sub.add_parser("search", help="rank the folder's images by how well they show a phrase",
                       description="Rank FOLDER's images by their best region for PHRASE.")
    add_engine_arguments(p)
    p.add_argument("phrase", help="what to look for, e.g. 'the dog on the left'")
    p.add_argument("--top", type=int, default=20, metavar="N", help="how many images to list (default 20)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core import display_path
    from ..folder.search import SearchRun, search_folder
    from ..io.progress import TerminalProgress

    phrase = checked_phrases([args.phrase])[0]
    if args.top < 1:
        raise CliError("--top must be at least 1")
    with folder_session(args, [phrase]) as s, TerminalProgress("preparing", "image", args.quiet) as bar:
        found, report = search_folder(s.store, s.features, s.engine, s.grounder, SearchRun(phrase, args.top, bar))
    report_unprepared(report.failed)
    results = [{"image": display_path(r.path), "score": p.score, "bbox": [round(float(v), 2) for v in p.bbox]}
               for r, p in found]
    if args.json:
        print(json.dumps({"phrase": phrase, "results": results}))
        return 0
    if not results:
        print(f"no image shows \"{phrase}\"")
    for i, ((_, p), row) in enumerate(zip(found, results), 1):
        x, y, w, h = row["bbox"]
        print(f"{i:>3}  {p.score:6.3f}  {row['image']}  [{x:.1f}, {y:.1f}, {w:.1f}, {h:.1f}]  {p.explanation}")
    return 0
