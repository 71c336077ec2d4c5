"""Search by phrase over a folder's prepared images: the bound it prunes with never undercuts a
score (no model: the scorer on a word table), and with the real model the ranking is what scoring
every image would give, and an image with the thing comes first."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from support import SAMPLES
from test_scorer import LABELS, TablePrototypes, make_scene
from grounding_desktop.core.phrase_parse import parse_phrase
from grounding_desktop.grounding.scoring.scorer import PhraseScorer

PHRASES = ("the dog", "the dogs", "a red car", "the dark horse on the left", "the bigger cat",
           "the second person from the right", "the man on the horse", "the tall thing in the middle",
           "the bowl closest to the camera", "the blue umbrella above the person", "the lying cat",
           "a thing", "the white dog next to the car", "the top right bowl")
COLOURS = ((200, 30, 30), (30, 60, 200), (20, 20, 20), (240, 240, 240), (120, 80, 40), None)


def _random_scene(rng):
    names = list(LABELS.values())
    regions = []
    for _ in range(rng.integers(1, 9)):
        x0, y0 = rng.uniform(0, 350), rng.uniform(0, 250)
        box = (x0, y0, x0 + rng.uniform(5, 400 - x0), y0 + rng.uniform(5, 300 - y0))
        regions.append((names[rng.integers(len(names))], float(rng.uniform(0.05, 1)), box,
                        COLOURS[rng.integers(len(COLOURS))]))
    return make_scene(regions)


def _table(scenes):
    """Several images' regions as one scene (frame sizes per region), and where each image starts."""
    from grounding_desktop.grounding.scoring.scorer import Scene

    def cat(name):
        return np.concatenate([getattr(s, name) for s in scenes])

    sizes = [len(s) for s in scenes]
    table = Scene(boxes=cat("boxes"), class_scores=cat("class_scores"), labels=cat("labels"), scores=cat("scores"),
                  colour_frac=cat("colour_frac"), lightness=cat("lightness"),
                  width=np.repeat([float(s.width) for s in scenes], sizes),
                  height=np.repeat([float(s.height) for s in scenes], sizes), objectness=cat("objectness"))
    return table, np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def test_no_region_scores_above_its_bound():
    """Each image alone, and eight at a time in one table (as search bounds a folder), with the
    calibration for a picture the user chose and the one for a folder (what search scores with)."""
    scorer = PhraseScorer(TablePrototypes())
    assert scorer.fused.folder  # the shipped fit has both
    rng = np.random.default_rng(5)
    for _ in range(10):
        scenes = [_random_scene(rng) for _ in range(8)]
        table, starts = _table(scenes)
        for phrase, folder in ((p, f) for p in PHRASES for f in (False, True)):
            parsed = parse_phrase(phrase)
            scores = [scorer.score(scene, parsed, folder=folder).scores for scene in scenes]
            for scene, score in zip(scenes, scores):
                by_class = scorer.subject_p(scene, parsed.subject, named=False)[0]
                assert np.array_equal(by_class, scorer.subject_p(scene, parsed.subject)[0]), phrase
                bound = scorer.upper_bound(scene, parsed, by_class, np.array([0]), folder=folder)
                assert np.all(bound >= score * (1 - 1e-9)), phrase
            by_class = scorer.subject_p(table, parsed.subject, named=False)[0]
            bound = scorer.upper_bound(table, parsed, by_class, starts, folder=folder)
            assert np.all(bound >= np.concatenate(scores) * (1 - 1e-9)), phrase


def test_the_bound_of_a_phrase_that_compares_nothing_is_its_score():
    """Where nothing is compared with other regions, the bound is the score itself, so a search
    scores no image that cannot enter its results: a noun no class names, and a learned concept
    that judged the phrase's colour word (the colour module then judges nothing, and must not be
    counted as lost for the other regions)."""
    from grounding_desktop.grounding.scoring.scorer import SubjectEvidence

    scorer = PhraseScorer(TablePrototypes())
    rng = np.random.default_rng(7)
    for _ in range(20):
        scene = _random_scene(rng)
        concept = SubjectEvidence(rng.uniform(0, 1, len(scene)), ["red gizmo"] * len(scene),
                                  source="concept", judged_attributes=True)
        for phrase, sources in (("the gizmo", ()), ("the red gizmo", (concept,)), ("the gizmo", (concept,))):
            parsed = parse_phrase(phrase)
            scores = scorer.score(scene, parsed, sources=sources).scores
            detector_p = scorer.subject_p(scene, parsed.subject, named=False)[0]
            bound = scorer.upper_bound(scene, parsed, detector_p, np.array([0]), sources)
            assert bound == pytest.approx(scores, rel=1e-9, abs=1e-12), phrase


# ------------------------------------------------------------------------------ the real model

