"""Click-and-type grounding, driven with the keyboard and mouse on the real widgets."""
from __future__ import annotations

from functools import partial

import pytest
from PySide6.QtCore import Qt

from gui_helpers import IMAGE_SIZE, Driver, make_window
from fakes import FakeGrounder
from grounding_desktop.core import BoxSource, BoxState
from grounding_desktop.editing.state import ModelState
from grounding_desktop.ui.shortcuts import ACTIONS

Key = Qt.Key
Mod = Qt.KeyboardModifier


def test_typing_shows_dashed_proposals_best_highlighted(gui):
    gui.type_phrase("the white square")
    expected = gui.expected(IMAGE_SIZE, "the white square")
    items = gui.w.canvas.proposal_items()
    assert [i.xywh() for i in items] == [p.bbox for p in expected]
    assert [i.highlighted for i in items] == [True] + [False] * (len(items) - 1)
    assert items[0].label.text.startswith("1  0.90")
    assert gui.w.status.latency.text().startswith("Proposals:") and "ms" in gui.w.status.latency.text()
    # The explanation reaches the panel as a tooltip.
    root = gui.w.panel.tree.topLevelItem(0)
    assert "fake: rank 1" in root.child(0).toolTip(0)


def test_enter_accepts_best_and_undo_redo_restore_same_ids(gui):
    gui.type_phrase("the white square")
    best = gui.expected(IMAGE_SIZE, "the white square")[0]
    gui.key(Key.Key_Return)
    expr, box = gui.only_box()
    assert expr.text == "the white square"
    assert box.bbox == pytest.approx(best.bbox)
    assert (box.state, box.source, box.score, box.model_version) == (BoxState.ACCEPTED, BoxSource.MODEL, 0.9, "fake-1")
    assert gui.w.phrase_bar.text() == ""  # ready for the next phrase
    assert gui.store.images.get(gui.w.doc.labels.image.id).state.value == "in_progress"
    assert [b.box_id for b in gui.w.canvas.box_items()] == [box.id]

    gui.key(Key.Key_Z, Mod.ControlModifier)
    assert gui.annotations() == []
    gui.key(Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)
    expr2, box2 = gui.only_box()
    assert (expr2.id, box2.id, box2.bbox) == (expr.id, box.id, box.bbox)


def test_tab_and_shift_tab_move_the_highlight_enter_accepts_it(gui):
    gui.type_phrase("a thing")
    props = gui.expected(IMAGE_SIZE, "a thing")
    gui.key(Key.Key_Tab)
    gui.key(Key.Key_Tab)
    assert gui.w.doc.query.highlight == 2
    gui.key(Key.Key_Backtab, Mod.ShiftModifier)
    assert gui.w.doc.query.highlight == 1
    assert [i.highlighted for i in gui.w.canvas.proposal_items()][1]
    gui.key(Key.Key_Return)
    _, box = gui.only_box()
    assert box.bbox == pytest.approx(props[1].bbox)
    assert box.score == pytest.approx(props[1].score)


def test_click_on_a_proposal_accepts_that_one(gui):
    gui.type_phrase("a thing")
    props = gui.expected(IMAGE_SIZE, "a thing")
    # A point inside proposal #3 only (not inside a smaller or highlighted one).
    target = props[2]
    x, y, w, h = target.bbox
    others = props[:2] + props[3:]
    point = next((px, py) for px in range(int(x) + 2, int(x + w) - 2, 3) for py in range(int(y) + 2, int(y + h) - 2, 3)
                 if not any(o.bbox[0] <= px <= o.bbox[0] + o.bbox[2] and o.bbox[1] <= py <= o.bbox[1] + o.bbox[3]
                            for o in others))
    gui.click_image(*point)
    _, box = gui.only_box()
    assert box.bbox == pytest.approx(target.bbox)


