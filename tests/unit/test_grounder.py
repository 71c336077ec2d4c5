"""Grounder: the real detector and encoder on pictures the tests compose from the bundled samples.

The compositions paste ``resources/samples`` photos (a cat, an astronaut) onto a plain canvas,
so the expected answer follows from where the test put each photo.
"""
from __future__ import annotations

import os
import threading
import warnings

import numpy as np
import pytest
from PIL import Image

from grounding_desktop.core.phrase import PhraseError
from grounding_desktop.core.proposal import Proposal
from grounding_desktop.grounding import device as device_mod
from grounding_desktop.grounding.detectors.detector import Detections
from grounding_desktop.core import ImageReadError
from grounding_desktop.grounder_factory import make_grounder
from grounding_desktop.grounding.grounder import Grounder

from support import SAMPLES

CANVAS = (800, 300)


def compose(parts, size=CANVAS) -> Image.Image:
    canvas = Image.new("RGB", size, (90, 90, 90))
    for name, (x, y, w, h) in parts:
        with Image.open(SAMPLES / f"{name}.jpg") as im:
            canvas.paste(im.convert("RGB").resize((w, h), Image.Resampling.BILINEAR), (x, y))
    return canvas


TWO_CATS = [("chelsea", (0, 40, 300, 200)), ("chelsea", (450, 40, 300, 200))]
CAT_AND_PERSON = [("chelsea", (0, 20, 400, 266)), ("astronaut", (480, 0, 300, 300))]


def centre_x(p: Proposal) -> float:
    return p.bbox[0] + p.bbox[2] / 2


@pytest.fixture(scope="module")
def grounder(tmp_path_factory):
    from grounding_desktop.grounding.detectors import ssd_weights

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ssd_weights.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        g = make_grounder("cpu", cache_size=4)
        g.load(encoder=False)
        yield g


@pytest.fixture
def two_cats(tmp_path):
    path = tmp_path / "two_cats.png"
    compose(TWO_CATS).save(path)
    return path


# ------------------------------------------------------------------------------ with the model

@pytest.mark.model
def test_left_and_right_cat(grounder, two_cats):
    key = grounder.prepare(two_cats)
    assert key == str(two_cats)
    left = grounder.propose(key, "the cat on the left", top_k=1)[0]
    right = grounder.propose(key, "the cat on the right", top_k=1)[0]
    assert centre_x(left) < 400 < centre_x(right)
    assert left.label == right.label == "cat"
    assert "left" in left.explanation and left.model_version == grounder.model_version
    second = grounder.propose(key, "the second cat from the left", top_k=1)[0]
    assert centre_x(second) > 400


@pytest.mark.model
def test_plural_returns_both_cats(grounder, two_cats):
    props = grounder.propose(two_cats, "the cats", top_k=1)
    assert len(props) == 2 and all(p.modules["plural"] for p in props)
    assert sorted(centre_x(p) < 400 for p in props) == [False, True]
    single = grounder.propose(two_cats, "the cat", top_k=1)
    assert len(single) == 1 and single[0].modules["plural"] is False


@pytest.mark.model
def test_synonyms_through_embeddings(grounder, tmp_path):
    path = tmp_path / "cat_person.png"
    compose(CAT_AND_PERSON).save(path)
    guy = grounder.propose(path, "the guy", top_k=1)[0]
    cat = grounder.propose(path, "the kitty", top_k=1)[0]
    assert guy.label == "person" and centre_x(guy) > 450
    assert cat.label == "cat" and centre_x(cat) < 400
    # Each proposal is labelled with what the detector saw in it, not with the phrase's class.
    labels = {p.label for p in grounder.propose(path, "the kitty") if centre_x(p) > 500}
    assert "person" in labels and "cat" not in labels


@pytest.mark.model
def test_hint_point_picks_the_clicked_cat(grounder, two_cats):
    plain = grounder.propose(two_cats, "the cat", top_k=1)[0]
    other_x = 150 if centre_x(plain) > 400 else 600
    clicked = grounder.propose(two_cats, "the cat", hint=(other_x, 140), top_k=1)[0]
    assert clicked.bbox[0] <= other_x <= clicked.bbox[0] + clicked.bbox[2]
    assert "hint" in clicked.modules


