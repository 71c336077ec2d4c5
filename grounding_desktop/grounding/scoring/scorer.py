"""Phrase-region scorer: every kind of evidence about a region, fused by fitted weights into a
calibrated score.

In the spirit of MAttNet, each module looks at one kind of word and gives every region a value in
[0, 1] with a short reason:

- subject: the noun against every source that knows something about the region: the detector's
  per-class scores (through embedding similarity to class names and synonyms: "puppy" finds
  dogs), the second CNN's ImageNet kinds and concepts learned from the user's boxes (handed in by
  the Grounder as ``SubjectEvidence``), and objectness (any object at all);
- colour / brightness: colour words against the region's colour make-up (``regions.py``);
- size and pose: "bigger", "tall", "lying" against box size and shape;
- location / ordinal: "left", "top right", "middle", "closest", "second from left", both in
  absolute image position and relative to the other regions of the same kind (the "peers");
- relation: "on the horse", "next to the car", "holding the umbrella": geometry against the
  best-matching regions for the object phrase (scored by the same modules).

Each region's values are the evidence terms of ``priors.TERMS``; ``priors.FusedWeights`` (fitted
on data, see ``fit_scorer.py``) weighs them into a utility and maps it to a probability that the
region is the phrase's referent. No source replaces another: a learned concept adds to what the
detector knew. Everything here is numpy on a handful of regions, so re-scoring for a new phrase
takes about a millisecond.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Optional, Sequence

import numpy as np

from ..text.encoder import ClassPrototypes
from ...core.phrase_parse import NounPhrase, ParsedPhrase
from .priors import (DEFAULT_WEIGHTS, SOURCE_TERMS, TERMS, FusedWeights, ScorerWeights,
                     shipped_weights)
from ..detectors import NO_CLASS
from ...core.vocabulary import COLOUR_NAMES, COLOUR_NEIGHBOURS, HYPERNYMS

_COLOUR_INDEX = {name: i for i, name in enumerate(COLOUR_NAMES)}
_TERM = {name: i for i, name in enumerate(TERMS)}
_EPS = 1e-6
EVIDENCE_FLOOR = 0.01     # a probability p enters as the strength log(1 + p / EVIDENCE_FLOOR)
# Which terms belong to which source, and how an explanation names it.
_SOURCE_OF_TERM = {"detector": "detector", "detector_match": "detector", "imagenet": "imagenet",
                   "imagenet_excess": "imagenet", "concept": "concept", "objectness": "objectness"}
SOURCE_NAMES = {"detector": "detector", "imagenet": "ImageNet", "concept": "learned",
                "objectness": "objectness"}


def strength(p: np.ndarray) -> np.ndarray:
    """A source's probability as an evidence term: 0 for none, growing like log p above the floor.
    (Cross-validated on the fit's data, this did better than the log-odds, which keeps apart
    probabilities near 1: 0.69 against 0.65 Acc@0.5.)"""
    return np.log1p(np.clip(np.asarray(p, np.float64), 0.0, 1.0) / EVIDENCE_FLOOR)


def calibration_inputs(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each region's share of its image's evidence ``u - logsumexp u``, its margin over the best
    other region ``u - max of the others``; 0 for a region alone)."""
    u = np.asarray(u, np.float64)
    top = float(u.max())
    share = u - (top + np.log(np.exp(u - top).sum()))
    if u.size < 2:
        return share, np.zeros_like(u)
    first, second = np.partition(u, -2)[[-1, -2]]
    others = np.where(u >= first, second, first)
    return share, u - others


def calibrated(u: np.ndarray, weights: FusedWeights, context: Optional[np.ndarray] = None) -> np.ndarray:
    """Utilities of an image's regions -> probabilities that each is the referent (in the same
    order); ``context``: the answer's ``priors.CONTEXT`` values (``PhraseScorer.context``)."""
    u = np.asarray(u, np.float64)
    if not u.size:
        return u
    share, margin = calibration_inputs(u)
    return _calibration_map(u, share, margin, context, weights)


def _calibration_map(u, share, margin, context, weights: FusedWeights) -> np.ndarray:
    offset = float(np.dot(weights.context_vector(), context)) if context is not None else 0.0
    z = weights.scale * u + weights.share * share + weights.margin * margin + offset + weights.bias
    return 1.0 / (1.0 + np.exp(-z))


@dataclass
class Scene:
    """The regions of one image, everything the scorer needs (no pixels).

    ``boxes`` are xyxy in a frame of size ``width`` x ``height`` (the caller maps them back to the
    original image). ``colour_frac`` and ``lightness`` come from ``RegionStats``.
    """

    boxes: np.ndarray          # (N, 4) float xyxy
    class_scores: np.ndarray   # (N, C) per-class detector scores, column = COCO id
    labels: np.ndarray         # (N,) detector's label per region (NO_CLASS: no class named it)
    scores: np.ndarray         # (N,) detector's score per region
    colour_frac: np.ndarray    # (N, K)
    lightness: np.ndarray      # (N,)
    width: float
    height: float
    # (N,) how likely the region holds an object of any kind; a detector without an objectness
    # estimate leaves it None and its scores count instead.
    objectness: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        if self.objectness is None:
            self.objectness = np.asarray(self.scores, np.float64)

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @property
    def cx(self) -> np.ndarray:
        return (self.boxes[:, 0] + self.boxes[:, 2]) / 2

    @property
    def cy(self) -> np.ndarray:
        return (self.boxes[:, 1] + self.boxes[:, 3]) / 2

    @property
    def w(self) -> np.ndarray:
        return np.maximum(self.boxes[:, 2] - self.boxes[:, 0], _EPS)

    @property
    def h(self) -> np.ndarray:
        return np.maximum(self.boxes[:, 3] - self.boxes[:, 1], _EPS)