def test_hint_point_before_typing_is_sent_to_the_model(gui):
    gui.click_image(250, 200)  # before typing
    assert gui.w.doc.query.hint == pytest.approx((250, 200), abs=1.5)
    gui.type_phrase("a thing")
    hint = gui.w.doc.query.answer.query.hint
    assert hint == pytest.approx((250, 200), abs=1.5)
    assert list(gui.w.doc.query.proposals) == gui.expected(IMAGE_SIZE, "a thing", hint)  # the model had it
    best = gui.w.doc.query.proposals[0]
    bx, by, bw, bh = best.bbox
    assert bx <= hint[0] <= bx + bw and by <= hint[1] <= by + bh
    assert gui.w.canvas.hint_point == pytest.approx(hint), "the hint point is drawn"


def test_ctrl_click_while_typing_sets_hint_and_refreshes(gui):
    gui.type_phrase("a thing")
    gui.click_image(20, 200, Mod.ControlModifier)
    gui.wait(lambda: gui.w.doc.query.answer.query.hint is not None and gui.w.doc.query.up_to_date)
    hint = gui.w.doc.query.answer.query.hint
    assert hint == pytest.approx((20, 200), abs=1.5)
    assert list(gui.w.doc.query.proposals) == gui.expected(IMAGE_SIZE, "a thing", hint)
    assert gui.w.phrase_bar.edit.hasFocus(), "clicking a hint must not take the cursor out of the phrase bar"


def test_ctrl_enter_accepts_every_proposal_above_threshold(gui):
    gui.w.phrase_bar.threshold.setValue(0.5)
    gui.type_phrase("the squares")
    assert gui.w.doc.query.plural
    gui.key(Key.Key_Return, Mod.ControlModifier)
    (expr, boxes), = gui.annotations()
    assert expr.text == "the squares"
    assert sorted(b.score for b in boxes) == [0.6, 0.75, 0.9]
    gui.key(Key.Key_Z, Mod.ControlModifier)
    assert gui.annotations() == []


def test_plural_enter_keeps_phrase_and_remaining_proposals(gui):
    gui.type_phrase("the squares")
    n = len(gui.w.doc.query.proposals)
    gui.key(Key.Key_Return)
    gui.key(Key.Key_Return)
    (expr, boxes), = gui.annotations()
    assert len(boxes) == 2 and expr.text == "the squares"
    assert len(gui.w.canvas.proposal_items()) == n - 2


def test_enter_before_the_answer_accepts_when_it_arrives(open_window, photos):
    gui = open_window(photos, partial(FakeGrounder, delay=0.3))
    gui.type_phrase("quick", wait=False)
    gui.key(Key.Key_Return)
    gui.wait(lambda: len(gui.annotations()) == 1)
    expr, box = gui.only_box()
    assert expr.text == "quick"
    assert box.bbox == pytest.approx(gui.expected(IMAGE_SIZE, "quick")[0].bbox)


def test_stale_answers_are_dropped(open_window, photos):
    gui = open_window(photos, partial(FakeGrounder, delay=0.15))
    edit = gui.w.phrase_bar.edit
    edit.setFocus()
    for text in ("c", "ca", "cat", "cats on", "cat on the left"):
        edit.selectAll()
        gui.qtbot.keyClicks(edit, text)
        gui.qtbot.wait(170)  # longer than the debounce, shorter than the model: answers overlap
    gui.wait(lambda: gui.w.doc.query.up_to_date)
    assert gui.w.doc.query.answer.query.phrase == "cat on the left"
    shown = [i.xywh() for i in gui.w.canvas.proposal_items()]
    assert shown == [p.bbox for p in gui.expected(IMAGE_SIZE, "cat on the left")]
    gui.qtbot.wait(400)  # late answers to earlier phrases must not replace it
    assert [i.xywh() for i in gui.w.canvas.proposal_items()] == shown


