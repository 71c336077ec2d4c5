"""The editing rules of the open image, driven through ``ImageDocument`` alone, without Qt: a real
store and the real undo stack (``editing.edit_stack.EditStack``), answers from the model made up by
the test."""
from __future__ import annotations

import pytest

from grounding_desktop.core import BoxSource, BoxState, ImageState, PhraseStatus, Proposal, phrase_status
from grounding_desktop.editing.document import ImageDocument
from grounding_desktop.editing.edit_stack import EditStack
from grounding_desktop.editing.state import Answer, ModelState, SelectionKind, Tone
from grounding_desktop.project import open_project
from grounding_desktop.store import ProjectStore
from support import make_image

W, H = 200, 100
BOXES = ((10, 10, 50, 40), (100, 20, 60, 60), (70, 5, 20, 20))
SCORES = (0.9, 0.6, 0.3)


@pytest.fixture
def opened(tmp_path):
    """A document on a.png of a three-image project, with its undo stack (``EditStack``: the one
    the window's ``QUndoStack`` mirrors)."""
    for name in ("a.png", "b.png", "c.png"):
        make_image(tmp_path / name, size=(W, H))
    store, _ = open_project(tmp_path)
    doc = ImageDocument()
    stack = EditStack(doc.apply)
    doc.open_project(store, stack)
    doc.query.set_model_state(ModelState.READY)
    doc.open_image(store.images.by_path()["a.png"])
    yield doc, stack
    doc.close_project()


@pytest.fixture
def doc(opened) -> ImageDocument:
    return opened[0]


@pytest.fixture
def stack(opened) -> EditStack:
    return opened[1]


class Recorder:
    """Counts the document's signals: which views would redraw, and how often."""

    SIGNALS = {"annotations_changed": "labels", "proposals_changed": "query", "highlight_changed": "query",
               "selection_changed": "labels"}  # each by the part that holds it

    def __init__(self, doc: ImageDocument):
        self.counts = dict.fromkeys(self.SIGNALS, 0)
        self.info: list[tuple[str, Tone]] = []
        self.notices: list[str] = []
        for name, part in self.SIGNALS.items():
            getattr(getattr(doc, part), name).connect(lambda name=name: self.counts.__setitem__(name, self.counts[name] + 1))
        doc.query.info.connect(lambda text, tone: self.info.append((text, tone)))
        doc.labels.notice.connect(self.notices.append)


def answer(doc: ImageDocument, scores=SCORES) -> list[Proposal]:
    """The model answers the query typed now."""
    props = [Proposal(bbox=tuple(map(float, b)), score=s, label="thing", explanation=f"rank {i}", model_version="m1")
             for i, (b, s) in enumerate(zip(BOXES, scores))]
    doc.take_answer(Answer(doc.query.request, tuple(props), 3.0))
    return props


def typed(doc: ImageDocument, text: str, scores=SCORES) -> list[Proposal]:
    doc.query.set_text(text)
    return answer(doc, scores)


def stored(doc: ImageDocument):
    return [(e.text, [(b.bbox, b.state) for b in bs]) for e, bs in doc.labels.store.labels.annotations(doc.labels.image.id)]


def test_enter_accepts_the_highlighted_proposal_selects_it_and_clears_the_phrase(doc, stack):
    props = typed(doc, "the thing")
    phrases = []
    doc.query.phrase_set.connect(phrases.append)
    doc.query.move_highlight(1)
    doc.accept()
    assert stored(doc) == [("the thing", [(props[1].bbox, BoxState.ACCEPTED)])]
    box = doc.labels.annotations[0].boxes[0]
    assert (box.source, box.score, box.model_version, box.explanation) == (BoxSource.MODEL, 0.6, "m1", "rank 1")
    assert doc.labels.selection.kind == SelectionKind.BOX and doc.labels.selection.id == box.id
    assert phrases == [""] and doc.query.phrase is None and doc.query.proposals == ()
    assert doc.labels.image.state == ImageState.IN_PROGRESS
    assert stack.text(0) == "Accept “the thing” (0.60) · a.png"  # the history says which image


def test_undo_and_redo_bring_back_the_same_ids(doc, stack):
    typed(doc, "the thing")
    doc.accept()
    before = doc.labels.store.labels.annotations(doc.labels.image.id)
    stack.undo()
    assert stored(doc) == [] and doc.labels.annotations == () and doc.labels.selection is None
    stack.redo()
    assert doc.labels.store.labels.annotations(doc.labels.image.id) == before


