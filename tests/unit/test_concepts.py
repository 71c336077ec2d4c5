"""Concept memory and the learned-shape box search, on vectors and score functions the tests make
(no network: the real embeddings are exercised in test_grounder.py and the CLI tests)."""
from __future__ import annotations

import numpy as np
import pytest

from grounding_desktop.grounding import box_search
from grounding_desktop.grounding.concepts import (ConceptExample, ConceptKey, ConceptMemory,
                                                  embedding_bytes, embedding_from_bytes)
from grounding_desktop.core.phrase_parse import parse_phrase
from grounding_desktop.grounding.scorer import pairwise_iou


def unit(v) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v)


def example(i, vector, concept="gizmo", image="a.png", positive=True, qualifier=""):
    return ConceptExample(i, ConceptKey(concept, qualifier), image, (0.0, 0.0, 10.0, 10.0), (0.1, 0.1),
                          unit(vector), positive)


@pytest.mark.parametrize("phrase,key", [
    ("the gizmo", ConceptKey("gizmo")),
    ("the red lighters on the left", ConceptKey("lighter", "red")),
    ("the second dark tea box from the right", ConceptKey("tea box", "dark")),
    ("the thing on the left", None),
])
def test_a_phrase_names_its_concept_by_its_singular_noun_and_colour_words(phrase, key):
    assert ConceptKey.of(parse_phrase(phrase)) == key


def test_the_closest_accepted_box_decides_and_a_closer_rejected_one_vetoes():
    memory = ConceptMemory()
    memory.add([example(1, [1, 0, 0]), example(2, [0, 1, 0], image="b.png"),
                example(3, [0.9, 0.1, 0.42], image="b.png", positive=False)])
    regions = np.stack([unit([0, 1, 0.05]), unit([0.9, 0.1, 0.45]), unit([0, 0, 1])])
    match = memory.match(ConceptKey("gizmo"), regions)
    assert match.examples == 2
    assert match.similarity[0] == pytest.approx(float(regions[0] @ unit([0, 1, 0])))
    assert match.evidence[0] > 0.9          # next to the second accepted box
    assert match.evidence[1] == 0.0         # nearer the rejected box than any accepted one
    assert match.evidence[2] < 0.05         # like nothing the user accepted
    assert memory.match(ConceptKey("other"), regions) is None


def test_an_image_can_be_left_out_of_its_own_judgement():
    memory = ConceptMemory()
    memory.add([example(1, [1, 0], image="a.png"), example(2, [0, 1], image="b.png")])
    key = ConceptKey("gizmo")
    assert memory.count(key) == 2 and memory.count(key, exclude_image="a.png") == 1
    left_out = memory.match(key, unit([1, 0])[None], exclude_image="a.png")
    assert left_out.examples == 1 and left_out.similarity[0] == pytest.approx(0.0, abs=1e-6)
    memory.remove([2])
    assert memory.match(key, unit([1, 0])[None], exclude_image="a.png") is None


def test_colour_words_narrow_a_concept_only_when_examples_carry_them():
    memory = ConceptMemory()
    memory.add([example(1, [1, 0], qualifier="black"), example(2, [0, 1], image="b.png")])
    assert memory.count(ConceptKey("gizmo", "black")) == 1
    assert memory.count(ConceptKey("gizmo")) == 2   # the noun alone: every example
    assert memory.count(ConceptKey("gizmo", "red")) == 0


def test_embeddings_survive_the_round_trip_through_the_database_bytes():
    v = unit(np.random.RandomState(0).randn(2288))
    back = embedding_from_bytes(embedding_bytes(v))
    assert back.shape == v.shape and float(back @ v) > 0.9999


def test_the_search_finds_a_box_no_seed_fits_from_the_learned_shape():
    """Scores are the IoU with a hidden box; the seeds are all wrong; the shape is right."""
    hidden = np.array([[212.0, 83.0, 290.0, 141.0]])
    seeds = np.array([[0.0, 0.0, 100.0, 100.0], [300.0, 200.0, 400.0, 280.0]])
    shape = np.array([[78.0, 58.0]]) / np.sqrt(480 * 360) * 1.3  # learned a bit bigger

    def score(boxes):
        return pairwise_iou(np.asarray(boxes, float), hidden)[:, 0]

    boxes, scores = box_search.search(score, 480, 360, shape, seeds, min_step=16)
    assert scores[0] == pytest.approx(score(boxes[:1])[0])
    assert scores[0] > 0.9 and list(scores) == sorted(scores, reverse=True)
    assert ((boxes[:, :2] >= 0) & (boxes[:, 2:] <= [480, 360])).all()