def test_esc_clears_phrase_proposals_and_hint(gui):
    gui.click_image(100, 100)
    gui.type_phrase("a thing")
    gui.key(Key.Key_Escape)
    assert gui.w.phrase_bar.text() == ""
    assert gui.w.canvas.proposal_items() == []
    assert gui.w.doc.query.hint is None and gui.w.canvas.hint_point is None
    gui.key(Key.Key_Escape)  # empty phrase bar: Esc goes back to the image
    assert gui.w.canvas.hasFocus()


def test_reject_stores_a_negative_and_hides_the_proposal(gui):
    gui.type_phrase("a thing")
    props = gui.expected(IMAGE_SIZE, "a thing")
    gui.key(Key.Key_R, Mod.ControlModifier)
    (expr, boxes), = gui.annotations()
    assert [(b.state, b.bbox) for b in boxes] == [(BoxState.REJECTED, pytest.approx(props[0].bbox))]
    shown = [i.xywh() for i in gui.w.canvas.proposal_items()]
    assert props[0].bbox not in shown and len(shown) == len(props) - 1
    assert gui.w.canvas.box_items() == []  # rejected boxes are not drawn
    gui.key(Key.Key_Z, Mod.ControlModifier)
    assert gui.annotations() == []
    assert len(gui.w.canvas.proposal_items()) == len(props)  # the proposal is back


def test_reject_is_not_no_target_the_phrase_needs_a_box_and_is_not_exported(gui, tmp_path):
    from pycocotools.coco import COCO

    from grounding_desktop.io.export import export_project

    gui.type_phrase("the giraffe lying in the bottom left")
    gui.key(Key.Key_R, Mod.ControlModifier)
    row = next(r for r in gui.w.panel.rows() if r.text(0) == "the giraffe lying in the bottom left")
    assert row.text(1) == "needs a box" and "still needs a box" in gui.w.phrase_bar.info.text()
    out = tmp_path / "g.json"
    summary = export_project(gui.store, "coco-grounding", out)
    assert COCO(str(out)).dataset["images"] == [] and summary.no_target == 0  # not a negative example
    gui.key(Key.Key_Return, Mod.ShiftModifier)  # now the user says the giraffe is not there
    row = next(r for r in gui.w.panel.rows() if r.text(0) == "the giraffe lying in the bottom left")
    assert row.text(1) == "no target"
    export_project(gui.store, "coco-grounding", out)
    (entry,) = COCO(str(out)).dataset["images"]
    assert entry["caption"] == "the giraffe lying in the bottom left" and entry["tokens_negative"]


def test_a_queued_enter_gets_the_weak_match_warning_like_any_enter(open_window, photos):
    gui = open_window(photos, partial(FakeGrounder, delay=0.3))
    gui.w.phrase_bar.threshold.setValue(0.95)  # every proposal is weak
    gui.type_phrase("the horse", wait=False)
    gui.key(Key.Key_Return)  # before the answer
    gui.wait(lambda: gui.w.doc.query.up_to_date)
    assert gui.annotations() == []
    assert "Nothing was accepted before you saw it" in gui.w.phrase_bar.info.text()
    gui.key(Key.Key_Return)  # read, and pressed again: accepted
    expr, box = gui.only_box()
    assert expr.text == "the horse" and box.score == 0.9


def test_a_box_that_stands_out_under_the_threshold_is_not_called_weak(open_window, photos):
    """"the eagle" on an eagle scored 0.17 and the phrase bar said "Only weak matches": the message
    says what the scores say (the best far ahead of the next), never a verdict on the box."""
    gui = open_window(photos, partial(FakeGrounder, scores=(0.17, 0.04, 0.03, 0.02, 0.01)))
    gui.type_phrase("the eagle")
    info = gui.w.phrase_bar.info.text()
    assert info == "Best match 0.17, far ahead of the next (0.04) · Enter accepts · Tab next"
    gui.key(Key.Key_Return)
    expr, box = gui.only_box()
    assert (expr.text, box.score) == ("the eagle", 0.17)