def proposing_on_every_image(grounder, paths, records, phrase: str, top: int) -> list:
    """The ``top`` (key, best proposal) of scoring every image's kept record as a folder's pictures
    are scored, best first (ties in the order given): what a search must answer."""
    every = []
    for p, f in zip(paths, records):
        found = grounder.propose_prepared(grounder.prepared_from(str(p), f), phrase, top_k=1, folder=True)
        if found:
            every.append((-found[0].score, len(every), str(p), found[0]))
    every.sort(key=lambda row: row[:2])
    return [(key, proposal) for _, _, key, proposal in every[:top]]


class CountingGrounder:
    """The model, counting the images it scores exactly (``propose_prepared``)."""

    def __init__(self, grounder) -> None:
        self.grounder = grounder
        self.scored = 0

    def __getattr__(self, name: str):
        return getattr(self.grounder, name)

    def propose_prepared(self, *args, **kwargs):
        self.scored += 1
        return self.grounder.propose_prepared(*args, **kwargs)


@pytest.fixture(scope="module")
def grounder():
    from grounding_desktop.grounder_factory import make_grounder

    return make_grounder("cpu", cache_size=4)


def _scenes(folder):
    """Six small pictures: the cat photo twice (once small in a corner), the coffee cup, and
    three without either (the rocket, noise, a blank wall)."""
    folder.mkdir()
    with Image.open(SAMPLES / "chelsea.jpg") as im:
        cat = im.convert("RGB")
    with Image.open(SAMPLES / "coffee.jpg") as im:
        cup = im.convert("RGB")
    cat.resize((320, 240)).save(folder / "cat.jpg")
    corner = Image.new("RGB", (320, 240), (90, 120, 90))
    corner.paste(cat.resize((160, 120)), (150, 110))
    corner.save(folder / "cat_small.jpg")
    cup.resize((300, 200)).save(folder / "cup.jpg")
    with Image.open(SAMPLES / "rocket.jpg") as im:
        im.convert("RGB").resize((200, 300)).save(folder / "rocket.jpg")
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (180, 240, 3), dtype=np.uint8)).save(folder / "noise.png")
    Image.new("RGB", (240, 180), (200, 200, 190)).save(folder / "wall.png")
    return sorted(folder.iterdir())


@pytest.mark.model
def test_search_ranks_images_with_the_thing_first_and_equals_scoring_every_image(grounder, tmp_path):
    from grounding_desktop.grounding.features import ImageFeatures
    from grounding_desktop.grounding.image_search import ImageIndex

    paths = _scenes(tmp_path / "photos")
    records = grounder.compute_features([str(p) for p in paths])
    index = ImageIndex(grounder)
    for p, f in zip(paths, records):
        index.add(str(p), ImageFeatures.from_bytes(f.to_bytes()))

    cats = [m.key.rsplit("/", 1)[-1] for m in index.search("the cat", top=6)]
    assert set(cats[:2]) == {"cat.jpg", "cat_small.jpg"}
    assert index.search("the cup", top=1)[0].key.endswith("cup.jpg")

    for phrase in ("the cat", "the black cat on the right", "the cup", "the cats", "a thing on the left"):
        got = [(m.key, m.proposal) for m in index.search(phrase, top=3)]
        assert got == proposing_on_every_image(grounder, paths, records, phrase, top=3), phrase

    # Images added between searches (a feature pass going on), into a table of small parts: the
    # same answers as the index built at once.
    growing = ImageIndex(grounder, part_regions=150)
    for n, (p, f) in enumerate(zip(paths, records), 1):
        growing.add(str(p), f)
        at_once = ImageIndex(grounder)
        for q, g in zip(paths[:n], records[:n]):
            at_once.add(str(q), g)
        for phrase in ("the cat", "the black cat on the right", "the cups"):
            assert growing.search(phrase, top=3) == at_once.search(phrase, top=3), phrase

    # An image prepared now and one prepared from its kept features propose alike.
    fresh = grounder.propose(str(paths[0]), "the cat", top_k=3)
    grounder.forget()
    kept = grounder.prepared_from(str(paths[0]), ImageFeatures.from_bytes(records[0].to_bytes()))
    assert grounder.propose_prepared(kept, "the cat", top_k=3) == fresh



