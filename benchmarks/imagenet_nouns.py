"""Phrases about things COCO's 80 classes do not name, found through ImageNet recognition of
region crops: top-1 box right (IoU >= 0.5) on photos of non-COCO things.

    .venv/bin/python benchmarks/imagenet_nouns.py OPENCV_DATA [--device cpu]

OPENCV_DATA is the ``examples/data`` folder of Debian's opencv-doc package (not shipped here):
    cd /tmp && apt-get download opencv-doc && dpkg -x opencv-doc_*.deb /tmp/opencv-doc
    OPENCV_DATA=/tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data

Two kinds of cases: whole photos with the box drawn by hand below (a squirrel on a branch, a
lighter among a pencil, a coin and two lids, a lemon among other fruit, ...), and compositions
made here of three such things cut from those photos onto another photo, so the phrase has to pick
its thing among other non-COCO things. Prints each phrase with the label that matched, the IoU,
and Acc@0.5 over all (target: >= 80 %).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SAMPLES = REPO / "resources" / "samples"
# file (in OPENCV_DATA, or "samples/..." in the repo), phrase, box x, y, w, h (drawn by hand)
PHOTOS = [
    ("squirrel_cls.jpg", "the squirrel", (130, 105, 230, 250)),
    ("butterfly.jpg", "the butterfly", (5, 15, 483, 295)),
    ("stuff.jpg", "the lighter", (312, 312, 46, 150)),
    ("stuff.jpg", "the pencil", (55, 88, 285, 167)),
    ("fruits.jpg", "the lemon", (318, 248, 194, 232)),
    ("baboon.jpg", "the baboon", (0, 0, 512, 512)),
    ("samples/coffee.jpg", "the espresso", (172, 15, 240, 285)),
    ("samples/rocket.jpg", "the rocket", (305, 125, 55, 282)),
]
# Things cut out for the compositions: (file, box x0, y0, x1, y1, phrase).
CUTS = [
    ("squirrel_cls.jpg", (120, 95, 370, 365), "the squirrel"),
    ("butterfly.jpg", (0, 10, 493, 320), "the butterfly"),
    ("fruits.jpg", (315, 245, 512, 480), "the lemon"),
    ("stuff.jpg", (300, 300, 370, 470), "the lighter"),
    ("samples/coffee.jpg", (70, 0, 490, 395), "the espresso"),
    ("baboon.jpg", (60, 40, 450, 500), "the baboon"),
]
BACKGROUNDS = ["building.jpg", "leuvenA.jpg", "aero3.jpg"]


def _path(data: Path, name: str) -> Path:
    return SAMPLES / name.split("/", 1)[1] if name.startswith("samples/") else data / name


def compositions(data: Path, out: Path, seed: int = 0) -> list[tuple[Path, str, tuple]]:
    """One 800x600 picture per background with three cut-out things; (file, phrase, box)."""
    from PIL import Image

    rng = random.Random(seed)
    cases = []
    for k, background in enumerate(BACKGROUNDS):
        canvas = Image.open(data / background).convert("RGB").resize((800, 600))
        path = out / f"composition_{k}.jpg"
        for j, (name, (x0, y0, x1, y1), phrase) in enumerate(rng.sample(CUTS, 3)):
            with Image.open(_path(data, name)) as im:
                piece = im.convert("RGB").crop((x0, y0, x1, y1))
            scale = rng.uniform(180, 240) / max(piece.size)
            piece = piece.resize((round(piece.width * scale), round(piece.height * scale)))
            x = 20 + j * 260 + rng.randint(0, 240 - min(piece.width, 240))
            y = rng.randint(20, 600 - piece.height - 20)
            canvas.paste(piece, (x, y))
            cases.append((path, phrase, (x, y, piece.width, piece.height)))
        canvas.save(path, quality=92)
    return cases


def cases(data: Path, out: Path) -> list[tuple[Path, str, tuple]]:
    """Every case, (file, phrase, box x, y, w, h): the photos and the compositions (made in ``out``)."""
    return [(_path(data, f), p, b) for f, p, b in PHOTOS] + compositions(data, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("opencv_data", type=Path, help="opencv-doc's examples/data folder")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    if not (args.opencv_data / "squirrel_cls.jpg").is_file():
        print(f"{args.opencv_data}: not opencv-doc's examples/data folder (see --help)", file=sys.stderr)
        return 2

    from grounding_desktop.core.geometry import iou_xywh
    from grounding_desktop.grounder_factory import make_grounder

    every = cases(args.opencv_data, Path(tempfile.mkdtemp(prefix="imagenet-nouns-")))
    g = make_grounder(args.device)
    g.load()
    hits, t0 = 0, time.perf_counter()
    for path, phrase, box in every:
        props = g.propose(str(path), phrase, top_k=1)
        iou = iou_xywh(props[0].bbox, box) if props else 0.0
        hits += iou >= 0.5
        how = props[0].explanation if props else "no proposal"
        print(f"{'hit ' if iou >= 0.5 else 'MISS'} IoU {iou:.2f}  {path.name:<22} {phrase!r:<18} {how}")
    n = len(every)
    print(f"Acc@0.5 {hits}/{n} = {100 * hits / n:.1f} %  (target >= 80 %), "
          f"{time.perf_counter() - t0:.1f} s on {g.device}; model {g.model_version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
