"""ImageNet's 1000 kinds as evidence for a noun: which kinds a noun names, and how much a
region's crop (classified by ``recognizer.RegionRecognizer``) looks like them.

A noun no COCO word list names and that comes closer to an ImageNet kind than to any COCO class is
looked at by ImageNet too (COCO phrases never pay for the second CNN); the scorer weighs that
evidence by how close the noun comes to the kinds (``Kinds.similarity``: "squirrel" is 0.88 from fox
squirrel), with weights fitted on data (``priors.FusedWeights``). Several kinds can share a noun ("butterfly":
monarch, ringlet, cabbage butterfly, ...): each of the 1000 counts by how close its name is, as
COCO synonyms do, never one nearest label alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..text.encoder import ClassPrototypes, PhraseEncoder
from ...core.phrase_parse import NounPhrase
from .recognizer import imagenet_labels

HEAD_FALLBACK = 0.65    # a noun further than this from every kind is also tried by its head word
TEMPERATURE = 0.07      # a kind's weight: exp(-(best similarity - its similarity) / T)
MIN_WEIGHT = 0.01       # kinds weighing less are left out


@dataclass(frozen=True)
class Kinds:
    """The ImageNet classes a noun names, weighted, and the label that matched best."""

    weights: np.ndarray     # (1000,) in [0, 1]
    label: str
    similarity: float       # how close the noun comes to the closest kind (cosine)


def imagenet_prototypes(encoder: PhraseEncoder, cache_dir: Optional[Path]) -> ClassPrototypes:
    labels = imagenet_labels()
    return ClassPrototypes(encoder, {i: names[0] for i, names in enumerate(labels)}, cache_dir,
                           synonyms={i: names for i, names in enumerate(labels)})


def kinds_for(prototypes: ClassPrototypes, noun_phrase: NounPhrase) -> Optional[Kinds]:
    """The kinds ``noun_phrase`` names, weighted by closeness; None for a phrase about any object."""
    if noun_phrase.generic or not noun_phrase.noun:
        return None
    sims, _ = prototypes.noun_similarity(noun_phrase, HEAD_FALLBACK)
    best = float(sims.max())
    weights = np.exp(-(best - sims) / TEMPERATURE)
    weights[weights < MIN_WEIGHT] = 0.0
    return Kinds(weights.astype(np.float32), prototypes.labels[int(sims.argmax())], best)


def evidence(probs: np.ndarray, kinds: Kinds) -> tuple[np.ndarray, list[str]]:
    """(p(noun | region), the ImageNet label behind it) for (N, 1000) class probabilities."""
    weighted = np.asarray(probs, np.float64) * kinds.weights[None, :]
    names = imagenet_labels()
    best = weighted.argmax(1) if len(weighted) else np.zeros(0, np.int64)
    return np.clip(weighted.sum(1), 0.0, 1.0), [names[int(c)][0] for c in best]