def test_accepting_the_same_proposal_again_for_a_singular_phrase_is_refused(gui):
    gui.type_phrase("the white square")
    gui.key(Key.Key_Return)
    expr, box = gui.only_box()
    gui.click_image(box.bbox[0] + 5, box.bbox[1] + 5)
    gui.key(Key.Key_Right, Mod.ShiftModifier, widget=gui.w.canvas)  # corrected by hand, 10 px
    gui.type_phrase("the white square")  # the model's box is shown again: no longer the stored one
    assert gui.w.doc.query.current_proposal().bbox == pytest.approx(box.bbox)
    gui.key(Key.Key_Return)
    assert len(gui.annotations()[0][1]) == 1
    assert "already has this box" in gui.w.phrase_bar.info.text()
    gui.key(Key.Key_Tab)
    gui.key(Key.Key_Return)  # another place: stored, and said
    assert len(gui.annotations()[0][1]) == 2
    assert gui.w.statusBar().currentMessage().startswith("“the white square” now has 2 boxes")


def test_unusable_phrase_is_refused_politely(gui):
    gui.type_phrase("?!", wait=False)
    gui.wait(lambda: "no letters or digits" in gui.w.phrase_bar.info.text())
    assert gui.w.canvas.proposal_items() == []
    assert not gui.w.actions_by_name["accept"].isEnabled()


def test_no_target_phrase(gui):
    gui.type_phrase("a unicorn")
    gui.key(Key.Key_Return, Mod.ShiftModifier)
    (expr, boxes), = gui.annotations()
    assert expr.text == "a unicorn" and boxes == []
    assert gui.w.panel.tree.topLevelItem(0).text(1) == "no target"


def test_typing_letters_in_phrase_bar_does_not_trigger_single_key_shortcuts(gui):
    first = gui.w.doc.labels.image.id
    gui.type_phrase("dwa d")  # D, W and A are shortcuts elsewhere; Space too
    assert gui.w.doc.labels.image.id == first
    assert not gui.w.actions_by_name["draw_mode"].isChecked()
    assert gui.w.phrase_bar.text() == "dwa d"


def test_window_is_usable_while_the_model_loads(qtbot, photos):
    from grounding_desktop.project import open_project

    store, _ = open_project(photos)
    w = make_window(qtbot, store, partial(FakeGrounder, load_delay=1.5), rescan=False)
    d = Driver(qtbot, w)
    d.wait(lambda: w.last_painted_id is not None)
    d.wait(lambda: w.host.state == ModelState.LOADING)
    assert "loading" in w.status.model.text()
    d.type_phrase("a thing", wait=False)
    d.wait(lambda: "loading" in w.phrase_bar.info.text().lower())
    # Navigation works meanwhile.
    d.key(Key.Key_PageDown, widget=w.canvas)
    assert w.image_list.count.text().startswith("2 /")
    # Once loaded, the phrase typed meanwhile gets its proposals without retyping.
    d.wait(lambda: w.doc.query.up_to_date, timeout=10000)
    assert len(w.canvas.proposal_items()) == 5
    assert "fake-1" in w.status.model.text()
    w.close()


def test_tab_moves_the_highlight_without_rebuilding_anything(gui):
    gui.type_phrase("a thing")
    items = gui.w.canvas.proposal_items()
    rows = gui.w.panel.rows()
    gui.key(Key.Key_Tab)
    assert gui.w.canvas.proposal_items() == items and gui.w.panel.rows() == rows  # the same objects
    assert [i.highlighted for i in items] == [False, True, False, False, False]
    assert [r.font(0).bold() for r in rows[1:6]] == [False, True, False, False, False]


