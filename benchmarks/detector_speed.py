"""Detector speed: the torch SSD-MobileNetV2 port against OpenCV DNN on the same graph and image.

Both sides are timed end to end on one 640x480 RGB image: OpenCV is ``blobFromImage`` +
``forward`` + turning ``detection_out`` into pixel boxes; torch is ``SSDDetector.detect`` (resize,
network, decoding, NMS, region features). Runs alternate between the two so that load from
other processes hits both alike. Prints the median of each and the ratio (target on a 2-core
CPU: torch no slower than 1.3x OpenCV), with the load average and torch's OpenMP wait policy
(``grounding`` defaults it to PASSIVE; run with ``OMP_WAIT_POLICY=ACTIVE`` to compare).

    .venv/bin/python benchmarks/detector_speed.py [--runs 30] [--device cpu] [--threads N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def benchmark_image() -> np.ndarray:
    """A 640x480 photo: a bundled sample resized, or a synthetic scene when samples are absent."""
    from PIL import Image, ImageDraw

    sample = REPO / "resources" / "samples" / "coffee.jpg"
    if sample.is_file():
        with Image.open(sample) as im:
            return np.asarray(im.convert("RGB").resize((640, 480), Image.BILINEAR))
    img = Image.new("RGB", (640, 480), (120, 170, 220))
    draw = ImageDraw.Draw(img)
    draw.ellipse([80, 200, 260, 400], fill=(200, 40, 40))
    draw.rectangle([350, 120, 560, 380], fill=(240, 230, 90))
    return np.asarray(img)


def make_opencv_detect(net):
    import cv2

    def detect(rgb: np.ndarray, threshold: float = 0.05):
        h, w = rgb.shape[:2]
        net.setInput(cv2.dnn.blobFromImage(rgb, size=(300, 300), swapRB=False, crop=False))
        out = net.forward()[0, 0]
        out = out[out[:, 2] > threshold]
        return np.clip(out[:, 3:7], 0, 1) * [w, h, w, h], out[:, 2], out[:, 1].astype(np.int64)

    return detect


def time_once(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - start) * 1000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for the torch side (default: torch's own)")
    args = parser.parse_args(argv)

    import os

    # The package first: it picks torch's OpenMP wait policy before torch is imported.
    from grounding_desktop.grounding.detectors.detector import SSDDetector
    from grounding_desktop.grounding.detectors.ssd_weights import find_graph_files

    import cv2
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    files = find_graph_files()
    net = cv2.dnn.readNetFromTensorflow(str(files.pb), str(files.pbtxt))
    opencv_detect = make_opencv_detect(net)
    start = time.perf_counter()
    detector = SSDDetector(args.device)
    load_ms = (time.perf_counter() - start) * 1000.0
    rgb = benchmark_image()

    for _ in range(args.warmup):
        detector.detect(rgb)
        opencv_detect(rgb)
    torch_ms, opencv_ms = [], []
    for i in range(args.runs):
        if i % 2:
            torch_ms.append(time_once(detector.detect, rgb))
            opencv_ms.append(time_once(opencv_detect, rgb))
        else:
            opencv_ms.append(time_once(opencv_detect, rgb))
            torch_ms.append(time_once(detector.detect, rgb))

    t, o = statistics.median(torch_ms), statistics.median(opencv_ms)
    print(f"image 640x480, {args.runs} runs each (alternating), device {detector.device}, "
          f"torch {torch.__version__} threads {torch.get_num_threads()}, "
          f"OpenCV {cv2.__version__} threads {cv2.getNumThreads()}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"detector load (weights cached or converted): {load_ms:.0f} ms")
    print(f"torch SSDDetector.detect  median {t:7.1f} ms  (min {min(torch_ms):.1f})")
    print(f"OpenCV DNN                median {o:7.1f} ms  (min {min(opencv_ms):.1f})")
    print(f"ratio torch / OpenCV: {t / o:.2f}x  (target <= 1.30x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
