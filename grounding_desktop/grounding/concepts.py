"""Concepts learned from the user's boxes: every accepted box of a phrase is an example of the
phrase's noun, every rejected box a counter-example.

A concept is its examples, nothing more: region embeddings (``recognizer.embed``) with the shape
of each box. Matching a region is a nearest-example similarity (the closest accepted box decides,
so a concept seen from several sides keeps every side), held down where a rejected box is as
close. Learning is adding an example; there is no training step, so an accept in the app is used
by the very next proposal. The project database keeps the embeddings (``box_embeddings``), so a
reopened project knows its concepts without looking at its images again.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np

from ..core.phrase_parse import ParsedPhrase, singular

# Evidence is a logistic function of a region's similarity to the closest accepted box: 0.95 when
# it is as close as the examples are to each other, 0.05 when MATCH_SPAN less, 0.5 half-way.
# Strictly increasing, so the best fit always ranks first, even among close matches.
MATCH_SPAN = 0.3
SINGLE_EXAMPLE_REFERENCE = 0.85  # the examples' mutual similarity when there is only one
NEGATIVE_MARGIN = 0.02           # a rejected box this much closer than every accepted one vetoes


@dataclass(frozen=True)
class ConceptKey:
    """The concept a phrase names: its subject noun in the singular ("the red lighters" ->
    "lighter"), so place and number words share what was learned, and the colour and brightness
    words the phrase gave it ("red"), which narrow it when examples were labelled with them."""

    noun: str
    qualifier: str = ""

    @classmethod
    def of(cls, parsed: ParsedPhrase) -> Optional["ConceptKey"]:
        """None for a phrase about any object ("the thing on the left")."""
        subject = parsed.subject
        if subject.generic or not subject.noun:
            return None
        words = subject.noun.split()
        return cls(" ".join(words[:-1] + [singular(words[-1])]),
                   " ".join(subject.colours + subject.brightness))


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) dot products of unit vectors. einsum keeps numpy's multi-threaded BLAS,
    which fights torch's threads for the CPU, out of it (see encoder.ClassPrototypes.similarity)."""
    return np.einsum("id,kd->ik", a, b)


@dataclass(frozen=True)
class LabelledBox:
    """A box the user stored, as the Grounder learns from it (``Grounder.learn``)."""

    example_id: int                # the box's id in the project (unique, stable)
    phrase: str
    bbox: tuple[float, float, float, float]  # x, y, w, h in original image pixels
    accepted: bool                 # False: a rejected proposal, a counter-example
    embedding: Optional[np.ndarray] = None   # known already (from the project database)


@dataclass(frozen=True)
class ConceptExample:
    """One labelled box as the memory keeps it."""

    example_id: int
    concept: ConceptKey
    image: str                     # the image's key in the Grounder (its path)
    bbox: tuple[float, float, float, float]  # x, y, w, h in original image pixels
    shape: tuple[float, float]     # box width and height over sqrt(image area)
    embedding: np.ndarray          # (D,) unit length, float32
    positive: bool = True

    def describes(self, box: LabelledBox, concept: ConceptKey) -> bool:
        """Still what ``box`` is: same place, same verdict, same concept (else learn it again)."""
        return (self.bbox, self.positive, self.concept) == (tuple(box.bbox), box.accepted, concept)


def embedding_bytes(embedding: np.ndarray) -> bytes:
    """How the project database keeps an embedding (float16: half the size, same matches)."""
    return np.asarray(embedding, np.float16).tobytes()


def embedding_from_bytes(data: bytes) -> np.ndarray:
    vector = np.frombuffer(data, np.float16).astype(np.float32)
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


@dataclass
class ConceptMatch:
    """How a concept's examples see a set of regions."""

    evidence: np.ndarray           # (N,) in [0, 1]
    similarity: np.ndarray         # (N,) cosine similarity to the closest accepted box
    examples: int                  # accepted boxes it rests on
    shapes: np.ndarray             # (K, 2) their shapes (see ConceptExample.shape)


class ConceptMemory:
    """Every example the Grounder has been taught; thread-safe. ``version`` changes with every
    change, so cached matches can tell they are stale."""

    def __init__(self) -> None:
        self._examples: dict[int, ConceptExample] = {}
        self._lock = threading.Lock()
        self.version = 0

    def add(self, examples: Iterable[ConceptExample]) -> None:
        with self._lock:
            for e in examples:
                self._examples[e.example_id] = e
            self.version += 1

    def clear(self) -> None:
        with self._lock:
            self._examples.clear()
            self.version += 1

    def remove(self, example_ids: Iterable[int]) -> None:
        with self._lock:
            for i in example_ids:
                self._examples.pop(i, None)
            self.version += 1

    def of_image(self, image: str) -> dict[int, ConceptExample]:
        with self._lock:
            return {i: e for i, e in self._examples.items() if e.image == image}

    def examples(self, concept: ConceptKey, exclude_image: Optional[str] = None
                 ) -> list[ConceptExample]:
        """The examples of ``concept`` (with its qualifier; every one of its noun when the
        qualifier is empty), those of ``exclude_image`` left out (to judge the concept on an image
        without using that image's own boxes)."""
        with self._lock:
            return [e for e in self._examples.values()
                    if e.concept.noun == concept.noun and e.image != exclude_image
                    and (not concept.qualifier or e.concept.qualifier == concept.qualifier)]

    def count(self, concept: ConceptKey, exclude_image: Optional[str] = None) -> int:
        """How many accepted boxes ``concept`` rests on."""
        return sum(e.positive for e in self.examples(concept, exclude_image))

    def match(self, concept: ConceptKey, embeddings: np.ndarray,
              exclude_image: Optional[str] = None) -> Optional[ConceptMatch]:
        """Evidence that each embedded region shows ``concept``; None if it has no accepted box."""
        examples = self.examples(concept, exclude_image)
        positives = [e for e in examples if e.positive]
        if not positives:
            return None
        pos = np.stack([e.embedding for e in positives]).astype(np.float32)
        embeddings = np.asarray(embeddings, np.float32).reshape(-1, pos.shape[1])
        sim = _cosines(embeddings, pos).max(1) if len(embeddings) else np.zeros(0, np.float32)
        if len(pos) > 1:
            mutual = _cosines(pos, pos)
            reference = float(mutual[~np.eye(len(pos), dtype=bool)].reshape(len(pos), -1).max(1).mean())
        else:
            reference = SINGLE_EXAMPLE_REFERENCE
        centre = reference - MATCH_SPAN / 2
        evidence = 1.0 / (1.0 + np.exp(-(sim - centre) * (2 * np.log(19.0) / MATCH_SPAN)))
        negatives = [e.embedding for e in examples if not e.positive]
        if negatives and len(embeddings):
            neg = _cosines(embeddings, np.stack(negatives).astype(np.float32)).max(1)
            evidence = np.where(neg > sim + NEGATIVE_MARGIN, 0.0, evidence)
        shapes = np.array([e.shape for e in positives], np.float64)
        return ConceptMatch(evidence.astype(np.float64), sim.astype(np.float64), len(positives),
                            shapes)