@dataclass
class Peers:
    """Regions that count as instances of the phrase's kind (one per object) for comparisons,
    and every region's evidence relative to the best (``weight``, 0..1)."""

    idx: np.ndarray
    weight: np.ndarray
    lost: bool = False         # every comparison with another region counts as lost (a lower bound)

    @classmethod
    def none(cls, n: int) -> "Peers":
        """No peers: every comparison with another region counts as won."""
        return cls(np.zeros(0, np.int64), np.zeros(n))

    @classmethod
    def beaten_by_all(cls, n: int) -> "Peers":
        """Every comparison with another region counts as lost."""
        return cls(np.zeros(0, np.int64), np.zeros(n), lost=True)

    def rank(self, values: np.ndarray, direction: int = 1) -> np.ndarray:
        """Each region's evidence-weighted share of the other peers it is at least as far as in
        ``direction`` (``_relative``); 0 where every comparison is lost."""
        return np.zeros(len(values)) if self.lost else _relative(values, self.idx, self.weight, direction)


@dataclass
class ModuleScore:
    """One module's view of every region: scores in [0, 1] and the words it looked at."""

    name: str
    words: str
    values: np.ndarray
    weight: float


@dataclass
class SubjectEvidence:
    """p(subject | region) for every region of a scene, and the name each value rests on.

    The scorer makes the detector's from its class scores; the Grounder hands in the others (a
    concept learned from the user's boxes, ImageNet kinds), which add to it.
    """

    p: np.ndarray                      # (N,) in [0, 1]
    labels: list[str]                  # (N,) what matched: a COCO class, an ImageNet label, ...
    known: bool = True                 # False: nothing knows the noun; objectness ranks regions
    note: str = ""                     # a remark for the explanation ("learned from 3 of your boxes")
    source: str = "detector"           # detector | imagenet | concept
    match: float = 1.0                 # how close the noun comes to what the source knows (ImageNet)
    # The evidence already judged the phrase's colour and brightness words (a concept learned
    # from boxes labelled with them): the colour modules must not judge them again.
    judged_attributes: bool = False


def _attribute_words_open(sources: Sequence[SubjectEvidence]) -> bool:
    """Whether the colour and brightness modules judge the phrase's words: no source judged them."""
    return not any(s.judged_attributes for s in sources)


@dataclass
class ScoreResult:
    scores: np.ndarray                 # (N,) calibrated: the probability that the region is the referent
    subject: np.ndarray                # (N,) p(subject | region) of the source the region's score rests on
    subject_label: list[str]           # (N,) the name behind it (a COCO class, an ImageNet kind, a concept)
    modules: list[ModuleScore] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # phrase-level remarks for the explanation
    sources: list[str] = field(default_factory=list)  # (N,) detector | imagenet | concept | objectness
    terms: Optional[np.ndarray] = None  # (N, len(TERMS)) the evidence terms (what a fit learns from)
    utility: Optional[np.ndarray] = None  # (N,) the weighted sum of the terms, before calibration
    evidence: Optional[np.ndarray] = None  # (N,) the strongest source's p: 0 = nothing names the region
    known: bool = True                 # False: no source knows the noun (objectness and words rank)
    context: Optional[np.ndarray] = None  # (len(CONTEXT),) what the answer rests on (``PhraseScorer.context``)

    def module_values(self, i: int) -> dict[str, float]:
        out = {"subject": float(self.subject[i])}
        for m in self.modules:
            out[m.name] = float(m.values[i])
        return out


# ----------------------------------------------------------------------------- geometry helpers

def pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of xyxy boxes."""
    return iou(a[:, None, :], b[None, :, :])


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of xyxy boxes ``a[..., :]`` and ``b[..., :]``, broadcast against each other."""
    ix = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    iy = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = ix * iy
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / np.maximum(area_a + area_b - inter, _EPS)


