"""The candidate search behind learned concepts: boxes of the shapes the user drew, tried all over
the image, then tightened around the best ones.

A detector's boxes rarely fit a thing it was never trained on, so a concept does not only rank
them: windows with the sizes and aspects of the accepted boxes (at several scales, since the thing
may be nearer or farther) are scored too, and the best few are refined by small moves and
stretches until the fit stops improving. Everything here is box arithmetic in numpy; the scoring
function (a concept head's log-odds, ``concept_head``) is passed in.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .scorer import pairwise_iou

SCALES = np.geomspace(0.5, 2.0, 5)   # window sizes tried, relative to each learned shape
POSITION_STEP = 0.3                  # window stride, a share of the window's smaller side
SHAPE_GRID = 0.25                     # learned shapes closer than this (log units) are one
REFINE_TOP = 3                        # distinct best boxes refined
REFINE_STEPS = (0.12, 0.06, 0.03)     # move/stretch step of each refinement round, box-relative
REFINE_GRID = np.linspace(-1.0, 1.0, 3)
REFINE_MOVES = 3                      # moves per step size while the fit improves
DISTINCT_IOU = 0.5

Scorer = Callable[[np.ndarray], np.ndarray]


def distinct_shapes(shapes: np.ndarray) -> np.ndarray:
    """One representative of each group of similar (w, h) shapes."""
    logs = np.round(np.log(np.maximum(np.asarray(shapes, np.float64), 1e-6)) / SHAPE_GRID)
    _, first = np.unique(logs, axis=0, return_index=True)
    return np.asarray(shapes, np.float64)[np.sort(first)]


def windows(width: float, height: float, shapes: np.ndarray, min_step: float) -> np.ndarray:
    """(M, 4) xyxy windows of every learned shape at every scale, slid over the image.

    ``shapes`` are (w, h) over sqrt(image area), so a shape learned on a small image means the
    same share of a large one; ``min_step`` (pixels) keeps the stride at or above the resolution
    of the features that score the windows.
    """
    unit = np.sqrt(width * height)
    out = []
    for rw, rh in distinct_shapes(shapes):
        for s in SCALES:
            w, h = rw * s * unit, rh * s * unit
            if w > width * 1.001 or h > height * 1.001 or min(w, h) < 4:
                continue
            step = max(min_step, POSITION_STEP * min(w, h))
            xs = np.arange(0.0, max(width - w, 0.0) + 1e-6, step)
            ys = np.arange(0.0, max(height - h, 0.0) + 1e-6, step)
            gx, gy = np.meshgrid(xs, ys)
            gx, gy = gx.ravel(), gy.ravel()
            out.append(np.stack([gx, gy, gx + w, gy + h], 1))
    return np.concatenate(out) if out else np.zeros((0, 4))


def around(box: np.ndarray, width: float, height: float, step: float) -> np.ndarray:
    """Boxes near ``box``: its centre moved and its sides stretched by up to 2 x ``step`` of its
    size, kept inside the image."""
    x0, y0, x1, y1 = (float(v) for v in box)
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    sw, sh, dx, dy = np.meshgrid(np.exp(REFINE_GRID * 2 * step), np.exp(REFINE_GRID * 2 * step),
                                 REFINE_GRID * step * w, REFINE_GRID * step * h, indexing="ij")
    nw, nh = (w * sw).ravel(), (h * sh).ravel()
    ncx, ncy = cx + dx.ravel(), cy + dy.ravel()
    boxes = np.stack([ncx - nw / 2, ncy - nh / 2, ncx + nw / 2, ncy + nh / 2], 1)
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
    return boxes[(boxes[:, 2] - boxes[:, 0] > 1) & (boxes[:, 3] - boxes[:, 1] > 1)]


def _distinct_best(boxes: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    chosen: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if len(chosen) == n:
            break
        if not chosen or pairwise_iou(boxes[i:i + 1], boxes[chosen]).max() < DISTINCT_IOU:
            chosen.append(int(i))
    return np.asarray(chosen, np.int64)


def search(score: Scorer, width: float, height: float, shapes: np.ndarray, seeds: np.ndarray,
           min_step: float) -> tuple[np.ndarray, np.ndarray]:
    """The best boxes for ``score`` (a function of (M, 4) xyxy boxes -> (M,) scores), starting
    from ``seeds`` (e.g. the detector's regions) and the learned-shape windows.

    Returns (boxes, scores) of the ``REFINE_TOP`` distinct best boxes after refinement, best first.
    """
    boxes = np.concatenate([np.asarray(seeds, np.float64).reshape(-1, 4),
                            windows(width, height, shapes, min_step)])
    if not len(boxes):
        return np.zeros((0, 4)), np.zeros(0)
    scores = score(boxes)
    best = _distinct_best(boxes, scores, REFINE_TOP)
    boxes, scores = boxes[best], scores[best]
    for step in REFINE_STEPS:
        moving = np.ones(len(boxes), bool)
        for _ in range(REFINE_MOVES):
            if not moving.any():
                break
            near = [around(boxes[i], width, height, step) for i in np.flatnonzero(moving)]
            near_scores = score(np.concatenate(near))
            start = 0
            for i, cand in zip(np.flatnonzero(moving), near):
                part = near_scores[start:start + len(cand)]
                start += len(cand)
                j = int(np.argmax(part))
                moving[i] = part[j] > scores[i]
                if moving[i]:
                    boxes[i], scores[i] = cand[j], part[j]
    order = np.argsort(-scores, kind="stable")
    return boxes[order], scores[order]
