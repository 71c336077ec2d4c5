"""Concept heads, the concept memory and the learned-shape box search, on vectors and score functions
the tests make (no network: the real embeddings are exercised in test_grounder.py and the CLI tests)."""
from __future__ import annotations

import numpy as np
import pytest

from grounding_desktop.grounding.scoring import box_search, concept_head
from grounding_desktop.grounding.scoring.concepts import (ConceptExample, ConceptKey, ConceptMemory, ExampleContext,
                                                  embedding_bytes, embedding_from_bytes)
from grounding_desktop.core.phrase_parse import parse_phrase
from grounding_desktop.grounding.scoring.scorer import pairwise_iou


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


D = 256


def blob(rng, centre, n, spread=0.25):
    """``n`` unit vectors around ``centre`` (a direction of the synthetic embedding space)."""
    return np.stack([unit(centre + spread * rng.randn(D)) for _ in range(n)])


def taught(i, vector, image, context=None, concept="gizmo", positive=True):
    """A ConceptExample with a context of other regions (negatives) around it."""
    return ConceptExample(i, ConceptKey(concept), image, (100.0, 100.0, 50.0, 50.0), (0.1, 0.1),
                          unit(vector), positive, context)


def far_regions(vectors) -> ExampleContext:
    """Context regions that overlap the taught box (100, 100, 50, 50) nowhere: negatives."""
    boxes = np.array([[300.0 + 10 * k, 10.0, 40.0, 40.0] for k in range(len(vectors))])
    return ExampleContext(boxes, np.stack([unit(v) for v in vectors]))


def test_a_head_learns_a_concept_from_its_boxes_and_the_regions_around_them():
    rng = np.random.RandomState(0)
    concept, other = rng.randn(D), rng.randn(D)
    memory = ConceptMemory()
    memory.add([taught(k, v, f"{k}.png", far_regions(rng.randn(8, D)))
                for k, v in enumerate(blob(rng, concept, 3))])
    regions = np.concatenate([blob(rng, concept, 5), blob(rng, other, 5), blob(rng, np.zeros(D), 5, 1.0)])
    head, shapes = memory.head(ConceptKey("gizmo"))
    p = head.probability(regions)
    assert head.examples == 3 and len(shapes) == 3 and ((p > 0) & (p < 1)).all()
    assert p[:5].min() > 2 * p[5:].max()  # look-alikes far above the rest
    assert head.logit(regions) == pytest.approx(np.log(p / (1 - p)))


def test_one_example_gives_a_cautious_head_that_firms_up_with_more():
    rng = np.random.RandomState(1)
    concept = rng.randn(D)
    examples = [taught(k, v, f"{k}.png", far_regions(rng.randn(8, D)))
                for k, v in enumerate(blob(rng, concept, 4))]
    new = blob(rng, concept, 20)
    memory = ConceptMemory()
    memory.add(examples[:1])
    one = memory.head(ConceptKey("gizmo"))[0].probability(new)
    memory.add(examples[1:])
    four = memory.head(ConceptKey("gizmo"))[0].probability(new)
    assert one.max() < 0.95            # one box does not make a certainty of every look-alike
    assert np.median(four) > np.median(one)


def test_a_rejected_box_lowers_a_region_but_does_not_veto_it():
    rng = np.random.RandomState(2)
    concept = rng.randn(D)
    accepted = [taught(k, v, f"{k}.png", far_regions(rng.randn(8, D)))
                for k, v in enumerate(blob(rng, concept, 3))]
    region = blob(rng, concept, 1)
    background = blob(rng, np.zeros(D), 6, 1.0)
    memory = ConceptMemory()
    memory.add(accepted)
    before = memory.head(ConceptKey("gizmo"))[0].probability(np.concatenate([region, background]))
    memory.add([taught(9, region[0] + 0.1 * rng.randn(D), "9.png", positive=False)])
    after = memory.head(ConceptKey("gizmo"))[0].probability(np.concatenate([region, background]))
    assert after[0] < before[0]        # lowered...
    assert after[0] > after[1:].max()  # ...not vetoed: still above everything else


