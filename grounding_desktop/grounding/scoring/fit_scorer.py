"""Fitting the weights that fuse the scorer's evidence (``priors.FusedWeights``) from grounded phrases.

A ``Trial`` is one phrase on one image: every region's evidence terms (``ScoreResult.terms``) and
whether the region is right (IoU >= 0.5 with the phrase's box). The fit has two stages:

1. the term weights ``w`` (all >= 0, so more evidence never lowers a region): a conditional logit,
   the softmax of ``terms @ w`` over each phrase's regions, maximising the probability of the right
   ones, with an L2 pull toward ``prior`` (``priors.PRIOR_WEIGHTS`` for the shipped fit, so a term
   the data do not exercise keeps its prior; the shipped fit for a project's refit);
2. the calibration ``sigmoid(scale * u + share * (u - logsumexp u) + margin * (u - max of the
   others) + context . c + bias)`` (``scale``, ``share`` and ``margin`` >= 0, so it keeps the order
   of the regions; ``c`` is what the whole answer rests on, ``priors.CONTEXT``, whose "a learned
   concept spoke" weighs >= 0, so that a concept spoke never lowers a score in itself): a logistic model
   of "this region is right" over the top region of each phrase (what Space or Ctrl+Enter
   accepts; fitted on every region shown instead, the map calibrates worse on the top box and no
   better on the others: see the card), on utilities ``u`` from weights fitted without the
   phrase's image (cross-fitting), so
   the map is learned on scores as they are on images the weights never saw. The top region is
   the best of many: its utility overrates it (the winner's curse), which the margin and the share
   measure; and the same utility means something else for a noun the detector has a class for,
   one ImageNet's kinds or a learned concept know, and one nothing knows, which the context says.

With ``elsewhere`` trials (a taught phrase asked of a picture without its thing), stage 2 is fitted
a second time on them and the others together: the calibration for a folder (``FusedWeights.folder``),
what a folder's propose and search score with; they have no right region, so stage 1 never sees them.

Cross-validation is by image (``group``): a phrase is never judged by weights fitted on its own
image. Everything here is numpy and ``scipy.optimize`` on small arrays: a project's refit of a few
hundred regions takes milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional, Sequence

import numpy as np
from scipy.optimize import minimize

from .priors import CONTEXT, DEFAULT_WEIGHTS, PRIOR_WEIGHTS, TERMS, FusedWeights
from .scorer import calibrated, calibration_inputs, one_per_object

HIT_IOU = 0.5
SHOWN = 5                 # the regions of a phrase a user is shown (one per object): their scores are judged
CALIBRATED = 1            # the best shown regions of each phrase the calibration is fitted on (the top box)
FOLDS = 5
CALIBRATION_L2 = 1e-3
ORDER_KEEPING = 3         # the calibration's first inputs (u, share, margin) weigh >= 0
# Context that weighs >= 0 too: that a learned concept spoke never lowers a score in itself (its
# term's weight is >= 0 as well; a concept that lifts another region can still lower a region's
# share and margin), whatever the data at hand say of phrases a concept spoke for.
NEVER_LOWERING = ("concept",)
# A project's refit: once it has this many accepted and rejected boxes, pulled toward the shipped
# fit this hard, judged by this many folds of its images.
MIN_PROJECT_BOXES = 30
PROJECT_L2 = 5.0
PROJECT_FOLDS = 3


@dataclass(frozen=True)
class Trial:
    """One phrase grounded on one image: what a fit learns from."""

    terms: np.ndarray     # (N, len(TERMS))
    hit: np.ndarray       # (N,) bool: the region overlaps the phrase's box by IoU >= HIT_IOU
    group: str            # the image (cross-validation never splits an image)
    kind: str = ""        # where it comes from ("coco8", "refdev project", ...) for reports
    context: Optional[np.ndarray] = None  # (len(CONTEXT),) ``ScoreResult.context``; None: zeros
    boxes: Optional[np.ndarray] = None    # (N, 4) xyxy; None: every region is an object of its own
    proposable: Optional[np.ndarray] = None  # (N,) bool: some source names it (``ScoreResult.evidence`` > 0)

    def context_values(self) -> np.ndarray:
        return np.zeros(len(CONTEXT)) if self.context is None else np.asarray(self.context, np.float64)


def _padded(trials: Sequence[Trial]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(M, K, T) terms, (M, K) region mask and (M, K) hits, the trials padded to the longest."""
    k = max(len(t.hit) for t in trials)
    x = np.zeros((len(trials), k, len(TERMS)))
    mask = np.zeros((len(trials), k), bool)
    hit = np.zeros((len(trials), k), bool)
    for i, t in enumerate(trials):
        x[i, :len(t.hit)] = t.terms
        mask[i, :len(t.hit)] = True
        hit[i, :len(t.hit)] = t.hit
    return x, mask, hit