def test_enter_before_the_answer_accepts_when_it_arrives_and_stale_answers_are_dropped(doc):
    doc.query.set_text("the cat")
    stale = doc.query.request
    doc.query.set_text("the dog")
    assert doc.query.waiting and not doc.query.up_to_date
    doc.accept()
    assert stored(doc) == []  # nothing to accept yet
    doc.take_answer(Answer(stale, (Proposal((1.0, 1.0, 5.0, 5.0), 0.99),)))  # for the phrase typed before
    assert stored(doc) == [] and doc.query.proposals == ()
    props = answer(doc)
    assert stored(doc) == [("the dog", [(props[0].bbox, BoxState.ACCEPTED)])]


def test_what_cannot_produce_proposals_is_not_waiting(doc):
    doc.query.set_text("x" * 10_000)
    assert doc.query.request is None and not doc.query.waiting
    doc.query.set_text("the cat")
    assert doc.query.waiting
    doc.query.set_model_state(ModelState.FAILED)
    assert not doc.query.waiting
    doc.query.set_model_state(ModelState.READY)
    doc.take_answer(Answer(doc.query.request, error="out of memory"))
    assert not doc.query.waiting and not doc.query.up_to_date


def test_accept_all_takes_every_proposal_at_or_above_the_threshold(doc, stack):
    rec = Recorder(doc)
    typed(doc, "the things")
    assert doc.query.plural
    doc.labels.set_threshold(0.95)
    doc.accept_all()
    assert stored(doc) == [] and rec.info[-1][1] == Tone.ERROR
    doc.labels.set_threshold(0.5)
    doc.accept_all()
    (text, boxes), = stored(doc)
    assert text == "the things" and [b for b, _ in boxes] == [tuple(map(float, b)) for b in BOXES[:2]]
    assert stack.text(0) == "Accept 2 × “the things” · a.png"


def test_a_plural_phrase_stays_for_the_next_box_with_the_stored_one_hidden(doc):
    props = typed(doc, "the things")
    phrases = []
    doc.query.phrase_set.connect(phrases.append)
    doc.accept()
    assert phrases == ["the things"] and doc.query.phrase == "the things"
    assert doc.query.proposals == tuple(props[1:]) and doc.query.highlight == 0
    doc.accept()
    assert [len(bs) for _, bs in stored(doc)] == [2]


def test_no_target_is_refused_for_a_phrase_already_stored_whatever_its_case_and_spacing(doc):
    rec = Recorder(doc)
    typed(doc, "the cat")
    doc.accept()
    doc.query.set_text("The   Cat")
    doc.accept_no_target()
    assert len(stored(doc)) == 1 and rec.info[-1] == ("“The Cat” is already stored for this image.", Tone.ERROR)
    doc.query.set_text("a unicorn")
    doc.accept_no_target()
    assert stored(doc)[1] == ("a unicorn", [])
    assert doc.labels.selection.kind == SelectionKind.PHRASE


def test_a_phrase_typed_in_another_case_joins_the_stored_one(doc):
    typed(doc, "the thing")
    doc.accept()
    props = typed(doc, "The Thing")
    doc.accept()
    assert stored(doc) == [("the thing", [(props[0].bbox, BoxState.ACCEPTED), (props[1].bbox, BoxState.ACCEPTED)])]


def test_reject_stores_a_negative_and_hides_it_until_undone(doc, stack):
    props = typed(doc, "the thing")
    doc.reject()
    assert stored(doc) == [("the thing", [(props[0].bbox, BoxState.REJECTED)])]
    assert doc.query.proposals == tuple(props[1:])
    stack.undo()
    assert doc.query.proposals == tuple(props)


def test_draw_names_the_box_by_the_typed_phrase_or_asks_never_by_the_selection(doc):
    doc.query.set_text("the corner")
    assert doc.draw_box((150, 80, 100, 100))  # sticks out: cut to the image
    (text, [(bbox, state)]), = stored(doc)
    assert text == "the corner" and bbox == (150, 80, 50, 20) and state == BoxState.ACCEPTED
    doc.query.clear()
    assert doc.labels.selected_box is not None  # the new box
    assert not doc.draw_box((0, 0, 10, 10))  # the selected box's phrase does not name it: the caller asks
    assert [len(bs) for _, bs in stored(doc)] == [1]
    assert doc.draw_box((20, 20, 10, 10), "  ")  # refused, with a reason
    assert doc.draw_box((20, 20, 10, 10), "a  square")
    assert doc.draw_box((0, 0, 10, 10), "The Corner")  # the user's choice: the phrase already there
    assert [(t, len(bs)) for t, bs in stored(doc)] == [("the corner", 2), ("a square", 1)]