@pytest.mark.model
def test_exif_orientation_gives_boxes_in_the_viewed_frame(grounder, tmp_path):
    shown = compose(TWO_CATS)
    stored = shown.transpose(Image.Transpose.ROTATE_90)  # orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    stored.save(path, exif=exif.tobytes(), quality=95)
    key = grounder.prepare(path)
    entry = grounder.prepared(key)
    assert (entry.width, entry.height) == CANVAS
    left = grounder.propose(key, "the cat on the left", top_k=1)[0]
    x, y, w, h = left.bbox
    assert centre_x(left) < 400 and x + w <= CANVAS[0] and y + h <= CANVAS[1]


@pytest.mark.model
def test_huge_image_is_downscaled_for_inference_not_for_coordinates(grounder, tmp_path):
    small = compose(TWO_CATS)
    big = small.resize((CANVAS[0] * 4, CANVAS[1] * 4), Image.Resampling.BILINEAR)
    big_path, small_path = tmp_path / "big.jpg", tmp_path / "small.jpg"
    big.save(big_path, quality=90)
    small.save(small_path, quality=90)
    entry_key = grounder.prepare(big_path)
    assert grounder.prepared(entry_key).width == CANVAS[0] * 4
    a = grounder.propose(big_path, "the cat on the left", top_k=1)[0]
    b = grounder.propose(small_path, "the cat on the left", top_k=1)[0]
    scaled = tuple(v * 4 for v in b.bbox)
    from grounding_desktop.core.geometry import iou_xywh

    assert iou_xywh(a.bbox, scaled) > 0.8


@pytest.mark.model
def test_pil_and_array_inputs_and_keys(grounder):
    img = compose(TWO_CATS)
    k1 = grounder.prepare(img)
    k2 = grounder.prepare(np.asarray(img))
    assert k1 == k2  # same pixels, same key
    assert grounder.prepare(img, key="mine") == "mine"
    props = grounder.propose("mine", "the cat on the right", top_k=2)
    assert 1 <= len(props) <= 2 and centre_x(props[0]) > 400
    assert props[0].score >= props[-1].score


@pytest.mark.model
def test_cache_is_bounded_and_notices_edits(grounder, tmp_path):
    paths = []
    for i in range(6):
        p = tmp_path / f"img{i}.png"
        compose(TWO_CATS if i % 2 else CAT_AND_PERSON).save(p)
        paths.append(p)
        grounder.prepare(p)
    assert grounder.prepared(str(paths[0])) is None          # evicted (cache_size=4)
    assert grounder.prepared(str(paths[-1])) is not None
    # Editing a file makes the next propose see the new pixels.
    target = paths[4]  # the cat and the astronaut
    before = grounder.propose(target, "the person", top_k=1)
    compose(TWO_CATS).save(target)
    st = os.stat(target)
    os.utime(target, (st.st_atime, st.st_mtime + 5))
    after = grounder.propose(str(target), "the person", top_k=1)
    assert grounder.prepared(str(target)).stamp[0] == pytest.approx(st.st_mtime + 5)
    assert before[0].label == "person" and after[0].label != "person"


@pytest.mark.model
def test_thread_safe_concurrent_proposals(grounder, tmp_path):
    paths = []
    for i, parts in enumerate([TWO_CATS, CAT_AND_PERSON]):
        p = tmp_path / f"t{i}.png"
        compose(parts).save(p)
        paths.append(p)
    phrases = ["the cat on the left", "the cat on the right", "the cats", "the guy"]
    expected = {(str(p), ph): grounder.propose(p, ph) for p in paths for ph in phrases}
    grounder.forget()
    results, errors = {}, []

    def work(i):
        try:
            for j in range(8):
                p, ph = paths[(i + j) % 2], phrases[(i * 3 + j) % 4]
                results[(str(p), ph, i, j)] = grounder.propose(p, ph)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for (p, ph, _, _), props in results.items():
        assert [x.bbox for x in props] == [x.bbox for x in expected[(p, ph)]]


# ------------------------------------------------------------------------------ beyond COCO

