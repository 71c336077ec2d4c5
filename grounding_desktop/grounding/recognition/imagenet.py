"""ImageNet's 1000 kinds as evidence for a noun: which kinds a noun names, and how much a
region's crop (classified by ``recognizer.RegionRecognizer``) looks like them.

A noun no COCO word list names and that comes closer to an ImageNet kind than to any COCO class is
looked at by ImageNet too (COCO phrases never pay for the second CNN); the scorer weighs that
evidence by how close the noun comes to the kinds (``Kinds.similarity``), with weights fitted on
data (``priors.FusedWeights``). The kinds a noun names come from WordNet, the taxonomy ImageNet's
classes belong to (``resources/imagenet_taxonomy.json``, made by ``tools/make_imagenet_taxonomy.py``):
"dog" names the 118 breeds and "butterfly" the six butterflies, and p(noun | crop) is the sum of
their probabilities, each kind counted by how often the noun means the sense it is filed under
("wheel" rarely means a bicycle). The noun's other uses, and a noun WordNet ties to no kind
("widget"), count each kind by how close its name comes to the noun's text embedding ("squirrel"
is 0.88 from fox squirrel), never by one nearest label alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np

from ..text.encoder import ClassPrototypes, PhraseEncoder
from ...core.kind_names import taxonomy
from ...core.phrase_parse import NounPhrase, lookup_words
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


@lru_cache(maxsize=1)
def _taxonomy() -> tuple[dict, list[np.ndarray], int]:
    """(each WordNet noun on a kind's hypernym path, as the phrase parser reads it -> [its senses'
    tag counts plus one, in all; [synset, tag count] of its senses that hold kinds]; each synset's
    kinds; how many kinds)."""
    data = taxonomy()
    members: list[list[int]] = [[] for _ in data["synsets"]]
    for kind, synsets in enumerate(data["kinds"]):
        for synset in synsets:
            members[synset].append(kind)
    return data["senses"], [np.asarray(m, np.int64) for m in members], len(data["kinds"])


@lru_cache(maxsize=256)
def word_kinds(word: str) -> Optional[tuple[np.ndarray, float]]:
    """((1000,) float32 how much each kind counts for ``word``, the share of the word's uses its
    senses that hold kinds have) for a WordNet noun on some kind's hypernym path (the kind's own
    names too); None for any other word. A sense's share is its tag count in WordNet's semantic
    concordance plus one, over all the word's senses; a kind counts by the shares of the senses it
    is filed under: "dog" (0.88 of its uses the animal) counts every breed 0.88, "wheel" a car
    wheel 0.54 and a mountain bike 0.04, "lid" (mostly a cover) hats 0.14."""
    senses, members, kinds = _taxonomy()
    if word not in senses:
        return None
    total, held = senses[word]
    weights = np.zeros(kinds, np.float64)
    for synset, count in held:
        weights[members[synset]] += (count + 1) / total
    out = weights.astype(np.float32)
    out.setflags(write=False)  # cached: shared by every phrase with the word
    return out, sum(count + 1 for _, count in held) / total


def named_kinds(noun_phrase: NounPhrase) -> Optional[tuple[str, np.ndarray, float]]:
    """(the word, ``word_kinds`` of it) for the first of the noun, its singular and its last two
    words that WordNet ties to an ImageNet kind; None when none is. Not the head word alone: a
    tape measure is a measure, but ImageNet's measures are rulers and measuring cups."""
    for word in dict.fromkeys(lookup_words(noun_phrase, head_alone=False)):
        found = word_kinds(word)
        if found is not None:
            return word, *found
    return None


def imagenet_prototypes(encoder: PhraseEncoder, cache_dir: Optional[Path]) -> ClassPrototypes:
    labels = imagenet_labels()
    return ClassPrototypes(encoder, {i: names[0] for i, names in enumerate(labels)}, cache_dir,
                           synonyms={i: names for i, names in enumerate(labels)})


def kinds_for(prototypes: ClassPrototypes, noun_phrase: NounPhrase) -> Optional[Kinds]:
    """The kinds ``noun_phrase`` names, weighted; None for a phrase about any object. What the
    noun means is a mixture of its senses (``word_kinds``): those WordNet files kinds under count
    their kinds by their share of the noun's uses, and the rest of its uses (a sense no kind is
    filed under: "lid" as a cover) count as ``kinds_by_embedding`` weighs them, as does a noun
    WordNet ties to no kind at all. Its closeness is the mixture's: 1 for the senses WordNet ties,
    the embedding's for the rest."""
    if noun_phrase.generic or not noun_phrase.noun:
        return None
    by_embedding = kinds_by_embedding(prototypes, noun_phrase)
    named = named_kinds(noun_phrase)
    if named is None:
        return by_embedding
    word, weights, held = named
    rest = 1.0 - held
    return Kinds(np.minimum(weights + rest * by_embedding.weights, 1.0).astype(np.float32),
                 word if held >= rest else by_embedding.label, held + rest * by_embedding.similarity)


def kinds_by_embedding(prototypes: ClassPrototypes, noun_phrase: NounPhrase) -> Kinds:
    """Each kind weighed by how close its name comes to the noun's embedding, relative to the
    closest kind's."""
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
