"""Correcting boxes with the mouse and keyboard; each edit undone and redone through the store."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from gui_helpers import IMAGE_SIZE
from grounding_desktop.core import BoxSource, BoxState

Key = Qt.Key
Mod = Qt.KeyboardModifier
W, H = IMAGE_SIZE


def undo(gui):
    gui.key(Key.Key_Z, Mod.ControlModifier)


def redo(gui):
    gui.key(Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)


def accept_one(gui, phrase="the white square"):
    gui.type_phrase(phrase)
    gui.key(Key.Key_Return)
    return gui.only_box()


def test_draw_mode_drag_draws_a_box_for_the_typed_phrase(gui):
    gui.type_phrase("the white square")
    gui.key(Key.Key_B, Mod.ControlModifier)  # from the phrase bar (W would be typed there)
    assert gui.w.actions_by_name["draw_mode"].isChecked()
    gui.drag_image((40, 40), (121, 141))
    expr, box = gui.only_box()
    assert expr.text == "the white square"
    assert box.bbox == pytest.approx((40, 40, 81, 101), abs=1.0)
    assert (box.state, box.source, box.score) == (BoxState.ACCEPTED, BoxSource.MANUAL, None)
    undo(gui)
    assert gui.annotations() == []
    redo(gui)
    expr2, box2 = gui.only_box()
    assert (expr2.id, box2.id) == (expr.id, box.id)


def test_drawing_takes_the_highlight_off_the_proposals_so_enter_accepts_none(gui):
    gui.type_phrase("the white square")
    assert gui.w.doc.query.current_proposal() is not None  # the best proposal, highlighted
    gui.key(Key.Key_B, Mod.ControlModifier)
    assert gui.w.doc.query.current_proposal() is None  # draw mode: no proposal is ready for Enter
    assert not any(it.highlighted for it in gui.w.canvas.proposal_items())
    gui.drag_image((250, 190), (310, 230))  # away from every proposal
    expr, drawn = gui.only_box()
    gui.key(Key.Key_Escape)  # draw mode off (the phrase bar kept the focus, and the phrase)
    assert gui.w.doc.query.up_to_date
    gui.key(Key.Key_Return)
    assert gui.only_box() == (expr, drawn)  # still the one drawn box
    assert "Tab" in gui.w.phrase_bar.info.text()
    gui.key(Key.Key_Tab)  # Tab picks the best proposal again
    assert gui.w.doc.query.highlight == 0


def test_w_with_a_box_selected_asks_beside_the_box_offering_the_images_phrases(gui):
    expr, first = accept_one(gui)
    gui.click_image(first.bbox[0] + 5, first.bbox[1] + 5)  # select it
    assert gui.w.doc.labels.selected_box.id == first.id
    gui.key(Key.Key_W, widget=gui.w.canvas)
    drawn = (230, 150, 60, 50)
    gui.drag_image(drawn[:2], (drawn[0] + drawn[2], drawn[1] + drawn[3]))
    dialog = gui.w.questions.dialog
    gui.wait(lambda: dialog.isVisible())
    assert [len(bs) for _, bs in gui.annotations()] == [1]  # not given the selected box's phrase
    assert not dialog.frameGeometry().intersects(gui.w.canvas.global_rect(drawn))  # the box stays in view
    assert dialog.edit.text() == "" and dialog.phrases() == ["the white square"]
    gui.qtbot.keyClicks(dialog.edit, "whi")  # type-ahead: the image's phrases that contain it
    assert dialog.phrases() == ["the white square"]
    gui.qtbot.keyClick(dialog.edit, Key.Key_Down)
    assert dialog.edit.text() == "the white square"
    gui.qtbot.keyClick(dialog.edit, Key.Key_Return)  # an explicit choice
    (e, boxes), = gui.annotations()
    assert e.id == expr.id and len(boxes) == 2
    gui.drag_image((10, 200), (40, 230))  # still in draw mode
    gui.answer_phrase("a new thing")
    assert [e.text for e, _ in gui.annotations()] == ["the white square", "a new thing"]
    gui.drag_image((100, 200), (130, 230))
    gui.key(Key.Key_Escape, widget=gui.w.questions.dialog.edit)  # no name: no box
    assert [len(bs) for _, bs in gui.annotations()] == [2, 1]


def test_draw_is_clamped_to_the_image(gui):
    gui.type_phrase("edge")
    gui.key(Key.Key_B, Mod.ControlModifier)
    gui.drag_image((W - 30, H - 30), (W + 80, H + 80))
    _, box = gui.only_box()
    x, y, w, h = box.bbox
    assert x + w <= W + 1e-6 and y + h <= H + 1e-6
    assert w == pytest.approx(30, abs=1.0)


def test_move_box_by_dragging_then_undo_redo(gui):
    expr, box = accept_one(gui)
    x, y, w, h = box.bbox
    gui.click_image(x + w / 2, y + h / 2)
    assert gui.w.doc.labels.selected_box.id == box.id
    gui.drag_image((x + w / 2, y + h / 2), (x + w / 2 + 20, y + h / 2 + 10))
    moved = gui.store.labels.box(box.id)
    assert moved.bbox == pytest.approx((x + 20, y + 10, w, h), abs=1.0)
    assert moved.source == BoxSource.MODEL_EDITED
    undo(gui)
    assert gui.store.labels.box(box.id).bbox == pytest.approx(box.bbox)
    assert gui.store.labels.box(box.id).source == BoxSource.MODEL
    redo(gui)
    assert gui.store.labels.box(box.id).bbox == pytest.approx(moved.bbox)


def test_moving_snaps_inside_the_image(gui):
    expr, box = accept_one(gui)
    x, y, w, h = box.bbox
    gui.click_image(x + w / 2, y + h / 2)
    gui.drag_image((x + w / 2, y + h / 2), (x + w / 2 + 2 * W, y + h / 2 + 2 * H))
    mx, my, mw, mh = gui.store.labels.box(box.id).bbox
    assert (mw, mh) == pytest.approx((w, h))
    assert mx + mw == pytest.approx(W) and my + mh == pytest.approx(H)


def test_resize_with_the_bottom_right_handle_then_undo_redo(gui):
    expr, box = accept_one(gui)
    x, y, w, h = box.bbox
    gui.click_image(x + w / 2, y + h / 2)
    gui.drag_image((x + w, y + h), (x + w + 15, y + h - 12))
    resized = gui.store.labels.box(box.id)
    assert resized.bbox == pytest.approx((x, y, w + 15, h - 12), abs=1.0)
    undo(gui)
    assert gui.store.labels.box(box.id).bbox == pytest.approx(box.bbox)
    redo(gui)
    assert gui.store.labels.box(box.id).bbox == pytest.approx(resized.bbox)


def test_resize_past_the_opposite_edge_flips_and_stays_inside(gui):
    expr, box = accept_one(gui)
    x, y, w, h = box.bbox
    gui.click_image(x + w / 2, y + h / 2)
    gui.drag_image((x, y + h / 2), (W + 50, y + h / 2))  # left edge dragged past the right edge, off the image
    nx, ny, nw, nh = gui.store.labels.box(box.id).bbox
    assert nx == pytest.approx(x + w, abs=1.0) and nx + nw == pytest.approx(W)
    assert (ny, nh) == pytest.approx((y, h))


def test_delete_box_then_undo_restores_same_ids(gui):
    gui.w.phrase_bar.threshold.setValue(0.5)
    gui.type_phrase("the squares")
    gui.key(Key.Key_Return, Mod.ControlModifier)
    (expr, boxes), = gui.annotations()
    target = boxes[0]
    tx, ty, tw, th = target.bbox
    gui.click_image(tx + tw / 2, ty + th / 2)
    assert gui.w.doc.labels.selected_box is not None
    chosen = gui.w.doc.labels.selected_box.id
    gui.key(Key.Key_Delete, widget=gui.w.canvas)
    assert chosen not in [b.id for b in gui.annotations()[0][1]]
    assert len(gui.annotations()[0][1]) == len(boxes) - 1
    undo(gui)
    assert [b.id for b in gui.annotations()[0][1]] == [b.id for b in boxes]
    redo(gui)
    assert chosen not in [b.id for b in gui.annotations()[0][1]]


def test_deleting_the_only_box_deletes_its_phrase_in_one_step(gui):
    expr, box = accept_one(gui)
    gui.click_image(box.bbox[0] + 3, box.bbox[1] + 3)
    gui.key(Key.Key_Delete, widget=gui.w.canvas)
    assert gui.annotations() == []
    undo(gui)
    expr2, box2 = gui.only_box()
    assert (expr2.id, box2.id, expr2.created) == (expr.id, box.id, expr.created)


def test_delete_phrase_selected_in_the_panel(gui):
    for phrase in ("first thing", "second thing"):
        gui.type_phrase(phrase)
        gui.key(Key.Key_Return)
    tree = gui.w.panel.tree
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).text(0) == "first thing")
    rect = tree.visualItemRect(item)
    gui.qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    gui.key(Key.Key_Delete, widget=gui.w.canvas)
    assert [e.text for e, _ in gui.annotations()] == ["second thing"]
    undo(gui)
    assert [e.text for e, _ in gui.annotations()] == ["first thing", "second thing"]


def test_f2_on_a_box_moves_that_box_alone_and_f2_on_a_phrase_renames_it(gui):
    gui.type_phrase("the cup")
    gui.key(Key.Key_B, Mod.ControlModifier)
    gui.drag_image((20, 20), (80, 80))  # the cup
    gui.drag_image((150, 40), (200, 200))  # the spoon, drawn while "the cup" was still typed
    (cup_phrase, (cup, spoon)), = gui.annotations()
    gui.key(Key.Key_Escape)  # leave draw mode
    gui.key(Key.Key_Escape)  # clear the phrase
    gui.click_image(175, 150)  # select the spoon's box
    gui.key(Key.Key_F2, widget=gui.w.canvas)
    assert gui.w.questions.dialog.edit.text() == "the cup"
    gui.answer_phrase("the spoon")
    assert [(e.text, [b.id for b in bs]) for e, bs in gui.annotations()] == [("the cup", [cup.id]),
                                                                          ("the spoon", [spoon.id])]
    undo(gui)
    assert [(e.text, [b.id for b in bs]) for e, bs in gui.annotations()] == [("the cup", [cup.id, spoon.id])]
    redo(gui)
    gui.qtbot.mouseDClick(gui.w.canvas.viewport(), Qt.MouseButton.LeftButton, pos=gui.view_point(50, 50))
    gui.answer_phrase("The Spoon")  # the cup's box joins the spoon: the emptied phrase goes
    assert [(e.text, len(bs)) for e, bs in gui.annotations()] == [("the spoon", 2)]
    undo(gui)
    tree = gui.w.panel.tree
    row = next(r for r in gui.w.panel.rows() if r.text(0) == "the spoon")
    gui.qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(row).center())
    gui.key(Key.Key_F2, widget=gui.w.canvas)  # on a phrase: its text, all its boxes follow
    gui.answer_phrase("the teaspoon")
    assert [(e.text, len(bs)) for e, bs in gui.annotations()] == [("the cup", 1), ("the teaspoon", 1)]
    row = next(r for r in gui.w.panel.rows() if r.text(0) == "the teaspoon")
    gui.qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(row).center())
    gui.qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(row).center())
    gui.answer_phrase("   ")  # refused: empty
    assert gui.w.statusBar().currentMessage() == "Phrase refused: the phrase is empty"
    assert [e.text for e, _ in gui.annotations()] == ["the cup", "the teaspoon"]


def test_del_on_a_box_selects_the_next_box_of_its_phrase_never_the_phrase(gui):
    gui.w.phrase_bar.threshold.setValue(0.5)
    gui.type_phrase("the squares")
    gui.key(Key.Key_Return, Mod.ControlModifier)
    (expr, (one, two, three)), = gui.annotations()
    tree = gui.w.panel.tree
    row = next(r for r in gui.w.panel.rows() if r.data(0, Qt.ItemDataRole.UserRole + 2) == two.id
               and r.parent() is not None)
    gui.qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(row).center())
    gui.key(Key.Key_Delete, widget=gui.w.canvas)
    assert gui.w.doc.labels.selected_box.id == three.id
    assert [i.box_id for i in gui.w.canvas.box_items() if i.selected] == [three.id]
    assert [r.parent() is not None for r in tree.selectedItems()] == [True]  # a box row, not the phrase
    gui.key(Key.Key_Delete, widget=gui.w.canvas)
    gui.key(Key.Key_Delete, widget=gui.w.canvas)
    assert gui.annotations() == [] and gui.w.doc.labels.selection is None  # the last box took its phrase
    undo(gui)
    undo(gui)
    assert [b.id for _, bs in gui.annotations() for b in bs] == [one.id, three.id]


def test_arrow_keys_nudge_and_merge_into_one_undo_step(gui):
    expr, box = accept_one(gui)
    gui.click_image(box.bbox[0] + 3, box.bbox[1] + 3)
    for _ in range(3):
        gui.key(Key.Key_Right, widget=gui.w.canvas)
    gui.key(Key.Key_Down, Mod.ShiftModifier, widget=gui.w.canvas)
    x, y, w, h = box.bbox
    assert gui.store.labels.box(box.id).bbox == pytest.approx((x + 3, y + 10, w, h))
    undo(gui)
    assert gui.store.labels.box(box.id).bbox == pytest.approx(box.bbox)


def test_history_view_lists_edits_and_jumps_back(gui):
    for phrase in ("one", "two"):
        gui.type_phrase(phrase)
        gui.key(Key.Key_Return)
    gui.key(Key.Key_H, Mod.ControlModifier, widget=gui.w.canvas)
    assert gui.w.history_dock.isVisible()
    stack = gui.w.undo_stack
    assert [stack.text(i) for i in range(stack.count())] == ["Accept “one” (0.90) · a1.png", "Accept “two” (0.90) · a1.png"]
    stack.setIndex(0)  # what clicking the first row of the history does
    assert gui.annotations() == []
    stack.setIndex(2)  # and the last: both redone, the plain stack under the view in step
    assert [e.text for e, _ in gui.annotations()] == ["one", "two"]
    assert (stack.edits.index(), stack.edits.count()) == (stack.index(), stack.count()) == (2, 2)


def test_a_label_of_a_box_at_the_right_edge_stays_on_the_image(gui):
    """A box against the image's right side keeps its whole label on the image (moved left), so the
    phrase is never cut by the edge. Labels keep their size on screen, so they are measured there."""
    from PySide6.QtCore import QPointF

    gui.type_phrase("a rather long phrase for a narrow box")
    gui.key(Key.Key_B, Mod.ControlModifier)
    gui.drag_image((W - 12, 60), (W, 120))
    _, box = gui.only_box()
    canvas = gui.w.canvas
    label = canvas.box_item(box.id).label
    left = canvas.mapFromScene(label.scenePos()).x()
    width = label.boundingRect().width()  # screen pixels: the label ignores the zoom
    image_left, image_right = (canvas.mapFromScene(QPointF(x, 0)).x() for x in (0, W))
    assert width > canvas.mapFromScene(QPointF(W, 0)).x() - canvas.mapFromScene(QPointF(box.bbox[0], 0)).x()
    assert image_left <= left and left + width <= image_right + 1


def test_f2_onto_another_phrases_text_merges_and_a_box_takes_back_not_in_image_until_deleted(gui):
    """Issue 21 items 1-2 as a labeller hits them: F2 on "the tree" typed "The  Dog" merges it into
    "the dog" (one undo step); a box given to a "not in image" phrase takes that answer back, and
    Del on the box brings it back instead of deleting the phrase."""
    for phrase, start, end in (("the dog", (20, 20), (80, 80)), ("the tree", (150, 40), (200, 200))):
        gui.type_phrase(phrase)
        gui.key(Key.Key_B, Mod.ControlModifier)
        gui.drag_image(start, end)
        gui.key(Key.Key_Escape)  # leave draw mode
        gui.key(Key.Key_Escape)  # clear the phrase
    tree = gui.w.panel.tree
    row = next(r for r in gui.w.panel.rows() if r.text(0) == "the tree")
    gui.qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(row).center())
    gui.key(Key.Key_F2, widget=gui.w.canvas)
    gui.answer_phrase("The  Dog")
    assert [(e.text, len(bs)) for e, bs in gui.annotations()] == [("the dog", 2)]
    undo(gui)
    assert [(e.text, len(bs)) for e, bs in gui.annotations()] == [("the dog", 1), ("the tree", 1)]

    gui.w.activateWindow()  # a window manager gives the window back its keys when the dialog closes
    gui.wait(gui.w.isActiveWindow)
    gui.type_phrase("the cat")
    gui.key(Key.Key_Return, Mod.ShiftModifier)  # not in this image
    gui.key(Key.Key_Escape)
    gui.click_image(175, 150)  # the tree's box
    gui.key(Key.Key_F2, widget=gui.w.canvas)
    gui.answer_phrase("the cat")
    assert [(e.text, e.no_target, len(bs)) for e, bs in gui.annotations()] == [
        ("the dog", False, 1), ("the cat", False, 1)]
    gui.click_image(175, 150)
    gui.key(Key.Key_Delete, widget=gui.w.canvas)
    assert [(e.text, e.no_target, len(bs)) for e, bs in gui.annotations()] == [
        ("the dog", False, 1), ("the cat", True, 0)]
