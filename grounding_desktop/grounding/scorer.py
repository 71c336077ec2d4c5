"""Phrase-region scorer: modular matching of a parsed phrase against an image's detected regions.

In the spirit of MAttNet, each module looks at one kind of word and gives every region a score
in [0, 1] with a short reason:

- subject: the noun against the region's per-class detector scores, through embedding
  similarity to class names and synonyms ("puppy" finds dogs, "guy" people);
- colour / brightness: colour words against the region's colour make-up (``regions.py``);
- size and pose: "bigger", "tall", "lying" against box size and shape;
- location / ordinal: "left", "top right", "middle", "closest", "second from left", both in
  absolute image position and relative to the other regions of the same kind (the "peers");
- relation: "on the horse", "next to the car", "holding the umbrella": geometry against the
  best-matching regions for the object phrase (scored by the same modules).

The modules are combined log-linearly with the weights of ``priors.py``. Everything here is
numpy on a handful of regions, so re-scoring for a new phrase takes about a millisecond.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .encoder import ClassPrototypes
from ..core.phrase_parse import NounPhrase, ParsedPhrase
from .priors import DEFAULT_WEIGHTS, ScorerWeights
from .regions import NO_CLASS
from ..core.vocabulary import COLOUR_NAMES, COLOUR_NEIGHBOURS, HYPERNYMS

_COLOUR_INDEX = {name: i for i, name in enumerate(COLOUR_NAMES)}
_EPS = 1e-6
BOUND_CLASS_SHARE = 0.02  # ``subject_p(bound=True)`` reads the classes weighing this much of the heaviest


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

    @classmethod
    def none(cls, n: int) -> "Peers":
        """No peers: every comparison with another region counts as won."""
        return cls(np.zeros(0, np.int64), np.zeros(n))


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

    The scorer makes it from the detector's class scores; the Grounder hands in its own when the
    noun is a concept learned from the user's boxes or an ImageNet kind COCO lacks.
    """

    p: np.ndarray                      # (N,) in [0, 1]
    labels: list[str]                  # (N,) what matched: a COCO class, an ImageNet label, ...
    known: bool = True                 # False: nothing knows the noun; objectness ranks regions
    note: str = ""                     # a remark for the explanation ("learned from 3 of your boxes")
    source: str = "detector"           # detector | imagenet | concept
    # The evidence already judged the phrase's colour and brightness words (a concept learned
    # from boxes labelled with them): the colour modules must not judge them again.
    judged_attributes: bool = False


@dataclass
class ScoreResult:
    scores: np.ndarray                 # (N,) final scores in (0, 1]
    subject: np.ndarray                # (N,) p(subject | region)
    subject_label: list[str]           # (N,) the name behind each region's subject evidence
    modules: list[ModuleScore] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # phrase-level remarks for the explanation

    def module_values(self, i: int) -> dict[str, float]:
        out = {"subject": float(self.subject[i])}
        for m in self.modules:
            out[m.name] = float(m.values[i])
        return out


# ----------------------------------------------------------------------------- geometry helpers

def pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of xyxy boxes."""
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, _EPS)


def greedy_nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy NMS, best first (numpy: the sets here are tiny)."""
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
        suppressed |= ious[i] > iou
    return np.asarray(keep, np.int64)


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

    def __init__(self, prototypes: ClassPrototypes, weights: ScorerWeights = DEFAULT_WEIGHTS):
        self.prototypes = prototypes
        self.weights = weights
        self.labels = prototypes.labels

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

    def subject_evidence(self, scene: Scene, noun_phrase: NounPhrase) -> SubjectEvidence:
        """The detector's evidence for the noun: its class scores for a COCO noun; for any object
        or a noun no class fits, how object-like each region is (class scores count too)."""
        p, cls, known = self.subject_p(scene, noun_phrase)
        note = "" if known else f"'{noun_phrase.noun}' is not a class the detector knows"
        return SubjectEvidence(p, [self.labels.get(int(c), "object") for c in cls], known, note)

    def subject_p(self, scene: Scene, noun_phrase: NounPhrase, bound: bool = False
                  ) -> tuple[np.ndarray, Optional[np.ndarray], bool]:
        """``subject_evidence`` as arrays: (p(noun | region), the class each value rests on
        (``NO_CLASS``: objectness), whether the noun names something the detector knows).

        With ``bound``, an upper bound of p that costs little over a table of many images'
        regions (``upper_bound``): only the classes weighing at least ``BOUND_CLASS_SHARE`` of
        the heaviest are read, every other counts its weight (as if its score were 1), and the
        classes are not returned."""
        wts, _, known = self.class_weights(noun_phrase)
        wts = wts[:scene.class_scores.shape[1]]
        n = len(scene)
        if bound:
            read = wts >= BOUND_CLASS_SHARE * wts.max() if wts.size else wts.astype(bool)
            p = np.full(n, float(wts[~read].max()) if (~read).any() else 0.0)
            for c in np.nonzero(read)[0]:
                np.maximum(p, scene.class_scores[:, c] * wts[c], out=p)
            cls = None
        else:
            cs = scene.class_scores[:, :len(wts)] * wts[None, :]
            cls = cs.argmax(1) if n else np.zeros(0, np.int64)
            p = (cs[np.arange(n), cls] if n else np.zeros(0)).astype(np.float64)
        candidate = scene.labels == NO_CLASS
        if known and not noun_phrase.generic:
            # Class-agnostic candidates are for things COCO lacks: their weak class scores must
            # not outbid a detection of the class.
            p = np.where(candidate, 0.0, p)
        else:
            p = np.maximum(p, scene.objectness)
            cls = None if cls is None else np.where(candidate, NO_CLASS, cls)
        return p, cls, known

    # --- peers
    def peers(self, scene: Scene, evidence: np.ndarray) -> "Peers":
        """The regions that are instances of the phrase's kind, one per object, with evidence."""
        if not len(scene) or evidence.max() <= 0:
            return Peers(np.zeros(0, np.int64), np.zeros(len(scene)))
        cand = np.nonzero(evidence >= self.weights.peer_ratio * evidence.max())[0]
        keep = greedy_nms(scene.boxes[cand], evidence[cand], self.weights.same_object_iou)
        return Peers(cand[keep], evidence / evidence.max())

    # --- attribute modules
    def colour_module(self, scene: Scene, colours: tuple[str, ...], peers: "Peers") -> np.ndarray:
        w = self.weights
        out = np.zeros(len(scene))
        for c in colours:
            frac = scene.colour_frac[:, _COLOUR_INDEX[c]].copy()
            for a, b in COLOUR_NEIGHBOURS:
                if c in (a, b):
                    other = b if c == a else a
                    frac += w.colour_neighbour_credit * scene.colour_frac[:, _COLOUR_INDEX[other]]
            absolute = np.clip(frac / w.colour_full_share, 0, 1)
            ref = max(float(frac[peers.idx].max()) if peers.idx.size else 0.0, _EPS)
            relative = np.clip(frac / np.maximum(ref, frac), 0, 1)
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
            relative = _relative(v, peers.idx, peers.weight, direction)
            out += (1 - w.colour_relative) * absolute + w.colour_relative * relative
        return out / max(len(words), 1)

    @staticmethod
    def size_module(scene: Scene, sizes, peers: "Peers") -> np.ndarray:
        """Comparative size words rank a region among its peers ("the bigger elephant")."""
        out = np.zeros(len(scene))
        for measure, direction, _ in sizes:
            m = {"area": scene.w * scene.h, "height": scene.h, "width": scene.w}[measure]
            out += _relative(m, peers.idx, peers.weight, direction)
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
            parts.append((1 - beta) * absolute + beta * _relative(absolute, peers.idx, peers.weight))
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
            rel = _relative(values, peers.idx, peers.weight)
            parts.append((1 - beta) * np.clip(absolute, 0, 1) + beta * rel)
        return np.mean(parts, axis=0) if parts else np.ones(len(scene))

    def ordinal_module(self, scene: Scene, ordinal, peers: "Peers") -> np.ndarray:
        """ "second from left": count the peers before each region, weighted by evidence."""
        values = scene.cx if ordinal.axis == "x" else scene.cy
        if ordinal.direction > 0:
            values = -values
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

    # --- a whole noun phrase
    def score_noun_phrase(self, scene: Scene, noun_phrase: NounPhrase,
                          subject: Optional[SubjectEvidence] = None, compare: bool = True
                          ) -> tuple[np.ndarray, SubjectEvidence, list[ModuleScore]]:
        """(log score, subject evidence, modules) of one noun phrase; ``subject`` replaces the
        detector's evidence for the noun. Without ``compare`` no region is compared with others
        (``upper_bound``): each comparison counts as won."""
        w = self.weights
        evidence = subject if subject is not None else self.subject_evidence(scene, noun_phrase)
        p = evidence.p
        log_score = w.subject * np.log(np.maximum(p, _EPS))
        modules: list[ModuleScore] = []
        subject_peers = self.peers(scene, p) if compare else Peers.none(len(scene))

        def add(name: str, words: str, values: np.ndarray, weight: float) -> None:
            nonlocal log_score
            modules.append(ModuleScore(name, words, values, weight))
            log_score = log_score + weight * (values - 1.0)

        attributes = not evidence.judged_attributes
        if noun_phrase.colours and attributes:
            add("colour", " ".join(noun_phrase.colours),
                self.colour_module(scene, noun_phrase.colours, subject_peers), w.colour)
        if noun_phrase.brightness and attributes:
            add("brightness", " ".join(noun_phrase.brightness),
                self.brightness_module(scene, noun_phrase.brightness, subject_peers), w.brightness)
        # Comparisons are made among the regions that fit the noun and its colour words (found
        # only when a module below compares: an NMS per phrase is a good part of its cost).
        compares = noun_phrase.sizes or noun_phrase.locations or noun_phrase.ordinal is not None
        peers = self.peers(scene, np.exp(log_score)) if modules and compare and compares else subject_peers
        if noun_phrase.sizes:
            add("size", " ".join(s[2] for s in noun_phrase.sizes),
                self.size_module(scene, noun_phrase.sizes, peers), w.size)
        if noun_phrase.poses:
            add("pose", " ".join(p_[1] for p_ in noun_phrase.poses),
                self.pose_module(scene, noun_phrase.poses), w.pose)
        if noun_phrase.locations:
            add("location", " ".join(l.word for l in noun_phrase.locations),
                self.location_module(scene, noun_phrase.locations, peers), w.location)
        if noun_phrase.ordinal is not None:
            o = noun_phrase.ordinal
            add("ordinal", o.word, self.ordinal_module(scene, o, peers), w.ordinal)
        return log_score, evidence, modules

    def score(self, scene: Scene, parsed: ParsedPhrase,
              hint: Optional[tuple[float, float]] = None,
              subject: Optional[SubjectEvidence] = None) -> ScoreResult:
        """Score every region for ``parsed``; ``subject`` (from the Grounder) replaces the
        detector's evidence for the subject noun."""
        w = self.weights
        n = len(scene)
        if n == 0:
            return ScoreResult(np.zeros(0), np.zeros(0), [])
        log_score, evidence, modules = self.score_noun_phrase(scene, parsed.subject, subject)
        notes = [evidence.note] if evidence.note else []
        if parsed.relation and parsed.obj is not None:
            obj_log, obj_evidence, obj_modules = self.score_noun_phrase(scene, parsed.obj)
            if obj_evidence.known:
                q = np.exp(obj_log - obj_log.max())
                cand = np.nonzero(q >= w.relation_object_peer_ratio)[0]
                cand = cand[greedy_nms(scene.boxes[cand], q[cand], w.same_object_iou)]
                geom = relation_geometry(parsed.relation, scene.boxes, scene.boxes[cand],
                                         scene.width, scene.height, w)
                same = pairwise_iou(scene.boxes, scene.boxes[cand]) > w.same_object_iou
                rel = np.where(same, 0.0, geom * q[cand][None, :])
                values = rel.max(1) if cand.size else np.zeros(n)
                obj_words = " ".join(
                    [m.words for m in obj_modules if m.name in ("colour", "brightness", "location")]
                    + [parsed.obj.noun]).strip()
                modules.append(ModuleScore("relation", f"{parsed.relation_words} {obj_words}",
                                           values, w.relation))
                log_score = log_score + w.relation * (values - 1.0)
            else:
                notes.append(f"'{parsed.obj.noun}' is not something the detector finds; "
                             f"'{parsed.relation_words}' ignored")
        if hint is not None:
            values = self.hint_module(scene, hint)
            modules.append(ModuleScore("hint", "click", values, w.hint))
            log_score = log_score + w.hint * (values - 1.0)
        return ScoreResult(scores=np.exp(log_score), subject=evidence.p,
                           subject_label=evidence.labels, modules=modules, notes=notes)

    def upper_bound(self, scene: Scene, parsed: ParsedPhrase, subject_p: np.ndarray) -> np.ndarray:
        """(N,) a score no region can exceed in ``score``, whatever other regions its image holds,
        given ``subject_p`` (at least ``subject_p(scene, parsed.subject)[0]``: its ``bound``).

        Every module's value lies in [0, 1] and only lowers a score; the ones that compare a
        region with others (relative colour, brightness, size, location and order among peers, a
        relation to another thing) are counted as won, the rest (colour share, pose, position in
        the image) are computed. ``scene`` may hold the regions of many images, with ``width`` and
        ``height`` given per region: one pass bounds a whole folder (``image_search``).
        """
        log_score, _, _ = self.score_noun_phrase(scene, parsed.subject, SubjectEvidence(subject_p, []),
                                                 compare=False)
        return np.exp(log_score)

    # --- choosing what to show
    def select(self, scene: Scene, result: ScoreResult, top_k: int, plural: bool) -> np.ndarray:
        """Indices of the regions to propose, best first, one per object. A region with no
        evidence at all for the subject (a class-agnostic candidate for a COCO noun) is none."""
        w = self.weights
        if not len(scene):
            return np.zeros(0, np.int64)
        best = int(np.argmax(result.scores))
        if top_k == 1 and not plural and result.subject[best] > 0:
            return np.array([best])  # what the NMS below keeps first (image search asks for one a lot)
        keep = greedy_nms(scene.boxes, result.scores, w.output_nms_iou)
        keep = keep[result.subject[keep] > 0]
        if plural and keep.size:
            best = float(result.scores[keep[0]])
            bar = max(w.plural_min_score, w.plural_relative * best)
            chosen = keep[result.scores[keep] >= bar]
            return chosen if chosen.size else keep[:1]
        return keep[:max(int(top_k), 0)]

    @staticmethod
    def explain(result: ScoreResult, i: int) -> str:
        parts = [f"{result.subject_label[i]} {result.subject[i]:.2f}"]
        for m in result.modules:
            parts.append(f"{m.words} {m.values[i]:.2f}")
        text = " · ".join(parts)
        if result.notes:
            text += " (" + "; ".join(result.notes) + ")"
        return text