def test_weak_proposals_are_drawn_only_while_highlighted(gui):
    gui.w.phrase_bar.threshold.setValue(0.5)
    gui.type_phrase("a thing")  # scores 0.9, 0.75, 0.6, 0.45, 0.3
    items = gui.w.canvas.proposal_items()
    assert [i.isVisible() for i in items] == [True, True, True, False, False]
    for _ in range(3):
        gui.key(Key.Key_Tab)  # Tab still walks all of them
    assert [i.isVisible() for i in items] == [True, True, True, True, False]
    gui.key(Key.Key_Tab)
    assert [i.isVisible() for i in items] == [True, True, True, False, True]
    gui.w.phrase_bar.threshold.setValue(0.2)
    assert all(i.isVisible() for i in gui.w.canvas.proposal_items())


def test_a_proposals_tag_and_its_tooltip_name_the_same_thing_on_the_box_and_in_the_panel(gui):
    """The tag on a box, its tooltip and the panel's tooltip come from the model's one answer: the
    tooltip opens with the tag (what the score rests on), then the model's explanation."""
    gui.type_phrase("the white square")
    rows = gui.w.panel.tree.topLevelItem(0)
    for i, (item, p) in enumerate(zip(gui.w.canvas.proposal_items(), gui.w.doc.query.proposals)):
        tag = item.label.text
        assert tag == f"{i + 1}  {p.score:.2f}  {p.label}"
        assert item.toolTip().splitlines()[0] == tag and f"Why: {p.explanation}" in item.toolTip()
        assert rows.child(i).toolTip(0) == item.toolTip()


def _screen_rect(canvas, label):
    """Where a label is on the screen (labels keep their size in screen pixels)."""
    from PySide6.QtCore import QRectF

    r = QRectF(canvas.mapFromScene(label.scenePos()).toPointF(), label.boundingRect().size())
    return r.adjusted(1, 1, -1, -1)  # the view maps to whole pixels: tags that touch may share one


def test_proposal_tags_cover_neither_each_other_nor_the_selected_boxs_handles(gui):
    """Five proposals, one of them on the box just accepted (selected, with its handles): every
    tag is readable, as in labelme and CVAT, and drawn above every box and handle."""
    from PySide6.QtCore import QPointF, QRectF

    from grounding_desktop.ui.box_item import HANDLE_PX, handle_points

    gui.type_phrase("the white square")
    gui.key(Key.Key_Return)  # accepted and selected: its handles are drawn
    _, box = gui.only_box()
    gui.w.phrase_bar.threshold.setValue(0.0)  # every proposal shown
    gui.type_phrase("a thing")  # the same five regions, the accepted one among them
    canvas = gui.w.canvas
    selected = canvas.box_item(box.id)
    assert selected.selected and any(item.xywh() == box.bbox for item in canvas.proposal_items())
    items = canvas.proposal_items() + canvas.box_items()
    tags = [_screen_rect(canvas, it.label) for it in items]
    half = HANDLE_PX / 2
    handles = [QRectF(QPointF(canvas.mapFromScene(p)) - QPointF(half, half), QPointF(canvas.mapFromScene(p))
                      + QPointF(half, half)) for p in handle_points(selected.rect).values()]
    for i, tag in enumerate(tags):
        assert not any(tag.intersects(h) for h in handles), items[i].label.text
        assert not any(tag.intersects(other) for other in tags[i + 1:]), (items[i].label.text, tags)
        assert items[i].label.zValue() > selected.zValue()


def test_each_action_is_enabled_exactly_while_what_it_needs_holds(gui):
    """``ActionSpec.needs``: with an image and no proposals the image's edits are enabled and the
    proposal keys are not; once proposals are on screen those are too."""
    enabled = lambda: {a.name for a in ACTIONS if gui.w.actions_by_name[a.name].isEnabled()}  # noqa: E731
    needing = {a.name: a.needs for a in ACTIONS}
    before = enabled()
    assert {n for n, need in needing.items() if need in ("project", "image")} <= before
    assert not {n for n, need in needing.items() if need in ("proposals", "answer")} & before
    gui.type_phrase("the white square")
    assert {n for n, need in needing.items() if need} <= enabled()
