"""``grounding-desktop prepare FOLDER``: the feature pass on its own. Every image not prepared yet
(or changed since, or prepared by another model) goes through the detector once; the features are
kept beside the project, so ``search``, ``propose`` and the app never run the detector on it again.
Ctrl+C stops after the batch in hand; the next run goes on from there."""
from __future__ import annotations

import argparse
import json

from .folder_work import add_engine_arguments, folder_session, report_unprepared


def add_parser(sub) -> None:
    p = sub.add_parser("prepare", help="run the detector once over every image and keep the features",
                       description="Prepare every image of FOLDER that is not prepared yet (the feature pass). "
                                   "search and propose do this first by themselves.")
    add_engine_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core import display_path
    from ..folder.feature_pass import run_feature_pass
    from ..io.progress import TerminalProgress

    with folder_session(args) as s, TerminalProgress("preparing", "image", args.quiet) as bar:
        report = run_feature_pass(s.store, s.features, s.engine, progress=bar)
        size = s.features.size_bytes()
        where = display_path(str(s.features.path))
    report_unprepared(report.failed)
    if args.json:
        print(json.dumps({"prepared": report.prepared, "kept": report.kept,
                          "not_prepared": [{"image": display_path(p), "reason": r} for p, r in report.failed],
                          "features_file": where, "features_bytes": size}))
    else:
        print(f"prepared {report.prepared} image{'s' if report.prepared != 1 else ''} "
              f"({report.kept} prepared before, {len(report.failed)} unreadable); "
              f"features in {where} ({size / 1e6:.1f} MB)")
    return 0
