"""Fit the scorer's fused weights (``priors.FusedWeights``) on grounded phrases and write the shipped
file, with figures on images the fit never saw.

    .venv/bin/python benchmarks/fit_scorer.py --refdev ../shared/data/refdev --coco8 ../shared/data/coco8 \
        [--opencv-data OPENCV_DATA] [--cache /tmp/fit_trials.npz] [--write]

Phrases (every one has exactly one right box):
- refdev ``phrases.jsonl`` (composites; ImageNet and open nouns) and ``fewshot.jsonl`` (the queries);
- coco8 ``phrases.jsonl`` (real photos) and phrases made here from its COCO boxes: "the <class>" for
  a class with one box in the photo; for the outer one of several, "the <class> on the left / on the
  right / at the top / at the bottom", and "the biggest / smallest <class>" where it clearly is;
- with ``--opencv-data`` (opencv-doc's examples/data, see benchmarks/imagenet_nouns.py), the phrases
  of our own two benchmarks of that data, as those benchmarks define them (imported, not copied):
  benchmarks/imagenet_nouns.py's 17 (whole photos of things COCO does not name, and compositions
  of them), and benchmarks/few_shot_concepts.py's groundings of its first episode (3 support
  pictures per thing: the chessboard photos and the compositions of eight cut-out things), its
  support boxes taught as refdev's few-shot set's are. Those benchmarks then no longer hold out
  the scorer (their held-out images here do).

Each phrase is grounded twice: with no project, and with a project that holds the other rows of its
set as accepted boxes (leave-one-image-out; for a few-shot set, its support boxes), so the fit sees
learned concepts beside the detector and ImageNet; and once more, with no project, on another image
of its set that does not hold it ("absent"), so the score learns how little a best box is worth
where the thing is not there; and on that picture once more with the project ("project absent":
what proposing a taught phrase over a folder asks of every other picture). Those last ones are
fitted on only by the calibration for a folder (``FusedWeights.folder``, what a folder's propose and
search score with), which is fitted on every trial; the calibration for a picture the user chose is
fitted on the others. Every region of the phrase's image gives its
evidence terms (``Grounder.scored``) and whether it hits the box (IoU >= 0.5).

A fixed share of the images of each set (by a hash of the name) is held out: the fit never sees it,
and its figures are printed (Acc@0.5 of the top box, ECE of the top box's score over 10 bins, mean
score of the wrong boxes among the 5 shown), beside the same figures of the prior's weights
(``priors.PRIOR_WEIGHTS``) and of the fit shipped now (``scorer_fit.json`` as the run found it), and
cross-validations by image (5 folds) on the fitted part and on every phrase, on the phrases whose
thing is in the picture and on those whose thing is not, on each family of sets (refdev, coco8,
imagenet, few-shot) and on refdev + coco8 together (every phrase fitted on); and fitted on one
family and judged on another (transfer: refdev and coco8 each way, and each family judged by a fit
on all the others). With sets beyond refdev and coco8, a gate compares refdev + coco8's figures
fitted on them alone and on every set (``gate``): ship a fit with further sets only where it says
they help. The L2 pull toward the prior is chosen among ``L2_GRID`` by the one-standard-error rule
on stage 1's own objective, cross-validated by image on the fitted part (``fit_scorer.choose_l2``).
``--write`` writes ``grounding_desktop/resources/scorer_fit.json`` (weights, what they were fitted
on, the figures); ``models/fused_scorer.md`` is the card that explains it. With ``--cache``, only
the sets the cache lacks are grounded (and added to it); a run judges only the sets its options name.
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
sys.path.insert(0, str(REPO / "benchmarks"))

from refexp_rows import read_rows  # noqa: E402

HELD_OUT_SHARE = 0.3
# COCO-80 ids (0-indexed, as coco8's YOLO labels have them) of the classes coco8 holds: its README.
COCO80 = {0: "person", 16: "dog", 17: "horse", 20: "elephant", 22: "zebra", 23: "giraffe",
          25: "umbrella", 45: "bowl", 49: "orange", 50: "broccoli", 58: "potted plant", 75: "vase"}
MIN_AREA = 0.01            # generated phrases only for boxes covering this share of the photo
SIDE_GAP = 0.1             # "on the left" only when the outer box's centre is this share of the width apart
L2_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)  # the L2 pulls cross-validation chooses from
SIZE_RATIO = 1.5           # "the biggest" only when it is this much bigger than the next
FEW_SHOT_SUPPORT = 3       # support pictures per thing of few_shot_concepts.py's set (its default)
DEVELOPMENT = ("refdev", "coco8")  # the families whose figures a new set must not worsen


def held_out(image: str) -> bool:
    return int(hashlib.sha256(image.encode()).hexdigest()[:8], 16) % 1000 < HELD_OUT_SHARE * 1000


def xyxy_rows(path: Path, root: Path, set_name: str) -> list[dict]:
    rows = read_rows(path)
    for r in rows:
        r["path"] = str(root / r["image"])
        r["set"] = set_name
        r.setdefault("thing", r.get("coco80_class"))
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
                                 "set": "coco8 generated", "thing": c})
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


def opencv_rows(data: Path, made: Path) -> dict[str, tuple[list[dict], dict]]:
    """The sets of benchmarks/imagenet_nouns.py and benchmarks/few_shot_concepts.py (its first
    episode; support rows marked ``"support"``), their pictures made in ``made``, each with what
    every picture holds ({path: {phrase}}): {set name: (rows, holds)}."""
    import few_shot_concepts
    import imagenet_nouns

    def row(path: Path, phrase: str, box, set_name: str, support: bool = False) -> dict:
        x, y, w, h = box
        return {"image": f"{set_name}/{path.name}", "path": str(path), "phrase": phrase,
                "xyxy": [x, y, x + w, y + h], "set": set_name, "thing": phrase, "support": support}

    for sub in ("imagenet", "few-shot"):
        (made / sub).mkdir(parents=True, exist_ok=True)
    nouns = [row(path, phrase, box, "imagenet nouns")
             for path, phrase, box in imagenet_nouns.cases(data, made / "imagenet")]
    noun_holds = defaultdict(set)
    for r in nouns:
        noun_holds[r["path"]].add(r["phrase"])
    holds: dict = {}
    few = []
    for phrase, items in few_shot_concepts.things(data, made / "few-shot", holds).items():
        support, queries = few_shot_concepts.episodes(items, FEW_SHOT_SUPPORT, 1)[0]
        few += [row(Path(p), phrase, b, "few-shot concepts", True) for p, b in support]
        few += [row(Path(p), phrase, b, "few-shot concepts") for p, b in queries]
    return {"imagenet nouns": (nouns, dict(noun_holds)), "few-shot concepts": (few, holds)}


def elsewhere(queries: list[dict], rows: list[dict], holds: Optional[dict] = None) -> list[dict]:
    """Each query's phrase on another image of its set where no row names its head noun and, where
    the set says what each picture holds (``holds``: {path: {thing}}), not the query's ``thing``
    (the next such image in name order), with no box: nothing there is right ("the rider" is not
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
            if head_noun(r["phrase"]) not in nouns[path] and r.get("thing") not in (holds or {}).get(path, ()):
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
        out.append(Trial(np.asarray(result.terms, np.float64), hit, r["image"], kind, result.context,
                         np.asarray(scene.boxes, np.float64), np.asarray(result.evidence) > 0))
    return out


def set_names(args) -> list[str]:
    """The sets the options name."""
    return ((["refdev", "refdev few-shot"] if args.refdev else [])
            + (["coco8", "coco8 generated"] if args.coco8 else [])
            + (["imagenet nouns", "few-shot concepts"] if args.opencv_data else []))


def set_of(trial) -> str:
    return trial.kind.removesuffix(" absent").removesuffix(" project")  # "refdev project absent": refdev


def family(trial) -> str:
    return trial.kind.split()[0]


def collect(args, names: list[str]) -> list:
    """The trials of the sets ``names``: each set's phrases with no project, on a picture without
    their thing, and with the set taught (its support rows where it has them, else every row)."""
    import tempfile

    from grounding_desktop.grounder_factory import make_grounder

    sets = {}
    if args.refdev:
        sets["refdev"] = (xyxy_rows(args.refdev / "phrases.jsonl", args.refdev, "refdev"), None)
        sets["refdev few-shot"] = (xyxy_rows(args.refdev / "fewshot.jsonl", args.refdev, "refdev few-shot"), None)
    if args.coco8:
        classes = coco8_classes(args.coco8)
        sets["coco8"] = (xyxy_rows(args.coco8 / "phrases.jsonl", args.coco8, "coco8"), classes)
        sets["coco8 generated"] = (coco8_generated(args.coco8), classes)
    if args.opencv_data and {"imagenet nouns", "few-shot concepts"} & set(names):
        sets.update(opencv_rows(args.opencv_data, Path(tempfile.mkdtemp(prefix="fit-scorer-"))))
    g = make_grounder(args.device)
    trials = []
    for name in names:
        rows, holds = sets[name]
        queries = [r for r in rows if not r.get("support")]
        support = [r for r in rows if r.get("support")]
        g.concepts.clear()
        trials += ground(g, queries, name, held=False)
        trials += ground(g, elsewhere(queries, rows, holds), name + " absent", held=False)
        teach(g, support or rows)
        trials += ground(g, queries, name + " project", held=True)
        trials += ground(g, elsewhere(queries, rows, holds), name + " project absent", held=True)
        print(f"  {name}: {len(queries)} phrases", file=sys.stderr)
    g.concepts.clear()
    return trials


def save(trials, path: Path) -> None:
    np.savez_compressed(path, terms=np.array([t.terms for t in trials], dtype=object),
                        hit=np.array([t.hit for t in trials], dtype=object),
                        context=np.array([t.context_values() for t in trials]),
                        group=np.array([t.group for t in trials]), kind=np.array([t.kind for t in trials]),
                        boxes=np.array([t.boxes for t in trials], dtype=object),
                        proposable=np.array([t.proposable for t in trials], dtype=object))


def load(path: Path):
    from grounding_desktop.grounding.scoring.fit_scorer import Trial

    d = np.load(path, allow_pickle=True)
    if "boxes" not in d:
        raise SystemExit(f"{path}: made before trials kept their boxes; ground again (a new --cache file)")
    return [Trial(t, h, str(g), str(k), c, b, p) for t, h, g, k, c, b, p in
            zip(d["terms"], d["hit"], d["group"], d["kind"], d["context"], d["boxes"], d["proposable"])]


def gate(trials: list, figures: dict, grid: list, prior: np.ndarray) -> str:
    """Whether sets beyond refdev and coco8 help the fit there: refdev + coco8's figures, cross-validated
    by image over all their phrases and on their held-out images, fitted on them alone (L2 chosen
    the same way) against fitted on every set (``figures``; added to it). A set is worth shipping
    only where neither Acc@0.5 nor ECE gets worse. Returns the lines that say so."""
    from grounding_desktop.grounding.scoring import fit_scorer

    name = " + ".join(DEVELOPMENT)
    alone = [t for t in trials if family(t) in DEVELOPMENT]
    fit_part = [t for t in alone if not held_out(t.group)]
    l2, _ = fit_scorer.choose_l2(fit_part, grid, prior)
    figures[f"cross-validated by image, {name}, every phrase, fitted on them alone"] = \
        fit_scorer.cross_validated(alone, l2=l2).as_dict()
    figures[f"held_out, {name}, fitted on them alone"] = \
        fit_scorer.judge([t for t in alone if held_out(t.group)], fit_scorer.fit(fit_part, l2=l2)).as_dict()
    worse, lines = [], []
    for before, after, what in ((f"cross-validated by image, {name}, every phrase, fitted on them alone",
                                 f"cross-validated by image, {name}, every phrase", "cross-validated"),
                                (f"held_out, {name}, fitted on them alone", f"held_out, {name}", "held out")):
        b, a = figures[before], figures[after]
        lines.append(f"{name}, {what}: Acc@0.5 {100 * b['accuracy']:.1f} -> {100 * a['accuracy']:.1f} %, "
                     f"ECE {b['ece']:.3f} -> {a['ece']:.3f} (fitted on them alone, L2 {l2:g} -> on every set)")
        worse += [f"{label} {what}" for k, label, sign in (("accuracy", "Acc@0.5", 1), ("ece", "ECE", -1))
                  if sign * (a[k] - b[k]) < 0]
    lines.append(f"the further sets {'make ' + ', '.join(worse) + ' worse: do not ship' if worse else 'help'}")
    return "".join(line + "\n" for line in lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refdev", type=Path)
    ap.add_argument("--coco8", type=Path)
    ap.add_argument("--opencv-data", type=Path,
                    help="opencv-doc's examples/data: add the phrases of benchmarks/imagenet_nouns.py "
                         "and few_shot_concepts.py")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--cache", type=Path, help="keep the grounded trials here (and read them when there)")
    ap.add_argument("--l2", type=float, nargs="+", default=list(L2_GRID),
                    help="the L2 pulls to try; chosen by the one-standard-error rule on the cross-validated ranking loss")
    ap.add_argument("--write", action="store_true", help="write grounding_desktop/resources/scorer_fit.json")
    args = ap.parse_args(argv)

    from grounding_desktop.grounding.scoring import fit_scorer
    from grounding_desktop.grounding.scoring.priors import FIT_FILE, PRIOR_WEIGHTS, shipped_weights

    t0 = time.perf_counter()
    names = set_names(args)
    cached = load(args.cache) if args.cache and args.cache.is_file() else []
    taught_absent = lambda t: t.kind.endswith(" project absent")  # noqa: E731
    # a set cached without its taught phrases on pictures without their thing is grounded again
    have = {set_of(t) for t in cached} & {set_of(t) for t in cached if taught_absent(t)}
    missing = [n for n in names if n not in have]
    if missing:  # grounded (again) as the options ask
        cached = [t for t in cached if set_of(t) not in missing] + collect(args, missing)
        if args.cache:
            save(cached, args.cache)
    trials = [t for t in cached if set_of(t) in names and not taught_absent(t)]
    taught = [t for t in cached if set_of(t) in names and taught_absent(t)]
    print(f"{len(trials)} grounded phrases and {len(taught)} taught ones on pictures without their thing "
          f"({time.perf_counter() - t0:.0f} s)")
    fit_part = [t for t in trials if not held_out(t.group)]
    test_part = [t for t in trials if held_out(t.group)]
    taught_fit = [t for t in taught if not held_out(t.group)]
    taught_test = [t for t in taught if held_out(t.group)]
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
    fitted = fit_scorer.fit(fit_part, l2=l2, elsewhere=taught_fit,
                            fitted_on=f"{len(fit_part)} grounded phrases on {groups(fit_part)} images "
                                      f"({', '.join(kinds)}; each with no project and with the other rows "
                                      f"of its set taught as boxes; L2 {l2:g}); the calibration for a folder "
                                      f"also on {len(taught_fit)} taught phrases on pictures without their thing")
    print(f"fit in {time.perf_counter() - t0:.2f} s")
    cv = fit_scorer.cross_validated(fit_part, l2=l2)
    shipped = shipped_weights()
    figures = {"held_out": fit_scorer.judge(test_part, fitted).as_dict(),
               "held_out, the prior's weights": fit_scorer.judge(test_part, PRIOR_WEIGHTS).as_dict(),
               "held_out, the shipped fit": fit_scorer.judge(test_part, shipped).as_dict(),
               "cross-validated by image, fitted part": cv.as_dict(),
               "cross-validated by image, every phrase": fit_scorer.cross_validated(trials, l2=l2).as_dict()}
    # The calibration for a folder: judged on every trial, taught phrases on pictures without their
    # thing too, beside the calibration for a picture the user chose on the same trials.
    present = lambda t: "absent" not in t.kind  # noqa: E731
    absent = lambda t: "absent" in t.kind  # noqa: E731
    cross = fit_scorer.cross_fits(trials, l2=l2, elsewhere=taught)
    for name, folder in (("the calibration for a folder", True), ("the calibration for a chosen picture", False)):
        calibrated = (lambda f: f.asked_of_folder) if folder else (lambda f: f)
        figures[f"{name}, held_out, every trial"] = fit_scorer.judge(test_part + taught_test, calibrated(fitted)).as_dict()
        figures[f"{name}, held_out, taught phrases on pictures without their thing"] = fit_scorer.judge(
            taught_test, calibrated(fitted)).as_dict()
        for part, which in (("every trial", lambda t: True), ("taught phrases on pictures without their thing", taught_absent),
                            ("the thing in the picture", present)):
            figures[f"{name}, cross-validated by image, {part}"] = fit_scorer.pooled(
                [[t for t in held if which(t)] for held in cross[0]], [calibrated(f) for f in cross[1]]).as_dict()
    for name, which in (("the thing in the picture", present), ("the thing not in the picture", absent)):
        figures[f"held_out, {name}"] = fit_scorer.judge([t for t in test_part if which(t)], fitted).as_dict()
        figures[f"cross-validated by image, every phrase, {name}"] = \
            fit_scorer.cross_validated(trials, l2=l2, judged=which).as_dict()
    # Per family, and refdev + coco8 together (what a new set must not worsen), every phrase fitted on.
    families = sorted({family(t) for t in trials})
    development = lambda t: family(t) in DEVELOPMENT  # noqa: E731
    judged_on = [(f, lambda t, f=f: family(t) == f) for f in families] + [(" + ".join(DEVELOPMENT), development)]
    for name, which in judged_on:
        figures[f"held_out, {name}"] = fit_scorer.judge([t for t in test_part if which(t)], fitted).as_dict()
        figures[f"held_out, {name}, the shipped fit"] = \
            fit_scorer.judge([t for t in test_part if which(t)], shipped).as_dict()
        for part, both in (("every phrase", which),
                           ("the thing in the picture", lambda t, w=which: w(t) and present(t))):
            figures[f"cross-validated by image, {name}, {part}"] = \
                fit_scorer.cross_validated(trials, l2=l2, judged=both).as_dict()
    # Transfer: fitted on one family's phrases (or on every other family's), judged on another's.
    pairs = [(["refdev"], "coco8"), (["coco8"], "refdev")] + \
        [([f for f in families if f != target], target) for target in families if len(families) > 2]
    for sources, target in pairs:
        if not all(f in families for f in [*sources, target]):
            continue
        other = fit_scorer.fit([t for t in trials if family(t) in sources], l2=l2)
        source = sources[0] if len(sources) == 1 else "every other family"
        for name, which in (("every phrase", lambda t: True), ("the thing in the picture", present)):
            judged = [t for t in trials if family(t) == target and which(t)]
            if judged:
                figures[f"fitted on {source}, judged on {target}, {name}"] = \
                    fit_scorer.judge(judged, other).as_dict()
    for kind in sorted({t.kind for t in test_part}):
        figures[f"held_out {kind}"] = fit_scorer.judge([t for t in test_part if t.kind == kind], fitted).as_dict()
    verdict = gate(trials, figures, args.l2, prior) if set(families) > set(DEVELOPMENT) else ""
    print(json.dumps({"weights": fitted.to_dict(), "figures": figures}, indent=1))
    print(verdict, end="")
    if args.write:
        FIT_FILE.parent.mkdir(parents=True, exist_ok=True)
        FIT_FILE.write_text(json.dumps({"weights": fitted.to_dict(), "figures": figures}, indent=1) + "\n")
        print(f"wrote {FIT_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
