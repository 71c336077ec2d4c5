"""The model learns from the user's boxes while it proposes (the app's model process answers an
edit's lessons on its main loop while a search runs on a job thread): a concept whose last box is
forgotten in the middle of looking at an image gives an answer, never an error."""
from __future__ import annotations

import numpy as np
import pytest

from grounding_desktop.grounding.concepts import ConceptExample, ConceptKey, ConceptMemory
from grounding_desktop.grounding.recognizer import RegionRecognizer
from grounding_desktop.grounding.region_evidence import ImageEvidence, concept_subject
from grounding_desktop.grounding.scorer import Scene

pytestmark = pytest.mark.model


class ForgetsWhileLooking:
    """The real recognizer, with an undo's lesson arriving while it computes the image's maps
    (the slow step between finding the concept and matching it)."""

    def __init__(self, recognizer: RegionRecognizer, memory: ConceptMemory, forget: list[int]) -> None:
        self.recognizer, self.memory, self.forget = recognizer, memory, forget

    def features(self, rgb):
        maps = self.recognizer.features(rgb)
        self.memory.remove(self.forget)
        return maps

    def embed(self, features, boxes):
        return self.recognizer.embed(features, boxes)


def test_a_concept_forgotten_while_an_image_is_looked_at_gives_no_evidence_and_no_error():
    recognizer = RegionRecognizer("cpu")
    img = np.full((240, 320, 3), 200, np.uint8)
    img[40:100, 30:130] = (200, 30, 30)
    boxes = np.array([[30, 40, 130, 100], [150, 120, 250, 200]], np.float64)
    concept = ConceptKey("widget")
    memory = ConceptMemory()
    embedding = recognizer.embed(recognizer.features(img), boxes[:1])[0]
    memory.add([ConceptExample(1, concept, "other.png", (30, 40, 100, 60), (0.36, 0.22), embedding)])
    n = len(boxes)
    scene = Scene(boxes=boxes, class_scores=np.zeros((n, 80)), labels=np.zeros(n, np.int64), scores=np.zeros(n),
                  colour_frac=np.zeros((n, 11)), lightness=np.zeros(n), width=320, height=240,
                  objectness=np.ones(n))
    looking = ForgetsWhileLooking(recognizer, memory, forget=[1])
    assert concept_subject(looking, memory, ImageEvidence(pixels=img), scene, concept, None) is None
    assert memory.count(concept) == 0
