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
KEPT_KINDS = 128        # a crop's most probable kinds kept (float16); the rest count as 0


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


def kept(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What is kept of (M, 1000) class probabilities of M crops: ((M, ``KEPT_KINDS``) int16 kind
    ids, most probable first, and their float16 probabilities). Kept alike for an image classified
    now and in a feature pass record (``features.ImageFeatures``), so both score alike, to the bit;
    the kinds left out hold little (measured in ``models/efficientnet_lite0_imagenet.md``)."""
    probs = np.asarray(probs, np.float32).reshape(-1, 1000)
    ids = np.argsort(-probs, axis=1, kind="stable")[:, :KEPT_KINDS]
    return ids.astype(np.int16), np.take_along_axis(probs, ids, 1).astype(np.float16)


def _weighted(ids: np.ndarray, probs: np.ndarray, kinds: Kinds) -> np.ndarray:
    return np.asarray(probs, np.float64) * kinds.weights.astype(np.float64)[np.asarray(ids, np.int64)]


def probability(ids: np.ndarray, probs: np.ndarray, kinds: Kinds) -> np.ndarray:
    """p(noun | crop) for crops' kept kinds (``kept``): their probabilities weighted by each
    kind's closeness to the noun. One formula for an image and for a folder's table of crops."""
    return np.clip(_weighted(ids, probs, kinds).sum(1), 0.0, 1.0)


def evidence(ids: np.ndarray, probs: np.ndarray, kinds: Kinds) -> tuple[np.ndarray, list[str]]:
    """(p(noun | crop), the ImageNet label that weighs most in it) for crops' kept kinds."""
    weighted = _weighted(ids, probs, kinds)
    best = np.asarray(ids, np.int64)[np.arange(len(weighted)), weighted.argmax(1)] \
        if len(weighted) else np.zeros(0, np.int64)
    names = imagenet_labels()
    return probability(ids, probs, kinds), [names[int(c)][0] for c in best]
