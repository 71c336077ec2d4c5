"""Fit the scorer's fused weights (``priors.FusedWeights``) on grounded phrases and write the shipped
file, with figures on images the fit never saw.

    .venv/bin/python benchmarks/fit_scorer.py --refdev ../shared/data/refdev --coco8 ../shared/data/coco8 \
        [--cache /tmp/fit_trials.npz] [--write]

Phrases (every one has exactly one right box):
- refdev ``phrases.jsonl`` (composites; ImageNet and open nouns) and ``fewshot.jsonl`` (the queries);
- coco8 ``phrases.jsonl`` (real photos) and phrases made here from its COCO boxes: "the <class>" for
  a class with one box in the photo; for the outer one of several, "the <class> on the left / on the
  right / at the top / at the bottom", and "the biggest / smallest <class>" where it clearly is.

Each phrase is grounded twice: with no project, and with a project that holds the other rows of its
set as accepted boxes (leave-one-image-out; for the few-shot set, its support boxes), so the fit sees
learned concepts beside the detector and ImageNet; and once more, with no project, on another image
of its set that does not hold it ("absent"), so the score learns how little a best box is worth
where the thing is not there. Every region of the phrase's image gives its
evidence terms (``Grounder.scored``) and whether it hits the box (IoU >= 0.5).

A fixed share of the images of each set (by a hash of the name) is held out: the fit never sees it,
and its figures are printed (Acc@0.5 of the top box, ECE of the top box's score over 10 bins, mean
score of the wrong boxes among the 5 shown), beside the same figures of the prior's weights
(``priors.PRIOR_WEIGHTS``) and cross-validations by image (5 folds) on the fitted part and on every
phrase, on the phrases whose thing is in the picture and on those whose thing is not, and fitted on
one set (refdev or coco8) and judged on the other (transfer). The L2 pull toward the prior is
chosen among ``L2_GRID`` by the one-standard-error rule on stage 1's own objective, cross-validated
by image on the fitted part (``fit_scorer.choose_l2``). ``--write`` writes
``grounding_desktop/resources/scorer_fit.json`` (weights, what they were fitted on, the figures);
``models/fused_scorer.md`` is the card that explains it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Optional

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

HELD_OUT_SHARE = 0.3
# COCO-80 ids (0-indexed, as coco8's YOLO labels have them) of the classes coco8 holds: its README.
COCO80 = {0: "person", 16: "dog", 17: "horse", 20: "elephant", 22: "zebra", 23: "giraffe",
          25: "umbrella", 45: "bowl", 49: "orange", 50: "broccoli", 58: "potted plant", 75: "vase"}
MIN_AREA = 0.01            # generated phrases only for boxes covering this share of the photo
SIDE_GAP = 0.1             # "on the left" only when the outer box's centre is this share of the width apart
L2_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)  # the L2 pulls cross-validation chooses from
SIZE_RATIO = 1.5           # "the biggest" only when it is this much bigger than the next


def held_out(image: str) -> bool:
    return int(hashlib.sha256(image.encode()).hexdigest()[:8], 16) % 1000 < HELD_OUT_SHARE * 1000


def xyxy_rows(path: Path, root: Path, set_name: str) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            if "xyxy" not in r:
                x, y, w, h = r["bbox_xywh"]
                r["xyxy"] = [x, y, x + w, y + h]
            r["path"] = str(root / r["image"])
            r["set"] = set_name
            rows.append(r)
    return rows


def coco8_generated(root: Path) -> list[dict]:
    from PIL import Image

    rows = []
    for label in sorted((root / "labels").glob("*/*.txt")):
        image = root / "images" / label.parent.name / (label.stem + ".jpg")
        width, height = Image.open(image).size
        by_class = defaultdict(list)
        for line in label.read_text().splitlines():
            c, cx, cy, w, h = (float(v) for v in line.split())
            box = [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height]
            by_class[int(c)].append(box)
        for c, boxes in by_class.items():
            name = COCO80[c]
            rel = f"images/{label.parent.name}/{image.name}"

            def add(phrase, box):
                if (box[2] - box[0]) * (box[3] - box[1]) >= MIN_AREA * width * height:
                    rows.append({"image": rel, "path": str(image), "phrase": phrase, "xyxy": box,
                                 "set": "coco8 generated", "coco80_class": c})
            if len(boxes) == 1:
                add(f"the {name}", boxes[0])
                continue
            for axis, size, first, last in ((0, width, "on the left", "on the right"),
                                            (1, height, "at the top", "at the bottom")):
                centres = sorted(((b[axis] + b[axis + 2]) / 2, i) for i, b in enumerate(boxes))
                if centres[1][0] - centres[0][0] > SIDE_GAP * size:
                    add(f"the {name} {first}", boxes[centres[0][1]])
                if centres[-1][0] - centres[-2][0] > SIDE_GAP * size:
                    add(f"the {name} {last}", boxes[centres[-1][1]])
            areas = sorted(((b[2] - b[0]) * (b[3] - b[1]), i) for i, b in enumerate(boxes))
            if areas[-1][0] > SIZE_RATIO * areas[-2][0]:
                add(f"the biggest {name}", boxes[areas[-1][1]])
            if areas[1][0] > SIZE_RATIO * areas[0][0]:
                add(f"the smallest {name}", boxes[areas[0][1]])
    return rows


def coco8_classes(root: Path) -> dict[str, set]:
    """The COCO-80 classes each coco8 photo holds (its labels), by the photo's path."""
    out = {}
    for label in sorted((root / "labels").glob("*/*.txt")):
        image = root / "images" / label.parent.name / (label.stem + ".jpg")
        out[str(image)] = {int(line.split()[0]) for line in label.read_text().splitlines() if line.strip()}
    return out


