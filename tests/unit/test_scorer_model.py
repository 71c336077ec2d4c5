"""The subject module with the real phrase encoder (all-MiniLM-L6-v2 from its PyPI package)."""
from __future__ import annotations

import numpy as np
import pytest

from grounding_desktop.grounding.detectors.detector import COCO_LABELS
from grounding_desktop.grounding.text.encoder import ClassPrototypes, PhraseEncoder
from grounding_desktop.core.phrase_parse import parse_phrase
from grounding_desktop.grounding.scoring.scorer import PhraseScorer

pytestmark = pytest.mark.model

NAME_TO_ID = {v: k for k, v in COCO_LABELS.items()}


@pytest.fixture(scope="module")
def proto_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("prototypes")


@pytest.fixture(scope="module")
def prototypes(proto_cache):
    return ClassPrototypes(PhraseEncoder(), COCO_LABELS, cache_dir=proto_cache)


@pytest.fixture(scope="module")
def scorer(prototypes):
    return PhraseScorer(prototypes)


def top_class(scorer, phrase: str) -> str:
    weights, _, known = scorer.class_weights(parse_phrase(phrase).subject)
    assert known
    return COCO_LABELS[int(np.argmax(weights))]


@pytest.mark.parametrize("phrase,cls", [
    ("the puppy", "dog"), ("the guy", "person"), ("a pooch", "dog"), ("the dude", "person"),
    ("the sofa", "couch"), ("the cellphone", "cell phone"), ("the automobile", "car"),
])
def test_words_find_their_class_through_embeddings(scorer, prototypes, phrase, cls):
    noun = parse_phrase(phrase).subject.noun
    if noun in ("puppy", "guy", "pooch", "dude", "cellphone"):
        assert noun not in prototypes.lexicon  # really found by the encoder, not a word list
    assert top_class(scorer, phrase) == cls


def test_puppy_finds_the_dog_region(scorer):
    from grounding_desktop.grounding.scoring.scorer import Scene

    vectors = np.zeros((2, 91))
    vectors[0, NAME_TO_ID["cat"]] = 0.9
    vectors[1, NAME_TO_ID["dog"]] = 0.6
    scene = Scene(boxes=np.array([[0, 0, 50, 50], [60, 0, 110, 50]], float), class_scores=vectors,
                  labels=np.array([17, 18]), scores=np.array([0.9, 0.6]),
                  colour_frac=np.zeros((2, 11)), lightness=np.full(2, 0.5), width=120, height=60)
    result = scorer.score(scene, parse_phrase("the puppy"))
    assert int(np.argmax(result.scores)) == 1
    assert result.subject_label[1] == "dog"


def test_hypernyms_cover_every_member(scorer):
    weights, _, _ = scorer.class_weights(parse_phrase("the animal").subject)
    for name in ("dog", "horse", "giraffe", "elephant"):
        assert weights[NAME_TO_ID[name]] == 1.0
    assert weights[NAME_TO_ID["car"]] == 0.0


def test_unknown_nouns_fall_back_to_objectness(scorer):
    weights, desc, known = scorer.class_weights(parse_phrase("the zxqv").subject)
    assert not known and "no such class" in desc
    assert np.all(weights[list(COCO_LABELS)] == 1.0)


def test_prototypes_are_cached_on_disk_and_need_no_model(proto_cache, prototypes):
    files = list(proto_cache.glob("prototypes_*.npy"))
    assert len(files) == 1
    encoder = PhraseEncoder()
    again = ClassPrototypes(encoder, COCO_LABELS, cache_dir=proto_cache)
    assert np.allclose(again.embeddings, prototypes.embeddings)
    again.similarity("horse")  # a known word: answered from the cache
    assert not encoder.loaded


def test_encoder_caches():
    encoder = PhraseEncoder()
    a = encoder.encode(["a red bicycle", "a red bicycle"])
    assert a.shape == (2, 384) and np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert encoder.cached("a red bicycle") is not None  # a cached text never reaches the model again
    assert np.allclose(encoder.encode(["a red bicycle"]), a[:1])


def test_encoder_gives_sentence_transformers_embeddings(monkeypatch, prototypes):
    """The network run directly (``minilm.py``) against sentence-transformers, the library the
    model is published for: phrases as people type them and every COCO class word."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    from grounding_desktop.grounding.text.encoder import model_path

    texts = ["the cat", "a cup on the table", "the woman on the left holding an umbrella", "puppy",
             "Hard_Hat", "the second red car from the right", "x", "über-café ☕", "the " + "very " * 300 + "long dog"]
    texts += prototypes.words
    ours = PhraseEncoder().encode(texts)
    reference = SentenceTransformer(str(model_path()), device="cpu").encode(
        texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    cosines = np.einsum("nd,nd->n", ours, reference)
    assert cosines.min() >= 0.999, texts[int(np.argmin(cosines))]


def test_a_detectors_own_class_names_are_found_as_people_type_them(prototypes):
    """An ONNX detector of the user's brings its own names (``backends.py``); phrases reach them
    through the same encoder: the exact word, the spoken form of "Hard_Hat", and a near word."""
    labels = {0: "widget", 1: "Hard_Hat", 2: "traffic_cone"}
    scorer = PhraseScorer(ClassPrototypes(prototypes.encoder, labels))
    for phrase, name in (("the widget", "widget"), ("the hard hat on the left", "Hard_Hat"),
                         ("the helmet", "Hard_Hat"), ("the cone", "traffic_cone")):
        weights, _, known = scorer.class_weights(parse_phrase(phrase).subject)
        assert known and labels[int(np.argmax(weights))] == name, phrase