def test_moving_keeps_a_box_inside_and_nudges_merge_into_one_undo_step(doc, stack):
    typed(doc, "the thing")
    doc.accept()
    box = doc.labels.selected_box
    doc.labels.move_box(box.id, (180, 90, 50, 40))
    assert doc.labels.store.labels.box(box.id).bbox == (150, 60, 50, 40)
    assert doc.labels.store.labels.box(box.id).source == BoxSource.MODEL_EDITED
    for _ in range(3):
        doc.labels.nudge(1, 0)  # already at the right edge: nothing happens
    doc.labels.nudge(-1, 0)
    doc.labels.nudge(0, -1, big=True)
    assert doc.labels.store.labels.box(box.id).bbox == (149, 50, 50, 40)
    assert [stack.text(i) for i in range(stack.count())] == [
        "Accept “the thing” (0.90) · a.png", "Move box of “the thing” · a.png", "Nudge box · a.png"]
    stack.undo()
    assert doc.labels.store.labels.box(box.id).bbox == (150, 60, 50, 40)


def test_delete_takes_a_box_or_the_phrase_and_its_only_box_in_one_step(doc, stack):
    rec = Recorder(doc)
    doc.labels.delete_selected()
    assert rec.notices == ["Select a box or a phrase to delete"]
    typed(doc, "the things")
    doc.accept_all()
    first, second = doc.labels.annotations[0].boxes
    doc.labels.select_box(second.id)
    doc.labels.delete_selected()
    assert [len(bs) for _, bs in stored(doc)] == [1]
    assert doc.labels.selected_box.id == first.id  # the last box went: the one before it, never the phrase
    doc.labels.delete_selected()
    assert stored(doc) == [] and doc.labels.selection is None
    stack.undo()
    assert [len(bs) for _, bs in stored(doc)] == [1]


def test_after_delete_the_next_box_of_the_phrase_is_selected_and_a_rejected_box_only_after_one(doc):
    doc.query.set_text("the things")
    props = answer(doc)
    doc.reject()  # BOXES[0], rejected
    doc.labels.set_threshold(0.2)
    doc.accept_all()  # BOXES[1] and BOXES[2]
    rejected, second, third = doc.labels.annotations[0].boxes
    assert rejected.state == BoxState.REJECTED and rejected.bbox == props[0].bbox
    doc.labels.select_box(second.id)
    doc.labels.delete_selected()
    assert doc.labels.selected_box.id == third.id  # the next drawn box, not the rejected one before it
    doc.labels.delete_selected()
    assert doc.labels.selection is None  # no drawn box left: nothing (the rejected one is not next)
    assert [state for _, bs in stored(doc) for _, state in bs] == [BoxState.REJECTED]


def test_rename_refuses_an_empty_phrase_and_undoes(doc, stack):
    rec = Recorder(doc)
    typed(doc, "the thing")
    doc.accept()
    expr = doc.labels.selected_expression
    doc.labels.rename(expr.id, " ?! ")
    assert rec.notices == ["Phrase refused: the phrase has no letters or digits"]
    doc.labels.rename(expr.id, "the  other thing")
    assert stored(doc)[0][0] == "the other thing"
    stack.undo()
    assert stored(doc)[0][0] == "the thing"


def test_review_and_next_marks_reviewed_and_skips_done_and_unreadable_images(doc, stack):
    store = doc.labels.store
    a, b, c = (store.images.by_path()[n] for n in ("a.png", "b.png", "c.png"))
    store.images.set_error(b.id, "truncated")
    after = [store.images.get(b.id), store.images.get(c.id), a]
    assert doc.labels.review_and_next(after) == c.id
    assert store.images.get(a.id).state == ImageState.REVIEWED
    doc.open_image(store.images.get(c.id))
    rec = Recorder(doc)
    assert doc.labels.review_and_next([store.images.get(a.id), store.images.get(b.id)]) is None
    assert rec.notices == ["Every image in the list is reviewed."]
    assert stack.text(stack.count() - 1) == "Mark reviewed · c.png"


def test_tab_only_moves_the_highlight(doc):
    typed(doc, "the thing")
    rec = Recorder(doc)
    doc.query.move_highlight(1)
    doc.query.move_highlight(-2)
    assert doc.query.highlight == 2
    assert rec.counts == {"annotations_changed": 0, "proposals_changed": 0, "highlight_changed": 2,
                          "selection_changed": 0}


def test_one_enter_redraws_each_view_once(doc):
    typed(doc, "the thing")
    rec = Recorder(doc)
    doc.accept()
    assert rec.counts == {"annotations_changed": 1, "proposals_changed": 1, "highlight_changed": 0,
                          "selection_changed": 1}


def test_undo_of_an_edit_on_another_image_says_which(doc, stack):
    typed(doc, "the thing")
    doc.accept()
    first = doc.labels.image.id
    doc.open_image(doc.labels.store.images.by_path()["b.png"])
    shown = []
    doc.labels.other_image_edited.connect(shown.append)
    stack.undo()
    assert shown == [first] and doc.labels.store.labels.annotations(first) == []