@pytest.mark.model
def test_a_thing_labelled_on_two_pictures_is_found_on_a_third(grounder, tmp_path):
    from grounding_desktop.core.geometry import iou_xywh
    from grounding_desktop.grounding.scoring.concepts import LabelledBox
    from support import make_gizmo_photos

    photos = make_gizmo_photos(tmp_path, 3)
    (third, truth) = photos[2]
    grounder.forget_concepts()
    try:
        unknown = grounder.propose(third, "the gizmo", top_k=1)[0]
        assert iou_xywh(unknown.bbox, truth) < 0.5  # no detector class knows it: the cat wins
        for i, (path, box) in enumerate(photos[:2]):
            stored = grounder.learn(path, [LabelledBox(i + 1, "the gizmo", box, accepted=True)])
            assert [e.example_id for e in stored] == [i + 1]  # embedded now, for the database
        found = grounder.propose(third, "the gizmo", top_k=1)[0]
        assert iou_xywh(found.bbox, truth) >= 0.75
        assert found.label == "gizmo" and "learned from 2 of your boxes" in found.explanation
        assert found.modules["evidence"] == "concept"
        # A word more, or another determiner, and the phrase still uses what "the gizmo" taught.
        for phrase in ("the shiny gizmo", "the other gizmo"):
            assert "learned from 2 of your boxes" in grounder.propose(third, phrase, top_k=1)[0].explanation, phrase
        # Labelled there too, the third picture is still judged without its own box...
        grounder.learn(third, [LabelledBox(3, "the gizmo", truth, accepted=True)])
        held_out = grounder.propose(third, "the gizmo", top_k=1, held_out=True)[0]
        assert "learned from 2 of your boxes" in held_out.explanation
        assert "learned from 3 of your boxes" in grounder.propose(third, "the gizmo", top_k=1)[0].explanation
        # ...and a box that is deleted (or undone) is forgotten.
        grounder.learn(third, [])
        assert "learned from 2 of your boxes" in grounder.propose(third, "the gizmo")[0].explanation
    finally:
        grounder.forget_concepts()


@pytest.mark.model
def test_a_kind_taught_on_three_different_things_is_found_on_a_fourth(grounder, tmp_path):
    """Category-level: gizmos of three colour schemes teach "gizmo"; a gizmo of a fourth is found,
    and no box off it scores as high."""
    from grounding_desktop.core.geometry import iou_xywh
    from grounding_desktop.grounding.scoring.concepts import LabelledBox
    from support import make_gizmo_photos

    colours = [((235, 200, 40), (120, 40, 160)), ((70, 170, 230), (200, 40, 40)),
               ((235, 235, 235), (30, 120, 60)), ((250, 140, 30), (40, 40, 170))]
    photos = make_gizmo_photos(tmp_path, 4, colours=colours)
    (fourth, truth) = photos[3]
    grounder.forget_concepts()
    try:
        for i, (path, box) in enumerate(photos[:3]):
            grounder.learn(path, [LabelledBox(i + 1, "the gizmo", box, accepted=True)])
        found = grounder.propose(fourth, "the gizmo", top_k=5)
        assert iou_xywh(found[0].bbox, truth) >= 0.5
        assert "learned from 3 of your boxes" in found[0].explanation
        assert all(p.score < found[0].score for p in found[1:] if iou_xywh(p.bbox, truth) < 0.3)
    finally:
        grounder.forget_concepts()


@pytest.mark.model
def test_a_taught_box_of_a_coco_class_never_lowers_that_class_on_other_pictures(grounder, tmp_path):
    """Issue 20's horse case, with the bundled cat: one box of "the cat" taught on one picture adds
    to what the detector knows on the others; it never hides it."""
    from grounding_desktop.core.geometry import iou_xywh
    from grounding_desktop.grounding.scoring.concepts import LabelledBox

    taught = tmp_path / "taught.png"
    compose([("chelsea", (380, 30, 400, 266))]).save(taught)
    others = []
    for i, parts in enumerate((TWO_CATS, CAT_AND_PERSON, [("astronaut", (0, 0, 300, 300)),
                                                          ("chelsea", (500, 150, 180, 120))])):
        others.append(tmp_path / f"other{i}.png")
        compose(parts).save(others[-1])
    grounder.forget_concepts()
    try:
        before = [grounder.propose(p, "the cat", top_k=1)[0] for p in others]
        grounder.learn(taught, [LabelledBox(1, "the cat", (380, 30, 400, 266), accepted=True)])
        for path, old in zip(others, before):
            new = grounder.propose(path, "the cat", top_k=1)[0]
            assert new.score >= old.score - 1e-3, (path.name, old.explanation, new.explanation)
            assert iou_xywh(new.bbox, old.bbox) >= 0.5
    finally:
        grounder.forget_concepts()


