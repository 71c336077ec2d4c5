"""Choose the concept heads' constants by cross-validation on few_shot_concepts.py's data.

    .venv/bin/python benchmarks/fit_concept_heads.py OPENCV_DATA [--support 3] [--episodes 2]

The same episodes as benchmarks/few_shot_concepts.py (K support pictures per thing, the phrase
grounded on the others: every query is an image the head did not see), run once per setting of
``concept_head``'s classifier prior (CLASSIFIER_C), the box regressor's ridge penalty
(REGRESSOR_ALPHA), IoU-graded labels of the jittered copies (SOFT_LABELS), learning from the
boxes seen mirrored (MIRRORED_EXAMPLES) and how many jittered copies each box is embedded with
(``--jitters``, a multiple of the JITTER_* counts: the support boxes are embedded again per value);
the images are prepared once. Prints Acc@0.5
and mean IoU per setting, best (mean IoU, then Acc@0.5) last. refdev is never used here: it stays
held out (benchmarks/refdev_fewshot.py).
"""
from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("opencv_data", type=Path, help="opencv-doc's examples/data folder")
    ap.add_argument("--support", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=2)
    ap.add_argument("--c", type=float, nargs="+", default=[0.3, 1.0, 3.0, 10.0])
    ap.add_argument("--alpha", type=float, nargs="+", default=[1.0])
    ap.add_argument("--soft", type=int, nargs="+", default=[1], help="1: jitters labelled by their IoU")
    ap.add_argument("--mirrored", type=int, nargs="+", default=[1], help="1: boxes seen mirrored teach too")
    ap.add_argument("--jitters", type=float, nargs="+", default=[1.0],
                    help="jittered copies per box, a multiple of concept_head's JITTER_* counts")
    args = ap.parse_args(argv)

    from few_shot_concepts import episodes as drawn, things
    from grounding_desktop.grounder_factory import make_grounder
    from grounding_desktop.grounding.scoring import concept_head
    from grounding_desktop.grounding.scoring.concepts import LabelledBox

    sets = things(args.opencv_data, Path(tempfile.mkdtemp(prefix="few-shot-")))
    g = make_grounder("cpu", cache_size=256)
    g.load()
    for items in sets.values():
        for path, _ in items:
            g.prepare_features(str(path))
    # The same support sets for every setting; the embeddings of each support box made once.
    episodes = []
    for phrase, items in sets.items():
        episodes += [(phrase, support, queries) for support, queries in drawn(items, args.support, args.episodes)]
    counts = {k: getattr(concept_head, k) for k in ("JITTER_POSITIVES", "JITTER_REGRESS", "JITTER_NEGATIVES")}
    rows = []
    for jitters in args.jitters:
        # The context each support box is embedded with, made once per setting of it.
        for k, n in counts.items():
            setattr(concept_head, k, round(n * jitters))
        taught: dict = {}
        for e, (phrase, support, _) in enumerate(episodes):
            g.concepts.clear()
            for k, (path, box) in enumerate(support):
                made = g.learn(str(path), [LabelledBox(1000 * e + k, phrase, box, accepted=True)])
                taught[(e, k)] = made[0]
        rows += heads(args, g, episodes, taught, f"jitters x{jitters:g}")
    best = max(rows)
    print(f"best: {best[2]} (Acc@0.5 {100 * best[1]:.1f} %, mean IoU {best[0]:.3f})")
    return 0


def heads(args, g, episodes, taught, context: str) -> list[tuple]:
    """(mean IoU, Acc@0.5, setting) of each setting of the heads' constants, on supports embedded
    once (``taught``)."""
    import numpy as np

    from grounding_desktop.core.geometry import iou_xywh
    from grounding_desktop.grounding.scoring import concept_head
    from grounding_desktop.grounding.scoring.concepts import LabelledBox

    rows = []
    for c, alpha, soft, mirrored in itertools.product(args.c, args.alpha, args.soft, args.mirrored):
        concept_head.CLASSIFIER_C, concept_head.REGRESSOR_ALPHA = c, alpha
        concept_head.SOFT_LABELS, concept_head.MIRRORED_EXAMPLES = bool(soft), bool(mirrored)
        ious = []
        for e, (phrase, support, queries) in enumerate(episodes):
            g.concepts.clear()
            for k, (path, box) in enumerate(support):
                ex = taught[(e, k)]
                g.learn(str(path), [LabelledBox(ex.example_id, phrase, box, True, ex.embedding, ex.context)])
            for path, box in queries:
                top = g.propose(str(path), phrase, top_k=1)
                ious.append(iou_xywh(top[0].bbox, box) if top else 0.0)
        ious = np.asarray(ious)
        setting = f"{context} C {c:g} alpha {alpha:g} soft {soft} mirrored {mirrored}"
        rows.append((float(ious.mean()), float((ious >= 0.5).mean()), setting))
        print(f"{setting}: Acc@0.5 {100 * rows[-1][1]:5.1f} %  mean IoU {rows[-1][0]:.3f} "
              f"({len(ious)} groundings)", flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