def test_a_failed_edit_is_reported_and_not_kept(doc, stack):
    errors = []
    doc.labels.error.connect(errors.append)
    typed(doc, "the thing")
    doc.accept()
    doc.labels.store.labels.delete_expression(doc.labels.annotations[0].expression.id)  # another process deletes the phrase
    stack.undo()  # Ctrl+Z: the accept's undo finds no phrase to delete
    assert len(errors) == 1 and "does not exist" in errors[0]
    assert stack.count() == 0  # dropped, not left pointing at nothing


def test_import_then_undo(doc, stack, tmp_path):
    """The issue's sequence: boxes 1 and 2, delete 2, import a file, Ctrl+Z. The import may not
    reuse box 2's id, and the undo stack may not run into rows that changed under it."""
    from grounding_desktop.io.coco_import import import_coco
    import json

    doc.query.set_text("the things")
    answer(doc)
    doc.accept_all()
    one, two = doc.labels.annotations[0].boxes
    doc.labels.select_box(two.id)
    doc.labels.delete_selected()
    coco = {"images": [{"id": 1, "file_name": "a.png", "width": W, "height": H}],
            "annotations": [{"id": 1, "image_id": 1, "bbox": [5, 5, 20, 20], "category_id": 1, "area": 400,
                             "iscrowd": 0}],
            "categories": [{"id": 1, "name": "the cup"}]}
    path = tmp_path / "in.json"
    path.write_text(json.dumps(coco))
    import_coco(doc.labels.store, path)
    imported = [b for e, bs in doc.labels.store.labels.annotations(doc.labels.image.id) if e.text == "the cup" for b in bs]
    assert imported and imported[0].id not in (one.id, two.id)  # ids are never reused
    rec = Recorder(doc)
    doc.changed_outside(True, "Imported")  # what the window does after an import
    assert rec.notices == ["Imported; the undo history was cleared (the edits stay saved)"]
    assert stack.count() == 0
    stack.undo()  # Ctrl+Z: nothing left to undo, nothing breaks
    assert {e.text: [b.id for b in bs] for e, bs in doc.labels.store.labels.annotations(doc.labels.image.id)} == {
        "the things": [one.id], "the cup": [imported[0].id]}
    assert [a.expression.text for a in doc.labels.annotations] == ["the things", "the cup"]


def test_a_new_answer_highlights_the_best_proposal_even_when_the_list_is_the_same(doc):
    props = typed(doc, "the thing")
    doc.query.move_highlight(2)
    doc.query.set_hint((5.0, 5.0))
    answer(doc)  # the same boxes, for the new hint
    assert doc.query.highlight == 0 and doc.query.current_proposal() == props[0]


def status(doc, text):
    a = doc.labels.annotation_of_phrase(text)
    return phrase_status(a.expression, a.boxes)


def test_reject_is_not_no_target_the_phrase_needs_a_box_until_drawn_or_said_absent(doc, stack):
    rec = Recorder(doc)
    props = typed(doc, "the giraffe lying in the bottom left")
    doc.reject()
    assert stored(doc) == [("the giraffe lying in the bottom left", [(props[0].bbox, BoxState.REJECTED)])]
    assert status(doc, "the giraffe lying in the bottom left") == PhraseStatus.NEEDS_BOX
    assert "still needs a box" in rec.info[-1][0]
    doc.accept_no_target()  # Shift+Enter: now the user says it is not there; the rejected box stays
    assert status(doc, "the giraffe lying in the bottom left") == PhraseStatus.NO_TARGET
    assert [len(bs) for _, bs in stored(doc)] == [1]
    assert stack.text(stack.count() - 1) == "Add “the giraffe lying in the bottom left” (not in image) · a.png"
    stack.undo()
    assert status(doc, "the giraffe lying in the bottom left") == PhraseStatus.NEEDS_BOX
    stack.redo()
    typed(doc, "the giraffe lying in the bottom left")
    doc.accept_no_target()  # said once already
    assert rec.info[-1] == ("“the giraffe lying in the bottom left” is already stored for this image.", Tone.ERROR)


def test_a_queued_enter_does_not_accept_a_weak_match(doc):
    rec = Recorder(doc)
    doc.query.set_text("the horse")
    doc.accept()  # before the answer: queued
    answer(doc, scores=(0.02, 0.01, 0.005))
    assert stored(doc) == []
    assert rec.info[-1][0].startswith("Nothing was accepted before you saw it (best 0.02")
    doc.accept()  # an Enter pressed after reading that accepts it, as always
    assert [(t, [s for _, s in bs]) for t, bs in stored(doc)] == [("the horse", [BoxState.ACCEPTED])]
    doc.query.set_text("the cup")
    doc.accept()
    answer(doc)  # a confident match: the queued Enter accepts it
    assert [t for t, _ in stored(doc)] == ["the horse", "the cup"]


