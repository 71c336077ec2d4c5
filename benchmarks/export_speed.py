"""Export speed on a large project: 10,000 images and 100,000 boxes, built straight through the store.
Each image is a tiny JPEG on disk (exports take sizes from the database, but read every exported
file's EXIF orientation to warn about rotated ones).

Prints the median wall time of several runs per format (target: each under 3 s; yolo and voc,
which copy every image, are measured without one), plus the time of
the shared selection step alone as a baseline measured in the same run, and each format's ratio to
it; then the time to import the coco-grounding export into a fresh project (for information).

    .venv/bin/python benchmarks/export_speed.py [--images 10000] [--boxes 100000] [--runs 5]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grounding_desktop.core import Box, BoxSource, BoxState, ScanEntry  # noqa: E402
from grounding_desktop.io.coco_import import import_coco  # noqa: E402
from grounding_desktop.io.export import ExportOptions, export_project  # noqa: E402
from grounding_desktop.io.formats import EXPORT_FORMAT  # noqa: E402
from grounding_desktop.io.export_summary import ExportSummary  # noqa: E402
from grounding_desktop.io.progress import Ticker, gc_paused  # noqa: E402
from grounding_desktop.io.selection import SelectionRules, select  # noqa: E402
from grounding_desktop.store import ProjectStore  # noqa: E402

PHRASES = ["the dog on the left", "a red car", "the horses", "person holding an umbrella", "the cat",
           "a bowl of fruit", "two people walking", "the tallest building", "a bicycle", "the blue sign"]


def build_project(folder: Path, n_images: int, n_boxes: int, seed: int = 0, one_box: bool = False) -> ProjectStore:
    """Images in nested folders, two phrases with boxes per image (with ``one_box``: a phrase per
    box, as RefCOCO takes them) plus a no-target one on every fifth image; about 10% of boxes
    proposed and 5% rejected, like a project mid-review."""
    import io

    from PIL import Image

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    store = ProjectStore.open_folder(folder)
    entries = [ScanEntry(f"set{i // 1000:02d}/img{i:06d}.jpg", 50_000, 1.0, rng.choice((640, 800, 1024)),
                         rng.choice((480, 600, 768)), f"{i:032x}") for i in range(n_images)]
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8), (90, 120, 150)).save(jpeg, "JPEG")
    for e in entries:
        path = folder / e.path
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(jpeg.getvalue())
    store.images.apply_scan(entries)
    images = store.images.all()
    per_image = n_boxes // n_images
    items = []
    for k, img in enumerate(images):
        counts = (1,) * per_image if one_box else (per_image // 2, per_image - per_image // 2)
        for j, n in enumerate(counts):
            boxes = []
            for _ in range(n):
                w, h = rng.uniform(10, img.width / 3), rng.uniform(10, img.height / 3)
                x, y = rng.uniform(0, img.width - w), rng.uniform(0, img.height - h)
                r = rng.random()
                state = BoxState.PROPOSED if r < 0.10 else BoxState.REJECTED if r < 0.15 else BoxState.ACCEPTED
                source = BoxSource.MANUAL if state == BoxState.ACCEPTED and rng.random() < 0.3 else BoxSource.MODEL
                boxes.append(Box(0, 0, (x, y, w, h), state, source, round(rng.random(), 4), "bench-1"))
            items.append((img.id, PHRASES[(k + j) % len(PHRASES)], boxes))
        if k % 5 == 0:
            items.append((img.id, "the giraffe", []))
    store.imports.merge_phrases([(i, text, boxes, ()) for i, text, boxes in items],
                                reviewed=[img.id for img in images[::2]])
    return store


CPU_TIMES: list[float] = []  # process CPU seconds of the last timed() call, per run


def timed(fn, runs: int) -> list[float]:
    """Wall seconds per run; CPU seconds go to CPU_TIMES (less sensitive to a busy shared machine)."""
    out = []
    CPU_TIMES.clear()
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
        CPU_TIMES.append(time.process_time() - c0)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--boxes", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        store = build_project(root / "photos", args.images, args.boxes)
        counts = store.counts()
        print(f"project: {counts['images']} images, {counts['phrases']} phrases, {counts['boxes']} boxes "
              f"(accepted {counts['boxes_accepted']}, proposed {counts['boxes_proposed']}, "
              f"rejected {counts['boxes_rejected']}); built in {time.perf_counter() - t0:.1f} s")
        def selection_only():
            with gc_paused():  # as export_project runs it
                select(store, ExportOptions(), SelectionRules(), ExportSummary("x"), Ticker(None, None, 1))

        base = timed(selection_only, args.runs)
        base_med = statistics.median(base)
        print(f"{'selection only (baseline)':34s} median {base_med:6.3f} s  (cpu {statistics.median(CPU_TIMES):.3f} s; runs: "
              f"{', '.join(f'{t:.3f}' for t in base)})")
        cases = [(fmt, ExportOptions()) for fmt in EXPORT_FORMAT]
        cases.append(("coco-grounding", ExportOptions(splits=(80, 10, 10))))
        worst = 0.0
        for fmt, options in cases:
            copies = hasattr(EXPORT_FORMAT[fmt].writer, "image_target")  # yolo, voc write every image: disk-bound, no target
            label = fmt + (" --splits 80,10,10" if options.splits else "") + (" (copies images)" if copies else "")
            out = root / "out" / (fmt if EXPORT_FORMAT[fmt].out_is_folder else f"{fmt}.json")
            summary = None

            def run():
                nonlocal summary
                summary = export_project(store, fmt, out, options)

            times = timed(run, args.runs)
            med = statistics.median(times)
            worst = worst if copies else max(worst, med)
            size = sum(p.stat().st_size for f in map(Path, summary.files)  # folder formats: all their files
                       for p in ([f] if f.is_file() else f.rglob("*")) if p.is_file()) / 1e6
            print(f"{label:34s} median {med:6.3f} s  (cpu {statistics.median(CPU_TIMES):.3f} s)  "
                  f"ratio to selection {med / base_med:4.1f}x  "
                  f"({summary.images} images, {summary.phrases} phrases, {summary.boxes} boxes, "
                  f"{size:.1f} MB; runs: {', '.join(f'{t:.3f}' for t in times)})")
        # RefCOCO writes one-box phrases only (a ref is one object): measure it on such a project too
        one_box = build_project(root / "one_box", args.images, args.boxes, one_box=True)
        out = root / "out" / "refcoco_one_box"
        times = timed(lambda: export_project(one_box, "refcoco", out), args.runs)
        summary = export_project(one_box, "refcoco", out)
        med = statistics.median(times)
        worst = max(worst, med)
        print(f"{'refcoco, a phrase per box':34s} median {med:6.3f} s  (cpu {statistics.median(CPU_TIMES):.3f} s)  "
              f"ratio to selection {med / base_med:4.1f}x  ({summary.images} images, {summary.phrases} phrases, "
              f"{summary.boxes} boxes; runs: {', '.join(f'{t:.3f}' for t in times)})")
        one_box.close()
        print(f"slowest format median {worst:.3f} s; target under 3 s each: {'met' if worst < 3 else 'NOT met'}")

        # import of the coco-grounding export into a fresh project over the same images (no target set)
        src = root / "out" / "coco-grounding.json"
        export_project(store, "coco-grounding", src)
        scan = [ScanEntry(i.path, i.size, i.mtime, i.width, i.height, i.content_hash) for i in store.images.all()]
        times = []
        for k in range(max(args.runs // 2, 1)):
            fresh = ProjectStore(root / f"fresh{k}.sqlite", root=root / "photos")
            fresh.images.apply_scan(scan)
            t0 = time.perf_counter()
            summary = import_coco(fresh, src)
            times.append(time.perf_counter() - t0)
            fresh.close()
        print(f"{'import coco-grounding (fresh db)':34s} median {statistics.median(times):6.3f} s  "
              f"({summary.phrases_added} phrases, {summary.boxes_added} boxes; runs: {', '.join(f'{t:.3f}' for t in times)})")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