def _clogit(w: np.ndarray, x: np.ndarray, mask: np.ndarray, hit: np.ndarray, prior: np.ndarray, l2: float):
    """Negative log-likelihood of the right regions under each phrase's softmax, and its gradient."""
    u = np.where(mask, x @ w, -np.inf)
    u = u - u.max(1, keepdims=True)
    e = np.exp(u)
    p = e / e.sum(1, keepdims=True)
    pos = np.maximum((p * hit).sum(1), 1e-300)
    loss = -np.log(pos).sum() + l2 * float(((w - prior) ** 2).sum())
    # d/dw -log(sum_pos p) = E_p[x] - E_{p | pos}[x]
    q = p * hit / pos[:, None]
    grad = np.einsum("mk,mkt->t", p - q, x) + 2 * l2 * (w - prior)
    return loss, grad


def fit_weights(trials: Sequence[Trial], prior: Optional[np.ndarray] = None, l2: float = 1.0) -> np.ndarray:
    """Stage 1: the term weights (>= 0) from the phrases that have a right region."""
    usable = [t for t in trials if t.hit.any() and (~t.hit).any()]
    prior = np.zeros(len(TERMS)) if prior is None else np.asarray(prior, np.float64)
    if not usable:
        return prior.copy()
    res = minimize(_clogit, np.maximum(prior, 0.0), args=(*_padded(usable), prior, l2), jac=True,
                   method="L-BFGS-B", bounds=[(0.0, None)] * len(TERMS))
    return res.x


def ranking_losses(trials: Sequence[Trial], prior: Optional[np.ndarray] = None, l2: float = 1.0,
                   folds: int = FOLDS) -> np.ndarray:
    """Stage 1's own held-out loss, per phrase that has a right region and a wrong one: the
    negative log-probability of the right regions under the phrase's softmax, with weights fitted
    without the phrase's image (by image folds)."""
    trials = [t for t in trials if t.hit.any() and (~t.hit).any()]
    loss = np.full(len(trials), np.nan)
    if len({t.group for t in trials}) < 2:
        return loss
    for held in _folds(trials, min(folds, len({t.group for t in trials}))):
        held_set = set(held.tolist())
        w = fit_weights([t for i, t in enumerate(trials) if i not in held_set], prior, l2)
        for i in held:
            u = trials[i].terms @ w
            p = np.exp(u - u.max())
            loss[i] = -np.log(max(p[trials[i].hit].sum() / p.sum(), 1e-300))
    return loss


def choose_l2(trials: Sequence[Trial], grid: Sequence[float], prior: Optional[np.ndarray] = None
              ) -> tuple[float, dict]:
    """The L2 pull of stage 1 by the one-standard-error rule: the strongest pull in ``grid`` whose
    cross-validated ranking loss is within one standard error (of the mean over phrases) of the
    least one. The weakest pull fits the data seen best, and this rule keeps the fit closer to
    the prior wherever the data cannot tell the two apart (phrases of another kind than ours
    gain from it: see the transfer figures of the card). Returns (l2, {l2: (mean, standard error)})."""
    tried = {}
    for l2 in grid:
        loss = ranking_losses(trials, prior, l2)
        tried[l2] = (float(np.mean(loss)), float(np.std(loss, ddof=1) / np.sqrt(len(loss))))
    best = min(tried, key=lambda k: tried[k][0])
    bar = tried[best][0] + tried[best][1]
    return max(k for k, (mean, _) in tried.items() if mean <= bar), tried


def shown(trial: Trial, u: np.ndarray) -> np.ndarray:
    """The regions of a trial the product shows for utilities ``u`` (its scores' order), best
    first: ``SHOWN`` of them, one per object (``scorer.one_per_object``, as proposing chooses)."""
    if trial.boxes is None:
        return np.argsort(-u, kind="stable")[:SHOWN]
    proposable = np.ones(len(u), bool) if trial.proposable is None else trial.proposable
    return one_per_object(trial.boxes, u, proposable, DEFAULT_WEIGHTS.output_nms_iou)[:SHOWN]


