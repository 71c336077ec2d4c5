"""Concepts learned from a few boxes: label a thing on K pictures, ground it on the others.

    .venv/bin/python benchmarks/few_shot_concepts.py OPENCV_DATA [--support 3] [--episodes 2]

OPENCV_DATA is the ``examples/data`` folder of Debian's opencv-doc package (not shipped here):
    cd /tmp && apt-get download opencv-doc && dpkg -x opencv-doc_*.deb /tmp/opencv-doc
    OPENCV_DATA=/tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data

Three sets, every box known without guessing:
- "the chessboard": the 26 calibration photos (left01..14, right01..14) where OpenCV finds the
  9x6 corners; the box is the board, one square beyond the outer corners.
- eight things cut from opencv-doc photos with some of their own surroundings (a lighter, two lids,
  a toy, a wheel, a tea box, a cartoon fish, a butterfly) and pasted, at random places and sizes,
  with two other such things, on other photos: 8 pictures each, made here with a fixed seed.
- pairs (one box, one other picture): the tea box in box.png / box_in_scene.png (box located once
  with SIFT + homography), the graffiti chicken in graf1 / graf3 (through the H1to3p homography
  opencv-doc ships), the flower pot in aloeL / aloeR and the house in leuvenA / leuvenB (drawn by
  hand), the green toy in rubberwhale1 / 2.

Each episode picks K support pictures per thing (seeded), teaches the model their boxes
(``Grounder.learn``) and grounds the phrase on every other picture. Prints Acc@0.5 and mean IoU of
the top box per thing and over all (target: >= 90 % and >= 0.75 with 3 support pictures), the
pairs apart (one support picture), and median times of one learn and one cold proposal.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# name -> (file, the thing's box x0, y0, x1, y1 in that file)
THINGS = {
    "lighter": ("stuff.jpg", (312, 312, 358, 462)),
    "white lid": ("stuff.jpg", (335, 125, 455, 248)),
    "black lid": ("stuff.jpg", (190, 15, 270, 100)),
    "green toy": ("rubberwhale1.png", (218, 88, 320, 185)),
    "orange wheel": ("rubberwhale1.png", (70, 295, 180, 388)),
    "tea box": ("box.png", (0, 0, 324, 223)),
    "fish": ("HappyFish.jpg", (0, 0, 259, 194)),
    "butterfly": ("butterfly.jpg", (60, 40, 440, 320)),
}
BACKGROUNDS = ["building.jpg", "home.jpg", "leuvenA.jpg", "leuvenB.jpg", "aero1.jpg", "aero3.jpg",
               "starry_night.jpg", "board.jpg", "fruits.jpg", "messi5.jpg", "baboon.jpg", "graf1.png",
               "pic1.png", "ela_original.jpg", "sudoku.png", "orange.jpg"]
# phrase, support file and box (x, y, w, h), query file and box
PAIRS = [
    ("the tea box", "box.png", (0, 0, 324, 223), "box_in_scene.png", (89.5, 160.9, 195.3, 137.7)),
    ("the flower pot", "aloeL.jpg", (710, 800, 360, 280), "aloeR.jpg", (610, 800, 360, 280)),
    ("the house", "leuvenA.jpg", (265, 165, 150, 185), "leuvenB.jpg", (265, 165, 150, 185)),
    ("the green toy", "rubberwhale1.png", (218, 88, 102, 97), "rubberwhale2.png", (218, 88, 102, 97)),
]
GRAF_CHICKEN = (445, 165, 660, 510)  # x0, y0, x1, y1 in graf1.png


def chessboards(data: Path) -> list[tuple[Path, tuple]]:
    import cv2
    import numpy as np

    out = []
    for side in ("left", "right"):
        for i in (*range(1, 10), *range(11, 15)):
            path = data / f"{side}{i:02d}.jpg"
            grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            found, corners = cv2.findChessboardCorners(grey, (9, 6))
            if not found:
                continue
            c = corners.reshape(6, 9, 2).astype(np.float64)
            rows = np.concatenate([2 * c[:1] - c[1:2], c, 2 * c[-1:] - c[-2:-1]])
            full = np.concatenate([2 * rows[:, :1] - rows[:, 1:2], rows,
                                   2 * rows[:, -1:] - rows[:, -2:-1]], 1).reshape(-1, 2)
            x0, y0 = np.maximum(full.min(0), 0)
            x1, y1 = np.minimum(full.max(0), grey.shape[::-1])
            out.append((path, (float(x0), float(y0), float(x1 - x0), float(y1 - y0))))
    return out


def compositions(data: Path, out: Path, per_thing: int = 8, seed: int = 0,
                 holds: Optional[dict] = None) -> dict[str, list]:
    """``per_thing`` pictures of each of THINGS, each with two other things; {phrase: [(path, box)]}.
    ``holds``, where given, gets each picture's path (str) -> the phrases of the three things on it."""
    from PIL import Image, ImageEnhance

    rng = random.Random(seed)
    cases: dict[str, list] = {}
    names = list(THINGS)
    for name in names:
        for k in range(per_thing):
            canvas = Image.open(data / rng.choice(BACKGROUNDS)).convert("RGB")
            s = 640 / max(canvas.size)
            canvas = canvas.resize((round(canvas.width * s), round(canvas.height * s)))
            placed, truth = [], None
            pasted = [name] + rng.sample([n for n in names if n != name], 2)
            for thing in pasted:
                file, (x0, y0, x1, y1) = THINGS[thing]
                with Image.open(data / file) as im:
                    src = im.convert("RGB")
                w, h = x1 - x0, y1 - y0  # keep up to a quarter of the thing's size around it
                m = [min(x0, rng.uniform(0, .25) * w), min(y0, rng.uniform(0, .25) * h),
                     min(src.width - x1, rng.uniform(0, .25) * w), min(src.height - y1, rng.uniform(0, .25) * h)]
                piece = src.crop((round(x0 - m[0]), round(y0 - m[1]), round(x1 + m[2]), round(y1 + m[3])))
                scale = rng.uniform(0.15, 0.35) * canvas.width / max(piece.size)
                piece = piece.resize((max(8, round(piece.width * scale)), max(8, round(piece.height * scale))))
                piece = ImageEnhance.Brightness(piece).enhance(rng.uniform(0.8, 1.2))
                for _ in range(50):  # a place that overlaps nothing placed yet
                    x = rng.randint(0, max(0, canvas.width - piece.width))
                    y = rng.randint(0, max(0, canvas.height - piece.height))
                    if all(x + piece.width < px or px + pw < x or y + piece.height < py or py + ph < y
                           for px, py, pw, ph in placed):
                        break
                canvas.paste(piece, (x, y))
                placed.append((x, y, piece.width, piece.height))
                if truth is None:
                    truth = (x + round(m[0]) * scale, y + round(m[1]) * scale, w * scale, h * scale)
            path = out / f"{name.replace(' ', '_')}_{k}.jpg"
            canvas.save(path, quality=92)
            cases.setdefault(f"the {name}", []).append((path, truth))
            if holds is not None:
                holds[str(path)] = {f"the {thing}" for thing in pasted}
    return cases