def elsewhere(queries: list[dict], rows: list[dict], classes: Optional[dict] = None) -> list[dict]:
    """Each query's phrase on another image of its set where no row names its head noun and, where
    the set's labels say which classes a photo holds (``classes``), none of the query's class (the
    next such image in name order), with no box: nothing there is right ("the rider" is not
    absent from a photo of people on elephants). A score is the probability that a box is right
    whether or not the thing is in the picture (a folder's search, propose)."""
    from grounding_desktop.core.phrase_parse import head_noun

    images = sorted({r["path"]: r["image"] for r in rows}.items(), key=lambda kv: kv[1])
    nouns = defaultdict(set)
    for r in rows:
        nouns[r["path"]].add(head_noun(r["phrase"]))
    out = []
    for r in queries:
        k = [p for p, _ in images].index(r["path"])
        for path, image in images[k + 1:] + images[:k]:
            if head_noun(r["phrase"]) not in nouns[path] and \
                    r.get("coco80_class") not in (classes or {}).get(path, ()):
                out.append({**r, "path": path, "image": image, "xyxy": None})
                break
    return out


def box_iou(boxes: np.ndarray, t: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(boxes[:, 2], t[2]) - np.maximum(boxes[:, 0], t[0]), 0, None)
    iy = np.clip(np.minimum(boxes[:, 3], t[3]) - np.maximum(boxes[:, 1], t[1]), 0, None)
    inter = ix * iy
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + (t[2] - t[0]) * (t[3] - t[1]) - inter, 1e-9)


def teach(g, rows: list[dict]) -> None:
    from grounding_desktop.grounding.scoring.concepts import LabelledBox

    g.concepts.clear()
    by_image = defaultdict(list)
    for i, r in enumerate(rows):
        x0, y0, x1, y1 = r["xyxy"]
        by_image[r["path"]].append(LabelledBox(i + 1, r["phrase"], (x0, y0, x1 - x0, y1 - y0), True))
    for path, boxes in by_image.items():
        g.learn(path, boxes)


def ground(g, rows: list[dict], kind: str, held: bool):
    """A Trial per row (the phrase's regions, their terms and hits)."""
    from grounding_desktop.core.phrase import clean_phrase
    from grounding_desktop.grounding.scoring.fit_scorer import HIT_IOU, Trial
    from grounding_desktop.core.phrase_parse import parse_phrase

    out = []
    for r in rows:
        entry = g.prepared(g.prepare(r["path"]))
        scene, result = g.scored(entry, parse_phrase(clean_phrase(r["phrase"])), held_out=held)
        if r["xyxy"] is None:  # the thing is not in this picture
            hit = np.zeros(len(scene), bool)
        else:
            x0, y0, x1, y1 = r["xyxy"]
            truth = np.array([x0 / entry.scale_x, y0 / entry.scale_y, x1 / entry.scale_x, y1 / entry.scale_y])
            hit = box_iou(scene.boxes, truth) >= HIT_IOU
        out.append(Trial(np.asarray(result.terms, np.float64), hit, r["image"], kind, result.context))
    return out


def collect(args) -> list:
    from grounding_desktop.grounder_factory import make_grounder

    sets = {}
    if args.refdev:
        sets["refdev"] = xyxy_rows(args.refdev / "phrases.jsonl", args.refdev, "refdev")
        sets["refdev few-shot"] = xyxy_rows(args.refdev / "fewshot.jsonl", args.refdev, "refdev few-shot")
    if args.coco8:
        sets["coco8"] = xyxy_rows(args.coco8 / "phrases.jsonl", args.coco8, "coco8")
        sets["coco8 generated"] = coco8_generated(args.coco8)
    g = make_grounder(args.device)
    trials = []
    for name, rows in sets.items():
        queries = [r for r in rows if not r.get("support")]
        g.concepts.clear()
        trials += ground(g, queries, name, held=False)
        classes = coco8_classes(args.coco8) if name.startswith("coco8") else None
        trials += ground(g, elsewhere(queries, rows, classes), name + " absent", held=False)
        teach(g, [r for r in rows if r.get("support")] if name.endswith("few-shot") else rows)
        trials += ground(g, queries, name + " project", held=True)
        print(f"  {name}: {len(queries)} phrases", file=sys.stderr)
    g.concepts.clear()
    return trials


