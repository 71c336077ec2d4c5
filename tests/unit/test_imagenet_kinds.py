"""Which ImageNet kinds a noun names: WordNet's taxonomy of ImageNet's classes first (a category
noun names every kind filed under it), the text embedding only for a noun WordNet ties to none."""
from __future__ import annotations

import numpy as np
import pytest

from grounding_desktop.core.phrase_parse import parse_phrase
from grounding_desktop.grounding.recognition.imagenet import kinds_for, named_kinds, probability, word_kinds
from grounding_desktop.grounding.recognition.recognizer import imagenet_labels

LABELS = imagenet_labels()


def _kind(name: str) -> int:
    return next(i for i, names in enumerate(LABELS) if names[0] == name)


def _named(phrase: str):
    found = named_kinds(parse_phrase(phrase).subject)
    return None if found is None else (found[0], {LABELS[i][0] for i in np.flatnonzero(found[1])})


def test_the_taxonomy_holds_every_kind_under_its_own_names():
    for i, names in enumerate(LABELS):
        assert word_kinds(names[0].lower())[i] > 0, names


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
    wheel = named_kinds(parse_phrase("the wheel").subject)[1]
    assert wheel[_kind("car wheel")] > 0.9 and 0 < wheel[_kind("mountain bike")] < 0.1
    toy = named_kinds(parse_phrase("the toy").subject)[1]
    assert toy[_kind("teddy")] > 0.8 and toy[_kind("toy poodle")] < 0.2


def test_a_compound_noun_is_not_read_as_its_head_word():
    # A tape measure is a measure, but ImageNet's measures are rulers and measuring cups.
    assert _named("the tape measure") is None
    assert _named("the widget") is None


def test_a_named_noun_weighs_its_kinds_fully_and_sums_their_probabilities():
    kinds = kinds_for(None, parse_phrase("the butterfly").subject)  # no embedding needed
    assert kinds.similarity == 1.0 and kinds.label == "butterfly"
    ids = np.array([[_kind("monarch"), _kind("ringlet"), _kind("daisy")]], np.int16)
    probs = np.array([[0.5, 0.25, 0.2]], np.float16)
    assert probability(ids, probs, kinds) == pytest.approx([0.75])

