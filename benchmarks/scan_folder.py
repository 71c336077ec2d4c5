"""Cold scan + database sync, and a rescan with nothing changed, of N small images.

    python benchmarks/scan_folder.py [N] [--runs R]

Prints the median of R runs of each, and the rescan/cold ratio. Targets (2-core machine,
N=10,000): cold under 3 s, rescan under 0.5 s (headers only; no full decode during scans).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image

from grounding_desktop.project import open_project, rescan_project


def make_images(folder: Path, n: int) -> None:
    base = Image.new("RGB", (64, 48), (90, 140, 200))
    blob_jpg = folder / "_seed.jpg"
    base.save(blob_jpg, quality=80)
    data = blob_jpg.read_bytes()
    blob_jpg.unlink()
    for i in range(n):
        sub = folder / f"batch{i // 1000}"
        sub.mkdir(exist_ok=True)
        # vary a byte after the header so content hashes differ, as real photos' do
        body = bytearray(data)
        body[-3] = i % 251
        (sub / f"img{i}.jpg").write_bytes(bytes(body[:-2]) + b"\xff\xd9")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", nargs="?", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        make_images(folder, args.n)
        cold, warm = [], []
        for _ in range(args.runs):
            shutil.rmtree(folder / ".grounding", ignore_errors=True)
            t0 = time.perf_counter()
            store, report = open_project(folder)
            cold.append(time.perf_counter() - t0)
            assert len(report.added) == args.n, (len(report.added), args.n)
            t0 = time.perf_counter()
            report = rescan_project(store)
            warm.append(time.perf_counter() - t0)
            assert report.unchanged == args.n
            store.close()
    cm, wm = statistics.median(cold), statistics.median(warm)
    print(f"images: {args.n}, runs: {args.runs}")
    print(f"cold scan + sync   median {cm:.3f} s  (min {min(cold):.3f}, max {max(cold):.3f})  target < 3 s")
    print(f"rescan, unchanged  median {wm:.3f} s  (min {min(warm):.3f}, max {max(warm):.3f})  target < 0.5 s")
    print(f"rescan / cold ratio {wm / cm:.2f}")


if __name__ == "__main__":
    main()
