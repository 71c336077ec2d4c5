"""SIGKILL ``prepare`` and ``propose`` in the middle of their writes, then run them again: nothing
lost, nothing doubled, and ``PRAGMA integrity_check`` ok on the project database and the features
file, after each kill and after each rerun.

The killed process is the CLI itself (``python -m grounding_desktop.cli``, no wrapper). Each trial
works on a fresh copy of a generated folder of small distinct images; it waits until the command's
first batch is written, then kills it at a random moment of its writing (the window measured by
a calibration run), reruns the command to its end and compares with a clean run:

- ``prepare``: every image's features record, byte for byte;
- ``propose``: every phrase and box of the project (the user's labels seeded before, and the
  proposals), as a multiset: a box stored twice or missing shows.

The detector is a tiny ONNX model (``tests/onnx_models.py``: one box of class "widget" on every
image), so the model costs little and the writes are what is measured; the phrase encoder is the
real one (``propose`` needs it).

    python benchmarks/kill_during_writes.py [--kills 20] [--images 320] [--seed 1]

Prints the trials, how many kills landed in the middle of the writes (some but not all of what a
clean run writes written, read just before the kill), and exits 1 on any loss, doubling or damage.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

PHRASES = ["the widget", "a red widget"]


def make_folder(folder: Path, n: int, seed: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (72, 96, 3), dtype=np.uint8)).save(folder / f"img{i:03d}.png")


def cli(folder: Path, command: str, detector: Path) -> list[str]:
    args = [sys.executable, "-m", "grounding_desktop.cli", command, str(folder), "--detector", str(detector),
            "--device", "cpu"]
    if command == "propose":
        for p in PHRASES:
            args += ["--phrase", p]
    return args


def env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def run_to_end(folder: Path, command: str, detector: Path) -> None:
    done = subprocess.run(cli(folder, command, detector), env=env(), capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{command} on {folder} failed ({done.returncode}): {done.stderr.strip()}")


def _count(db: Path, sql: str) -> int:
    """A read of a file another process writes (WAL): read-only, never creating it."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def written(folder: Path, command: str) -> int:
    """What the command has written so far: features rows (prepare), model boxes (propose)."""
    grounding = folder / ".grounding"
    if command == "prepare":
        return _count(grounding / "project.features.sqlite", "SELECT count(*) FROM features")
    return _count(grounding / "project.sqlite", "SELECT count(*) FROM boxes WHERE source='model'")


def integrity(folder: Path) -> list[str]:
    """The files whose ``PRAGMA integrity_check`` is not ok."""
    bad = []
    for name in ("project.sqlite", "project.features.sqlite"):
        path = folder / ".grounding" / name
        if not path.exists():
            continue
        conn = sqlite3.connect(path)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
        if verdict != [("ok",)]:
            bad.append(f"{name}: {verdict[:3]}")
    return bad


def features_of(folder: Path) -> dict[str, bytes]:
    conn = sqlite3.connect(folder / ".grounding" / "project.features.sqlite")
    try:
        return {f"{m}/{h}": bytes(d) for m, h, d in conn.execute("SELECT model, content_hash, data FROM features")}
    finally:
        conn.close()


def labels_of(folder: Path) -> Counter:
    """Every phrase and box of the project, as (path, phrase, box, state, source) counted."""
    conn = sqlite3.connect(folder / ".grounding" / "project.sqlite")
    try:
        rows = conn.execute(
            "SELECT i.path, e.text, round(b.x, 2), round(b.y, 2), round(b.w, 2), round(b.h, 2), b.state, b.source "
            "FROM expressions e JOIN images i ON i.id = e.image_id LEFT JOIN boxes b ON b.expression_id = e.id")
        return Counter(rows)
    finally:
        conn.close()


def seed_labels(folder: Path) -> None:
    """A few boxes of the user's, which no propose may change or double."""
    from grounding_desktop.core import Box
    from grounding_desktop.project import open_project

    store, _ = open_project(folder)
    with store:
        for i, image in enumerate(store.images.all()[:5]):
            expression, _ = store.labels.add_expression(image.id, "the thing I drew")
            store.labels.add_box(expression.id, Box(0, 0, (2 + i, 3, 20, 15)))