def _calibration_rows(trial: Trial, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calibration inputs (u, share, margin, the context) of the ``CALIBRATED`` best regions a
    trial shows under ``w``, and whether each is right."""
    u = trial.terms @ w
    share, margin = calibration_inputs(u)
    best = shown(trial, u)[:CALIBRATED]
    context = np.repeat(trial.context_values()[None, :], len(best), 0)
    return np.concatenate([np.stack([u[best], share[best], margin[best]], 1), context], 1), trial.hit[best]


def fit_calibration(rows: np.ndarray, hits: np.ndarray, prior: np.ndarray, l2: float = CALIBRATION_L2
                    ) -> np.ndarray:
    """Stage 2: the coefficients of ``rows`` (u, share and margin >= 0; the context's free but for
    ``NEVER_LOWERING``, >= 0) and the bias (last) of a logistic model of ``hits``."""
    y = hits.astype(np.float64)
    x = np.concatenate([rows, np.ones((len(rows), 1))], 1)

    def loss(v):
        z = x @ v
        p = 1.0 / (1.0 + np.exp(-z))
        nll = (y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)).sum()
        return nll + l2 * float(((v - prior) ** 2).sum()), x.T @ (p - y) + 2 * l2 * (v - prior)

    bounds = ([(0.0, None)] * ORDER_KEEPING
              + [(0.0, None) if name in NEVER_LOWERING else (None, None) for name in CONTEXT]
              + [(None, None)])
    start = np.clip(prior, [b[0] if b[0] is not None else -np.inf for b in bounds], np.inf)
    return minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds).x


def _folds(trials: Sequence[Trial], folds: int, elsewhere: Sequence[Trial] = ()) -> list[np.ndarray]:
    """Indices of ``trials`` (then of ``elsewhere``, after them) by image folds: ``trials``' images
    are dealt first, so ``elsewhere`` never moves them; an image only ``elsewhere`` has comes after."""
    groups = sorted({t.group for t in trials})
    rng = np.random.default_rng(0)
    order = rng.permutation(len(groups))
    fold_of = {groups[g]: k % folds for k, g in enumerate(order)}
    for k, g in enumerate(sorted({t.group for t in elsewhere} - set(fold_of))):
        fold_of[g] = (len(groups) + k) % folds
    everything = list(trials) + list(elsewhere)
    return [np.array([i for i, t in enumerate(everything) if fold_of[t.group] == k], np.int64)
            for k in range(folds)]


def fit(trials: Sequence[Trial], prior: FusedWeights = PRIOR_WEIGHTS, l2: float = 1.0,
        folds: int = FOLDS, fitted_on: str = "", elsewhere: Sequence[Trial] = ()) -> FusedWeights:
    """Both stages: weights on every trial, calibration on cross-fitted utilities. With
    ``elsewhere`` (phrases asked of pictures without their thing beyond those in ``trials``: taught
    ones, as proposing over a folder asks them), the calibration for a folder too
    (``FusedWeights.folder``), fitted on ``trials`` and ``elsewhere`` together. Those have no right
    region, so they never move the weights (stage 1 learns from phrases with one)."""
    trials, everything = list(trials), list(trials) + list(elsewhere)
    prior_w = np.asarray(prior.vector())
    prior_cal = np.array([prior.scale, prior.share, prior.margin, *prior.context_vector(), prior.bias])
    rows, hits, mine = [], [], []
    n_folds = min(folds, len({t.group for t in trials}))
    for held in (_folds(trials, n_folds, elsewhere) if n_folds > 1 else [np.arange(len(everything))]):
        held_set = set(held.tolist())
        w = fit_weights([t for i, t in enumerate(everything) if i not in held_set] if n_folds > 1 else trials,
                        prior_w, l2)
        for i in held:
            x, hit = _calibration_rows(everything[i], w)
            rows.append(x)
            hits.append(hit)
            mine.append(np.full(len(hit), i < len(trials)))
    w = fit_weights(trials, prior_w, l2)
    rows_, hits_, mine_ = np.concatenate(rows), np.concatenate(hits), np.concatenate(mine)
    calibration = _as_calibration(fit_calibration(rows_[mine_], hits_[mine_], prior_cal))
    folder = _as_calibration(fit_calibration(rows_, hits_, prior_cal)) if elsewhere else {}
    return FusedWeights(dict(zip(TERMS, (float(v) for v in w))), fitted_on=fitted_on, folder=folder, **calibration)


def _as_calibration(v: np.ndarray) -> dict:
    """``fit_calibration``'s coefficients (scale, share, margin, the context's, bias) as
    ``FusedWeights`` keeps a calibration."""
    return {"scale": float(v[0]), "share": float(v[1]), "margin": float(v[2]),
            "context": dict(zip(CONTEXT, (float(x) for x in v[3:-1]))), "bias": float(v[-1])}


# ----------------------------------------------------------------------------- judging a fit

@dataclass
class Figures:
    """How a fit does on trials: the top box's accuracy and how well its score is calibrated."""

    trials: int
    accuracy: float       # the top region is right (Acc@0.5)
    ece: float            # expected calibration error of the top region's score, 10 bins
    wrong_score: float    # mean score of the shown regions (``shown``) that are wrong
    log_loss: float       # of the top region's score against its hit
    shown_ece: float = 0.0  # expected calibration error of every shown region's score, 10 bins

    def as_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def expected_calibration_error(scores: np.ndarray, hits: np.ndarray, bins: int = 10) -> float:
    scores, hits = np.asarray(scores, np.float64), np.asarray(hits, np.float64)
    if not scores.size:
        return 0.0
    which = np.minimum((scores * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            total += m.sum() * abs(scores[m].mean() - hits[m].mean())
    return total / scores.size


def judge(trials: Sequence[Trial], fused: FusedWeights) -> Figures:
    return pooled([trials], [fused])


def cross_validated(trials: Sequence[Trial], prior: FusedWeights = PRIOR_WEIGHTS, l2: float = 1.0,
                    folds: int = FOLDS, judged: Optional[Callable[[Trial], bool]] = None) -> Figures:
    """Figures of fits judged on the images each fit did not see (by image folds); with ``judged``,
    only on the trials it accepts (every trial is fitted on)."""
    return pooled(*cross_fits(trials, prior, l2, folds, judged=judged))


def cross_fits(trials: Sequence[Trial], prior: FusedWeights = PRIOR_WEIGHTS, l2: float = 1.0,
               folds: int = FOLDS, elsewhere: Sequence[Trial] = (),
               judged: Optional[Callable[[Trial], bool]] = None) -> tuple[list[list[Trial]], list[FusedWeights]]:
    """(the trials of each image fold that ``judged`` accepts, ``elsewhere``'s among them, the fit
    without that fold): what ``pooled`` judges, with either calibration of the fits."""
    everything = list(trials) + list(elsewhere)
    n = len(trials)
    held_sets, fits = [], []
    for held in _folds(trials, min(folds, len({t.group for t in trials})), elsewhere):
        held_set = set(held.tolist())
        fits.append(fit([t for i, t in enumerate(everything[:n]) if i not in held_set], prior, l2, folds,
                        elsewhere=[t for i, t in enumerate(everything) if i >= n and i not in held_set]))
        held_sets.append([everything[i] for i in held if judged is None or judged(everything[i])])
    return held_sets, fits


def pooled(trial_sets: Sequence[Sequence[Trial]], fits: Sequence[FusedWeights]) -> Figures:
    """Figures over several sets of trials, each judged by its own fit: the top region's accuracy
    and calibration, the calibration of every region shown, and the mean score of the wrong ones."""
    scores, hits, every, every_hit = [], [], [], []
    for ts, f in zip(trial_sets, fits):
        w = np.asarray(f.vector())
        for t in ts:
            u = t.terms @ w
            sc = calibrated(u, f, t.context_values())
            order = shown(t, u)
            if not len(order):  # nothing proposed: a miss, with no score shown (0)
                scores.append(0.0)
                hits.append(False)
                continue
            scores.append(sc[order[0]])
            hits.append(bool(t.hit[order[0]]))
            every.extend(sc[order].tolist())
            every_hit.extend(t.hit[order].tolist())
    if not scores:
        return Figures(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    s, h = np.array(scores), np.array(hits, np.float64)
    e, eh = np.array(every), np.array(every_hit, bool)
    loss = float(-(h * np.log(s + 1e-6) + (1 - h) * np.log(1 - s + 1e-6)).mean())
    return Figures(len(s), float(h.mean()), expected_calibration_error(s, h),
                   float(e[~eh].mean()) if (~eh).any() else 0.0, loss, expected_calibration_error(e, eh))


def refit(trials: Sequence[Trial], shipped: FusedWeights, boxes: int) -> Optional[FusedWeights]:
    """A project's own fit from its grounded phrases (``boxes`` accepted and rejected boxes in all),
    pulled toward ``shipped``; None unless the project has ``MIN_PROJECT_BOXES`` and the refit
    beats the shipped fit on the project's images in cross-validation (Acc@0.5 of the top box,
    then log loss of its score)."""
    trials = list(trials)
    if boxes < MIN_PROJECT_BOXES or len({t.group for t in trials}) < PROJECT_FOLDS:
        return None
    cv = cross_validated(trials, shipped, PROJECT_L2, PROJECT_FOLDS)
    base = judge(trials, shipped)
    if (cv.accuracy, -cv.log_loss) <= (base.accuracy, -base.log_loss):
        return None
    # A project holds no taught phrase asked of a picture without its thing to fit a folder's
    # calibration on: the shipped one serves (the refit's weights stay near the shipped ones).
    return replace(fit(trials, shipped, PROJECT_L2, PROJECT_FOLDS,
                       fitted_on=f"this project's {boxes} boxes on {len({t.group for t in trials})} images "
                                 f"(cross-validated Acc@0.5 {cv.accuracy:.3f} against {base.accuracy:.3f} "
                                 f"for the shipped fit)"), folder=dict(shipped.folder))
