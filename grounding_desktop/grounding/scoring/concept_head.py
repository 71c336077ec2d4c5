"""A learned concept as a trained head on frozen region embeddings, as in few-shot detection by
fine-tuning only the last layers ("Frustratingly Simple Few-Shot Object Detection", Wang et al.
2020): a logistic classifier (is this region the concept?) and a class-specific linear box
regressor (Fast R-CNN's deltas), both on the second CNN's L2-normalised RoIAlign embeddings
(``recognizer.embed``), fitted in milliseconds on a CPU.

What it learns from, per labelled box (``ExampleContext``, embedded with the box on its image):
the box itself and jittered copies (positives, labelled by their IoU with it: 1 from 0.9 down to 0
at ``NEGATIVE_IOU``; regression targets from ``REGRESS_IOU``), the same seen in the mirrored image
(few-shot detection's flip augmentation), copies that overlap it a little and the image's other
regions with IoU < ``NEGATIVE_IOU`` (negatives). Rejected boxes are hard negatives, other
concepts' boxes negatives. The classifier's L2 penalty is a Gaussian prior on its weights whose
pull stays fixed while the data's grows with the examples, so one box gives a cautious head and
the probabilities firm up as boxes are added. Everything is deterministic (jitters are seeded by
the box's id), so a head rebuilt from stored embeddings is the head that was used.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Sequence

import numpy as np

from .scorer import pairwise_iou as xyxy_iou

POSITIVE_IOU = 0.7
REGRESS_IOU = 0.5
NEGATIVE_IOU = 0.3
JITTER_POSITIVES = 6      # jittered copies kept per box, IoU >= POSITIVE_IOU
JITTER_REGRESS = 4        # IoU in [REGRESS_IOU, POSITIVE_IOU): regression only
JITTER_NEGATIVES = 6      # IoU in [0.05, NEGATIVE_IOU): a part of the thing, or it with too much around
SCENE_NEGATIVES = 12      # the image's most object-like other regions
CONTEXT_RECIPE = "ctx2"   # names the above: stored contexts made otherwise are made again
# Chosen by cross-validation on benchmarks/few_shot_concepts.py's pictures
# (benchmarks/fit_concept_heads.py; the figures are in models/concept_heads.md).
CLASSIFIER_C = 10.0       # inverse strength of the Gaussian prior on the classifier's weights
REGRESSOR_ALPHA = 0.001   # ridge penalty of the box regressor
SOFT_LABELS = True        # jittered copies labelled by their IoU (1 at 0.9, 0 at NEGATIVE_IOU)
MIRRORED_EXAMPLES = True  # learn from the boxes seen in the mirrored image too (kept: see the card)
# Set, not fitted: no benchmark has rejected boxes.
REJECTED_WEIGHT = 3.0     # a rejected box counts as this many negatives
DELTA_STD = np.array([0.1, 0.1, 0.2, 0.2])  # Fast R-CNN's normalisation of the deltas
KEPT_CHUNK = 1024         # kept int8 embeddings made float at a time (a few MB: stays in the cache)


def xyxy(xywh) -> np.ndarray:
    """(N, 4) x, y, w, h boxes (how the project keeps them) as x0, y0, x1, y1."""
    b = np.asarray(xywh, np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], 1)


def context_boxes(box: Sequence[float], width: float, height: float, regions: np.ndarray,
                  seed: int) -> np.ndarray:
    """(M, 4) xyxy boxes to embed beside xyxy ``box`` on its image (``width`` x ``height``):
    jittered copies at each IoU band, then the most object-like of ``regions`` (xyxy, best first)
    that overlap it less than ``NEGATIVE_IOU``. Seeded by ``seed`` (the box's id)."""
    rng = np.random.RandomState(seed % (2 ** 32))
    x0, y0, x1, y1 = (float(v) for v in box)
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    out = []
    for spread, low, high, n in ((0.08, POSITIVE_IOU, 1.01, JITTER_POSITIVES),
                                 (0.18, REGRESS_IOU, POSITIVE_IOU, JITTER_REGRESS),
                                 (0.45, 0.05, NEGATIVE_IOU, JITTER_NEGATIVES)):
        shift = rng.normal(0.0, spread, (200, 2)) * [w, h]
        scale = np.exp(rng.normal(0.0, spread * 1.5, (200, 2)))
        nw, nh = w * scale[:, 0], h * scale[:, 1]
        ncx, ncy = cx + shift[:, 0], cy + shift[:, 1]
        cand = np.stack([ncx - nw / 2, ncy - nh / 2, ncx + nw / 2, ncy + nh / 2], 1)
        cand[:, [0, 2]] = np.clip(cand[:, [0, 2]], 0, width)
        cand[:, [1, 3]] = np.clip(cand[:, [1, 3]], 0, height)
        cand = cand[(cand[:, 2] - cand[:, 0] > 2) & (cand[:, 3] - cand[:, 1] > 2)]
        iou = xyxy_iou(cand, np.array([[x0, y0, x1, y1]]))[:, 0]
        out.append(cand[(iou >= low) & (iou < high)][:n])
    regions = np.asarray(regions, np.float64).reshape(-1, 4)
    if len(regions):
        far = xyxy_iou(regions, np.array([[x0, y0, x1, y1]]))[:, 0] < NEGATIVE_IOU
        out.append(regions[far][:SCENE_NEGATIVES])
    return np.concatenate(out)


def jittered(around: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Which of ``context_boxes``' boxes are jittered copies of ``box`` close enough to teach
    it (IoU >= REGRESS_IOU)."""
    if not len(around):
        return np.zeros(0, bool)
    return xyxy_iou(np.asarray(around, np.float64).reshape(-1, 4), np.asarray(box, np.float64)[None])[:, 0] >= REGRESS_IOU


def box_deltas(boxes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Fast R-CNN's (dx, dy, dw, dh) from xyxy ``boxes`` to xyxy ``targets``, normalised."""
    pw, ph = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    gw, gh = targets[:, 2] - targets[:, 0], targets[:, 3] - targets[:, 1]
    d = np.stack([((targets[:, 0] + targets[:, 2]) - (boxes[:, 0] + boxes[:, 2])) / (2 * pw),
                  ((targets[:, 1] + targets[:, 3]) - (boxes[:, 1] + boxes[:, 3])) / (2 * ph),
                  np.log(gw / pw), np.log(gh / ph)], 1)
    return d / DELTA_STD


def apply_deltas(boxes: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    d = np.asarray(deltas, np.float64) * DELTA_STD
    d[:, 2:] = np.clip(d[:, 2:], -1.0, 1.0)
    pw, ph = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2 + d[:, 0] * pw, (boxes[:, 1] + boxes[:, 3]) / 2 + d[:, 1] * ph
    w, h = pw * np.exp(d[:, 2]), ph * np.exp(d[:, 3])
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


@dataclass(frozen=True)
class TrainingBox:
    """One labelled box as the head learns from it (``concepts.ConceptMemory`` makes these)."""

    image: str
    bbox: np.ndarray              # (4,) xyxy, any frame shared with ``context_boxes``
    embedding: np.ndarray         # (D,)
    context_boxes: np.ndarray     # (M, 4) xyxy, same frame
    context: np.ndarray           # (M, D)
    role: str                     # "positive" (the concept), "rejected", "other" (another concept)
    mirrored: Optional[np.ndarray] = None  # (M,) bool: embedded on the mirrored image (box unmirrored)


@dataclass(frozen=True)
class ConceptHead:
    """A trained concept: ``probability`` of regions, ``refine`` of their boxes."""

    weights: np.ndarray           # (D,)
    bias: float
    regressor: Optional[np.ndarray]  # (D + 1, 4) linear deltas (last row the bias), None: no data
    examples: int                 # accepted boxes it rests on

    def logit(self, embeddings: np.ndarray) -> np.ndarray:
        e = np.asarray(embeddings, np.float32).reshape(-1, self.weights.shape[0])
        return np.einsum("nd,d->n", e, self.weights) + self.bias

    def probability(self, embeddings: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(embeddings).astype(np.float64)))

    def kept_probability(self, codes: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """(E,) the probability of embeddings kept as int8 ``codes`` (E, D) times ``scale`` (E,)
        (``features.ImageFeatures``), summed in float64 a chunk of rows at a time: a row gets the
        same value whatever else is judged with it (a folder's table in search, one image when
        proposing), which search's bound needs."""
        import torch  # its int8 -> float conversion and matrix-vector product are several times numpy's

        codes = torch.from_numpy(np.require(codes, requirements=["C", "W"]))  # a record's are read-only
        weights = torch.from_numpy(np.asarray(self.weights, np.float64))
        dot = np.empty(len(codes))
        with torch.inference_mode():
            for start in range(0, len(codes), KEPT_CHUNK):
                dot[start:start + KEPT_CHUNK] = (codes[start:start + KEPT_CHUNK].double() @ weights).numpy()
        return 1.0 / (1.0 + np.exp(-(dot * np.asarray(scale, np.float64) + self.bias)))

    def refine(self, boxes: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """(N, 4) xyxy ``boxes`` moved by the regressor's deltas (unchanged without one)."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        if self.regressor is None or not len(boxes):
            return boxes.copy()
        e = np.asarray(embeddings, np.float32).reshape(len(boxes), -1)
        deltas = np.einsum("nd,dk->nk", e, self.regressor[:-1]) + self.regressor[-1]
        return apply_deltas(boxes, deltas)


def _overlaps(boxes: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    if not others or not len(boxes):
        return np.zeros(len(boxes), bool)
    return xyxy_iou(boxes, np.stack(others)).max(1) >= NEGATIVE_IOU


def training_set(boxes: Sequence[TrainingBox]):
    """(X, y, sample weights) of the classifier and (X, deltas) of the regressor."""
    positives_of: dict[str, list[np.ndarray]] = {}
    for b in boxes:
        if b.role == "positive":
            positives_of.setdefault(b.image, []).append(np.asarray(b.bbox, np.float64))
    xs, ys, ws, rx, rt = [], [], [], [], []
    for b in boxes:
        box = np.asarray(b.bbox, np.float64)[None]
        if b.mirrored is not None and not MIRRORED_EXAMPLES:
            b = replace(b, context_boxes=b.context_boxes[~b.mirrored], context=b.context[~b.mirrored],
                        mirrored=b.mirrored[~b.mirrored])
        cb = np.asarray(b.context_boxes, np.float64).reshape(-1, 4)
        iou = xyxy_iou(cb, box)[:, 0] if len(cb) else np.zeros(0)
        # Context that overlaps any box of the concept on the image is not a negative.
        near_concept = _overlaps(cb, positives_of.get(b.image, []))
        negative = (iou < NEGATIVE_IOU) & ~near_concept
        xs.append(b.context[negative])
        ys.append(np.zeros(int(negative.sum())))
        ws.append(np.ones(int(negative.sum())))
        if b.role == "positive":
            jitter = iou >= (NEGATIVE_IOU if SOFT_LABELS else POSITIVE_IOU)
            target = np.clip((iou[jitter] - NEGATIVE_IOU) / (0.9 - NEGATIVE_IOU), 0, 1) if SOFT_LABELS \
                else np.ones(int(jitter.sum()))
            xs += [b.embedding[None], b.context[jitter]]
            ys += [np.ones(1), target]
            ws += [np.ones(1), np.ones(int(jitter.sum()))]
            regress = iou >= REGRESS_IOU
            deltas = box_deltas(cb[regress], np.repeat(box, int(regress.sum()), 0))
            if b.mirrored is not None:  # seen mirrored, the box moves the other way
                deltas[:, 0] *= np.where(b.mirrored[regress], -1.0, 1.0)
            rx += [b.embedding[None], b.context[regress]]
            rt += [np.zeros((1, 4)), deltas]
        else:
            xs.append(b.embedding[None])
            ys.append(np.zeros(1))
            ws.append(np.full(1, REJECTED_WEIGHT if b.role == "rejected" else 1.0))
    X, y, w = np.concatenate(xs).astype(np.float32), np.concatenate(ys), np.concatenate(ws)
    R = (np.concatenate(rx).astype(np.float32), np.concatenate(rt)) if rx else None
    return X, y, w, R


def fit_logistic(X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, c: float
                 ) -> tuple[np.ndarray, float]:
    """(weights, bias) minimising c * sum(weight * log loss) + |weights|^2 / 2 (scikit-learn's
    LogisticRegression objective), by scipy's Newton-CG with the exact Hessian's products, in
    float64 (deterministic; a few Newton steps where L-BFGS took up to 100 and 0.3 s). Not torch's
    optimiser: its first use imports torch's compiler, seconds the first accept would wait."""
    from scipy.optimize import minimize
    from scipy.special import expit

    X = np.asarray(X, np.float64)
    y = np.asarray(y, np.float64)
    scaled = c * np.asarray(sample_weight, np.float64)

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        z = X @ w + b
        g = scaled * (expit(z) - y)
        return float(scaled @ (np.logaddexp(0.0, z) - y * z) + 0.5 * w @ w), np.concatenate([X.T @ g + w, [g.sum()]])

    def hessian_times(params: np.ndarray, v: np.ndarray) -> np.ndarray:
        p = expit(X @ params[:-1] + params[-1])
        d = scaled * p * (1.0 - p) * (X @ v[:-1] + v[-1])
        return np.concatenate([X.T @ d + v[:-1], [d.sum()]])

    res = minimize(loss, np.zeros(X.shape[1] + 1), jac=True, hessp=hessian_times, method="Newton-CG",
                   options={"xtol": 1e-8})
    return res.x[:-1].astype(np.float32), float(res.x[-1])


def fit_ridge(X: np.ndarray, T: np.ndarray, alpha: float) -> np.ndarray:
    """(D + 1, K) ridge regression of ``T`` on ``X`` with an unpenalised intercept, solved in the
    samples' space (a few dozen samples, thousands of features)."""
    X = np.asarray(X, np.float64)
    mx, mt = X.mean(0), T.mean(0)
    Xc = X - mx
    coef = Xc.T @ np.linalg.solve(Xc @ Xc.T + alpha * np.eye(len(X)), T - mt)
    return np.concatenate([coef, (mt - mx @ coef)[None]]).astype(np.float32)


def train(boxes: Sequence[TrainingBox], c: Optional[float] = None, alpha: Optional[float] = None
          ) -> Optional[ConceptHead]:
    """The head of the concept whose ``positive`` boxes are among ``boxes``; None without one.
    ``c`` and ``alpha``: CLASSIFIER_C and REGRESSOR_ALPHA unless given."""
    examples = sum(b.role == "positive" for b in boxes)
    if not examples:
        return None
    c = CLASSIFIER_C if c is None else c
    alpha = REGRESSOR_ALPHA if alpha is None else alpha
    X, y, w, R = training_set(boxes)
    if (y < 1).any():
        weights, bias = fit_logistic(X, y, w, c)
    else:  # nothing to tell it from yet: like the examples, cautiously
        weights, bias = (X.mean(0) * 4.0).astype(np.float32), -2.0
    regressor = fit_ridge(*R, alpha) if R is not None and len(R[0]) > 1 else None
    return ConceptHead(weights, bias, regressor, examples)