def test_a_singular_phrase_refuses_a_proposal_on_its_own_box_and_says_when_it_gets_a_second(doc, stack):
    rec = Recorder(doc)
    typed(doc, "the cup")
    doc.accept()
    box = doc.labels.selected_box
    doc.labels.nudge(1, 0, big=True)  # corrected by hand: the proposal is no longer the same box...
    typed(doc, "the cup")
    assert doc.query.current_proposal().bbox == BOXES[0]  # ...so it is shown again
    doc.accept()
    assert [len(bs) for _, bs in stored(doc)] == [1] and rec.info[-1][1] == Tone.ERROR
    assert "already has this box" in rec.info[-1][0]
    doc.query.move_highlight(1)
    doc.accept()  # another place: stored, and said
    assert [len(bs) for _, bs in stored(doc)] == [2]
    assert rec.notices[-1].startswith("“the cup” now has 2 boxes")
    typed(doc, "the things")
    doc.accept()
    doc.accept()  # a plural phrase takes box after box without a word
    assert rec.notices[-1].startswith("“the cup” now has 2 boxes") and doc.labels.store.labels.box(box.id) is not None


def test_relabel_moves_one_box_to_a_new_or_existing_phrase_and_undo_puts_it_back(doc, stack):
    doc.query.set_text("the cup")
    assert doc.draw_box((10, 10, 30, 30))
    cup = doc.labels.selected_box
    doc.query.set_text("the cup")
    assert doc.draw_box((100, 20, 30, 30))  # the spoon, drawn while "the cup" was still typed
    spoon = doc.labels.selected_box
    doc.labels.relabel_box(spoon.id, "the spoon")
    assert stored(doc) == [("the cup", [(cup.bbox, BoxState.ACCEPTED)]),
                           ("the spoon", [(spoon.bbox, BoxState.ACCEPTED)])]
    assert doc.labels.store.labels.box(spoon.id) is not None and doc.labels.selected_box.id == spoon.id  # the same box
    assert stack.text(stack.count() - 1) == "Relabel box “the cup” → “the spoon” · a.png"
    stack.undo()
    assert stored(doc) == [("the cup", [(cup.bbox, BoxState.ACCEPTED), (spoon.bbox, BoxState.ACCEPTED)])]
    stack.redo()
    doc.labels.relabel_box(cup.id, "The Spoon")  # to an existing phrase: the emptied phrase goes with the move
    assert stored(doc) == [("the spoon", [(cup.bbox, BoxState.ACCEPTED), (spoon.bbox, BoxState.ACCEPTED)])]
    stack.undo()
    stack.undo()
    assert stored(doc) == [("the cup", [(cup.bbox, BoxState.ACCEPTED), (spoon.bbox, BoxState.ACCEPTED)])]
    doc.query.set_text("a fork")
    doc.draw_box((150, 50, 20, 20))
    fork = doc.labels.selected_box
    expr = doc.labels.selected_expression
    doc.labels.relabel_box(fork.id, "the knife")  # its phrase's only box: the phrase is renamed, ids kept
    assert doc.labels.store.labels.expression(expr.id).text == "the knife" and doc.labels.store.labels.box(fork.id).expression_id == expr.id


def test_editing_a_reviewed_image_sets_it_back_to_in_progress_in_the_same_undo_step(doc, stack):
    typed(doc, "the cup")
    doc.accept()
    doc.labels.review_and_next([])
    assert doc.labels.image.state == ImageState.REVIEWED
    n = stack.count()
    doc.labels.nudge(0, 1)
    assert doc.labels.image.state == ImageState.IN_PROGRESS and stack.count() == n + 1
    stack.undo()
    assert doc.labels.image.state == ImageState.REVIEWED and doc.labels.store.images.get(doc.labels.image.id).state == ImageState.REVIEWED
    doc.labels.select_box(doc.labels.annotations[0].boxes[0].id)
    doc.labels.delete_selected()  # the last phrase goes: nothing labelled, so new
    assert doc.labels.image.state == ImageState.NEW
    stack.undo()
    assert doc.labels.image.state == ImageState.REVIEWED


def _proposed(doc: ImageDocument, stack, image_name: str, phrase: str, scores) -> None:
    """Proposals stored on an image as propose for every image stores them (one step on the stack)."""
    from grounding_desktop.editing.edits import ProposeBatch

    image = doc.labels.store.images.by_path()[image_name]
    props = [Proposal(bbox=tuple(map(float, b)), score=s, label="thing", explanation="", model_version="m1")
             for b, s in zip(BOXES, scores)]
    stack.push(ProposeBatch([(image.id, phrase, props)]))


