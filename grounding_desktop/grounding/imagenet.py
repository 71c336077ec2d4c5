"""ImageNet's 1000 kinds for the nouns COCO lacks: which kinds a noun names, and how much a
region's crop (classified by ``recognizer.RegionRecognizer``) looks like them.

A noun goes to ImageNet only when a COCO word list does not name it and an ImageNet label is
clearly closer than any COCO class ("squirrel": fox squirrel 0.88 against bird 0.57), so COCO
phrases never pay for the second CNN. Several kinds can share a noun ("butterfly": monarch,
ringlet, cabbage butterfly, ...): each counts by how close its name is, as COCO synonyms do.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from .encoder import ClassPrototypes, PhraseEncoder
from ..core.phrase_parse import NounPhrase
from .recognizer import imagenet_labels

MIN_SIMILARITY = 0.65   # the noun must come this close to an ImageNet label...
MARGIN = 0.1            # ...and this much closer than to any COCO class
TEMPERATURE = 0.07      # a kind's weight: exp(-(best similarity - its similarity) / T)
MIN_WEIGHT = 0.01       # kinds weighing less are left out


@dataclass(frozen=True)
class Kinds:
    """The ImageNet classes a noun names, weighted, and the label that matched best."""

    weights: np.ndarray     # (1000,) in [0, 1]
    label: str


def imagenet_prototypes(encoder: PhraseEncoder, cache_dir: Optional[Path]) -> ClassPrototypes:
    labels = imagenet_labels()
    return ClassPrototypes(encoder, {i: names[0] for i, names in enumerate(labels)}, cache_dir,
                           synonyms={i: names for i, names in enumerate(labels)})


def kinds_for(prototypes: ClassPrototypes, noun_phrase: NounPhrase,
              coco_similarity: float) -> Optional[Kinds]:
    """The kinds ``noun_phrase`` names, or None when it is no ImageNet noun or COCO has it."""
    if noun_phrase.generic:
        return None
    sims, _ = prototypes.noun_similarity(noun_phrase, MIN_SIMILARITY)
    best = float(sims.max())
    if best < MIN_SIMILARITY or best < coco_similarity + MARGIN:
        return None
    weights = np.exp(-(best - sims) / TEMPERATURE)
    weights[weights < MIN_WEIGHT] = 0.0
    return Kinds(weights.astype(np.float32), prototypes.labels[int(sims.argmax())])


def evidence(probs: np.ndarray, kinds: Kinds) -> tuple[np.ndarray, list[str]]:
    """(p(noun | region), the ImageNet label behind it) for (N, 1000) class probabilities."""
    weighted = np.asarray(probs, np.float64) * kinds.weights[None, :]
    names = imagenet_labels()
    best = weighted.argmax(1) if len(weighted) else np.zeros(0, np.int64)
    return np.clip(weighted.sum(1), 0.0, 1.0), [names[int(c)][0] for c in best]