def test_an_image_can_be_left_out_of_its_own_judgement():
    rng = np.random.RandomState(3)
    memory = ConceptMemory()
    memory.add([taught(1, rng.randn(D), "a.png", far_regions(rng.randn(4, D))),
                taught(2, rng.randn(D), "b.png", far_regions(rng.randn(4, D)))])
    key = ConceptKey("gizmo")
    assert memory.count(key) == 2 and memory.count(key, exclude_image="a.png") == 1
    assert memory.head(key, exclude_image="a.png")[0].examples == 1
    memory.remove([2])
    assert memory.head(key, exclude_image="a.png") is None


def test_colour_words_narrow_a_concept_only_when_examples_carry_them():
    memory = ConceptMemory()
    memory.add([example(1, [1, 0], qualifier="black"), example(2, [0, 1], image="b.png")])
    assert memory.count(ConceptKey("gizmo", "black")) == 1
    assert memory.count(ConceptKey("gizmo")) == 2   # the noun alone: every example
    assert memory.count(ConceptKey("gizmo", "red")) == 0


def test_the_box_regressor_learns_how_a_concept_looks_when_its_box_is_off():
    """Embeddings that carry a box's offset from the thing linearly: the regressor trained on the
    jittered copies of three boxes moves a new, misplaced box onto its thing."""
    rng = np.random.RandomState(4)
    mix = rng.randn(4, D)

    def look(boxes, truth):
        d = concept_head.box_deltas(boxes, np.repeat(truth[None], len(boxes), 0))
        return np.stack([unit(v) for v in d @ mix * 0.2 + np.ones(D)])

    boxes = []
    for k in range(3):
        truth = np.array([50.0 + 40 * k, 60.0, 150.0 + 50 * k, 140.0 + 10 * k])
        around = concept_head.context_boxes(truth, 640, 480, np.zeros((0, 4)), seed=k)
        boxes.append(concept_head.TrainingBox(f"{k}.png", truth, look(truth[None], truth)[0],
                                              around, look(around, truth), "positive"))
    head = concept_head.train(boxes)
    truth = np.array([300.0, 200.0, 420.0, 290.0])
    off = np.array([[285.0, 210.0, 400.0, 300.0]])
    moved = head.refine(off, look(off, truth))
    assert pairwise_iou(moved, truth[None])[0, 0] > pairwise_iou(off, truth[None])[0, 0] + 0.1


def test_the_context_of_a_box_is_seeded_jitter_at_each_iou_band_and_other_regions():
    box = np.array([100.0, 80.0, 220.0, 200.0])
    regions = np.array([[0.0, 0.0, 50.0, 50.0], [110.0, 90.0, 210.0, 190.0], [400.0, 300.0, 500.0, 400.0]])
    around = concept_head.context_boxes(box, 640, 480, regions, seed=5)
    assert np.array_equal(around, concept_head.context_boxes(box, 640, 480, regions, seed=5))
    iou = pairwise_iou(around, box[None])[:, 0]
    assert (iou >= concept_head.POSITIVE_IOU).sum() == concept_head.JITTER_POSITIVES
    assert ((iou >= 0.05) & (iou < concept_head.NEGATIVE_IOU)).sum() >= concept_head.JITTER_NEGATIVES
    assert [0.0, 0.0, 50.0, 50.0] in around.tolist() and [110.0, 90.0, 210.0, 190.0] not in around.tolist()
    assert ((around[:, :2] >= 0) & (around[:, 2:] <= [640, 480])).all()


def test_embeddings_and_their_context_survive_the_round_trip_through_the_database_bytes():
    rng = np.random.RandomState(0)
    v = unit(rng.randn(2288))
    context = ExampleContext(rng.rand(5, 4) * 100, np.stack([unit(rng.randn(2288)) for _ in range(5)]),
                             np.array([False, False, True, False, True]))
    back, back_context = embedding_from_bytes(embedding_bytes(v, context))
    assert back.shape == v.shape and float(back @ v) > 0.9999
    assert np.allclose(back_context.boxes, context.boxes, atol=1e-4)
    assert np.array_equal(back_context.mirrored, context.mirrored)
    assert (np.einsum("nd,nd->n", back_context.embeddings, context.embeddings) > 0.9999).all()
    bare, none = embedding_from_bytes(np.asarray(v, np.float16).tobytes())  # an earlier version's row
    assert float(bare @ v) > 0.9999 and none is None


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
