"""``grounding-desktop evaluate FOLDER [--json] [--plot FILE.png]``: how well the model grounds the
project's own phrases (Acc@0.5 and mean IoU of its top box against the accepted boxes, per phrase,
and how often a top box scoring above 0.5 was right), with the learned concepts judged
leave-one-image-out, and the reliability table of the scores (see ``evaluation.py``); ``--plot``
draws per-phrase accuracy and the reliability diagram (``evaluation_plot.py``)."""
from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

from . import (CliError, add_detector_arguments, add_folder_arguments, add_quiet_argument, detector_choice,
               model_errors, open_folder_project)


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="measure the model on the project's own labels",
                       description="Ground every phrase that has accepted boxes and compare the "
                                   "model's top box with them (learned concepts leave out the "
                                   "image they are judged on); say how often each score was right.")
    add_folder_arguments(p)
    p.add_argument("--device", default="auto",
                   help="auto (CUDA, else MPS, else CPU), cpu, cuda, cuda:N or mps")
    add_detector_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="FILE.png",
                   help="also draw per-phrase Acc@0.5 and the reliability diagram of the scores into FILE.png")
    add_quiet_argument(p)
    p.set_defaults(func=run)


def _plot_target(value: str) -> Path:
    """--plot's file, checked before the model runs: a .png in a folder that exists."""
    path = Path(value)
    if path.suffix.lower() != ".png":
        raise CliError(f"--plot {value}: the picture is a PNG file (name it FILE.png)")
    if not path.parent.is_dir():
        raise CliError(f"--plot {value}: folder not found: {path.parent}")
    if path.is_dir():
        raise CliError(f"--plot {value} is a folder")
    return path


def _write_plot(report, path: Path) -> None:
    from ..evaluation_plot import plot_png

    try:
        path.write_bytes(plot_png(report))
    except OSError as exc:
        raise CliError(f"--plot {path}: cannot write: {exc.strerror or exc}") from exc


def _print_report(report) -> None:
    from ..evaluation import calibration_error

    total = report.total
    print(f"{'phrase':<32} {'tried':>5} {'Acc@0.5':>8} {'mean IoU':>8}  {'right when >0.5':<15}  evidence")
    for r in report.phrases + [total]:
        print(f"{r.phrase[:32]:<32} {r.tried:>5} {100 * r.accuracy:>7.1f}% {r.mean_iou:>8.3f}  "
              f"{r.reliability_text:<15}  {r.evidence_text}")
    print("; ".join(report.notes()))
    bins = report.reliability_bins
    print(f"\n{'score of the top box':<20} {'boxes':>5} {'right':>7}")
    for b in bins:
        right = f"{100 * b.fraction_right:.1f}%" if b.count else "-"
        print(f"{f'{b.low:.1f}-{b.high:.1f}':<20} {b.count:>5} {right:>7}")
    error = calibration_error(bins)
    if error is not None:
        print(f"expected calibration error {error:.3f}")


def run(args: argparse.Namespace) -> int:
    choice = detector_choice(args)
    plot = _plot_target(args.plot) if args.plot else None
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
    if plot is not None and report.total.tried:
        _write_plot(report, plot)
    if args.json:
        print(json.dumps(report.as_dict()))
    elif not report.total.tried:
        print(report.empty_message + (" No picture written." if plot else ""))
    else:
        _print_report(report)
    return 0
