"""Concepts learned from the user's boxes: every accepted box of a phrase is an example of the
phrase's noun, every rejected box a counter-example.

A concept is a trained head (``concept_head``): a logistic classifier and a box regressor on the
second CNN's region embeddings (``recognizer.embed``), fitted in milliseconds from the accepted
boxes (with jittered copies), the rejected ones and the other regions of the labelled images.
Each example keeps what it was embedded with on its image (``ExampleContext``), so heads are
rebuilt, deterministically, from stored embeddings alone: the project database keeps them
(``box_embeddings``), a reopened project knows its concepts without looking at its images again,
and there is no head to store. A head is fitted on first need after the examples change (the
very next proposal after an accept) and kept until they change again.
"""
from __future__ import annotations

import struct
import threading
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np

from ...core.phrase_parse import ParsedPhrase, singular
from . import concept_head
from .concept_head import ConceptHead, TrainingBox, xyxy

_BUNDLE = b"GDC2"  # embedding_bytes of a box with its context
OTHER_EXAMPLES = 64  # other concepts' boxes a head learns from as negatives, at most


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


@dataclass(frozen=True)
class ExampleContext:
    """What a labelled box was embedded with on its image (``concept_head.context_boxes``):
    jittered copies of it and the image's other regions, and the box and its copies embedded on
    the mirrored image (``region_evidence.embed_examples``)."""

    boxes: np.ndarray              # (M, 4) x, y, w, h in original image pixels (unmirrored)
    embeddings: np.ndarray         # (M, D) unit length, float32
    mirrored: Optional[np.ndarray] = None  # (M,) bool: embedded on the mirrored image


@dataclass(frozen=True)
class LabelledBox:
    """A box the user stored, as the Grounder learns from it (``Grounder.learn``)."""

    example_id: int                # the box's id in the project (unique, stable)
    phrase: str
    bbox: tuple[float, float, float, float]  # x, y, w, h in original image pixels
    accepted: bool                 # False: a rejected proposal, a counter-example
    embedding: Optional[np.ndarray] = None   # known already (from the project database)
    context: Optional[ExampleContext] = None  # what it was embedded with (idem)


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
    context: Optional[ExampleContext] = None

    def describes(self, box: LabelledBox, concept: ConceptKey) -> bool:
        """Still what ``box`` is: same place, same verdict, same concept (else learn it again)."""
        return (self.bbox, self.positive, self.concept) == (tuple(box.bbox), box.accepted, concept)


def embedding_bytes(embedding: np.ndarray, context: Optional[ExampleContext] = None) -> bytes:
    """How the project database keeps a box's embedding and its context: float16 vectors (half
    the size, same heads), float32 boxes, a byte per mirrored flag, behind a small header."""
    vector = np.asarray(embedding, np.float16).reshape(-1)
    if context is None:
        context = ExampleContext(np.zeros((0, 4)), np.zeros((0, vector.size)))
    m = len(context.boxes)
    mirrored = np.zeros(m, bool) if context.mirrored is None else context.mirrored
    header = _BUNDLE + struct.pack("<II", m, vector.size)
    return b"".join([header, np.asarray(context.boxes, "<f4").tobytes(), np.asarray(mirrored, np.uint8).tobytes(),
                     vector.tobytes(), np.asarray(context.embeddings, np.float16).tobytes()])


def embedding_from_bytes(data: bytes) -> tuple[np.ndarray, Optional[ExampleContext]]:
    """(the box's unit embedding, its context) from ``embedding_bytes``; a bare float16 vector
    (what an earlier version stored) has no context."""
    if data[:4] != _BUNDLE:
        return _unit(np.frombuffer(data, np.float16)), None
    m, d = struct.unpack_from("<II", data, 4)
    offset = 12
    boxes = np.frombuffer(data, "<f4", 4 * m, offset).reshape(m, 4).astype(np.float64)
    offset += 16 * m
    mirrored = np.frombuffer(data, np.uint8, m, offset).astype(bool)
    offset += m
    vectors = _unit(np.frombuffer(data, np.float16, (m + 1) * d, offset).reshape(m + 1, d))
    return vectors[0], ExampleContext(boxes, vectors[1:], mirrored)


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


class ConceptMemory:
    """Every example the Grounder has been taught; thread-safe. ``version`` changes with every
    change, so cached matches can tell they are stale."""

    def __init__(self) -> None:
        self._examples: dict[int, ConceptExample] = {}
        self._lock = threading.Lock()
        self._heads: dict = {}  # (concept, excluded image) -> (version, (head, shapes) or None)
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

    def head(self, concept: ConceptKey, exclude_image: Optional[str] = None
             ) -> Optional[tuple[ConceptHead, np.ndarray]]:
        """(the concept's trained head, the shapes of its accepted boxes), fitted on first need
        after the examples changed; None without an accepted box (outside ``exclude_image``)."""
        key = (concept, exclude_image)
        with self._lock:
            version = self.version
            cached = self._heads.get(key)
            if cached is not None and cached[0] == version:
                return cached[1]
            every = [e for e in self._examples.values() if e.image != exclude_image]
        mine = {e.example_id for e in self.examples(concept, exclude_image)}
        others = sorted((e for e in every if e.example_id not in mine and e.positive),
                        key=lambda e: e.example_id)
        # Other concepts' boxes and their images' regions are negatives: a spread of at most
        # OTHER_EXAMPLES of them, so a project with many boxes still fits a head in milliseconds.
        others = others[::-(-len(others) // OTHER_EXAMPLES)] if others else []
        boxes = [_training_box(e, True) for e in every if e.example_id in mine] + \
            [_training_box(e, False) for e in others]
        head = concept_head.train(boxes)
        shapes = np.array([e.shape for e in every if e.example_id in mine and e.positive], np.float64)
        answer = None if head is None else (head, shapes)
        with self._lock:
            # Heads fitted before the examples last changed are stale: keep only this version's.
            self._heads = {k: v for k, v in self._heads.items() if v[0] == self.version}
            if version == self.version:
                self._heads[key] = (version, answer)
        return answer


def _training_box(e: ConceptExample, mine: bool) -> TrainingBox:
    """How ``e`` teaches a concept: one of its boxes (accepted or rejected) or another's accepted
    one, a negative (another concept's rejected box says nothing about this one)."""
    role = ("positive" if e.positive else "rejected") if mine else "other"
    context = e.context or ExampleContext(np.zeros((0, 4)), np.zeros((0, e.embedding.size), np.float32))
    return TrainingBox(e.image, xyxy(e.bbox)[0], e.embedding, xyxy(context.boxes),
                       np.asarray(context.embeddings, np.float32), role, context.mirrored)
