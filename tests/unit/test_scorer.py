"""Behaviour of each scorer module on scenes the tests build (no pretrained model needed).

The class prototypes are replaced by an exact word -> class table, so these tests pin the
scorer's rules; ``test_scorer_model.py`` runs the same scorer with the real phrase encoder.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw

from grounding_desktop.grounding.detectors.detector import Detections
from grounding_desktop.grounding.text.encoder import ClassPrototypes
from grounding_desktop.grounding.grounder import build_scene
from grounding_desktop.core.phrase_parse import parse_phrase
from grounding_desktop.grounding.scoring.priors import DEFAULT_WEIGHTS, FusedWeights, ScorerWeights, shipped_weights
from grounding_desktop.grounding.scoring.scorer import PhraseScorer, relation_geometry

LABELS = {1: "person", 3: "car", 17: "cat", 18: "dog", 19: "horse", 28: "umbrella", 51: "bowl"}
WORDS = {"person": 1, "man": 1, "woman": 1, "people": 1, "rider": 1, "car": 3, "cat": 17,
         "dog": 18, "horse": 19, "umbrella": 28, "bowl": 51}


class TablePrototypes:
    """Stand-in for ``encoder.ClassPrototypes``: listed words are exact, others unknown."""

    labels = LABELS
    num_classes = 91
    lexicon = WORDS

    def similarity(self, noun: str) -> np.ndarray:
        sims = np.full(self.num_classes, 0.1, np.float32)
        if noun in WORDS:
            sims[WORDS[noun]] = 1.0
        return sims

    def lookup(self, *candidates):
        return next((WORDS[c] for c in candidates if c in WORDS), None)

    noun_similarity = ClassPrototypes.noun_similarity  # the real rule, on this table


def make_scene(regions, size=(400, 300), background=(128, 128, 128), draw=True):
    """regions: list of (label name, score, (x0, y0, x1, y1), colour or None).

    Each region is drawn in its colour (when given) on a plain image, and becomes one detection
    whose per-class score vector holds ``score`` at its class.
    """
    img = Image.new("RGB", size, background)
    d = ImageDraw.Draw(img)
    boxes, scores, labels, vectors = [], [], [], []
    for name, score, box, colour in regions:
        if draw and colour is not None:
            d.rectangle(box, fill=colour)
        cid = next(k for k, v in LABELS.items() if v == name)
        vec = np.zeros(91, np.float32)
        vec[cid] = score
        boxes.append(box)
        scores.append(score)
        labels.append(cid)
        vectors.append(vec)
    det = Detections(boxes=np.asarray(boxes, np.float32), scores=np.asarray(scores, np.float32),
                     labels=np.asarray(labels, np.int64), class_scores=np.stack(vectors),
                     region_features=np.zeros((len(boxes), 0), np.float32), image_size=size)
    scene = build_scene(np.asarray(img), det)
    return scene


@pytest.fixture
def scorer():
    return PhraseScorer(TablePrototypes())


def best(scorer, scene, phrase, hint=None) -> int:
    result = scorer.score(scene, parse_phrase(phrase), hint)
    return int(np.argmax(result.scores))


# ------------------------------------------------------------------------------ subject

def test_subject_prefers_the_named_class(scorer):
    scene = make_scene([("cat", 0.9, (10, 10, 100, 100), None), ("dog", 0.6, (200, 10, 300, 100), None)])
    assert best(scorer, scene, "the dog") == 1
    assert best(scorer, scene, "the cat") == 0


def test_generic_noun_uses_objectness(scorer):
    scene = make_scene([("cat", 0.3, (10, 10, 100, 100), None), ("dog", 0.8, (200, 10, 300, 100), None)])
    assert best(scorer, scene, "the thing") == 1


# ------------------------------------------------------------------------------ location

@pytest.mark.parametrize("phrase,expected", [
    ("the dog on the left", 0), ("the left dog", 0), ("the dog on the right", 1),
    ("the rightmost dog", 1),
])
def test_left_picks_the_left_one_of_two(scorer, phrase, expected):
    # The right dog is the more confident detection: the location word must still win.
    scene = make_scene([("dog", 0.6, (10, 100, 110, 200), None), ("dog", 0.9, (280, 100, 380, 200), None)])
    assert best(scorer, scene, phrase) == expected


def test_top_right_is_one_direction(scorer):
    boxes = [(10, 10, 60, 60), (330, 10, 380, 60), (10, 230, 60, 280), (330, 230, 380, 280)]
    scene = make_scene([("cat", 0.8, b, None) for b in boxes])
    assert best(scorer, scene, "the cat in the top right corner") == 1
    assert best(scorer, scene, "the cat at the bottom left") == 2
    assert best(scorer, scene, "the top left cat") == 0


def test_middle_and_closest(scorer):
    scene = make_scene([("person", 0.8, (10, 40, 60, 140), None),
                        ("person", 0.8, (175, 100, 225, 200), None),
                        ("person", 0.8, (300, 120, 390, 295), None)])
    assert best(scorer, scene, "the person in the middle") == 1
    assert best(scorer, scene, "the closest person") == 2
    assert best(scorer, scene, "the person in the back") == 0


def test_location_compares_with_the_same_kind_only(scorer):
    # A cat further left must not stop the left-most dog from being "the dog on the left".
    scene = make_scene([("cat", 0.9, (0, 100, 60, 160), None),
                        ("dog", 0.8, (150, 100, 220, 160), None),
                        ("dog", 0.8, (300, 100, 370, 160), None)])
    assert best(scorer, scene, "the dog on the left") == 1


# ------------------------------------------------------------------------------ ordinals

@pytest.mark.parametrize("phrase,expected", [
    ("the second dog from the left", 1), ("second from left", 1), ("the first dog", 0),
    ("the third dog from the left", 2), ("the second dog from the right", 2),
    ("the last dog", 3),
])
def test_ordinals_count_along_the_axis(scorer, phrase, expected):
    scene = make_scene([("dog", 0.8, (10 + 95 * i, 100, 80 + 95 * i, 170), None) for i in range(4)])
    assert best(scorer, scene, phrase) == expected


# ------------------------------------------------------------------------------ colour

def test_red_picks_the_red_one(scorer):
    scene = make_scene([("car", 0.9, (20, 50, 170, 200), (30, 60, 220)),
                        ("car", 0.7, (220, 50, 370, 200), (220, 30, 30))])
    assert best(scorer, scene, "the red car") == 1
    assert best(scorer, scene, "the blue car") == 0


@pytest.mark.parametrize("colour,word", [((250, 250, 250), "white"), ((15, 15, 15), "black"),
                                         ((40, 170, 50), "green"), ((240, 220, 30), "yellow"),
                                         ((240, 120, 200), "pink")])
def test_each_colour_word_finds_its_colour(scorer, colour, word):
    scene = make_scene([("horse", 0.9, (20, 50, 170, 200), (128, 80, 40)),
                        ("horse", 0.6, (220, 50, 370, 200), colour)])
    assert best(scorer, scene, f"the {word} horse") == 1


def test_dark_and_light(scorer):
    scene = make_scene([("horse", 0.9, (20, 50, 170, 200), (40, 30, 30)),
                        ("horse", 0.8, (220, 50, 370, 200), (230, 225, 220))])
    assert best(scorer, scene, "the dark horse") == 0
    assert best(scorer, scene, "the light horse") == 1


def test_colour_ignores_other_objects_inside_the_box(scorer):
    # A pink bowl full of yellow things (detected as another object) is still the pink bowl.
    img_regions = [("bowl", 0.9, (10, 10, 190, 190), (230, 60, 150)),
                   ("bowl", 0.5, (210, 10, 390, 190), (240, 220, 30)),
                   ("dog", 0.5, (50, 50, 150, 150), (245, 225, 40))]
    scene = make_scene(img_regions)
    assert best(scorer, scene, "the yellow bowl") == 1
    assert best(scorer, scene, "the pink bowl") == 0


# ------------------------------------------------------------------------------ size and pose

def test_bigger_and_smaller(scorer):
    scene = make_scene([("dog", 0.6, (10, 10, 200, 200), None), ("dog", 0.9, (250, 100, 300, 150), None)])
    assert best(scorer, scene, "the bigger dog") == 0
    assert best(scorer, scene, "the small dog") == 1


def test_tall_and_lying(scorer):
    scene = make_scene([("horse", 0.9, (10, 10, 60, 200), None), ("horse", 0.6, (150, 200, 350, 260), None)])
    assert best(scorer, scene, "the tall horse") == 0
    assert best(scorer, scene, "the horse lying down") == 1


# ------------------------------------------------------------------------------ relations

def test_on_the_horse(scorer):
    scene = make_scene([("horse", 0.9, (100, 120, 260, 280), None),
                        ("person", 0.5, (150, 60, 210, 180), None),   # sitting on the horse
                        ("person", 0.9, (320, 100, 370, 260), None)])  # standing beside it
    assert best(scorer, scene, "the rider on the horse") == 1
    assert best(scorer, scene, "the person next to the horse") == 2


def test_relation_object_attributes_choose_the_object(scorer):
    # Two horses; the person on the white one is wanted, not the one on the dark one.
    scene = make_scene([("horse", 0.9, (20, 120, 170, 280), (30, 25, 25)),
                        ("horse", 0.9, (230, 120, 380, 280), (245, 245, 245)),
                        ("person", 0.9, (60, 60, 120, 180), None),
                        ("person", 0.8, (270, 60, 330, 180), None)])
    assert best(scorer, scene, "the person on the white horse") == 3
    assert best(scorer, scene, "the man riding the dark horse") == 2


def test_holding_the_umbrella(scorer):
    scene = make_scene([("umbrella", 0.9, (40, 20, 200, 110), None),
                        ("person", 0.7, (80, 60, 160, 280), None),
                        ("person", 0.9, (280, 60, 360, 280), None)])
    assert best(scorer, scene, "the woman holding the umbrella") == 1
    assert best(scorer, scene, "the person under the umbrella") == 1


def test_next_to_the_car(scorer):
    scene = make_scene([("car", 0.9, (150, 120, 300, 220), None),
                        ("dog", 0.6, (305, 170, 350, 220), None),
                        ("dog", 0.9, (10, 10, 50, 50), None)])
    assert best(scorer, scene, "the dog next to the car") == 1


def test_relation_never_pairs_a_box_with_itself():
    s = np.array([[0, 0, 10, 10]], float)
    assert relation_geometry("near", s, s, 100, 100)[0, 0] <= 0.5


def test_unknown_relation_object_is_ignored_and_said(scorer):
    scene = make_scene([("dog", 0.9, (10, 10, 100, 100), None)])
    result = scorer.score(scene, parse_phrase("the dog on the grass"))
    assert result.scores[0] == pytest.approx(scorer.score(scene, parse_phrase("the dog")).scores[0])
    assert "grass" in scorer.explain(result, 0)


# ------------------------------------------------------------------------------ plural, hint

def test_plural_returns_every_match(scorer):
    scene = make_scene([("dog", 0.9, (10, 10, 100, 100), None), ("dog", 0.5, (150, 10, 250, 100), None),
                        ("cat", 0.9, (280, 10, 380, 100), None)])
    parsed = parse_phrase("the dogs")
    assert parsed.plural
    chosen = scorer.select(scene, scorer.score(scene, parsed), top_k=1, plural=True)
    assert sorted(chosen.tolist()) == [0, 1]
    single = parse_phrase("the dog")
    assert scorer.select(scene, scorer.score(scene, single), top_k=1, plural=False).tolist() == [0]


def test_select_drops_duplicate_boxes(scorer):
    scene = make_scene([("dog", 0.9, (10, 10, 100, 100), None), ("dog", 0.8, (12, 12, 101, 101), None),
                        ("dog", 0.5, (200, 10, 300, 100), None)])
    chosen = scorer.select(scene, scorer.score(scene, parse_phrase("the dog")), top_k=5, plural=False)
    assert chosen.tolist() == [0, 2]


def test_hint_point_wins(scorer):
    scene = make_scene([("dog", 0.9, (10, 10, 100, 100), None), ("dog", 0.5, (200, 10, 300, 100), None)])
    assert best(scorer, scene, "the dog") == 0
    assert best(scorer, scene, "the dog", hint=(250, 50)) == 1


# ------------------------------------------------------------------------------ weights

def test_weights_live_in_one_place_and_round_trip():
    w = replace(DEFAULT_WEIGHTS, location_relative=0.25)
    assert ScorerWeights.from_dict(w.to_dict()) == w
    assert ScorerWeights.from_dict({"hint": 3, "unknown": 1}).hint == 3.0
    fused = shipped_weights()
    assert FusedWeights.from_dict(fused.to_dict()) == FusedWeights.from_dict(
        FusedWeights.from_dict(fused.to_dict()).to_dict())
    assert FusedWeights.from_dict({"terms": {"colour": 3, "unknown": 1}}).terms == {"colour": 3.0}


def test_a_zero_weight_switches_a_module_off():
    scene = make_scene([("dog", 0.6, (10, 100, 110, 200), None), ("dog", 0.9, (280, 100, 380, 200), None)])
    fused = shipped_weights()
    off = PhraseScorer(TablePrototypes(), fused=replace(fused, terms={**fused.terms, "location": 0.0}))
    assert best(off, scene, "the dog on the left") == 1


def test_explanation_names_each_module(scorer):
    scene = make_scene([("car", 0.9, (20, 50, 170, 200), (220, 30, 30))])
    result = scorer.score(scene, parse_phrase("the big red car on the left"))
    text = scorer.explain(result, 0)
    for word in ("car", "red", "big", "left"):
        assert word in text
    assert set(result.module_values(0)) == {"subject", "colour", "size", "location"}


def test_empty_scene(scorer):
    scene = make_scene([("dog", 0.9, (10, 10, 100, 100), None)])
    empty = replace(scene, boxes=scene.boxes[:0], class_scores=scene.class_scores[:0],
                    labels=scene.labels[:0], scores=scene.scores[:0],
                    colour_frac=scene.colour_frac[:0], lightness=scene.lightness[:0])
    result = scorer.score(empty, parse_phrase("the dog"))
    assert result.scores.size == 0
    assert scorer.select(empty, result, 5, False).size == 0
