"""Feature-pass throughput against the bare detector, on the same images, in the same run.

The bare detector is the least work that yields detections for an image file: decode it (EXIF
applied, at most ``Grounder.preparation.max_side``) and run ``detector.detect`` (network, NMS, candidates),
one image after another; it is timed as ``detect`` comes (with the backbone's RoIAlign region
features) and without those features, which the pass does not ask for (nothing uses them). The
feature pass is ``prepare``'s whole job on the same files: decode, detect (in batches where the
backend runs them), the colour statistics of every region, the record's bytes, and one
transaction per batch into a fresh features file. Runs rotate among the three so that load from
other processes hits all alike; medians of images per second and the ratios are printed (target:
the pass at least 0.90 of the bare detector). The pass without the second CNN's region embeddings
(what it was before records kept them) runs in the rotation too: the ratio of the two and the
record's size per image with and without them are printed; so does the pass with the second CNN's
crops on the torch port rather than onnxruntime (the ratio is printed).

    .venv/bin/python benchmarks/feature_pass.py [--images 48] [--runs 5] [--device cpu] [--backend auto]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def make_folder(root: Path, count: int) -> list[Path]:
    """``count`` photos (coco8 and the samples, mirrored and cropped a little more each time round so
    that every file is a picture of its own), at most 640 px on the long side."""
    from PIL import Image, ImageOps

    sources = sorted((REPO.parent / "shared" / "data" / "coco8" / "images").glob("*/*.jpg")) + \
        sorted((REPO / "resources" / "samples").glob("*.jpg"))
    if not sources:
        raise SystemExit("no photos: resources/samples is missing")
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        with Image.open(sources[i % len(sources)]) as im:
            img = im.convert("RGB")
        variant = i // len(sources)  # mirrored or not, cropped by 4 % more every second variant
        if variant % 2:
            img = ImageOps.mirror(img)
        w, h = img.size
        cut = 0.04 * (variant // 2)
        img = img.crop((round(w * cut), round(h * cut), w, h))
        img.thumbnail((640, 640))
        path = root / f"img{i:04d}.jpg"
        img.save(path, quality=92)
        out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args(argv)

    from grounding_desktop.folder.engine import LocalEngine
    from grounding_desktop.folder.feature_pass import run_feature_pass
    from grounding_desktop.grounder_factory import make_grounder
    from grounding_desktop.grounding.grounder import MAX_CANDIDATES, MAX_DETECTIONS
    from grounding_desktop.io.images import decode_image
    from grounding_desktop.project import open_project
    from grounding_desktop.store.features import FeatureStore
    import numpy as np

    work = Path(tempfile.mkdtemp(prefix="feature_pass_"))
    try:
        paths = make_folder(work / "photos", args.images)
        grounder = make_grounder(args.device, detector=args.backend)
        detector = grounder.load_detector()
        store, _ = open_project(work / "photos")

        def bare(region_features: bool) -> None:
            for p in paths:
                rgb = np.asarray(decode_image(p, grounder.preparation.max_side)[0])
                detector.detect(rgb, grounder.preparation.score_threshold, MAX_DETECTIONS, candidates=MAX_CANDIDATES,
                                region_features=region_features)

        sizes: dict[bool, float] = {}

        def feature_pass(embeddings: bool = True) -> None:
            features_file = work / "features.sqlite"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{features_file}{suffix}").unlink(missing_ok=True)
            if not embeddings:  # the pass as it was before records kept region embeddings
                grounder._with_second_cnn = lambda built: built
            try:
                with FeatureStore(features_file) as features:
                    report = run_feature_pass(store, features, LocalEngine(grounder))
                    sizes[embeddings] = sum(len(d) for _, d in features.features(grounder.features_version)) / len(paths)
            finally:
                grounder.__dict__.pop("_with_second_cnn", None)
            assert report.prepared == len(paths), report

        recognizer = grounder.load_recognizer()
        onnx_crops = recognizer.crop_logits

        def crops_on_torch() -> None:  # the crops on the torch port rather than onnxruntime
            recognizer.crop_logits = None
            try:
                feature_pass()
            finally:
                recognizer.crop_logits = onnx_crops

        contenders = {"bare detector, detect() as it comes": lambda: bare(True),
                      "bare detector, no region features": lambda: bare(False),
                      "feature pass (kept in the store)": feature_pass,
                      "feature pass without region embeddings": lambda: feature_pass(False),
                      "feature pass, crops on torch": crops_on_torch}
        for fn in contenders.values():  # warm-up: caches, kernel selection
            fn()
        rates: dict[str, list[float]] = {name: [] for name in contenders}
        names = list(contenders)
        for i in range(args.runs):
            for name in names[i % len(names):] + names[:i % len(names)]:
                start = time.perf_counter()
                contenders[name]()
                rates[name].append(len(paths) / (time.perf_counter() - start))
        store.close()
        print(f"{len(paths)} images, {args.runs} runs each (rotating), device {grounder.device}, "
              f"runtime {grounder.runtime}, load average {os.getloadavg()[0]:.2f}")
        medians = {name: statistics.median(values) for name, values in rates.items()}
        for name, values in rates.items():
            print(f"{name:<38} median {medians[name]:6.1f} images/s  (runs {', '.join(f'{x:.1f}' for x in values)})")
        passed = medians["feature pass (kept in the store)"]
        for name in names[:2]:
            print(f"ratio pass / {name}: {passed / medians[name]:.2f}  (target >= 0.90)")
        if onnx_crops is not None:
            print(f"ratio pass / the pass with its crops on torch: "
                  f"{passed / medians['feature pass, crops on torch']:.2f}")
        before = medians["feature pass without region embeddings"]
        print(f"ratio pass / the pass without region embeddings (before they were kept): {passed / before:.2f}; "
              f"record {sizes[True] / 1e3:.1f} KB an image against {sizes[False] / 1e3:.1f} KB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
