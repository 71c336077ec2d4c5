"""The bundled detector's backends on the same images in one run: torch, onnxruntime fp32, onnxruntime int8.

Each backend's ``detect`` is timed end to end (resize, network, NMS, region features) on every
image, resized to 640x480; the backends take turns image by image (the order rotating every
round), so load from other processes hits all of them alike. Prints each backend's median over
all (image, round) pairs, its ratio to torch, and how far int8's detections are from fp32's.
int8 is quantised by onnxruntime's static quantisation, calibrated on the repository's sample
photos (``backends.calibration_photos``).

    .venv/bin/python benchmarks/onnx_backends.py [--images FOLDER] [--rounds 10]

Whether int8 loses accuracy is measured by ``benchmarks/eval_refexp.py --backend onnxruntime-int8``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def load_images(folder: Path, limit: int) -> list[tuple[str, np.ndarray]]:
    from PIL import Image

    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:limit]
    out = []
    for p in paths:
        with Image.open(p) as im:
            out.append((p.name, np.asarray(im.convert("RGB").resize((640, 480), Image.BILINEAR))))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=Path, default=REPO / "resources" / "samples",
                    help="folder of photos (default: the repository's samples)")
    ap.add_argument("--limit", type=int, default=8, help="at most this many photos (default 8)")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args(argv)

    from grounding_desktop.core.detector_choice import DetectorChoice
    from grounding_desktop.grounding.detectors.backends import make_detector
    from grounding_desktop.grounding.detectors.export_onnx import compare

    import onnxruntime
    import torch

    images = load_images(args.images, args.limit)
    if not images:
        print(f"no photos in {args.images}", file=sys.stderr)
        return 2
    backends = {}
    for name in ("torch", "onnxruntime", "onnxruntime-int8"):
        start = time.perf_counter()
        backends[name] = make_detector(DetectorChoice(backend=name), "cpu")
        print(f"load {name:<17} {1000 * (time.perf_counter() - start):7.0f} ms  ({backends[name].runtime})")
    names = list(backends)
    for _ in range(args.warmup):
        for _, rgb in images:
            for det in backends.values():
                det.detect(rgb)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        for i, (_, rgb) in enumerate(images):
            k = (r + i) % len(names)
            for name in names[k:] + names[:k]:
                start = time.perf_counter()
                backends[name].detect(rgb)
                times[name].append(1000 * (time.perf_counter() - start))

    print(f"\n{len(images)} photos from {args.images} at 640x480, {args.rounds} rounds, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}), onnxruntime {onnxruntime.__version__}, "
          f"load average {os.getloadavg()[0]:.2f}")
    base = statistics.median(times["torch"])
    for name in names:
        med = statistics.median(times[name])
        print(f"{name:<17} median {med:7.1f} ms per image  (min {min(times[name]):6.1f})  "
              f"{base / med:5.2f}x torch's speed")
    rgbs = [rgb for _, rgb in images]
    print(f"\nonnxruntime fp32 vs torch: {compare(backends['torch'], backends['onnxruntime'], rgbs).describe()}")
    print(f"onnxruntime int8 vs fp32:  "
          f"{compare(backends['onnxruntime'], backends['onnxruntime-int8'], rgbs).describe()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