def calibrate(base: Path, work: Path, command: str, detector: Path) -> tuple[float, float]:
    """(seconds from the first write seen to the last, seconds from the start to the first) of
    one clean run, by polling."""
    folder = work / f"calibrate-{command}"
    shutil.copytree(base, folder)
    start = time.monotonic()
    proc = subprocess.Popen(cli(folder, command, detector), env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    first = last = None
    seen = 0
    while proc.poll() is None:
        n = written(folder, command)
        if n > seen:
            now = time.monotonic() - start
            first = now if first is None else first
            last, seen = now, n
        time.sleep(0.005)
    if first is None or proc.returncode != 0:
        raise SystemExit(f"calibration run of {command} wrote nothing (exit {proc.returncode})")
    shutil.rmtree(folder)
    return max(last - first, 0.05), first


def trial(base: Path, work: Path, command: str, detector: Path, window: float, expected, k: int,
          rng: random.Random) -> tuple[bool, list[str]]:
    """One kill and rerun; (whether the kill landed in the middle of the writes: some of what a
    clean run writes written, not all, and the process still running; problems found)."""
    total = len(expected) if command == "prepare" else sum(n for key, n in expected.items() if key[-1] == "model")
    folder = work / f"{command}-{k}"
    shutil.copytree(base, folder)
    proc = subprocess.Popen(cli(folder, command, detector), env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    while proc.poll() is None and written(folder, command) <= 0:
        time.sleep(0.002)
    time.sleep(rng.uniform(0, window))
    done = written(folder, command)  # read just before the kill: how far the writes had got
    landed = proc.poll() is None and 0 < done < total
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    problems = [f"after the kill: {p}" for p in integrity(folder)]
    run_to_end(folder, command, detector)
    problems += [f"after the rerun: {p}" for p in integrity(folder)]
    got = features_of(folder) if command == "prepare" else labels_of(folder)
    if got != expected:
        if command == "prepare":
            lost = set(expected) - set(got)
            other = {h for h in set(expected) & set(got) if got[h] != expected[h]}
            problems.append(f"features: {len(lost)} lost, {len(set(got) - set(expected))} extra, {len(other)} differ")
        else:
            problems.append(f"labels: lost {sum((expected - got).values())}, doubled or new {sum((got - expected).values())}")
    shutil.rmtree(folder)
    return landed, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="kills of each command (default 20)")
    parser.add_argument("--images", type=int, default=320,
                        help="images of the generated folder (default 320: 20 batches of prepare, 5 of propose)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from onnx_models import yolo_model

    rng = random.Random(args.seed)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="kill-writes-") as tmp:
        work = Path(tmp)
        detector = yolo_model(work / "widget.onnx", "yolov8", [160, 160, 100, 80], 0, ["widget", "gadget"])
        fresh = work / "fresh"
        make_folder(fresh, args.images, args.seed)
        # References: a clean prepare, then (on the prepared folder, with the user's boxes) a clean propose.
        prepared = work / "prepared"
        shutil.copytree(fresh, prepared)
        run_to_end(prepared, "prepare", detector)
        seed_labels(prepared)
        reference = work / "reference"
        shutil.copytree(prepared, reference)
        run_to_end(reference, "propose", detector)
        expected = {"prepare": features_of(prepared), "propose": labels_of(reference)}
        print(f"{args.images} images; a clean run writes {len(expected['prepare'])} features records and "
              f"{sum(n for k, n in expected['propose'].items() if k[-1] == 'model')} proposals")
        for command, base in (("prepare", fresh), ("propose", prepared)):
            window, first = calibrate(base, work, command, detector)
            print(f"{command}: first write {first:.2f} s after the start, then writes for {window:.2f} s")
            landed = 0
            for k in range(args.kills):
                hit, problems = trial(base, work, command, detector, window, expected[command], k, rng)
                landed += hit
                failures += bool(problems)
                print(f"  kill {k + 1:2d}/{args.kills}: {'in the middle of the writes' if hit else 'after the last write'}; "
                      f"{'; '.join(problems) if problems else 'rerun complete, nothing lost or doubled, integrity ok'}",
                      flush=True)
            print(f"{command}: {landed} of {args.kills} kills landed in the middle of its writes")
    print("FAILED" if failures else "all trials passed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