def test_space_accepts_the_proposals_at_or_above_the_threshold_and_marks_reviewed_in_one_step(doc, stack):
    _proposed(doc, stack, "a.png", "the thing", (0.9, 0.5, 0.3))
    n = stack.count()
    assert doc.labels.review_and_next([]) is None
    states = [b.state for b in doc.labels.annotations[0].boxes]
    assert states == [BoxState.ACCEPTED, BoxState.ACCEPTED, BoxState.PROPOSED]  # 0.3 < 0.5: still a proposal
    assert doc.labels.image.state == ImageState.REVIEWED and stack.count() == n + 1
    assert stack.text(stack.count() - 1) == "Mark reviewed, accept 2 proposals · a.png"
    stack.undo()
    assert [b.state for b in doc.labels.annotations[0].boxes] == [BoxState.PROPOSED] * 3
    assert doc.labels.image.state == ImageState.IN_PROGRESS


def test_enter_with_nothing_typed_accepts_the_selected_proposed_box(doc, stack):
    _proposed(doc, stack, "a.png", "the thing", (0.9, 0.3))
    weak = doc.labels.annotations[0].boxes[1]
    doc.labels.select_box(weak.id)
    assert doc.stored_proposal_selected
    doc.accept()
    assert [b.state for b in doc.labels.annotations[0].boxes] == [BoxState.PROPOSED, BoxState.ACCEPTED]
    assert stack.text(stack.count() - 1) == "Accept proposed box of “the thing” (0.30) · a.png"
    doc.query.set_text("another")  # with a phrase typed, Enter is about its proposals
    assert not doc.stored_proposal_selected


def test_a_run_of_proposals_over_many_images_is_one_step_that_reloads_the_open_image(doc, stack):
    from grounding_desktop.editing.edits import ProposeBatch

    a, b, c = (doc.labels.store.images.by_path()[n] for n in ("a.png", "b.png", "c.png"))
    reported, elsewhere = [], []
    doc.labels.records_changed.connect(lambda records: reported.append(sorted(r.id for r in records)))
    doc.labels.other_image_edited.connect(elsewhere.append)
    rec = Recorder(doc)
    p = Proposal(bbox=(10.0, 10.0, 50.0, 40.0), score=0.8, label="thing", explanation="", model_version="m1")
    run, n = object(), stack.count()
    stack.push(ProposeBatch([(a.id, "the thing", [p]), (b.id, "the thing", [p])], run=run))
    assert reported == [sorted((a.id, b.id))] and elsewhere == []
    assert rec.counts["annotations_changed"] == 1 and doc.labels.image.state == ImageState.IN_PROGRESS
    stack.push(ProposeBatch([(c.id, "the thing", [p])], run=run))  # the run's next batch joins the step
    stack.push(ProposeBatch([(c.id, "the thing", [p])], run=run))  # all there already: no step, no change
    assert stack.count() == n + 1 and stack.text(n) == "Propose “the thing” · 3 images"
    stack.undo()
    assert doc.labels.annotations == () and all(doc.labels.store.labels.annotations(i.id) == [] for i in (b, c))
    stack.redo()
    assert len(doc.labels.store.labels.annotations(c.id)) == 1 and doc.labels.annotations[0].boxes[0].state == BoxState.PROPOSED


def test_a_search_result_opened_highlights_its_box_when_the_answer_comes(doc):
    said = []
    doc.query.phrase_set.connect(said.append)
    doc.query.look_for("the thing", BOXES[2])
    assert said == ["the thing"] and doc.query.phrase == "the thing"
    answer(doc)
    assert doc.query.current_proposal().bbox == BOXES[2]
    typed(doc, "the thing!")  # what comes next highlights the best, as always
    assert doc.query.highlight == 0


def rows(doc: ImageDocument):
    """The image's phrase rows and box rows exactly as stored (ids, times, flags, spans)."""
    return [(e, bs) for e, bs in doc.labels.store.labels.annotations(doc.labels.image.id)]


def test_renaming_a_phrase_onto_another_phrases_text_merges_into_it_as_one_undo_step(doc, stack):
    rec = Recorder(doc)
    doc.query.set_text("the dog")
    doc.draw_box((10, 10, 30, 30))
    dog = doc.labels.selected_box
    doc.query.set_text("the tree")
    doc.draw_box((100, 20, 30, 30))
    tree = doc.labels.selected_box
    before, steps = rows(doc), stack.count()
    doc.labels.rename(doc.labels.selected_expression.id, "The  Dog")  # case and spacing ignored, as everywhere
    assert stored(doc) == [("the dog", [(dog.bbox, BoxState.ACCEPTED), (tree.bbox, BoxState.ACCEPTED)])]
    assert doc.labels.store.labels.box(tree.id).expression_id == dog.expression_id  # the same box, moved
    assert stack.count() == steps + 1 and stack.text(steps) == "Merge phrase “the tree” into “the dog” · a.png"
    assert rec.notices[-1].startswith("“the tree” merged into “the dog”")
    stack.undo()
    assert rows(doc) == before  # exactly: ids, text, times
    stack.redo()
    assert [t for t, _ in stored(doc)] == ["the dog"]


