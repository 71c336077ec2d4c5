"""Proposals stored on many images at once: what ``store.proposals.add`` never touches or
doubles, the one-step undo of ``editing.edits.ProposeBatch``, and review by doubt."""
from __future__ import annotations

import pytest

from grounding_desktop.core import Box, BoxSource, BoxState, ImageState, Proposal, ScanEntry
from grounding_desktop.editing.edits import ProposeBatch
from grounding_desktop.store import ProjectStore


@pytest.fixture
def store(tmp_path):
    s = ProjectStore(tmp_path / "p.sqlite", root=tmp_path)
    s.images.apply_scan([ScanEntry(name, 10, 1.0, 200, 100, f"h-{name}") for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg")])
    yield s
    s.close()


def _id(store, path):
    return store.images.by_path()[path].id


def _box(bbox, state=BoxState.ACCEPTED, source=BoxSource.MANUAL, score=None):
    return Box(0, 0, bbox, state, source, score)


def _proposal(bbox, score):
    return Proposal(bbox=bbox, score=score, label="dog", explanation=f"dog {score:.2f}", model_version="m1")


def _snapshot(store):
    """Everything a user could see of the labels: phrases, boxes (with ids) and image states."""
    labels = {i: [(e.id, e.text, tuple(b for b in bs)) for e, bs in ann]
              for i, ann in store.labels.all_annotations().items()}
    return labels, {r.path: r.state for r in store.images.all()}


@pytest.fixture
def labelled(store):
    """a.jpg: "the dog" with an accepted manual box, a rejected model box and a proposal;
    b.jpg: "The  Dog" (same phrase key) with an accepted model+edited box; b.jpg reviewed;
    d.jpg: "the dog" not in the image."""
    a, b, d = _id(store, "a.jpg"), _id(store, "b.jpg"), _id(store, "d.jpg")
    store.labels.add_expression(a, "the dog", [
        _box((10, 10, 50, 40)),
        _box((100, 10, 50, 40), BoxState.REJECTED, BoxSource.MODEL, 0.7),
        _box((10, 60, 30, 30), BoxState.PROPOSED, BoxSource.MODEL, 0.4)])
    store.labels.add_expression(b, "The  Dog", [_box((5, 5, 20, 20), source=BoxSource.MODEL_EDITED, score=0.9)])
    store.images.set_state(b, ImageState.REVIEWED)
    store.labels.add_expression(d, "the dog", no_target=True)
    return store


def test_proposals_never_touch_labels_nor_repeat_a_box_the_phrase_has(labelled):
    store = labelled
    a, b, c, d = (_id(store, p) for p in ("a.jpg", "b.jpg", "c.jpg", "d.jpg"))
    before = {bx.id: bx for _, bs in store.labels.all_annotations()[a] + store.labels.all_annotations()[b] for bx in bs}
    no_target = store.labels.annotations(d)
    items = [
        (a, "the dog", [_box((11, 10, 50, 40), BoxState.PROPOSED, BoxSource.MODEL, 0.9),    # the accepted box
                        _box((101, 11, 50, 40), BoxState.PROPOSED, BoxSource.MODEL, 0.8),   # the rejected one
                        _box((10, 60, 30, 30), BoxState.PROPOSED, BoxSource.MODEL, 0.4),    # the proposal
                        _box((150, 50, 40, 40), BoxState.PROPOSED, BoxSource.MODEL, 0.6)]),  # new
        (b, "the dog", [_box((120, 50, 40, 40), BoxState.PROPOSED, BoxSource.MODEL, 0.5)]),  # joins "The  Dog"
        (c, "the cat", [_box((1, 1, 9, 9), BoxState.ACCEPTED, BoxSource.MANUAL, 0.3)]),       # stored as a proposal
        (d, "The dog", [_box((1, 1, 9, 9), BoxState.PROPOSED, BoxSource.MODEL, 0.9)]),        # the user said: not here
    ]
    batch = store.proposals.add(items)
    assert batch.box_count == 3 and batch.image_ids == (a, b, c)
    after = {bx.id: bx for _, bs in store.labels.all_annotations()[a] + store.labels.all_annotations()[b] for bx in bs}
    assert all(after[i] == bx for i, bx in before.items())  # nothing that was there changed
    new = [bx for i, bx in after.items() if i not in before]
    assert sorted(bx.bbox for bx in new) == [(120.0, 50.0, 40.0, 40.0), (150.0, 50.0, 40.0, 40.0)]
    assert len(store.labels.expressions(b)) == 1  # joined the phrase of the same key
    (cat, (cat_box,)), = store.labels.annotations(c)
    assert (cat.text, cat_box.state, cat_box.source) == ("the cat", BoxState.PROPOSED, BoxSource.MODEL)
    assert store.images.get(c).state == ImageState.IN_PROGRESS and store.images.get(b).state == ImageState.REVIEWED
    assert store.labels.annotations(d) == no_target

    snapshot = _snapshot(store)
    again = store.proposals.add(items)  # proposing again adds nothing
    assert again.box_count == 0 and again.image_ids == () and _snapshot(store) == snapshot


def test_one_undo_removes_exactly_what_a_batch_added_and_redo_puts_back_the_same_rows(labelled):
    store = labelled
    a, c, d = _id(store, "a.jpg"), _id(store, "c.jpg"), _id(store, "d.jpg")
    before = _snapshot(store)
    edit = ProposeBatch([(a, "the dog", [_proposal((150, 50, 40, 40), 0.6), _proposal((11, 10, 50, 40), 0.9)]),
                         (c, "the dog", [_proposal((20, 20, 60, 40), 0.8)]),
                         (c, "the horses", [_proposal((0, 0, 50, 50), 0.5), _proposal((60, 0, 50, 50), 0.45)]),
                         (d, "the dog", [])])
    assert edit.history_text == "Propose “the dog”, “the horses” · 3 images"
    edit.do(store)
    done = _snapshot(store)
    assert done != before and edit.image_ids == (a, c)
    (box,) = [bx for e, bs in store.labels.annotations(c) if e.text == "the dog" for bx in bs]
    assert (box.state, box.score, box.model_version, box.explanation) == (BoxState.PROPOSED, 0.8, "m1", "dog 0.80")
    edit.undo(store)
    assert _snapshot(store) == before
    edit.do(store)  # redo
    assert _snapshot(store) == done
    edit.undo(store)
    assert _snapshot(store) == before


def test_review_by_doubt_lists_images_with_proposals_least_sure_first(store):
    a, b, c, d = (_id(store, p) for p in ("a.jpg", "b.jpg", "c.jpg", "d.jpg"))
    def proposed(score, x=0, y=0):
        return _box((x, y, 10, 10), BoxState.PROPOSED, BoxSource.MODEL, score)

    store.proposals.add([
        (a, "the dog", [proposed(0.9), proposed(0.2, x=50)]),  # its dog: best 0.9
        (a, "the cat", [proposed(0.7, y=50)]),                 # its cat: 0.7, the image's doubt
        (b, "the dog", [proposed(0.3)]),
        (c, "the dog", [proposed(0.95)]),
        (d, "the dog", [proposed(0.1)]),
    ])
    assert [(r.path, s) for r, s in store.proposals.images_by_doubt()] == [
        ("d.jpg", 0.1), ("b.jpg", 0.3), ("a.jpg", 0.7), ("c.jpg", 0.95)]
    # A reviewed image, and one whose proposals were all accepted, need no look.
    store.images.set_state(b, ImageState.REVIEWED)
    for _, boxes in store.labels.annotations(d):
        for bx in boxes:
            store.labels.update_box(bx.id, state=BoxState.ACCEPTED)
    assert [r.path for r, _ in store.proposals.images_by_doubt()] == ["a.jpg", "c.jpg"]