def save(trials, path: Path) -> None:
    np.savez_compressed(path, terms=np.array([t.terms for t in trials], dtype=object),
                        hit=np.array([t.hit for t in trials], dtype=object),
                        context=np.array([t.context_values() for t in trials]),
                        group=np.array([t.group for t in trials]), kind=np.array([t.kind for t in trials]))


def load(path: Path):
    from grounding_desktop.grounding.scoring.fit_scorer import Trial

    d = np.load(path, allow_pickle=True)
    return [Trial(t, h, str(g), str(k), c)
            for t, h, g, k, c in zip(d["terms"], d["hit"], d["group"], d["kind"], d["context"])]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refdev", type=Path)
    ap.add_argument("--coco8", type=Path)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--cache", type=Path, help="keep the grounded trials here (and read them when there)")
    ap.add_argument("--l2", type=float, nargs="+", default=list(L2_GRID),
                    help="the L2 pulls to try; chosen by the one-standard-error rule on the cross-validated ranking loss")
    ap.add_argument("--write", action="store_true", help="write grounding_desktop/resources/scorer_fit.json")
    args = ap.parse_args(argv)

    from grounding_desktop.grounding.scoring import fit_scorer
    from grounding_desktop.grounding.scoring.priors import FIT_FILE, PRIOR_WEIGHTS

    t0 = time.perf_counter()
    if args.cache and args.cache.is_file():
        trials = load(args.cache)
    else:
        trials = collect(args)
        if args.cache:
            save(trials, args.cache)
    print(f"{len(trials)} grounded phrases ({time.perf_counter() - t0:.0f} s)")
    fit_part = [t for t in trials if not held_out(t.group)]
    test_part = [t for t in trials if held_out(t.group)]
    groups = lambda ts: len({t.group for t in ts})  # noqa: E731
    print(f"fit on {len(fit_part)} phrases ({groups(fit_part)} images), "
          f"held out {len(test_part)} ({groups(test_part)} images)")
    t0 = time.perf_counter()
    prior = np.asarray(PRIOR_WEIGHTS.vector())
    l2, tried = fit_scorer.choose_l2(fit_part, args.l2, prior)
    for k, (loss, se) in tried.items():
        print(f"L2 {k:g}: cross-validated ranking loss {loss:.4f} ± {se:.4f} per phrase")
    print(f"L2 {l2:g} chosen ({time.perf_counter() - t0:.0f} s)")
    kinds = sorted({t.kind.replace(" project", "") for t in trials})
    t0 = time.perf_counter()
    fitted = fit_scorer.fit(fit_part, l2=l2,
                            fitted_on=f"{len(fit_part)} grounded phrases on {groups(fit_part)} images "
                                      f"({', '.join(kinds)}; each with no project and with the other rows "
                                      f"of its set taught as boxes; L2 {l2:g})")
    print(f"fit in {time.perf_counter() - t0:.2f} s")
    cv = fit_scorer.cross_validated(fit_part, l2=l2)
    figures = {"held_out": fit_scorer.judge(test_part, fitted).as_dict(),
               "held_out, the prior's weights": fit_scorer.judge(test_part, PRIOR_WEIGHTS).as_dict(),
               "cross-validated by image, fitted part": cv.as_dict(),
               "cross-validated by image, every phrase": fit_scorer.cross_validated(trials, l2=l2).as_dict()}
    present = lambda t: "absent" not in t.kind  # noqa: E731
    absent = lambda t: "absent" in t.kind  # noqa: E731
    for name, which in (("the thing in the picture", present), ("the thing not in the picture", absent)):
        figures[f"held_out, {name}"] = fit_scorer.judge([t for t in test_part if which(t)], fitted).as_dict()
        figures[f"cross-validated by image, every phrase, {name}"] = \
            fit_scorer.cross_validated(trials, l2=l2, judged=which).as_dict()
    # Transfer: fitted on one set's phrases, judged on the other's.
    family = lambda t: t.kind.split()[0]  # noqa: E731
    for source, target in (("refdev", "coco8"), ("coco8", "refdev")):
        other = fit_scorer.fit([t for t in trials if family(t) == source], l2=l2)
        for name, which in (("every phrase", lambda t: True), ("the thing in the picture", present)):
            judged = [t for t in trials if family(t) == target and which(t)]
            if judged:
                figures[f"fitted on {source}, judged on {target}, {name}"] = \
                    fit_scorer.judge(judged, other).as_dict()
    for kind in sorted({t.kind for t in test_part}):
        figures[f"held_out {kind}"] = fit_scorer.judge([t for t in test_part if t.kind == kind], fitted).as_dict()
    print(json.dumps({"weights": fitted.to_dict(), "figures": figures}, indent=1))
    if args.write:
        FIT_FILE.parent.mkdir(parents=True, exist_ok=True)
        FIT_FILE.write_text(json.dumps({"weights": fitted.to_dict(), "figures": figures}, indent=1) + "\n")
        print(f"wrote {FIT_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