def test_renaming_a_not_in_image_phrase_onto_a_phrase_with_a_box_is_refused_with_the_reason(doc, stack):
    rec = Recorder(doc)
    doc.query.set_text("the dog")
    doc.draw_box((10, 10, 30, 30))
    doc.query.set_text("the cat")
    doc.accept_no_target()
    cat = doc.labels.annotation_of_phrase("the cat").expression
    before, steps = rows(doc), stack.count()
    doc.labels.rename(cat.id, "the DOG")
    assert rows(doc) == before and stack.count() == steps
    assert rec.notices[-1] == ("Not merged: “the dog” has a box here and “the cat” says it is not in the image; "
                               "delete the one that is wrong.")


def test_a_box_takes_back_not_in_image_and_deleting_it_brings_that_back(doc, stack):
    """Shift+Enter on "the cat", then F2 gives it a box of "the dog": the phrase is no longer "not
    in image" (same edit); Del on that box makes it "not in image" again; undo is exact."""
    doc.query.set_text("the cat")
    doc.accept_no_target()
    cat = doc.labels.annotation_of_phrase("the cat").expression
    doc.query.set_text("the dog")
    doc.draw_box((10, 10, 30, 30))
    box = doc.labels.selected_box
    before = rows(doc)
    doc.labels.relabel_box(box.id, "The cat")
    assert stored(doc) == [("the cat", [(box.bbox, BoxState.ACCEPTED)])]
    assert doc.labels.store.labels.expression(cat.id).no_target is False
    assert status(doc, "the cat") == PhraseStatus.LABELLED
    moved = rows(doc)
    doc.labels.select_box(box.id)
    doc.labels.delete_selected()  # the user's "not in image" answer comes back, not a deleted phrase
    assert stored(doc) == [("the cat", [])] and doc.labels.store.labels.expression(cat.id).no_target is True
    stack.undo()
    assert rows(doc) == moved
    stack.undo()
    assert rows(doc) == before


def test_the_answer_a_box_took_back_comes_back_with_its_last_box_after_the_project_is_reopened(doc, tmp_path):
    """Shift+Enter on "the cat", a box drawn for it (the answer taken back), the project closed and
    opened again: Del on that box makes the phrase "not in image" again (it is not deleted), and
    undo puts back the box and the phrase row exactly."""
    doc.query.set_text("the cat")
    doc.accept_no_target()
    doc.query.set_text("the cat")
    doc.draw_box((10, 10, 30, 30))
    drawn = rows(doc)
    [(cat, [box])] = drawn
    assert not cat.no_target
    doc.close_project()
    doc = ImageDocument()
    stack = EditStack(doc.apply)
    doc.open_project(ProjectStore.open_folder(tmp_path), stack)
    try:
        doc.open_image(doc.labels.store.images.by_path()["a.png"])
        doc.labels.select_box(box.id)
        doc.labels.delete_selected()
        assert [(e.id, e.no_target, bs) for e, bs in rows(doc)] == [(cat.id, True, [])]
        assert status(doc, "the cat") == PhraseStatus.NO_TARGET
        stack.undo()
        assert rows(doc) == drawn
        stack.redo()
        doc.query.set_text("the cat")
        doc.draw_box((10, 10, 30, 30))  # the same answer is taken back again, and comes back again
        doc.labels.delete_selected()
        assert [(e.id, e.no_target, bs) for e, bs in rows(doc)] == [(cat.id, True, [])]
    finally:
        doc.close_project()


def test_drawing_or_accepting_a_box_for_a_not_in_image_phrase_takes_the_answer_back_in_the_same_step(doc, stack):
    doc.query.set_text("the cat")
    doc.accept_no_target()
    before, steps = rows(doc), stack.count()
    doc.query.set_text("The Cat")
    doc.draw_box((10, 10, 30, 30))
    assert stack.count() == steps + 1
    [(expr, boxes)] = rows(doc)
    assert expr.no_target is False and len(boxes) == 1
    stack.undo()
    assert rows(doc) == before
    typed(doc, "the cat")
    doc.accept()
    assert [e.no_target for e, _ in rows(doc)] == [False]
    stack.undo()
    assert rows(doc) == before


def test_renaming_a_phrase_with_a_box_onto_a_not_in_image_phrase_merges_and_takes_the_answer_back(doc, stack):
    doc.query.set_text("the cat")
    doc.accept_no_target()
    cat = doc.labels.annotation_of_phrase("the cat").expression
    doc.query.set_text("the kitten")
    doc.draw_box((10, 10, 30, 30))
    before = rows(doc)
    doc.labels.rename(doc.labels.selected_expression.id, "The Cat")
    [(expr, boxes)] = rows(doc)
    assert expr.id == cat.id and not expr.no_target and len(boxes) == 1
    stack.undo()
    assert rows(doc) == before
    stack.redo()
    doc.labels.select_box(boxes[0].id)
    doc.labels.delete_selected()  # the answer the box took back comes back with its last box
    assert [(e.id, e.no_target, bs) for e, bs in rows(doc)] == [(cat.id, True, [])]
    doc.query.set_text("a cat")
    doc.accept_no_target()
    doc.labels.rename(doc.labels.annotation_of_phrase("a cat").expression.id, "the cat")  # two answers "not here": one
    assert [(e.id, e.no_target, bs) for e, bs in rows(doc)] == [(cat.id, True, [])]