def things(data: Path, out: Path, holds: Optional[dict] = None) -> dict[str, list]:
    """Every thing's pictures, {phrase: [(path, box x, y, w, h)]}: the chessboard photos and the
    compositions (made in ``out``); ``holds`` as in ``compositions``."""
    sets = {"the chessboard": chessboards(data)}
    sets.update(compositions(data, out, holds=holds))
    if holds is not None:
        holds.update({str(path): {"the chessboard"} for path, _ in sets["the chessboard"]})
    return sets


def episodes(items: list, support: int, count: int) -> list[tuple[list, list]]:
    """``count`` draws (seeded, the same every run) of ``support`` of ``items`` to teach, with the
    others to ground: [(support, queries)]."""
    import numpy as np

    rng = np.random.RandomState(0)
    out = []
    for _ in range(count):
        order = rng.permutation(len(items))
        out.append(([items[i] for i in order[:support]], [items[i] for i in order[support:]]))
    return out


def graffiti_pair(data: Path) -> tuple:
    """The chicken of graf1.png and where the homography opencv-doc ships puts it in graf3.png."""
    import cv2
    import numpy as np

    fs = cv2.FileStorage(str(data / "H1to3p.xml"), cv2.FILE_STORAGE_READ)
    homography = fs.getFirstTopLevelNode().mat()
    x0, y0, x1, y1 = GRAF_CHICKEN
    corners = np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]).reshape(-1, 1, 2)
    moved = cv2.perspectiveTransform(corners, homography).reshape(-1, 2)
    (qx0, qy0), (qx1, qy1) = moved.min(0), moved.max(0)
    return ("the chicken", "graf1.png", (x0, y0, x1 - x0, y1 - y0), "graf3.png",
            (float(qx0), float(qy0), float(qx1 - qx0), float(qy1 - qy0)))