def greedy_nms(boxes: np.ndarray, scores: np.ndarray, max_iou: float) -> np.ndarray:
    """Indices kept by greedy NMS, best first: a box overlapping a kept one by more than
    ``max_iou`` is dropped (numpy: the sets here are tiny)."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    if len(order) == 0:
        return np.zeros(0, np.int64)
    ious = pairwise_iou(boxes, boxes)
    suppressed = np.zeros(len(boxes), bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        suppressed |= ious[i] > max_iou
    return np.asarray(keep, np.int64)


def one_per_object(boxes: np.ndarray, scores: np.ndarray, proposable: np.ndarray, max_iou: float) -> np.ndarray:
    """The regions that are proposed, best first, one per object: greedy NMS at ``max_iou`` over the
    regions, then only those ``proposable`` (some source names them)."""
    keep = greedy_nms(boxes, scores, max_iou)
    return keep[np.asarray(proposable, bool)[keep]]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _relative(values: np.ndarray, peers: np.ndarray, weights: np.ndarray,
              direction: int = 1) -> np.ndarray:
    """For each region, the evidence-weighted share of the *other* peers it is at least as far
    as in ``direction`` (1 = beyond all of them).

    A rank, not a distance: "the one on the right" is the right-most of its kind however close
    the others are; weighting by evidence keeps weak duplicate or part boxes from counting as
    much as real instances. With no other peer every region scores 1.
    """
    v = values if direction > 0 else -values
    n = len(v)
    if peers.size == 0:
        return np.ones(n)
    pv, pw = v[peers], np.maximum(weights[peers], 0.0)
    beats = (v[:, None] >= pv[None, :] - 1e-9) * pw[None, :]
    is_self = np.zeros((n, peers.size), bool)
    is_self[peers, np.arange(peers.size)] = True
    others = np.where(is_self, 0.0, pw[None, :])
    total = others.sum(1)
    won = np.where(is_self, 0.0, beats).sum(1)
    return np.where(total > _EPS, won / np.maximum(total, _EPS), 1.0)


# ----------------------------------------------------------------------------- relation geometry

def _overlap_1d(a0, a1, b0, b1):
    return np.clip(np.minimum(a1, b1) - np.maximum(a0, b0), 0, None)


def relation_geometry(relation: str, s: np.ndarray, o: np.ndarray, width: float,
                      height: float, w: ScorerWeights = DEFAULT_WEIGHTS) -> np.ndarray:
    """(len(s), len(o)) how well subject box s stands in ``relation`` to object box o, 0..1."""
    sx0, sy0, sx1, sy1 = (s[:, i][:, None] for i in range(4))
    ox0, oy0, ox1, oy1 = (o[:, i][None, :] for i in range(4))
    sw, sh = np.maximum(sx1 - sx0, _EPS), np.maximum(sy1 - sy0, _EPS)
    ow, oh = np.maximum(ox1 - ox0, _EPS), np.maximum(oy1 - oy0, _EPS)
    scx, scy = (sx0 + sx1) / 2, (sy0 + sy1) / 2
    ocx, ocy = (ox0 + ox1) / 2, (oy0 + oy1) / 2
    ix = _overlap_1d(sx0, sx1, ox0, ox1)
    iy = _overlap_1d(sy0, sy1, oy0, oy1)
    inter = ix * iy
    # Gap between the boxes relative to their size: 0 when they touch or overlap.
    gx = np.clip(np.maximum(ox0 - sx1, sx0 - ox1), 0, None)
    gy = np.clip(np.maximum(oy0 - sy1, sy0 - oy1), 0, None)
    scale = np.sqrt((sw * sh + ow * oh) / 2)
    # "Next to" is a small gap, not a big overlap: a rider half inside the horse's box is on it.
    overlap = inter / np.minimum(sw * sh, ow * oh)
    near = np.exp(-np.hypot(gx, gy) / scale) * (1.0 - 0.5 * overlap)

    if relation == "on":
        # Subject sits on the object: over it horizontally, its centre in the object's upper
        # part or above it (a rider on a horse, a cup on a table, a man on a bench).
        over = ix / sw
        v = (scy - oy0) / oh
        dist = np.where(v > w.on_lowest, v - w.on_lowest,
                        np.where(v < w.on_highest, w.on_highest - v, 0.0))
        return over * np.exp(-(dist / w.relation_softness) ** 2)
    if relation == "in":
        # One inside the other ("the cat in the box", "the flowers in the vase": the vase is
        # inside the flowers' box).
        return np.clip(overlap / w.in_full_overlap, 0, 1)
    if relation in ("below", "above"):
        sign = 1.0 if relation == "below" else -1.0
        over = ix / np.minimum(sw, ow)
        v = sign * (scy - ocy) / (0.5 * (sh + oh))
        return over * _sigmoid((v - w.below_offset) / w.relation_softness)
    if relation in ("left_of", "right_of"):
        sign = 1.0 if relation == "left_of" else -1.0
        d = sign * (ocx - scx) / (0.5 * (sw + ow))
        vert = iy / np.minimum(sh, oh)
        return _sigmoid((d - w.side_offset) / 0.2) * (0.5 + 0.5 * vert) * np.maximum(near, 0.3)
    if relation in ("behind", "front_of"):
        sign = 1.0 if relation == "front_of" else -1.0
        d = sign * (sy1 - oy1) / (0.1 * height)
        return _sigmoid(d) * near
    if relation == "holding":
        # The held or worn thing overlaps the holder, or is right next to it.
        covered = np.clip(inter / (ow * oh) / w.holding_cover, 0, 1)
        return np.maximum(covered, 0.7 * np.exp(-np.hypot(gx, gy) / scale))
    # "near" and every verb we do not model specifically.
    return near


# ----------------------------------------------------------------------------- the scorer

class PhraseScorer:
    """Scores a parsed phrase against a ``Scene``; stateless apart from the encoder caches."""

    def __init__(self, prototypes: ClassPrototypes, weights: ScorerWeights = DEFAULT_WEIGHTS,
                 fused: Optional[FusedWeights] = None):
        self.prototypes = prototypes
        self.weights = weights
        self.fused = fused if fused is not None else shipped_weights()
        self.labels = prototypes.labels
        # class id -> its name ("object" for an id with none), for a whole table at once
        self._names_by_id = np.full(max(self.labels, default=-1) + 1, "object", dtype=object)
        for c, name in self.labels.items():
            if c >= 0:
                self._names_by_id[c] = name

    # --- subject
    def class_weights(self, noun_phrase: NounPhrase) -> tuple[np.ndarray, str, bool]:
        """Weight per COCO id for the noun; (weights, description, known) where known is False
        when the noun names nothing the detector knows (then every class counts: objectness)."""
        wts = np.zeros(self.prototypes.num_classes, np.float32)
        valid = np.asarray(sorted(self.labels), np.int64)
        if noun_phrase.generic:
            wts[valid] = 1.0
            return wts, "object", True
        kind = self._kind(noun_phrase)
        if kind:
            ids = [c for c, name in self.labels.items() if name in kind]
            wts[ids] = 1.0
            return wts, noun_phrase.noun, True
        sims, _ = self.prototypes.noun_similarity(noun_phrase, self.weights.min_class_similarity)
        best = float(sims.max())
        if best < self.weights.min_class_similarity:
            wts[valid] = 1.0
            return wts, f"{noun_phrase.noun}? (no such class)", False
        wts[valid] = np.exp(-(best - sims[valid]) / self.weights.class_temperature)
        return wts, noun_phrase.noun, True

    def _kind(self, noun_phrase: NounPhrase) -> Optional[tuple[str, ...]]:
        """The classes a word for a kind of thing covers ("the animal"), unless a class has it."""
        kind = HYPERNYMS.get(noun_phrase.head) or HYPERNYMS.get(noun_phrase.noun)
        return kind if kind and noun_phrase.noun not in self.prototypes.lexicon else None

    def coco_match(self, noun_phrase: NounPhrase) -> tuple[float, bool]:
        """(how close the noun comes to a detector class, whether a word list names the class)."""
        if noun_phrase.generic or self._kind(noun_phrase):
            return 1.0, True
        sims, exact = self.prototypes.noun_similarity(noun_phrase, self.weights.min_class_similarity)
        return float(sims.max()), exact

    def subject_p(self, scene: Scene, noun_phrase: NounPhrase, named: bool = True
                  ) -> tuple[np.ndarray, Optional[np.ndarray], bool]:
        """The detector's evidence as arrays: (p(noun | region), the class each value rests on
        (``NO_CLASS``: objectness), whether the noun names something the detector knows).

        Not ``named``: the same p, read class by class with no class per region (None), cheap over
        a table of many images' regions whose class scores are kept class by class (``image_search``).
        Either way each product is a float64 one, whatever type the class scores are kept in."""
        wts, _, known = self.class_weights(noun_phrase)
        wts = wts[:scene.class_scores.shape[1]].astype(np.float64)
        n = len(scene)
        if not named:
            p, product = np.zeros(n), np.empty(n)
            for c in np.flatnonzero(wts):
                product[:] = scene.class_scores[:, c]
                product *= wts[c]
                np.maximum(p, product, out=p)
            cls = None
        else:
            cs = scene.class_scores[:, :len(wts)].astype(np.float64) * wts[None, :]
            cls = cs.argmax(1) if n else np.zeros(0, np.int64)
            p = cs[np.arange(n), cls] if n else np.zeros(0)
        candidate = scene.labels == NO_CLASS
        if known and not noun_phrase.generic:
            # Class-agnostic candidates are for things COCO lacks: their weak class scores must
            # not outbid a detection of the class.
            p = np.where(candidate, 0.0, p)
        else:
            p = np.maximum(p, scene.objectness)
            cls = None if cls is None else np.where(candidate, NO_CLASS, cls)
        return p, cls, known

    def context(self, parsed: ParsedPhrase, sources: Sequence[SubjectEvidence] = ()) -> np.ndarray:
        """What the answer to ``parsed`` rests on (``priors.CONTEXT``), the same for every region of
        every image: how close the noun comes to a detector class and to the ImageNet kinds asked,
        whether a learned concept spoke, and how many word modules judge the regions (those
        ``score`` adds)."""
        noun = parsed.subject
        coco = max(self.coco_match(noun)[0], 0.0) if self.class_weights(noun)[2] else 0.0
        imagenet = max([max(s.match, 0.0) for s in sources if s.source == "imagenet"], default=0.0)
        concept = float(any(s.source == "concept" for s in sources))
        words = len(self.word_modules(parsed, sources))
        return np.array([coco, imagenet, concept, words], np.float64)

    def word_modules(self, parsed: ParsedPhrase, sources: Sequence[SubjectEvidence] = ()) -> list[str]:
        """The word modules (``TERMS``) ``score`` adds for ``parsed``: one per kind of word the
        subject has, but not colour and brightness where a source judged them (a concept learned
        from boxes labelled with them), and the relation only when the detector knows its object."""
        noun = parsed.subject
        attributes = _attribute_words_open(sources)
        relation = bool(parsed.relation) and parsed.obj is not None and self.class_weights(parsed.obj)[2]
        return [name for name, present in (
            ("colour", noun.colours and attributes), ("brightness", noun.brightness and attributes),
            ("size", noun.sizes), ("pose", noun.poses), ("location", noun.locations),
            ("ordinal", noun.ordinal is not None), ("relation", relation)) if present]

    # --- peers
    def peers(self, scene: Scene, evidence: np.ndarray) -> "Peers":
        """The regions that are instances of the phrase's kind, one per object, with evidence."""
        if not len(scene) or evidence.max() <= 0:
            return Peers(np.zeros(0, np.int64), np.zeros(len(scene)))
        cand = np.nonzero(evidence >= self.weights.peer_ratio * evidence.max())[0]
        keep = greedy_nms(scene.boxes[cand], evidence[cand], self.weights.same_object_iou)
        return Peers(cand[keep], evidence / evidence.max())

    # --- attribute modules
    def colour_module(self, scene: Scene, colours: tuple[str, ...], peers: "Peers",
                      reference_floor: Optional[Callable[[np.ndarray], np.ndarray]] = None) -> np.ndarray:
        """Each region's share of the colours, absolute and relative to the most coloured peer.
        ``reference_floor``: instead of the peers, a function of the regions' shares giving, per
        region, a share its peers' best is sure to reach (a bound over many images' regions)."""
        w = self.weights
        out = np.zeros(len(scene))
        for c in colours:
            frac = scene.colour_frac[:, _COLOUR_INDEX[c]].copy()
            for a, b in COLOUR_NEIGHBOURS:
                if c in (a, b):
                    other = b if c == a else a
                    frac += w.colour_neighbour_credit * scene.colour_frac[:, _COLOUR_INDEX[other]]
            absolute = np.clip(frac / w.colour_full_share, 0, 1)
            if reference_floor is None:
                ref = max(float(frac[peers.idx].max()) if peers.idx.size else 0.0, _EPS)
            else:
                ref = np.maximum(reference_floor(frac), _EPS)
            relative = np.zeros(len(frac)) if peers.lost else np.clip(frac / np.maximum(ref, frac), 0, 1)
            out += (1 - w.colour_relative) * absolute + w.colour_relative * relative
        return out / max(len(colours), 1)

    def brightness_module(self, scene: Scene, words: tuple[str, ...], peers: "Peers") -> np.ndarray:
        w = self.weights
        out = np.zeros(len(scene))
        v = scene.lightness
        for word in words:
            direction = 1 if word == "light" else -1
            span = max(w.light_full - w.dark_full, _EPS)
            absolute = np.clip((v - w.dark_full) / span, 0, 1) if direction > 0 else \
                np.clip((w.light_full - v) / span, 0, 1)
            relative = peers.rank(v, direction)
            out += (1 - w.colour_relative) * absolute + w.colour_relative * relative
        return out / max(len(words), 1)

    @staticmethod
    def size_module(scene: Scene, sizes, peers: "Peers") -> np.ndarray:
        """Comparative size words rank a region among its peers ("the bigger elephant")."""
        out = np.zeros(len(scene))
        for measure, direction, _ in sizes:
            m = {"area": scene.w * scene.h, "height": scene.h, "width": scene.w}[measure]
            out += peers.rank(m, direction)
        return out / max(len(sizes), 1)

    def pose_module(self, scene: Scene, poses) -> np.ndarray:
        out = np.zeros(len(scene))
        log_aspect = np.log(scene.w / scene.h)
        for direction, _ in poses:
            out += _sigmoid(direction * self.weights.pose_sharpness * log_aspect)
        return out / max(len(poses), 1)

    def location_module(self, scene: Scene, locations, peers: "Peers") -> np.ndarray:
        """Absolute image position mixed with the rank among the peers.

        Left/right and top/bottom words combine into one direction ("top right" = up and to
        the right), so a region is compared with its peers on that direction as a whole.
        """
        beta = self.weights.location_relative
        parts: list[np.ndarray] = []
        axes = {}
        for loc in locations:
            if loc.axis in ("x", "y"):
                axes.setdefault(loc.axis, loc.direction)
        if axes:
            absolute = np.zeros(len(scene))
            for axis, direction in axes.items():
                v = scene.cx / scene.width if axis == "x" else scene.cy / scene.height
                absolute += v if direction > 0 else 1 - v
            absolute /= len(axes)
            parts.append((1 - beta) * absolute + beta * peers.rank(absolute))
        for loc in locations:
            if loc.axis in ("x", "y"):
                continue
            if loc.axis == "center":
                dx = (scene.cx / scene.width - 0.5) * 2
                dy = (scene.cy / scene.height - 0.5)
                values = -np.hypot(dx, dy)
                absolute = np.clip(1 + values, 0, 1)
            else:  # depth: near the viewer = low in the picture and large
                near = 0.5 * scene.boxes[:, 3] / scene.height + \
                    0.5 * np.sqrt(scene.w * scene.h / (scene.width * scene.height))
                values = near if loc.direction > 0 else -near
                absolute = near if loc.direction > 0 else 1 - near
            parts.append((1 - beta) * np.clip(absolute, 0, 1) + beta * peers.rank(values))
        return np.mean(parts, axis=0) if parts else np.ones(len(scene))

    def ordinal_module(self, scene: Scene, ordinal, peers: "Peers") -> np.ndarray:
        """ "second from left": count the peers before each region, weighted by evidence."""
        values = scene.cx if ordinal.axis == "x" else scene.cy
        if ordinal.direction > 0:
            values = -values
        if peers.lost:
            return np.zeros(len(scene))
        if peers.idx.size == 0:
            return np.ones(len(scene))
        pv, pw = values[peers.idx], peers.weight[peers.idx]
        before = ((pv[None, :] < values[:, None] - 1e-6) * pw[None, :]).sum(1)
        n = ordinal.n if ordinal.n > 0 else float(pw.sum())
        rank = 1.0 + before
        return self.weights.ordinal_decay ** np.abs(rank - n)

    def hint_module(self, scene: Scene, hint: tuple[float, float]) -> np.ndarray:
        x, y = hint
        b = scene.boxes
        dx = np.clip(np.maximum(b[:, 0] - x, x - b[:, 2]), 0, None)
        dy = np.clip(np.maximum(b[:, 1] - y, y - b[:, 3]), 0, None)
        d = np.hypot(dx, dy) / max(scene.width, scene.height)
        inside = np.exp(-d / self.weights.hint_radius)
        # Among boxes holding the point, the one centred nearer to it fits a click better.
        centred = np.hypot((scene.cx - x) / scene.w, (scene.cy - y) / scene.h)
        return inside * (1.0 - 0.2 * np.clip(centred, 0, 1))

    # --- the evidence terms
    def subject_terms(self, scene: Scene, noun_phrase: NounPhrase,
                      sources: Sequence[SubjectEvidence] = (), detector_p: Optional[np.ndarray] = None,
                      labelled: bool = True) -> tuple[np.ndarray, ScoreResult]:
        """(N, len(TERMS)) terms with every source's columns filled, and a ``ScoreResult`` holding
        what each region's evidence rests on. ``detector_p``: the detector's p given (a bound).
        Not ``labelled``: the result names no region's source (what a bound needs is the terms)."""
        n = len(scene)
        terms = np.zeros((n, len(TERMS)))
        if detector_p is None:
            p_det, cls, known = self.subject_p(scene, noun_phrase)
        else:
            p_det, cls, known = detector_p, None, self.class_weights(noun_phrase)[2]
        coco, _ = self.coco_match(noun_phrase)
        if known:
            terms[:, _TERM["detector"]] = strength(p_det)
            terms[:, _TERM["detector_match"]] = strength(p_det) * max(coco, 0.0)
        terms[:, _TERM["objectness"]] = strength(np.clip(scene.objectness, 0.0, 1.0))
        names: dict[str, Optional[np.ndarray]] = {"objectness": None}  # None: "object" for every region
        ps = {"objectness": np.clip(scene.objectness, 0.0, 1.0)}
        if known:
            names["detector"] = self._class_names(cls) if cls is not None else None
            ps["detector"] = p_det
        # Which regions may be proposed: for a noun the detector knows, those it or another source
        # names (a class-agnostic candidate has no class score); for any other, every region.
        evidence = np.asarray(p_det, np.float64).copy()
        notes = [] if known else [f"'{noun_phrase.noun}' is not a class the detector knows"]
        for source in sources:
            sp = np.asarray(source.p, np.float64)
            if source.source == "imagenet":
                terms[:, _TERM["imagenet"]] = strength(sp) * max(source.match, 0.0)
                terms[:, _TERM["imagenet_excess"]] = strength(sp) * max(source.match - coco, 0.0)
            else:
                terms[:, _TERM["concept"]] = strength(sp)
            names[source.source], ps[source.source] = np.asarray(list(source.labels), dtype=object), sp
            evidence = np.maximum(evidence, sp)
            if source.note:
                notes.append(source.note)
        if not labelled:
            return terms, ScoreResult(scores=np.zeros(n), subject=np.zeros(n), subject_label=[], notes=notes,
                                      terms=terms, evidence=evidence, known=known or bool(sources))
        w = np.asarray(self.fused.vector())
        contributions = {}
        for t in SOURCE_TERMS:
            src = _SOURCE_OF_TERM[t]
            contributions[src] = contributions.get(src, 0.0) + w[_TERM[t]] * terms[:, _TERM[t]]
        order = [s_ for s_ in ("concept", "imagenet", "detector", "objectness") if s_ in ps]
        table = np.stack([contributions[s_] for s_ in order]) if n else np.zeros((len(order), 0))
        top = table.argmax(0) if n else np.zeros(0, np.int64)
        # Per region, the source it rests on: picked from stacked columns (no per-region Python work,
        # what a table of a whole folder's regions needs, ``upper_bound``).
        every = np.arange(n)
        chosen = np.array(order, dtype=object)[top].tolist()
        subject = np.stack([np.asarray(ps[s_], np.float64) for s_ in order])[top, every] if n else np.zeros(0)
        labels = np.full(n, "object", dtype=object)
        for k, s_ in enumerate(order):
            if names[s_] is not None:
                rests = top == k
                labels[rests] = names[s_][rests]
        labels = labels.tolist()
        result = ScoreResult(scores=np.zeros(n), subject=subject, subject_label=labels, notes=notes,
                             sources=chosen, terms=terms, evidence=evidence, known=known or bool(sources))
        return terms, result

    def _class_names(self, cls: np.ndarray) -> np.ndarray:
        """(N,) the class name of each class id, "object" for none."""
        ids = np.asarray(cls, np.int64)
        named = (ids >= 0) & (ids < len(self._names_by_id))
        out = np.full(len(ids), "object", dtype=object)
        out[named] = self._names_by_id[ids[named]]
        return out

    # --- a whole noun phrase
    def score_noun_phrase(self, scene: Scene, noun_phrase: NounPhrase,
                          sources: Sequence[SubjectEvidence] = (), compare: Optional[bool] = True,
                          subject: Optional[tuple[np.ndarray, ScoreResult]] = None
                          ) -> tuple[np.ndarray, ScoreResult]:
        """(utility, result with terms and modules) of one noun phrase. With ``compare`` False or
        None no region is compared with others (``upper_bound``): each comparison counts as won
        (False) or as lost (None), and the result names no region's source. ``subject``: the noun's
        ``subject_terms`` already made (a bound adds the modules twice), left as they are."""
        if subject is None:
            terms, result = self.subject_terms(scene, noun_phrase, sources, labelled=bool(compare))
        else:
            terms = subject[0].copy()
            result = replace(subject[1], terms=terms, modules=[], notes=list(subject[1].notes))
        fused = np.asarray(self.fused.vector())
        utility = terms @ fused
        if compare and len(scene):
            subject_peers = self.peers(scene, np.exp(utility - utility.max()))
        else:
            subject_peers = Peers.none(len(scene)) if compare is False else Peers.beaten_by_all(len(scene))

        def add(name: str, words: str, values: np.ndarray) -> None:
            nonlocal utility
            k = _TERM[name]
            result.modules.append(ModuleScore(name, words, values, float(fused[k])))
            terms[:, k] = values - 1.0
            utility = utility + fused[k] * terms[:, k]

        attributes = _attribute_words_open(sources)
        if noun_phrase.colours and attributes:
            add("colour", " ".join(noun_phrase.colours),
                self.colour_module(scene, noun_phrase.colours, subject_peers))
        if noun_phrase.brightness and attributes:
            add("brightness", " ".join(noun_phrase.brightness),
                self.brightness_module(scene, noun_phrase.brightness, subject_peers))
        # Comparisons are made among the regions that fit the noun and its colour words (found
        # only when a module below compares: an NMS per phrase is a good part of its cost).
        compares = noun_phrase.sizes or noun_phrase.locations or noun_phrase.ordinal is not None
        peers = self.peers(scene, np.exp(utility - utility.max())) \
            if result.modules and compare and compares else subject_peers
        if noun_phrase.sizes:
            add("size", " ".join(s_[2] for s_ in noun_phrase.sizes),
                self.size_module(scene, noun_phrase.sizes, peers))
        if noun_phrase.poses:
            add("pose", " ".join(p_[1] for p_ in noun_phrase.poses), self.pose_module(scene, noun_phrase.poses))
        if noun_phrase.locations:
            add("location", " ".join(l_.word for l_ in noun_phrase.locations),
                self.location_module(scene, noun_phrase.locations, peers))
        if noun_phrase.ordinal is not None:
            add("ordinal", noun_phrase.ordinal.word, self.ordinal_module(scene, noun_phrase.ordinal, peers))
        result.utility = utility
        return utility, result

    def score(self, scene: Scene, parsed: ParsedPhrase,
              hint: Optional[tuple[float, float]] = None,
              sources: Sequence[SubjectEvidence] = (), folder: bool = False) -> ScoreResult:
        """Score every region for ``parsed``; ``sources`` (from the Grounder: ImageNet kinds, a
        learned concept) add their evidence for the subject noun to the detector's. ``folder``: the
        phrase is asked of a picture not known to hold its thing (``FusedWeights.folder``)."""
        w = self.weights
        n = len(scene)
        if n == 0:
            return ScoreResult(np.zeros(0), np.zeros(0), [], terms=np.zeros((0, len(TERMS))),
                               utility=np.zeros(0), evidence=np.zeros(0))
        utility, result = self.score_noun_phrase(scene, parsed.subject, sources)
        if parsed.relation and parsed.obj is not None:
            obj_utility, obj_result = self.score_noun_phrase(scene, parsed.obj)
            if obj_result.known:
                q = np.exp(obj_utility - obj_utility.max())
                cand = np.nonzero(q >= w.relation_object_peer_ratio)[0]
                cand = cand[greedy_nms(scene.boxes[cand], q[cand], w.same_object_iou)]
                geom = relation_geometry(parsed.relation, scene.boxes, scene.boxes[cand],
                                         scene.width, scene.height, w)
                same = pairwise_iou(scene.boxes, scene.boxes[cand]) > w.same_object_iou
                rel = np.where(same, 0.0, geom * q[cand][None, :])
                values = rel.max(1) if cand.size else np.zeros(n)
                obj_words = " ".join(
                    [m.words for m in obj_result.modules if m.name in ("colour", "brightness", "location")]
                    + [parsed.obj.noun]).strip()
                k = _TERM["relation"]
                weight = float(self.fused.vector()[k])
                result.modules.append(ModuleScore("relation", f"{parsed.relation_words} {obj_words}",
                                                  values, weight))
                result.terms[:, k] = values - 1.0
                utility = utility + weight * (values - 1.0)
            else:
                result.notes.append(f"'{parsed.obj.noun}' is not something the detector finds; "
                                    f"'{parsed.relation_words}' ignored")
        if hint is not None:
            values = self.hint_module(scene, hint)
            result.modules.append(ModuleScore("hint", "click", values, w.hint))
            utility = utility + w.hint * (values - 1.0)
        result.utility = utility
        result.context = self.context(parsed, sources)
        result.scores = calibrated(utility, self.fused.asked_of_folder if folder else self.fused, result.context)
        return result

    def upper_bound(self, scene: Scene, parsed: ParsedPhrase, detector_p: np.ndarray, starts: np.ndarray,
                    sources: Sequence[SubjectEvidence] = (), folder: bool = False) -> np.ndarray:
        """(N,) a score no region can exceed in ``score``, given the detector's evidence
        (``subject_p(scene, parsed.subject, named=False)``) and that of ``sources`` (a learned
        concept's head over the regions' kept embeddings, ImageNet's kept kinds of the crops: every
        other source ``Grounder.bounded_subject`` names). ``scene`` holds the regions of many images (``width`` and
        ``height`` given per region), image ``k``'s from ``starts[k]`` on: one pass bounds a whole
        folder (``image_search``).

        Every weight is at least 0 and every module's term at most 0. A region's utility is at most
        its utility with the modules that compare it with others (relative colour, brightness,
        size, location and order among peers, a relation) counted as won, the rest (colour share,
        pose, position in the image) computed, and the colour words' reference among the peers at
        least the share of the region the peers are sure to hold (the image's best by the subject);
        every other region's is at least its utility with every comparison lost. Its share of its
        image's evidence is at most what those bounds leave it, its margin over the others at most its bound less their best lower bound,
        and what the answer rests on (``context``) is the same on every image. ``folder``: bounds
        ``score`` with the same, the calibration for a picture not known to hold the thing.
        """
        start = self.subject_terms(scene, parsed.subject, sources, detector_p, labelled=False)
        upper, result = self.score_noun_phrase(scene, parsed.subject, sources, compare=False, subject=start)
        fused = np.asarray(self.fused.vector())
        sizes = np.diff(np.append(starts, len(upper)))
        image = np.repeat(np.arange(len(starts)), sizes)
        colour = next((m for m in result.modules if m.name == "colour"), None)
        if colour is not None and len(upper):
            # The colour words' peers always hold the region of the image's best subject utility
            # (``peers`` ranks by it): the most coloured peer has at least its share. Regions
            # within rounding of the best may be it, so the least of their shares.
            subject = start[0] @ fused
            best = np.maximum.reduceat(subject, starts)[image]
            may_lead = subject >= best - 1e-9 * np.maximum(np.abs(best), 1.0)

            def floor(frac: np.ndarray) -> np.ndarray:
                return np.minimum.reduceat(np.where(may_lead, frac, np.inf), starts)[image]

            tighter = self.colour_module(scene, parsed.subject.colours, Peers.none(len(upper)), floor)
            upper = upper - colour.weight * (colour.values - tighter)
        # Every other region's utility is at least its utility with each comparison lost (the
        # words about the region itself still count) and the relation (scored apart) lost too.
        lower, _ = self.score_noun_phrase(scene, parsed.subject, sources, compare=None, subject=start)
        if "relation" in self.word_modules(parsed, sources):
            lower = lower - fused[_TERM["relation"]]
        shift = float(max(upper.max(initial=0.0), lower.max(initial=0.0)))
        mass = np.exp(lower - shift)
        per_image = np.add.reduceat(mass, starts) if len(mass) else mass
        others = np.repeat(per_image, np.diff(np.append(starts, len(mass)))) - mass
        share = (upper - shift) - np.logaddexp(upper - shift, np.log(np.maximum(others, 1e-300)))
        # Its margin over the best other region of its image is at most its bound less the best
        # lower bound of the others (0 for a region alone, as in ``calibration_inputs``).
        index = np.arange(len(lower))
        best = np.maximum.reduceat(lower, starts)[image] if len(lower) else lower
        first_best = np.full(len(starts), len(lower))
        np.minimum.at(first_best, image[lower >= best], index[lower >= best])
        rest = lower.copy()
        rest[first_best[first_best < len(lower)]] = -np.inf
        second = np.maximum.reduceat(rest, starts)[image] if len(lower) else lower
        other = np.where(index == first_best[image], second, best)
        margin = np.where(sizes[image] > 1, upper - other, 0.0)
        return _calibration_map(upper, share, margin, self.context(parsed, sources),
                                self.fused.asked_of_folder if folder else self.fused)

    # --- choosing what to show
    def select(self, scene: Scene, result: ScoreResult, top_k: int, plural: bool) -> np.ndarray:
        """Indices of the regions to propose, best first, one per object. A region no source
        names (a class-agnostic candidate for a COCO noun) is none."""
        w = self.weights
        if not len(scene):
            return np.zeros(0, np.int64)
        best = int(np.argmax(result.scores))
        if top_k == 1 and not plural and result.evidence[best] > 0:
            return np.array([best])  # what the NMS below keeps first (image search asks for one a lot)
        keep = one_per_object(scene.boxes, result.scores, result.evidence > 0, w.output_nms_iou)
        if plural and keep.size:
            best = float(result.scores[keep[0]])
            bar = max(w.plural_min_score, w.plural_relative * best)
            chosen = keep[result.scores[keep] >= bar]
            return chosen if chosen.size else keep[:1]
        return keep[:max(int(top_k), 0)]

    @staticmethod
    def explain(result: ScoreResult, i: int) -> str:
        """ "fox squirrel 0.98 (ImageNet) · left 0.90": the evidence the score rests on most, then
        each module's value."""
        source = result.sources[i] if result.sources else "detector"
        parts = [f"{result.subject_label[i]} {result.subject[i]:.2f} ({SOURCE_NAMES.get(source, source)})"]
        for m in result.modules:
            parts.append(f"{m.words} {m.values[i]:.2f}")
        text = " · ".join(parts)
        if result.notes:
            text += " (" + "; ".join(result.notes) + ")"
        return text