@pytest.mark.model
def test_search_of_a_learned_concept_over_prepared_features_needs_no_pixels(grounder, tmp_path):
    """Three gizmos taught; the feature pass's records of other pictures, whose files are gone,
    are searched: the head judges the region embeddings the records kept, and the picture with
    a gizmo comes first, found where it is."""
    from grounding_desktop.core.geometry import iou_xywh
    from grounding_desktop.grounding.scoring.concepts import LabelledBox
    from grounding_desktop.grounding.features import ImageFeatures
    from grounding_desktop.grounding.image_search import ImageIndex
    from support import make_gizmo_photos

    gizmos = make_gizmo_photos(tmp_path / "gizmos", 4)
    others = _scenes(tmp_path / "photos")[:3]
    query, truth = gizmos[3]
    paths = [query] + others
    records = [ImageFeatures.from_bytes(f.to_bytes()) for f in grounder.compute_features([str(p) for p in paths])]
    assert all(len(f.embedded) for f in records)
    for p in paths:
        p.unlink()  # no pixels to read: a search that needed them would skip the image
    grounder.concepts.clear()
    try:
        for i, (path, box) in enumerate(gizmos[:3]):
            grounder.learn(str(path), [LabelledBox(i + 1, "the gizmo", box, accepted=True)])
        index = ImageIndex(grounder)
        for p, f in zip(paths, records):
            index.add(str(p), f)
        found = index.search("the gizmo", top=4)
        assert found[0].key == str(query)
        assert iou_xywh(found[0].proposal.bbox, truth) >= 0.5
        assert found[0].proposal.modules["evidence"] == "concept"
        # The head's one pass over every kept embedding ranks as proposing on each image does.
        for phrase in ("the gizmo", "the gizmo on the left", "the gizmos"):
            assert [(m.key, m.proposal) for m in index.search(phrase, top=3)] == \
                proposing_on_every_image(grounder, paths, records, phrase, top=3), phrase
        # Ten copies of the gizmo picture tie: the first three added are the answer, and no other
        # copy is scored (a tie goes to the image added first), nor any picture without a gizmo.
        counting = CountingGrounder(grounder)
        copies = ImageIndex(counting)
        keys = [f"copy{k}" for k in range(10)] + [str(p) for p in paths[1:]]
        for key, f in zip(keys, [records[0]] * 10 + records[1:]):
            copies.add(key, f)
        assert [m.key for m in copies.search("the gizmo", top=3)] == keys[:3]
        assert counting.scored == 3
    finally:
        grounder.concepts.clear()


@pytest.mark.model
def test_search_for_an_imagenet_noun_over_prepared_features_needs_no_pixels(grounder, tmp_path):
    """The feature pass keeps the ImageNet kinds of each image's classified crops: a noun ImageNet
    knows is searched over records whose files are gone, and answers what proposing on every
    image does."""
    from grounding_desktop.grounding.features import ImageFeatures
    from grounding_desktop.grounding.image_search import ImageIndex

    paths = _scenes(tmp_path / "photos")
    records = [ImageFeatures.from_bytes(f.to_bytes()) for f in grounder.compute_features([str(p) for p in paths])]
    assert all(f.kept_kinds() is not None for f in records if len(f))
    assert grounder.bounded_subject("the espresso")[2] is not None  # ImageNet adds to the noun
    fresh = grounder.propose_prepared(grounder.prepared(grounder.prepare(str(paths[2]))), "the espresso",
                                      top_k=3, folder=True)  # as search scores a folder's pictures
    for p in paths:
        p.unlink()  # no pixels to read: a search that needed them would skip the image
    grounder.forget()
    index = ImageIndex(grounder)
    for p, f in zip(paths, records):
        index.add(str(p), f)
    found = index.search("the espresso", top=3)
    assert found[0].key.endswith("cup.jpg") and found[0].proposal.modules["evidence"] == "imagenet"
    assert found[0].proposal == fresh[0]  # the kept kinds score as the image classified now
    for phrase in ("the espresso", "the espresso on the left", "the espressos", "the tabby", "the missile"):
        assert [(m.key, m.proposal) for m in index.search(phrase, top=3)] == \
            proposing_on_every_image(grounder, paths, records, phrase, top=3), phrase
    # A picture with no region is not scored: it has nothing to propose.
    like = records[2]
    blank = ImageFeatures(like.width, like.height, like.frame_width, like.frame_height, np.zeros((0, 4), np.float32),
                          np.zeros(0, np.int16), *(np.zeros(0, np.float16),) * 3,
                          np.zeros((0, like.class_scores.shape[1]), np.float16),
                          np.zeros((0, like.colour_frac.shape[1]), np.float16))
    counting = CountingGrounder(grounder)
    with_blank = ImageIndex(counting)
    for key, f in (("blank", blank), (str(paths[2]), like)):
        with_blank.add(key, f)
    assert [m.key for m in with_blank.search("the espresso", top=2)] == [str(paths[2])]
    assert counting.scored == 1
    # A record made before the pass kept kinds is scored on its pixels: here gone, so it is skipped.
    old = ImageIndex(grounder)
    old.add(str(paths[2]), ImageFeatures.from_scene(records[2].scene(), (records[2].width, records[2].height)))
    assert old.bounds("the espresso")[0] == np.inf and old.search("the espresso") == []


