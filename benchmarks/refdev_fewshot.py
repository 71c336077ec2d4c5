"""Few-shot concepts on refdev's fewshot.jsonl: label the support boxes, ground the phrase on the rest.

    .venv/bin/python benchmarks/refdev_fewshot.py REFDEV [--json] [--per-grounding] [--absent FOLDER]

REFDEV is the refdev development set (its README says what it is; not shipped here). Each concept
has 10 composites, 3 of them marked ``"support"``: their boxes are taught (``Grounder.learn``), the
phrase is grounded on the other 7. Prints Acc@0.5 and mean IoU of the top box per concept and over
all (targets, issue 20: >= 95 %, >= 0.78), and the mean score of the top box when it hits and when
it misses; ``--per-grounding`` prints why each grounding went as it did (the concept head's
probability of the true box and of the top box, whether any candidate region overlaps the truth by
IoU >= 0.5 at all, and the box regressor's effect); ``--absent FOLDER`` grounds each taught concept on
FOLDER's pictures too, which do not show it, and prints how high the top box scores there and how
often a folder's ``propose`` would store it (scored as a folder's propose scores a picture that may
not hold the thing, ``FusedWeights.folder``; beside it, as for a picture the user chose). A held-out set: nothing here is fitted on it (the heads' constants are chosen by
cross-validation on benchmarks/few_shot_concepts.py's data).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("refdev", type=Path, help="the refdev folder (holds fewshot.jsonl)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--per-grounding", action="store_true",
                    help="print the head's view of each grounding (what a failure comes from)")
    ap.add_argument("--absent", type=Path, metavar="FOLDER",
                    help="also ground each taught concept on FOLDER's pictures, which do not show it "
                         "(e.g. coco8's images folder): the top box's score there, which ought to be low")
    args = ap.parse_args(argv)
    rows_file = args.refdev / "fewshot.jsonl"
    if not rows_file.is_file():
        print(f"{args.refdev}: no fewshot.jsonl (see --help)", file=sys.stderr)
        return 2

    import numpy as np

    from few_shot_concepts import expected_calibration_error
    from refexp_rows import read_rows
    from grounding_desktop.core.geometry import iou_xywh
    from grounding_desktop.grounder_factory import make_grounder
    from grounding_desktop.grounding.scoring.concepts import LabelledBox

    rows = read_rows(rows_file)
    g = make_grounder(args.device, cache_size=32)
    g.load()
    results: dict[str, list[tuple[float, float]]] = {}
    absent = sorted(p for p in args.absent.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")) \
        if args.absent else []
    absent_scores: list[float] = []
    for concept in dict.fromkeys(r["concept"] for r in rows):
        mine = [r for r in rows if r["concept"] == concept]
        g.concepts.clear()
        for i, r in enumerate(r for r in mine if r["support"]):
            x0, y0, x1, y1 = r["xyxy"]
            path = str(args.refdev / r["image"])
            g.learn(path, [LabelledBox(i + 1, r["phrase"], (x0, y0, x1 - x0, y1 - y0), accepted=True)])
        for r in (r for r in mine if not r["support"]):
            x0, y0, x1, y1 = r["xyxy"]
            top = g.propose(str(args.refdev / r["image"]), r["phrase"], top_k=1)
            iou = iou_xywh(top[0].bbox, (x0, y0, x1 - x0, y1 - y0)) if top else 0.0
            results.setdefault(concept, []).append((iou, top[0].score if top else 0.0))
            if args.per_grounding:
                print(f"{Path(r['image']).stem:<18} top IoU {iou:.2f}  " + diagnosis(g, str(args.refdev / r["image"]),
                                                                                r["phrase"], r["xyxy"]))
        for path in absent:
            entry = g.prepared(g.prepare(str(path)))
            scores = [g.propose_prepared(entry, mine[0]["phrase"], top_k=1, folder=folder) for folder in (True, False)]
            absent_scores.append([top[0].score if top else 0.0 for top in scores])
    every = np.array([v for vs in results.values() for v in vs])
    hit = every[:, 0] >= 0.5
    summary = {
        "acc50": round(float(hit.mean()), 4), "mean_iou": round(float(every[:, 0].mean()), 4),
        "queries": int(len(every)),
        "concepts": {c: {"acc50": round(float(np.mean([v[0] >= 0.5 for v in vs])), 3),
                         "mean_iou": round(float(np.mean([v[0] for v in vs])), 3)} for c, vs in results.items()},
        "score_when_hit": round(float(every[hit, 1].mean()), 3) if hit.any() else None,
        "score_when_missed": round(float(every[~hit, 1].mean()), 3) if (~hit).any() else None,
        "ece_top_box": round(expected_calibration_error(every[:, 1], hit), 3),
    }
    if absent_scores:
        from grounding_desktop.folder.propose import DEFAULT_MIN_SCORE

        scores = np.array(absent_scores)
        summary["absent"] = {"groundings": len(scores), "mean_top_score": round(float(scores[:, 0].mean()), 3),
                             "share_stored_by_propose": round(float((scores[:, 0] >= DEFAULT_MIN_SCORE).mean()), 3),
                             "min_score": DEFAULT_MIN_SCORE,
                             "mean_top_score_as_a_chosen_picture": round(float(scores[:, 1].mean()), 3)}
    if args.json:
        print(json.dumps(summary))
        return 0
    for c, v in summary["concepts"].items():
        print(f"{c:<18} Acc@0.5 {100 * v['acc50']:5.1f} %  mean IoU {v['mean_iou']:.3f}")
    print(f"ALL (3 support boxes): Acc@0.5 {100 * summary['acc50']:.1f} %  mean IoU {summary['mean_iou']:.3f} "
          f"over {summary['queries']} groundings (targets >= 95 %, >= 0.78); top score when hit "
          f"{summary['score_when_hit']}, when missed {summary['score_when_missed']}; expected calibration "
          f"error {summary['ece_top_box']} (10 bins)")
    if "absent" in summary:
        a = summary["absent"]
        print(f"On {a['groundings']} pictures without the concept, as a folder's propose scores them: top score "
              f"{a['mean_top_score']} on average, {100 * a['share_stored_by_propose']:.0f} % at or above propose's "
              f"minimum score ({a['min_score']}); as a picture the user chose: {a['mean_top_score_as_a_chosen_picture']}")
    return 0


def diagnosis(g, path: str, phrase: str, xyxy) -> str:
    """The concept head's view of one grounding: p(head) of the true box and of the top region,
    the candidates' recall (the best IoU any scored region has with the truth, and how many reach
    0.5), and the box regressor's move of the true box and of the best candidate that it did not
    make (inference pixels)."""
    import numpy as np

    from grounding_desktop.core.phrase import clean_phrase
    from grounding_desktop.core.phrase_parse import parse_phrase
    from grounding_desktop.grounding.scoring.concepts import ConceptKey
    from grounding_desktop.grounding.scoring.scorer import pairwise_iou

    parsed = parse_phrase(clean_phrase(phrase))
    entry = g.prepared(g.prepare(path))
    scene, result = g.scored(entry, parsed)
    head, _ = g.concepts.head(ConceptKey.of(parsed))
    truth = np.array([[xyxy[0] / entry.scale_x, xyxy[1] / entry.scale_y,
                       xyxy[2] / entry.scale_x, xyxy[3] / entry.scale_y]])
    embed = lambda b: g.load_recognizer().embed(entry.evidence.features, b)  # noqa: E731
    iou = pairwise_iou(scene.boxes, truth)[:, 0]
    top = int(np.argmax(result.scores))
    best = int(np.argmax(iou))
    moved_truth = pairwise_iou(head.refine(truth, embed(truth)), truth)[0, 0]
    moved_best = pairwise_iou(head.refine(scene.boxes[best:best + 1], embed(scene.boxes[best:best + 1])), truth)[0, 0]
    return (f"p_head top {head.probability(embed(scene.boxes[top:top + 1]))[0]:.2f} "
            f"truth {head.probability(embed(truth))[0]:.2f} | best candidate IoU {iou[best]:.2f} "
            f"(score {result.scores[best]:.2f}, {int((iou >= 0.5).sum())} of {len(iou)} >= 0.5) | regressor: "
            f"truth -> IoU {moved_truth:.2f}, best candidate -> {moved_best:.2f}")


if __name__ == "__main__":
    sys.exit(main())