def test_messages_name_the_keys_the_window_binds(doc, monkeypatch):
    """The document's hints take key names from the one key table (``editing.keys.KEYS``, which the
    window's actions are built from): rebinding a key changes what the messages say."""
    from grounding_desktop.editing import keys
    from grounding_desktop.ui.shortcuts import ACTIONS

    assert {a.name for a in ACTIONS} == set(keys.KEYS)
    monkeypatch.setitem(keys.KEYS, "draw_mode", ("X", "Ctrl+B"))
    monkeypatch.setitem(keys.KEYS, "accept_none", ("Shift+Return", "Shift+Enter"))
    rec = Recorder(doc)
    doc.query.set_text("the thing")
    doc.take_answer(Answer(doc.query.request, (), 3.0))
    assert rec.info[-1][0] == "No match for “the thing”: draw it (X) or Shift+Enter for “not in image”."


# -- the two parts on their own -------------------------------------------------------------------
class Shown:
    """The labels a query session reads (``query.ShownLabels``), as plain data: no store, no document."""

    def __init__(self, image, stored=()):
        self.image, self.threshold, self.stored = image, 0.5, list(stored)

    def path_of(self, record):
        return f"/photos/{record.path}"

    def stored_boxes(self, phrase):
        return list(self.stored)


def test_the_query_session_is_driven_without_a_labels_document():
    """Typing, the answer (a box already stored is not shown), Tab and a pending Enter: the query
    session alone, over plain data."""
    from grounding_desktop.core import ImageRecord
    from grounding_desktop.editing.query import QuerySession
    from grounding_desktop.editing.state import PendingAccept

    shown = Shown(ImageRecord(id=7, path="a.png", width=W, height=H), stored=[BOXES[0]])
    query = QuerySession(shown)
    query.set_model_state(ModelState.READY)
    lines = []
    query.info.connect(lambda text, tone: lines.append(text))
    query.set_text("  the   cats ")
    assert (query.request.image_id, query.request.path, query.request.phrase) == (7, "/photos/a.png", "the cats")
    assert query.plural and query.waiting and lines[-1] == "Looking for “the cats”…"
    assert not query.answer_ready(PendingAccept.ALL)  # Ctrl+Enter before the answer: kept for it
    props = tuple(Proposal(bbox=b, score=s, label="cat", explanation="", model_version="m")
                  for b, s in zip(BOXES, SCORES))
    assert query.take_answer(Answer(query.request, props)) == PendingAccept.ALL
    assert query.proposals == props[1:] and query.highlight == 0 and query.up_to_date
    query.move_highlight(-1)
    assert query.current_proposal() == props[2]
    shown.stored = []  # the stored box went (an undo): its proposal is shown again, the highlight stays
    query.refilter()
    assert query.proposals == props and query.current_proposal() == props[2]
    query.image_changed(another=True)
    assert query.answer is None and query.proposals == () and query.text == "  the   cats "


def test_the_labels_document_edits_and_undoes_without_a_query_session(tmp_path):
    """Move, rename, delete and review with their undo: the labels document alone, on a real store
    and the plain undo stack."""
    from grounding_desktop.core import Box
    from grounding_desktop.editing.labels import LabelsDocument

    make_image(tmp_path / "a.png", size=(W, H))
    store, _ = open_project(tmp_path)
    image = store.images.by_path()["a.png"]
    store.labels.add_expression(image.id, "the dog", [Box(0, 0, BOXES[0])])
    labels = LabelsDocument()
    stack = EditStack(labels.apply)
    labels.open_project(store, stack)
    labels.show(store.images.get(image.id))
    dog = labels.annotations[0]
    labels.select_box(dog.boxes[0].id)
    labels.nudge(1, 0, big=True)
    labels.rename(dog.expression.id, "The  Dog!")
    assert [(a.expression.text, [b.bbox for b in a.boxes]) for a in labels.annotations] == [("The Dog!", [(20, 10, 50, 40)])]
    labels.review_and_next([])
    assert labels.image.state == ImageState.REVIEWED
    labels.delete_selected()
    assert labels.annotations == ()
    stack.set_index(0)
    assert [(a.expression.text, [b.bbox for b in a.boxes]) for a in labels.annotations] == [("the dog", [BOXES[0]])]
    assert labels.image.state != ImageState.REVIEWED
    labels.close_project()
