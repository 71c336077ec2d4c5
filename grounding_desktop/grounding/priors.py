"""Every weight and constant of the phrase-region scorer, in one place.

The scorer is log-linear: for each region

    log score = w_subject * log p(subject | region) + sum_m w_m * (s_m - 1)

where each module score ``s_m`` lies in [0, 1] (1 = the words fit perfectly), so a module that
has nothing to say (no colour word in the phrase) contributes 0 and the final score stays in
(0, 1]. The per-module scores are kept with each proposal (``Proposal.modules``); a later
learning step fits these weights from the user's accepted boxes (logistic regression on the
module scores) and stores them with ``ScorerWeights.to_dict``/``from_dict``.

The values below are priors set by hand from what the words mean, not fitted to any data set.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class ScorerWeights:
    # --- module weights (nats lost when a module scores 0 instead of 1) ---
    subject: float = 1.0        # exponent on p(subject | region)
    colour: float = 2.5
    brightness: float = 2.0
    size: float = 2.5
    pose: float = 1.0
    location: float = 2.5
    ordinal: float = 3.0
    relation: float = 3.0
    hint: float = 4.0           # a clicked point: boxes away from it lose up to this much

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