@pytest.mark.model
@pytest.mark.xfail(strict=True, reason="known limit (models/fused_scorer.md): a head learned from one box "
                   "gives unrelated regions some probability; the calibration for a folder lowers the score "
                   "of its box on the coffee picture (0.84 as a chosen picture) to 0.55, not below 0.3")
def test_one_taught_box_proposes_nothing_on_a_picture_without_the_thing(grounder, tmp_path):
    """What a folder's propose stores (``best_proposals``, at propose's default minimum score)."""
    from grounding_desktop.folder.engine import best_proposals
    from grounding_desktop.folder.propose import DEFAULT_MIN_SCORE
    from grounding_desktop.grounding.scoring.concepts import LabelledBox

    taught = tmp_path / "taught.png"
    compose([("chelsea", (380, 30, 400, 266))]).save(taught)
    coffee = tmp_path / "coffee.png"
    compose([("coffee", (200, 0, 400, 300))]).save(coffee)
    grounder.forget_concepts()
    try:
        entry = grounder.prepared(grounder.prepare(str(coffee)))
        assert best_proposals(grounder, entry, ["the cat"], DEFAULT_MIN_SCORE) == [("the cat", [])]
        grounder.learn(taught, [LabelledBox(1, "the cat", (380, 30, 400, 266), accepted=True)])
        assert best_proposals(grounder, entry, ["the cat"], DEFAULT_MIN_SCORE) == [("the cat", [])]
    finally:
        grounder.forget_concepts()


@pytest.mark.model
def test_a_project_with_enough_boxes_refits_the_scorer_on_them(grounder, tmp_path):
    """A project's refit runs on its own labelled boxes, and what the Grounder uses afterwards (the
    refit or, where it does not beat it on the project, the shipped fit) is never worse on them."""
    from grounding_desktop.grounding.scoring import fit_scorer
    from grounding_desktop.grounding.scoring.concepts import LabelledBox
    from grounding_desktop.grounding.scoring.priors import shipped_weights
    from grounding_desktop.project_concepts import Lesson, project_trials, teach

    lessons, n = [], 0
    for i in range(6):
        left, right = 20 + 15 * i, 420 + 10 * i
        path = tmp_path / f"cats{i}.png"
        compose([("chelsea", (left, 40, 300, 200)), ("chelsea", (right, 60, 260, 180))]).save(path)
        boxes = []
        for phrase, good, bad in (("the cat on the left", (left, 40, 300, 200), (right, 60, 260, 180)),
                                  ("the cat on the right", (right, 60, 260, 180), (left, 40, 300, 200)),
                                  ("the bigger cat", (left, 40, 300, 200), (right, 60, 260, 180))):
            boxes.append(LabelledBox(n := n + 1, phrase, good, accepted=True))
            boxes.append(LabelledBox(n := n + 1, phrase, bad, accepted=False))
        lessons.append(Lesson(str(path), CANVAS, tuple(boxes)))
    grounder.forget_concepts()
    try:
        teach(grounder, lessons[:2], clear=True, refit=True)
        assert grounder.fused == shipped_weights()  # 12 boxes: too few to refit
        teach(grounder, lessons, clear=True, refit=True)
        in_use, version = grounder.fused, grounder.model_version
        assert in_use == shipped_weights() or in_use.fitted_on.startswith("this project's 36 boxes")
        grounder.set_fused(None)
        assert (version != grounder.model_version) == (in_use != shipped_weights())  # names the fit
        trials = project_trials(grounder, lessons)
        assert len(trials) == 18 and sum(t.hit.any() for t in trials) >= 12
        assert fit_scorer.judge(trials, in_use).accuracy >= fit_scorer.judge(trials, shipped_weights()).accuracy
    finally:
        grounder.forget_concepts()
        grounder.set_fused(None)


@pytest.mark.model
def test_the_colour_of_what_a_person_wears_picks_the_person(grounder):
    """"The person in the red shirt": the shirt is worn, its colour is the person's. Two astronauts,
    one dyed red and one blue, each way round (before, "in the red shirt" was a relation to a shirt
    no detector knows, and the red one lost on one side)."""
    with Image.open(SAMPLES / "astronaut.jpg") as im:
        grey = np.asarray(im.convert("RGB").resize((300, 300)), np.float32).mean(2, keepdims=True)
    red = np.clip(grey * [1.3, 0.35, 0.35], 0, 255).astype(np.uint8)
    blue = np.clip(grey * [0.35, 0.45, 1.3], 0, 255).astype(np.uint8)
    for left, right in ((red, blue), (blue, red)):
        canvas = np.full((300, 800, 3), 90, np.uint8)
        canvas[:, :300], canvas[:, 480:780] = left, right
        for phrase, colour in (("the person in the red shirt", red), ("the man wearing a red suit", red),
                               ("the person in the blue jacket", blue)):
            box = grounder.propose(canvas, phrase, top_k=1)[0].bbox
            centre = box[0] + box[2] / 2
            assert (centre < 400) == (left is colour), (phrase, box)


