"""Referring-expression accuracy of the Grounder: Acc@0.5 of the top box, with every miss listed.

    python benchmarks/eval_refexp.py /work/shared/data/coco8/phrases.jsonl /work/shared/data/coco8

Each JSONL row is ``{"image": relative path, "phrase": ..., "bbox_xywh": [x, y, w, h]}`` or with
``"xyxy"`` (``refexp_rows``), so refdev's phrases run too.
Besides the Grounder's accuracy it prints two references computed on the same detections:
the "class name in phrase" baseline (highest-scoring detection whose COCO name occurs in the
phrase) and the oracle (the best any re-ranking of these detections could reach).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from refexp_rows import read_rows  # noqa: E402

from grounding_desktop.grounding.detectors.backends import BACKEND_NAMES  # noqa: E402


def iou_xywh(a, b) -> float:
    from grounding_desktop.core.geometry import iou_xywh as _iou

    return _iou(a, b)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("jsonl", type=Path)
    ap.add_argument("image_root", type=Path)
    ap.add_argument("--backend", choices=BACKEND_NAMES, default="auto",
                    help="backend of the bundled detector (default auto)")
    ap.add_argument("--detector", metavar="FILE.onnx", help="your own ONNX detector instead")
    ap.add_argument("--detector-classes", metavar="FILE", help="its class names, one a line")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threshold", type=float, default=0.5, help="IoU for a hit (default 0.5)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--sensitivity", action="store_true",
                    help="also re-score with each fused weight halved and doubled")
    args = ap.parse_args(argv)

    from grounding_desktop.core.detector_choice import DetectorChoice
    from grounding_desktop.grounder_factory import make_grounder
    from grounding_desktop.core.phrase_parse import tokenize

    rows = read_rows(args.jsonl)
    choice = DetectorChoice(args.backend, args.detector, args.detector_classes)
    g = make_grounder(args.device, detector=choice)
    hits = baseline_hits = oracle_hits = 0
    misses = []
    t0 = time.perf_counter()
    for row in rows:
        path = str(args.image_root / row["image"])
        key = g.prepare(path)
        props = g.propose(key, row["phrase"], top_k=1)
        gt = row["bbox_xywh"]
        iou = iou_xywh(props[0].bbox, gt) if props else 0.0
        if iou >= args.threshold:
            hits += 1
        else:
            misses.append({"image": row["image"], "phrase": row["phrase"], "iou": round(iou, 3),
                           "gt": gt, "top": list(props[0].bbox) if props else None,
                           "why": props[0].explanation if props else "no proposal"})
        # References on the same regions.
        entry = g.prepared(key)
        scene = entry.scene
        boxes = [(b[0] * entry.scale_x, b[1] * entry.scale_y, (b[2] - b[0]) * entry.scale_x,
                  (b[3] - b[1]) * entry.scale_y) for b in scene.boxes]
        ious = [iou_xywh(b, gt) for b in boxes]
        oracle_hits += any(i >= args.threshold for i in ious)
        text = " " + " ".join(tokenize(row["phrase"])) + " "
        labels = g.load_scorer().labels
        named = [i for i in range(len(boxes))
                 if f" {labels.get(int(scene.labels[i]), '#')} " in text]
        if named:
            best = max(named, key=lambda i: scene.scores[i])
            baseline_hits += ious[best] >= args.threshold
    elapsed = time.perf_counter() - t0
    n = len(rows)
    summary = {
        "rows": n, "acc@0.5": round(hits / n, 4), "hits": hits,
        "baseline_class_name_acc": round(baseline_hits / n, 4),
        "oracle_acc": round(oracle_hits / n, 4),
        "detector": choice.describe(), "runtime": g.runtime, "device": g.device, "model": g.model_version,
        "seconds": round(elapsed, 2), "misses": misses,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"Acc@{args.threshold}: {hits}/{n} = {100 * hits / n:.1f}%   "
          f"(class-name baseline {100 * baseline_hits / n:.1f}%, oracle {100 * oracle_hits / n:.1f}%)")
    print(f"model {g.model_version} on {g.device} ({g.runtime}), {elapsed:.1f} s")
    for m in misses:
        print(f"  MISS {m['image']}  '{m['phrase']}'  IoU {m['iou']:.2f}  "
              f"top {[round(v) for v in m['top']] if m['top'] else None}  "
              f"gt {[round(v) for v in m['gt']]}\n       {m['why']}")
    if args.sensitivity:
        sensitivity(g, rows, args)
    return 0


def accuracy(g, rows, args) -> int:
    hits = 0
    for row in rows:
        props = g.propose(str(args.image_root / row["image"]), row["phrase"], top_k=1)
        hits += bool(props) and iou_xywh(props[0].bbox, row["bbox_xywh"]) >= args.threshold
    return hits


def sensitivity(g, rows, args) -> None:
    """How much the result hangs on the exact fit: each fused term's weight x0.5 and x2."""
    from dataclasses import replace

    from grounding_desktop.grounding.scoring.priors import TERMS, shipped_weights

    fused = shipped_weights()
    n = len(rows)
    print("sensitivity (hits out of %d with one fused weight changed):" % n)
    for name in TERMS:
        cells = []
        for factor in (0.5, 2.0):
            g.set_fused(replace(fused, terms={**fused.terms, name: fused.terms.get(name, 0.0) * factor}))
            cells.append(f"x{factor:g}: {accuracy(g, rows, args):2d}")
        print(f"  {name:28s} " + "   ".join(cells))
    g.set_fused(None)


if __name__ == "__main__":
    sys.exit(main())
