"""Export progress and cancel on a large project (default 30,000 images, 300,000 boxes), as the
File → Export dialog sees them: ``export_project`` on a worker thread with ``progress`` and
``cancelled`` callbacks.

Prints, as medians over ``--runs``:
- the full export's wall time (the baseline, measured in the same run);
- the time to the first progress report (until then the dialog's bar can only say "busy") and the
  longest gap between two reports (the bar standing still), with their ratio to the baseline;
- the cancel latency: Cancel pressed at 10 %, 30 %, 50 %, 70 % and 90 % of the baseline's time,
  measured until ``export_project`` has raised ``Cancelled`` (what the dialog is told: its worker
  frees the export's memory after telling it), median and worst, and its ratio; beside it, the
  time until that memory is freed too.

    .venv/bin/python benchmarks/export_cancel.py [--images 30000] [--boxes 300000] [--runs 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_speed import build_project  # noqa: E402

from grounding_desktop.io.export import Cancelled, export_project  # noqa: E402

CANCEL_AT = (0.1, 0.3, 0.5, 0.7, 0.9)


def full_export(store, out: Path) -> tuple[float, float, float]:
    """(wall seconds, seconds to the first progress report, longest gap between reports)."""
    reports: list[float] = []
    t0 = time.perf_counter()
    export_project(store, "coco-grounding", out, progress=lambda done, total: reports.append(time.perf_counter()))
    end = time.perf_counter()
    marks = [t0] + reports + [end]
    return end - t0, reports[0] - t0, max(b - a for a, b in zip(marks, marks[1:]))


def cancel_latency(store, out: Path, after_s: float) -> tuple[float, float]:
    """Seconds from Cancel (set ``after_s`` into the export) until the export has raised Cancelled,
    and until the memory its frames held is freed as well."""
    cancel = threading.Event()
    stopped: list[float] = []

    def work() -> None:
        try:
            export_project(store, "coco-grounding", out, cancelled=cancel.is_set)
        except Cancelled:
            stopped.append(time.perf_counter())  # the traceback still holds the frames here
        stopped.append(time.perf_counter())

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(after_s)
    pressed = time.perf_counter()
    cancel.set()
    thread.join()
    return max(stopped[0] - pressed, 0.0), max(stopped[-1] - pressed, 0.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=30_000)
    ap.add_argument("--boxes", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = build_project(root / "photos", args.images, args.boxes)
        counts = store.counts()
        print(f"project: {counts['images']} images, {counts['phrases']} phrases, {counts['boxes']} boxes")
        out = root / "out" / "g.json"
        out.parent.mkdir()
        fulls = [full_export(store, out) for _ in range(args.runs)]
        wall = statistics.median(f[0] for f in fulls)
        first = statistics.median(f[1] for f in fulls)
        gap = statistics.median(f[2] for f in fulls)
        print(f"full export (baseline)       median {wall:6.3f} s  (runs: {', '.join(f'{f[0]:.3f}' for f in fulls)})")
        print(f"first progress report        median {first:6.3f} s  ratio to the export {first / wall:5.2f}")
        print(f"longest gap between reports  median {gap:6.3f} s  ratio to the export {gap / wall:5.2f}")
        both = [cancel_latency(store, out, f * wall) for _ in range(args.runs) for f in CANCEL_AT]
        latencies, freed = [b[0] for b in both], [b[1] for b in both]
        med = statistics.median(latencies)
        print(f"cancel latency               median {med:6.3f} s  worst {max(latencies):.3f} s  "
              f"ratio to the export {med / wall:5.2f} (worst {max(latencies) / wall:.2f}); "
              f"{len(latencies)} cancels at {', '.join(f'{int(f * 100)}' for f in CANCEL_AT)} % of it")
        print(f"  ... and its memory freed     median {statistics.median(freed):6.3f} s  worst {max(freed):.3f} s")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