@pytest.mark.model
def test_proposing_over_a_folder_scores_as_for_a_picture_that_may_not_hold_the_thing(grounder, tmp_path):
    """A folder's propose asks every picture, with or without the thing: its best box is the same,
    its score the fit's calibration for a folder (``FusedWeights.folder``), not the one for a
    picture the user chose, and the box says so (``model_version`` ends in "+folder")."""
    from grounding_desktop.folder.engine import best_proposals

    path = tmp_path / "cat_and_person.png"
    compose(CAT_AND_PERSON).save(path)
    entry = grounder.prepared(grounder.prepare(str(path)))
    chosen = grounder.propose_prepared(entry, "the cat", top_k=1)[0]
    folder = grounder.propose_prepared(entry, "the cat", top_k=1, folder=True)[0]
    assert folder.bbox == chosen.bbox and folder.score != chosen.score
    assert folder.model_version == chosen.model_version + "+folder" == grounder.model_version + "+folder"
    assert best_proposals(grounder, entry, ["the cat"], 0.0) == [("the cat", [folder])]


@pytest.mark.model
def test_a_noun_coco_lacks_is_recognised_among_imagenet_kinds(grounder):
    from grounding_desktop.core.geometry import iou_xywh

    coffee = SAMPLES / "coffee.jpg"
    cup = grounder.propose(coffee, "the cup", top_k=1)[0]
    espresso = grounder.propose(coffee, "the espresso", top_k=1)[0]
    assert cup.modules["evidence"] == "detector"  # a COCO word never runs the second CNN
    assert espresso.modules["evidence"] == "imagenet"
    assert espresso.label == "espresso"  # named by the evidence its score rests on
    assert "espresso" in espresso.explanation and "(ImageNet)" in espresso.explanation
    assert iou_xywh(espresso.bbox, cup.bbox) > 0.7


@pytest.mark.model
def test_imagenet_kinds_come_from_wordnet_and_the_embedding_for_the_rest(grounder):
    from grounding_desktop.grounding.recognition.recognizer import imagenet_labels

    names = [n[0] for n in imagenet_labels()]
    _, _, monkey = grounder.bounded_subject("the monkey on the left")
    first = {names[i] for i in np.argsort(-monkey.weights)[:13]}
    assert monkey.label == "monkey" and monkey.similarity > 0.9 and {"baboon", "macaque", "titi"} <= first
    # A "case" is a wallet in 4 % of its uses: the other uses, which no kind is filed under, take
    # the kinds its embedding comes close to.
    _, _, case = grounder.bounded_subject("the case")
    assert case.weights[names.index("wallet")] < 0.5 and names[int(np.argmax(case.weights))] != "wallet"
    _, _, tape = grounder.bounded_subject("the tape measure")   # WordNet files no kind under it
    assert tape.similarity < 1.0 and 0 < np.count_nonzero(tape.weights) < 1000
    assert grounder.bounded_subject("the dog")[2] is None        # the detector's class


def test_an_empty_detection_is_an_empty_scene():
    from grounding_desktop.grounding.grounder import build_scene

    nothing = Detections(boxes=np.zeros((0, 4), np.float32), scores=np.zeros(0, np.float32),
                         labels=np.zeros(0, np.int64), class_scores=np.zeros((0, 91), np.float32),
                         region_features=np.zeros((0, 576), np.float32), image_size=(64, 48))
    scene = build_scene(np.zeros((48, 64, 3), np.uint8), nothing)
    assert len(scene) == 0


# ------------------------------------------------------------------------------ bad input

def test_bad_phrases_are_refused(grounder):
    img = compose(TWO_CATS)
    for phrase in ("", "   ", "x" * 501, "?!"):
        with pytest.raises(PhraseError):
            grounder.propose(img, phrase)


