"""The constants of the phrase-region scorer, and the fitted weights that fuse its evidence.

Every region of an image gets one value per evidence term (``TERMS``): how strongly each source
(the detector's classes, the second CNN's ImageNet kinds, a concept learned from the user's boxes,
objectness) says the region is the phrase's noun, and how well it fits each kind of word (colour,
size, place, order, relation; each module's value ``s`` in [0, 1] enters as ``s - 1``). The score
is a utility ``u = sum_t w_t * term_t`` (which ranks the regions) made a probability by a
calibration map over ``u``, the region's share of the evidence in its image, its margin over the
best other region, and what the whole answer rests on (``CONTEXT``: the same for every region of
the phrase):

    score = sigmoid(scale * u + share * (u - logsumexp(u over the image's regions))
                    + margin * (u - max(u over the other regions)) + sum_c context_c * c + bias)

``FusedWeights`` holds ``w``, ``scale``, ``share``, ``margin``, the ``context`` coefficients and
``bias``; with ``scale``, ``share`` and ``margin`` >= 0 the map keeps the order of ``u`` within an
image, so the best box by the fit is the best scored. A second calibration of the same form
(``FusedWeights.folder``) serves a phrase asked of every picture of a folder (proposing, searching),
where the thing may not be there at all: fitted on phrases asked of pictures without their thing
too, taught ones among them, it scores lower where only a learned concept's weak evidence speaks.
The weights and both calibrations are fitted, not set by hand
(``grounding/scoring/fit_scorer.py``: a conditional logit over each phrase's regions, then a logistic
calibration, checked on images the fit never saw) and ship as ``resources/scorer_fit.json`` with
its card (``models/fused_scorer.md``); a project with enough labelled boxes refits them on its own
(``fit_scorer.refit``). Every weight is at least 0, so more evidence never lowers a region.

``ScorerWeights`` keeps the constants inside the modules (what "left" or "on" means in geometry),
set from what the words mean.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property, lru_cache
from pathlib import Path

# Evidence from the sources, each a strength log(1 + p / 0.01) of a probability p (0 = no evidence).
SOURCE_TERMS = (
    "detector",          # the detector's score for the noun's COCO classes (nouns a class fits)
    "detector_match",    # ... times how close the noun comes to the class (1: a class's word list)
    "imagenet",          # the region crop's ImageNet probabilities weighted by each kind's closeness
    "imagenet_excess",   # ... times how much closer the noun is to ImageNet than to COCO
    "concept",           # a concept learned from the user's boxes
    "objectness",        # how likely the region holds an object of any kind
)
# The words' modules (value - 1, so a module with nothing to say gives 0).
MODULE_TERMS = ("colour", "brightness", "size", "pose", "location", "ordinal", "relation")
TERMS = SOURCE_TERMS + MODULE_TERMS
# What the whole answer rests on, one value per phrase (``PhraseScorer.context``): the same utility
# means something else when the detector has a class for the noun (its strong evidence is in the
# sum), when ImageNet's kinds or a learned concept add to it, and when nothing knows the noun.
CONTEXT = (
    "coco",              # how close the noun comes to a detector class (0: no class fits it)
    "imagenet",          # ... to its ImageNet kinds, when they were asked (0: not asked)
    "concept",           # 1 when a concept learned from the user's boxes spoke
    "words",             # how many word modules judged the regions (colour, place, relation, ...)
)
FIT_FILE = Path(__file__).resolve().parents[2] / "resources" / "scorer_fit.json"


@dataclass(frozen=True)
class FusedWeights:
    """The weight of each term and the calibration map (see the module docstring)."""

    terms: dict = field(default_factory=dict)  # term name -> weight (>= 0); missing terms weigh 0
    scale: float = 1.0
    share: float = 0.0
    bias: float = 0.0
    fitted_on: str = ""                         # what the weights were fitted on, in words
    margin: float = 0.0
    context: dict = field(default_factory=dict)  # CONTEXT name -> coefficient; missing ones are 0
    # The calibration (scale, share, margin, context, bias) for a picture not known to hold the
    # thing (a folder's propose and search); empty: the one above serves there too.
    folder: dict = field(default_factory=dict)

    def vector(self) -> "list[float]":
        return [float(self.terms.get(t, 0.0)) for t in TERMS]

    def context_vector(self) -> "list[float]":
        return [float(self.context.get(c, 0.0)) for c in CONTEXT]

    def calibration(self) -> dict:
        """The calibration's numbers, as ``folder`` keeps the other one: scale, share, margin,
        context, bias."""
        return {"scale": self.scale, "share": self.share, "margin": self.margin, "context": dict(self.context),
                "bias": self.bias}

    @cached_property
    def asked_of_folder(self) -> "FusedWeights":
        """These weights with the calibration for a picture not known to hold the thing
        (``folder``); these very weights when the fit has none."""
        return replace(self, **_calibration(self.folder), folder={}) if self.folder else self

    def to_dict(self) -> dict:
        out = {"terms": {t: round(float(self.terms.get(t, 0.0)), 6) for t in TERMS},
               **_rounded(self.calibration()), "fitted_on": self.fitted_on}
        if self.folder:
            out["folder"] = _rounded(self.folder)
        return out

    @cached_property
    def fingerprint(self) -> str:
        """Eight hex digits that change with any of the fit's numbers and only with them (not with
        ``fitted_on``, its description): names the fit in ``model_version``, which every proposal
        reads (hashed once per fit: the fit is frozen)."""
        numbers = {k: v for k, v in self.to_dict().items() if k != "fitted_on"}
        text = json.dumps(numbers, sort_keys=True)
        return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]

    @classmethod
    def from_dict(cls, data: dict) -> "FusedWeights":
        folder = data.get("folder")
        return cls({t: float(v) for t, v in data.get("terms", {}).items() if t in TERMS},
                   fitted_on=str(data.get("fitted_on", "")), folder=_calibration(folder) if folder else {},
                   **_calibration(data))


def _calibration(data: dict) -> dict:
    """A calibration's numbers (scale, share, margin, context, bias) read from a fit file's
    entries; one missing is scale 1 or 0 for the others."""
    return {"scale": float(data.get("scale", 1.0)), "share": float(data.get("share", 0.0)),
            "margin": float(data.get("margin", 0.0)), "bias": float(data.get("bias", 0.0)),
            "context": {c: float(v) for c, v in data.get("context", {}).items() if c in CONTEXT}}


def _rounded(calibration: dict) -> dict:
    """A calibration as a fit file keeps it (6 decimals, every ``CONTEXT`` entry)."""
    return {"scale": round(float(calibration["scale"]), 6), "share": round(float(calibration["share"]), 6),
            "margin": round(float(calibration["margin"]), 6),
            "context": {c: round(float(calibration["context"].get(c, 0.0)), 6) for c in CONTEXT},
            "bias": round(float(calibration["bias"]), 6)}


# What a fit starts from and is pulled toward (L2) where its data say little: a weight per term
# from what the words mean (nats lost when a module's value is 0 instead of 1). A term no fitted
# phrase exercises (a pose word, say) keeps about this weight.
PRIOR_WEIGHTS = FusedWeights(
    {"detector": 1.0, "imagenet": 1.0, "concept": 1.0, "objectness": 0.2, "colour": 2.5,
     "brightness": 2.0, "size": 2.5, "pose": 1.0, "location": 2.5, "ordinal": 3.0, "relation": 3.0},
    scale=1.0, share=0.0, bias=-4.0, fitted_on="not fitted: the prior of a fit")


@lru_cache(maxsize=1)
def shipped_weights() -> FusedWeights:
    """The fit that ships with the application (``resources/scorer_fit.json``)."""
    return FusedWeights.from_dict(json.loads(FIT_FILE.read_text(encoding="utf-8"))["weights"])


@dataclass(frozen=True)
class ScorerWeights:
    hint: float = 4.0           # a clicked point: boxes away from it lose up to this much (not fitted)

    # --- subject module: noun -> classes ---
    class_temperature: float = 0.07   # class weight = exp(-(best sim - sim) / T)
    min_class_similarity: float = 0.45  # below this the noun names no COCO class: objectness only

    # --- which regions count as "the other instances" for comparisons (left of, bigger) ---
    peer_ratio: float = 0.05    # regions with >= this share of the best subject evidence
    same_object_iou: float = 0.7  # boxes overlapping this much are one object

    # --- colour / brightness ---
    colour_full_share: float = 0.35   # this share of a colour in the box counts as fully that colour
    colour_relative: float = 0.5      # weight of the comparison with the peers vs absolute share
    colour_neighbour_credit: float = 0.3  # share of a neighbouring colour name that counts

    dark_full: float = 0.3            # mean lightness at or below which a region is fully "dark"
    light_full: float = 0.7           # ... at or above which it is fully "light"

    # --- pose, location, ordinal, hint ---
    pose_sharpness: float = 2.5       # "lying" = sigmoid(sharpness * log(w / h))
    location_relative: float = 0.5    # weight of rank among peers vs absolute image position
    ordinal_decay: float = 0.25       # score per place away from the named rank
    hint_radius: float = 0.03         # share of the image size a box may miss the click by

    # --- relation geometry (see scorer.relation_geometry) ---
    relation_object_peer_ratio: float = 0.2  # object candidates kept for a relation
    relation_softness: float = 0.15   # how sharply "on"/"under" fall off outside their range
    on_highest: float = -1.0          # "on": subject centre from this far above the object top...
    on_lowest: float = 0.45           # ...down to this far into the object (in object heights)
    below_offset: float = 0.1         # "under"/"above": centre offset in mean half-heights
    side_offset: float = 0.4          # "left of": centre offset in mean half-widths
    in_full_overlap: float = 0.8      # "in": overlap of the smaller box that counts fully
    holding_cover: float = 0.3        # "holding": share of the held thing's box that counts fully

    # --- output ---
    plural_relative: float = 0.15     # plural phrase: boxes scoring >= this x best are returned
    plural_min_score: float = 0.05
    output_nms_iou: float = 0.7       # proposals overlapping more are duplicates

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ScorerWeights":
        known = {f.name for f in fields(cls)}
        return replace(cls(), **{k: float(v) for k, v in data.items() if k in known})


DEFAULT_WEIGHTS = ScorerWeights()