def expected_calibration_error(scores, hits, bins: int = 10) -> float:
    """Mean |share of hits - mean score| over equal-width score bins, weighted by their counts."""
    import numpy as np

    scores, hits = np.asarray(scores, float), np.asarray(hits, float)
    which = np.minimum((scores * bins).astype(int), bins - 1)
    return float(sum(abs(hits[which == b].mean() - scores[which == b].mean()) * (which == b).sum()
                     for b in range(bins) if (which == b).any()) / max(len(scores), 1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("opencv_data", type=Path, help="opencv-doc's examples/data folder")
    ap.add_argument("--support", type=int, default=3, help="support pictures per thing (default 3)")
    ap.add_argument("--episodes", type=int, default=2, help="support sets drawn per thing (default 2)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    if not (args.opencv_data / "box_in_scene.png").is_file():
        print(f"{args.opencv_data}: not opencv-doc's examples/data folder (see --help)", file=sys.stderr)
        return 2

    import numpy as np

    from grounding_desktop.core.geometry import iou_xywh
    from grounding_desktop.grounder_factory import make_grounder
    from grounding_desktop.grounding.scoring.concepts import LabelledBox

    sets = things(args.opencv_data, Path(tempfile.mkdtemp(prefix="few-shot-")))
    g = make_grounder(args.device, cache_size=64)
    g.load()
    learn_ms, propose_ms, scores, example_id = [], [], [], 0

    def episode(phrase, support, queries) -> list[float]:
        nonlocal example_id
        g.concepts.clear()
        for path, box in support:
            example_id += 1
            g.prepare_features(str(path))  # as the app does while the user looks at the picture
            t = time.perf_counter()
            g.learn(str(path), [LabelledBox(example_id, phrase, box, accepted=True)])
            learn_ms.append(1000 * (time.perf_counter() - t))
        ious = []
        for path, box in queries:
            g.forget(str(path))
            t = time.perf_counter()
            top = g.propose(str(path), phrase, top_k=1)
            propose_ms.append(1000 * (time.perf_counter() - t))
            ious.append(iou_xywh(top[0].bbox, box) if top else 0.0)
            scores.append(top[0].score if top else 0.0)
        return ious

    results: dict[str, list[float]] = {}
    for phrase, items in sets.items():
        for support, queries in episodes(items, args.support, args.episodes):
            results.setdefault(phrase, []).extend(episode(phrase, support, queries))
    pairs = {}
    for phrase, s_file, s_box, q_file, q_box in PAIRS + [graffiti_pair(args.opencv_data)]:
        pairs[phrase] = episode(phrase, [(args.opencv_data / s_file, s_box)],
                                [(args.opencv_data / q_file, q_box)])[0]

    every = np.concatenate([np.asarray(v) for v in results.values()])
    top_scores = np.asarray(scores[:every.size])  # the episodes' (the pairs come after)
    hit = every >= 0.5
    summary = {
        "support": args.support,
        "acc50": round(float(np.mean(every >= 0.5)), 4), "mean_iou": round(float(every.mean()), 4),
        "queries": int(every.size),
        "things": {p: {"acc50": round(float(np.mean(np.asarray(v) >= 0.5)), 3),
                       "mean_iou": round(float(np.mean(v)), 3), "queries": len(v)}
                   for p, v in results.items()},
        "pairs_one_support": {p: round(v, 3) for p, v in pairs.items()},
        "score_when_hit": round(float(top_scores[hit].mean()), 3) if hit.any() else None,
        "score_when_missed": round(float(top_scores[~hit].mean()), 3) if (~hit).any() else None,
        "ece_top_box": round(expected_calibration_error(top_scores, hit), 3),
        "learn_ms_median": round(statistics.median(learn_ms), 1),
        "propose_cold_ms_median": round(statistics.median(propose_ms), 1),
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    for phrase, v in summary["things"].items():
        print(f"{phrase:<18} Acc@0.5 {100 * v['acc50']:5.1f} %  mean IoU {v['mean_iou']:.3f}  "
              f"({v['queries']} groundings)")
    print(f"ALL ({args.support} support pictures, {args.episodes} episodes): Acc@0.5 "
          f"{100 * summary['acc50']:.1f} %  mean IoU {summary['mean_iou']:.3f}  over {every.size} "
          f"groundings  (targets >= 90 %, >= 0.75)")
    print(f"top box score: {summary['score_when_hit']} on average when it hits, {summary['score_when_missed']} "
          f"when it misses; expected calibration error {summary['ece_top_box']} (10 bins)")
    print("pairs, one support picture, IoU: " +
          ", ".join(f"{p} {v:.2f}" for p, v in summary["pairs_one_support"].items()))
    print(f"median: learn one box {summary['learn_ms_median']:.1f} ms (feature maps computed "
          f"beforehand, as the app does), cold proposal (prepare + second CNN + search) "
          f"{summary['propose_cold_ms_median']:.0f} ms; device {g.device}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