def test_unreadable_images_raise_a_clear_error(grounder, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageReadError, match="not a readable image"):
        grounder.prepare(bad)
    with pytest.raises(ImageReadError, match="no such file"):
        grounder.propose(str(tmp_path / "missing.jpg"), "the cat")
    with pytest.raises(ImageReadError):
        grounder.prepare(np.zeros((0, 4, 3), np.uint8))


def test_a_grounder_without_image_loader_takes_images_not_paths(grounder, tmp_path):
    bare = Grounder(device="cpu")
    bare._detector, bare._scorer = grounder.load_detector(), grounder.load_scorer()
    with pytest.raises(TypeError, match="make_grounder"):
        bare.prepare(tmp_path / "any.jpg")
    assert bare.propose(compose(TWO_CATS), "the cat")[0].label == "cat"


# ------------------------------------------------------------------------------ devices

def test_auto_device_and_unknown_names():
    assert device_mod.resolve_device(None) in ("cpu", "cuda", "mps")
    assert device_mod.resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        device_mod.resolve_device("tpu")


@pytest.mark.skipif(device_mod.cuda_usable(), reason="this machine has CUDA")
def test_cuda_requested_without_gpu_falls_back_once(monkeypatch):
    monkeypatch.setattr(device_mod, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert Grounder(device="cuda").device == "cpu"
        assert Grounder(device="cuda").device == "cpu"
    msgs = [w for w in caught if issubclass(w.category, device_mod.DeviceFallbackWarning)]
    assert len(msgs) == 1 and "CPU" in str(msgs[0].message)


class _FlakyDetector:
    """Fails like an out-of-memory GPU on 'cuda', works on the CPU."""

    version = "fake"

    def __init__(self, device):
        self.device = device
        self.model = object()

    def detect(self, rgb, score_threshold=0.05, max_detections=100, candidates=0):
        if self.device != "cpu":
            raise RuntimeError("CUDA error: out of memory")
        h, w = rgb.shape[:2]
        vec = np.zeros((1, 91), np.float32)
        vec[0, 17] = 0.9
        return Detections(boxes=np.array([[0, 0, w / 2, h / 2]], np.float32),
                          scores=np.array([0.9], np.float32), labels=np.array([17]),
                          class_scores=vec, region_features=np.zeros((1, 0), np.float32),
                          image_size=(w, h))


def test_cuda_failure_at_run_time_falls_back_to_cpu(monkeypatch, grounder):
    import grounding_desktop.grounding.grounder as grounder_mod

    monkeypatch.setattr(device_mod, "_warned", set())
    monkeypatch.setattr(grounder_mod, "resolve_device", lambda requested: "cuda")
    monkeypatch.setattr(Grounder, "_make_detector", lambda self, device: _FlakyDetector(device))
    g = Grounder(device="cuda")
    g._scorer = grounder.load_scorer()  # share the loaded scorer: this test is about devices
    assert g.device == "cuda"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        props = g.propose(compose(TWO_CATS), "the cat")
        g.propose(compose(CAT_AND_PERSON), "the cat")
    assert g.device == "cpu" and props and props[0].label == "cat"
    msgs = [w for w in caught if issubclass(w.category, device_mod.DeviceFallbackWarning)]
    assert len(msgs) == 1 and "out of memory" in str(msgs[0].message)


# ------------------------------------------------------------------------------ real photos

@pytest.mark.model
def test_coco8_referring_expressions_accuracy(grounder):
    """Acc@0.5 on the shared coco8 phrases (benchmarks/eval_refexp.py prints the details): a guard
    against losing more. The fitted, fused score gets 18/23 where the hand-set scorer before it got
    19/23 (issue 20's target, not reached; the README's figures say so): the bar is the fit's figure,
    not the target."""
    import json

    from support import COCO8
    from grounding_desktop.core.geometry import iou_xywh

    rows_file = COCO8 / "phrases.jsonl"
    if not rows_file.is_file():
        pytest.skip(f"coco8 phrases not present at {rows_file} (shared data, not in the repo)")
    rows = [json.loads(line) for line in rows_file.read_text().splitlines() if line.strip()]
    hits = sum(iou_xywh(grounder.propose(COCO8 / r["image"], r["phrase"], top_k=1)[0].bbox,
                        r["bbox_xywh"]) >= 0.5 for r in rows)
    assert hits >= 18, f"Acc@0.5 {hits}/{len(rows)}"