def _made_up_record(rng, like, regions: int):
    """A record of a made-up picture of ``like``'s sizes: random boxes, scores and colours kept as
    the feature pass keeps them (float16, so many near ties), random kept embeddings and ImageNet
    kinds."""
    from grounding_desktop.grounding.features import ImageFeatures
    from grounding_desktop.grounding.recognition import imagenet

    w, h = like.frame_width, like.frame_height
    corners = rng.uniform(0, 1, (regions, 2, 2)) * [w, h]
    boxes = np.concatenate([corners.min(1), corners.max(1) + 4], 1).astype(np.float32)
    classes = rng.random((regions, like.class_scores.shape[1])) ** 6
    record = ImageFeatures(
        width=like.width, height=like.height, frame_width=w, frame_height=h, boxes=boxes,
        labels=classes.argmax(1).astype(np.int16), scores=classes.max(1).astype(np.float16),
        objectness=rng.random(regions).astype(np.float16), lightness=rng.random(regions).astype(np.float16),
        class_scores=classes.astype(np.float16),
        colour_frac=rng.dirichlet(np.ones(like.colour_frac.shape[1]), regions).astype(np.float16))
    vectors = rng.normal(size=(regions, like.embeddings.shape[1]))
    crops = np.argsort(-record.objectness.astype(np.float64), kind="stable")[:12]
    kinds = imagenet.kept(rng.dirichlet(np.full(1000, 0.02), len(crops)))
    return record.with_embeddings(np.arange(regions), vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) \
        .with_kinds(crops, *kinds)


@pytest.mark.model
def test_search_over_many_records_answers_what_proposing_on_every_image_does(grounder, tmp_path):
    """The bound is computed over a folder's table, the exact score over one image's record: on
    150 made-up records (float16 values, many near ties), every phrase, a learned concept's and an
    ImageNet noun's too, ranks as proposing on every image does."""
    from grounding_desktop.grounding.image_search import ImageIndex
    from grounding_desktop.grounding.scoring.concepts import LabelledBox
    from support import make_gizmo_photos

    gizmos = make_gizmo_photos(tmp_path / "gizmos", 3)
    like, = grounder.compute_features([str(gizmos[0][0])])
    rng = np.random.default_rng(11)
    records = [_made_up_record(rng, like, int(rng.integers(1, 40))) for _ in range(150)]
    keys = [f"made-up-{i}" for i in range(len(records))]
    grounder.concepts.clear()
    try:
        for i, (path, box) in enumerate(gizmos):
            grounder.learn(str(path), [LabelledBox(i + 1, "the red gizmo", box, accepted=True),
                                       LabelledBox(i + 10, "the widget", box, accepted=True)])
        concept, kinds = grounder.bounded_subject("the widget")[1:]
        assert concept is not None and kinds is not None  # a learned concept and ImageNet both add evidence
        index = ImageIndex(grounder, part_regions=1000)
        for key, f in zip(keys, records):
            index.add(key, f)
        for phrase in ("the dog", "the red dog on the left", "the dark cup", "the bigger cat", "the man on the horse",
                       "a thing at the top", "the red gizmo", "the gizmo on the right", "the white gizmo",
                       "the squirrel", "the red espresso on the left", "the biggest tabby", "the widget",
                       "the widgets on the right"):
            assert [(m.key, m.proposal) for m in index.search(phrase, top=5)] == \
                proposing_on_every_image(grounder, keys, records, phrase, top=5), phrase
            # Not only the ranking: no image's best score, unrounded, is above its bound.
            parsed = parse_phrase(phrase)
            bounds = index.bounds(phrase)
            for key, f, bound in zip(keys, records, bounds):
                result = grounder.scored(grounder.prepared_from(key, f), parsed, folder=True)[1]
                best = result.scores[result.evidence > 0].max(initial=0.0)
                assert bound >= best - 1e-12, (phrase, key, bound, best)
    finally:
        grounder.concepts.clear()


@pytest.mark.model
def test_kept_features_are_stale_when_the_second_cnns_recipes_change(grounder):
    """A record's region embeddings and crops' kinds are the second CNN's: the version kept
    features are filed under names its recipes, so embeddings or kinds made otherwise are prepared
    again, not judged as if they were this version's."""
    from grounding_desktop.grounding.recognition.imagenet import KEPT_KINDS
    from grounding_desktop.grounding.recognition.recognizer import embedding_model
    from grounding_desktop.grounding.scoring.region_evidence import MAX_CROPS

    assert f"+emb{embedding_model()}+" in grounder.features_version
    assert grounder.features_version.endswith(f"+crops{MAX_CROPS}x{KEPT_KINDS}")
