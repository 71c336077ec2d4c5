"""What a concept learned from the user's boxes says about an image: its explanation in plain
words, and an answer, never an error, when it is forgotten while the model looks (the app's model
process learns an edit's lessons on its main loop while a search runs on a job thread)."""
from __future__ import annotations

import numpy as np
import pytest

from grounding_desktop.grounding.scoring.concepts import ConceptExample, ConceptKey, ConceptMemory
from grounding_desktop.grounding.recognition.recognizer import RegionRecognizer
from grounding_desktop.grounding.scoring.region_evidence import ImageEvidence, concept_evidence, concept_subject
from grounding_desktop.grounding.scoring.scorer import Scene

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


CONCEPT = ConceptKey("widget")
BOXES = np.array([[30, 40, 130, 100], [150, 120, 250, 200]], np.float64)


@pytest.fixture(scope="module")
def recognizer() -> RegionRecognizer:
    return RegionRecognizer("cpu")


def _image() -> np.ndarray:
    img = np.full((240, 320, 3), 200, np.uint8)
    img[40:100, 30:130] = (200, 30, 30)
    return img


def _scene() -> Scene:
    n = len(BOXES)
    return Scene(boxes=BOXES, class_scores=np.zeros((n, 80)), labels=np.zeros(n, np.int64), scores=np.zeros(n),
                 colour_frac=np.zeros((n, 11)), lightness=np.zeros(n), width=320, height=240, objectness=np.ones(n))


def _memory(recognizer: RegionRecognizer, n: int) -> ConceptMemory:
    """A memory holding ``n`` boxes of the concept, on other images."""
    embedding = recognizer.embed(recognizer.features(_image()), BOXES[:1])[0]
    memory = ConceptMemory()
    memory.add([ConceptExample(i + 1, CONCEPT, f"other{i}.png", (30, 40, 100, 60), (0.36, 0.22), embedding)
                for i in range(n)])
    return memory


@pytest.mark.parametrize("n, note", [(1, "learned from your box"), (3, "learned from 3 of your boxes")])
def test_the_explanation_counts_the_boxes_in_plain_words(recognizer, n, note):
    _, subject = concept_subject(recognizer, _memory(recognizer, n), ImageEvidence(pixels=_image()), _scene(),
                                 CONCEPT, None)
    assert subject.note == note


def test_a_concept_forgotten_while_an_image_is_looked_at_answers_from_what_it_knew_and_no_error(recognizer):
    """The concept's head is taken once, before the slow step: the answer is the one of the memory
    as it was when the look began, and the next look, after the lesson, finds no concept."""
    memory, img, scene, concept = _memory(recognizer, 1), _image(), _scene(), CONCEPT
    looking = ForgetsWhileLooking(recognizer, memory, forget=[1])
    evidence = ImageEvidence(pixels=img)
    _, subject = concept_subject(looking, memory, evidence, scene, concept, None)
    assert subject.note == "learned from your box" and len(subject.p) >= len(scene)
    assert memory.count(concept) == 0
    assert concept_subject(looking, memory, evidence, scene, concept, None) is None


def test_a_box_the_regressor_moved_keeps_the_detector_evidence_of_the_region_it_moved_from(recognizer):
    """As a regressed box keeps its proposal's class score (Fast R-CNN): the fused score then never
    prefers the unmoved region to its own refined box for lack of the detector's evidence."""
    scene = _scene()
    scene.class_scores[0, 3], scene.class_scores[1, 5] = 0.4, 0.2
    scene.objectness[:] = (0.9, 0.3)
    memory, img = _memory(recognizer, 3), _image()
    found = concept_evidence(recognizer, memory, ImageEvidence(pixels=img), scene, CONCEPT, None)
    extended, _ = concept_subject(recognizer, memory, ImageEvidence(pixels=img), scene, CONCEPT, None)
    added = np.arange(len(scene), len(extended))
    moved = found.origin >= 0
    assert moved.any() and (~moved).any()
    np.testing.assert_array_equal(extended.class_scores[added[moved]], scene.class_scores[found.origin[moved]])
    np.testing.assert_array_equal(extended.objectness[added[moved]], scene.objectness[found.origin[moved]])
    assert not extended.class_scores[added[~moved]].any() and not extended.objectness[added[~moved]].any()
