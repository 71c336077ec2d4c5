"""Which ImageNet kinds a noun names: WordNet's taxonomy of ImageNet's classes first (a category
noun names every kind filed under it), the text embedding only for a noun WordNet ties to none."""
from __future__ import annotations

import numpy as np
import pytest

from grounding_desktop.core.phrase_parse import parse_phrase, tokenize
from grounding_desktop.grounding.recognition.imagenet import Kinds, named_kinds, probability
from grounding_desktop.grounding.recognition.recognizer import imagenet_labels

LABELS = imagenet_labels()


def _kind(name: str) -> int:
    return next(i for i, names in enumerate(LABELS) if names[0] == name)


def _named(phrase: str):
    found = named_kinds(parse_phrase(phrase).subject)
    return None if found is None else (found[0], {LABELS[i][0] for i in np.flatnonzero(found[1])})


def test_every_kind_is_named_by_its_own_name_as_the_parser_reads_it():
    checked = 0
    for i, names in enumerate(LABELS):
        noun = parse_phrase(f"the {names[0]}").subject
        if noun.noun != " ".join(tokenize(names[0])):
            continue  # "upright" (the piano) alone is a pose word
        found = named_kinds(noun)
        assert found is not None and found[1][i] > 0, names
        checked += 1
    # "go-kart", "potter's wheel", "Shih-Tzu", "black widow", "traffic light", "indigo bunting"
    assert checked == 999


def test_a_category_noun_names_the_kinds_filed_under_it_not_look_alike_words():
    word, dogs = _named("the dogs on the left")
    assert word == "dog" and len(dogs) == 118
    assert {"golden retriever", "Chihuahua", "dalmatian"} <= dogs
    assert not {"hotdog", "dogsled"} & dogs
    assert _named("the butterfly")[1] == {"admiral", "ringlet", "monarch", "cabbage butterfly",
                                          "sulphur butterfly", "lycaenid"}
    assert "baboon" in _named("the small monkey")[1]
    assert _named("the lemon") == ("lemon", {"lemon"})


def test_a_kind_counts_by_how_often_the_noun_means_the_sense_it_is_filed_under():
    _, wheel, held = named_kinds(parse_phrase("the wheel").subject)
    assert wheel[_kind("car wheel")] > 0.5 > 0.1 > wheel[_kind("mountain bike")] > 0 and held < 1
    _, dogs, held = named_kinds(parse_phrase("the dogs").subject)
    assert held > 0.8 and dogs[_kind("Chihuahua")] == pytest.approx(held)
    _, hats, held = named_kinds(parse_phrase("the lid").subject)   # mostly a cover, seldom a hat
    assert held < 0.2 and hats.max() == pytest.approx(held)


def test_a_compound_noun_is_not_read_as_its_head_word():
    # A tape measure is a measure, but ImageNet's measures are rulers and measuring cups.
    assert _named("the tape measure") is None
    assert _named("the widget") is None


def test_a_crop_s_evidence_sums_its_kinds_probabilities_by_their_weights():
    weights = np.zeros(1000, np.float32)
    weights[[_kind("monarch"), _kind("ringlet")]] = [1.0, 0.5]
    kinds = Kinds(weights, "butterfly", 1.0)
    ids = np.array([[_kind("monarch"), _kind("ringlet"), _kind("daisy")]], np.int16)
    probs = np.array([[0.5, 0.25, 0.2]], np.float16)
    assert probability(ids, probs, kinds) == pytest.approx([0.625])
