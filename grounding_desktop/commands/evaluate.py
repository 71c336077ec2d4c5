"""``grounding-desktop evaluate FOLDER [--json]``: how well the model grounds the project's own
phrases (Acc@0.5 and mean IoU of its top box against the accepted boxes, per phrase), with the
learned concepts judged leave-one-image-out (see ``evaluation.py``)."""
from __future__ import annotations

import argparse
import json
from functools import partial

from . import (CliError, add_detector_arguments, add_folder_arguments, add_quiet_argument, detector_choice,
               model_errors, open_folder_project)


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="measure the model on the project's own labels",
                       description="Ground every phrase that has accepted boxes and compare the "
                                   "model's top box with them (learned concepts leave out the "
                                   "image they are judged on).")
    add_folder_arguments(p)
    p.add_argument("--device", default="auto",
                   help="auto (CUDA, else MPS, else CPU), cpu, cuda, cuda:N or mps")
    add_detector_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_quiet_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    choice = detector_choice(args)
    store = open_folder_project(args)
    from ..evaluation import evaluate_project, run_plan
    from ..grounder_factory import make_grounder
    from ..grounding.device import resolve_device
    from ..io.progress import TerminalProgress
    from ..store import StoreError

    try:
        try:
            resolve_device(args.device)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        try:
            grounder = make_grounder(args.device, cache_size=2, detector=choice)
            with TerminalProgress("evaluating", "step", args.quiet) as bar:
                report = evaluate_project(store, grounder.embedding_model, partial(run_plan, grounder), bar)
        except (*model_errors(), StoreError) as exc:
            raise CliError(str(exc)) from exc
    finally:
        store.close()
    if args.json:
        print(json.dumps(report.as_dict()))
        return 0
    total = report.total
    if not total.tried:
        print(report.empty_message)
        return 0
    print(f"{'phrase':<32} {'tried':>5} {'Acc@0.5':>8} {'mean IoU':>8}  evidence")
    for r in report.phrases + [total]:
        print(f"{r.phrase[:32]:<32} {r.tried:>5} {100 * r.accuracy:>7.1f}% {r.mean_iou:>8.3f}  "
              f"{r.evidence_text}")
    print("; ".join(report.notes()))
    return 0
