"""Whole folders in the app, with the fake model in the model process: the feature pass in the
background (cancel keeps what is done, Resume and the next open go on from there), search by phrase
(Ctrl+F: ranked, thumbnails, results streaming in as the pass prepares images, Enter opens the
image with the box highlighted), propose for every image (one undo step that never touches a
label), and review by doubt (least sure first; Space accepts what is on screen)."""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from fakes import FakeGrounder, expected
from gui_helpers import IMAGE_SIZE
from grounding_desktop.core import BoxSource, BoxState, ImageState, Proposal
from grounding_desktop.editing.edits import proposal_box
from grounding_desktop.project import open_project
from grounding_desktop.store.features import FeatureStore
from grounding_desktop.ui.settings import app_settings, set_prepares_in_background
from support import make_image

Key, Mod = Qt.Key, Qt.KeyboardModifier
VERSION = FakeGrounder.features_version


def _kept(store) -> int:
    with FeatureStore.of_project(store) as features:
        return len(features.known(VERSION))


def test_the_pass_runs_by_itself_cancel_keeps_whole_batches_and_resume_goes_on(open_window, tmp_path, qtbot):
    folder = tmp_path / "many"
    for i in range(20):
        make_image(folder / f"img{i:02d}.png", color=(10 * i, 100, 200 - 5 * i))
    gui = open_window(folder, factory=partial(FakeGrounder, feature_delay=0.25))  # 4 s a batch of 16
    folder_pass, status = gui.w.folder.folder_pass, gui.w.folder.pass_status
    runs = []
    folder_pass.progressed.connect(lambda done, total: runs.append((done, total)))
    gui.wait(lambda: (0, 20) in runs or folder_pass.to_prepare == 20)
    assert status.isVisible() and status.button.text() == "Cancel"
    qtbot.mouseClick(status.button, Qt.MouseButton.LeftButton)  # in the middle of the first batch of 16
    gui.wait(lambda: not folder_pass.running)
    assert _kept(gui.store) == 16 and status.button.text() == "Resume"
    assert "paused (16 / 20)" in status.label.text()

    runs.clear()
    qtbot.mouseClick(status.button, Qt.MouseButton.LeftButton)
    gui.wait(lambda: any(total for _, total in runs))  # (0, 0) first: busy until the pass knows
    assert next(r for r in runs if r[1]) == (16, 20)  # the whole folder counted: 16 done already
    gui.wait(lambda: not folder_pass.running)
    assert runs[-1] == (20, 20) and _kept(gui.store) == 20  # only what the first run left was prepared
    assert status.label.text() == "All images prepared"

    gui.w.close()  # opened again: nothing to prepare ("All images prepared" is never said)
    gui = open_window(folder, factory=partial(FakeGrounder, feature_delay=0.1))
    gui.wait(lambda: not gui.w.folder.folder_pass.running)
    assert gui.w.folder.folder_pass.to_prepare == 0 and not gui.w.folder.pass_status.isVisible()
    assert gui.w.folder.folder_pass.searchable == 20


def test_ctrl_f_ranks_the_image_showing_it_first_and_enter_opens_it_with_that_box(gui):
    gui.wait(lambda: not gui.w.folder.folder_pass.running)
    gui.key(Key.Key_F, Mod.ControlModifier, widget=gui.w.canvas)
    panel = gui.w.folder.search
    assert panel.edit.hasFocus() and gui.w.folder.search_dock.isVisible()
    gui.qtbot.keyClicks(panel.edit, "the blue square")
    gui.wait(lambda: panel.phrase == "the blue square" and bool(panel.shown()))
    assert [r.path for r, _ in panel.shown()] == ["a10.png", "a2.png", "a1.png"]  # a10 is the blue picture
    record, proposal = panel.shown()[0]
    assert proposal.bbox == expected(IMAGE_SIZE, "the blue square")[0].bbox
    assert "3 best matches" in panel.status.text()
    gui.wait(lambda: not panel.results.item(0).icon().isNull())  # its thumbnail, the box drawn on it

    gui.key(Key.Key_Down, widget=panel.edit)  # Up/Down choose, Enter opens
    gui.key(Key.Key_Up, widget=panel.edit)
    gui.key(Key.Key_Return, widget=panel.edit)
    gui.wait(lambda: gui.w.doc.labels.image.id == record.id and gui.w.doc.query.up_to_date)
    assert gui.w.phrase_bar.text() == "the blue square" and gui.annotations() == []  # Enter accepted nothing
    assert gui.w.doc.query.current_proposal().bbox == proposal.bbox
    gui.key(Key.Key_Escape, widget=panel.edit)
    assert gui.w.canvas.hasFocus()


def test_keys_in_the_search_results_act_on_the_results_never_on_the_image_shown(gui):
    """Click result 1 (its image opens, its box highlighted), Down, Enter: result 2 opens; the
    proposal on result 1's image is not accepted, and Space there marks nothing reviewed."""
    gui.wait(lambda: not gui.w.folder.folder_pass.running)
    gui.w.folder.show_search()
    panel = gui.w.folder.search
    gui.qtbot.keyClicks(panel.edit, "the blue square")
    gui.wait(lambda: panel.phrase == "the blue square" and len(panel.shown()) == 3)
    (first, _), (second, proposal) = panel.shown()[:2]
    item = panel.results.item(0)
    gui.qtbot.mouseClick(panel.results.viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.results.visualItemRect(item).center())
    gui.wait(lambda: gui.w.doc.labels.image.id == first.id and gui.w.doc.query.up_to_date)
    assert panel.results.hasFocus() and gui.w.doc.query.current_proposal() is not None
    gui.key(Key.Key_Down, widget=panel.results)
    gui.key(Key.Key_Space, widget=panel.results)
    gui.key(Key.Key_Return, widget=panel.results)
    gui.wait(lambda: gui.w.doc.labels.image.id == second.id and gui.w.doc.query.up_to_date)
    assert gui.annotations(first.id) == [] and gui.store.images.get(first.id).state == ImageState.NEW
    assert gui.w.doc.query.current_proposal().bbox == proposal.bbox
    gui.key(Key.Key_Escape, widget=panel.results)  # back to the image: Enter accepts there
    assert gui.w.canvas.hasFocus()
    gui.key(Key.Key_Return)
    assert [b.bbox for _, bs in gui.annotations(second.id) for b in bs] == [proposal.bbox]


def test_images_not_prepared_yet_are_searched_as_the_pass_reaches_them(open_window, photos):
    from grounding_desktop.ui.settings import app_settings, prepares_in_background, set_prepares_in_background

    set_prepares_in_background(app_settings(), False)  # a person who turned the automatic pass off
    gui = open_window(photos)
    panel, action = gui.w.folder.search, gui.w.actions_by_name["prepare_background"]
    gui.wait(lambda: not gui.w.folder.folder_pass.running)
    assert not action.isChecked() and gui.w.folder.folder_pass.to_prepare == 0
    gui.w.folder.show_search()
    gui.qtbot.keyClicks(panel.edit, "the red square")
    gui.wait(lambda: panel.phrase == "the red square")
    assert panel.shown() == [] and "among 0 prepared images" in panel.status.text()
    action.trigger()  # on again: the pass runs, and the search with it
    gui.wait(lambda: [r.path for r, _ in panel.shown()][:1] == ["a1.png"])
    assert prepares_in_background(app_settings())


def test_with_the_automatic_pass_off_the_images_prepared_before_are_still_searched(open_window, photos):
    from grounding_desktop.ui.settings import app_settings, set_prepares_in_background

    gui = open_window(photos)
    gui.wait(lambda: not gui.w.folder.folder_pass.running)
    gui.w.close()
    set_prepares_in_background(app_settings(), False)
    make_image(photos / "b.png", color=(200, 60, 60))  # new since: not prepared, and nothing starts to
    gui = open_window(photos)
    gui.w.folder.show_search()
    panel = gui.w.folder.search
    gui.qtbot.keyClicks(panel.edit, "the red square")
    gui.wait(lambda: panel.phrase == "the red square" and bool(panel.shown()))
    assert [r.path for r, _ in panel.shown()][0] == "a1.png" and "among 3 prepared images" in panel.status.text()
    assert not gui.w.folder.pass_status.isVisible()


def test_opening_another_folder_while_the_pass_runs_leaves_no_pass_in_the_status_bar(open_window, photos, tmp_path):
    folder = tmp_path / "many"
    for i in range(20):
        make_image(folder / f"img{i:02d}.png", color=(10 * i, 100, 200 - 5 * i))
    gui = open_window(folder, factory=partial(FakeGrounder, feature_delay=0.25))
    folder_pass, status = gui.w.folder.folder_pass, gui.w.folder.pass_status
    gui.wait(lambda: folder_pass.running and status.isVisible())
    set_prepares_in_background(app_settings(), False)  # the next project's pass does not start
    assert gui.w.open_folder(photos)
    assert not status.isVisible()  # the old project's run ended with it
    gui.wait(lambda: not folder_pass.running)  # what the new one kept is sent to the model: nothing
    assert not status.isVisible() and folder_pass.searchable == 0 and folder_pass.to_prepare == 0


def test_propose_for_every_image_is_one_undo_step_that_never_touches_a_label(gui):
    gui.type_phrase("the white square")
    gui.key(Key.Key_Return)  # a label on a1: the box the model proposes first
    (expr, (label,)), = gui.annotations()
    a1 = gui.w.doc.labels.image.id
    steps = gui.w.undo_stack.count()

    summary = _propose(gui, "the white square", "# a comment line", "the blue square")
    assert "3 proposals added on 2 of 3 images" in summary
    assert gui.w.undo_stack.count() == steps + 1
    assert gui.annotations(a1) == [(expr, [label])]  # its box is never proposed again; blue scores < 0.3 there
    by_image = {r.path: [(e.text, [(b.state, b.source) for b in bs]) for e, bs in gui.annotations(r.id)]
                for r in gui.store.images.all()}
    proposed = [(BoxState.PROPOSED, BoxSource.MODEL)]
    assert by_image["a2.png"] == [("the white square", proposed)]
    assert by_image["a10.png"] == [("the white square", proposed), ("the blue square", proposed)]

    again = _propose(gui, "the white square", "the blue square")  # all there already
    assert "0 proposals added" in again and gui.w.undo_stack.count() == steps + 1

    gui.key(Key.Key_Z, Mod.ControlModifier, widget=gui.w.canvas)  # one Ctrl+Z takes them all back
    assert [gui.annotations(r.id) for r in gui.store.images.all()] == [[(expr, [label])], [], []]
    gui.key(Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier, widget=gui.w.canvas)
    assert {r.path: [(e.text, [(b.state, b.source) for b in bs]) for e, bs in gui.annotations(r.id)]
            for r in gui.store.images.all()} == by_image


def _propose(gui, *lines: str):
    gui.key(Key.Key_P, Mod.ControlModifier | Mod.ShiftModifier, widget=gui.w.canvas)
    dialog = gui.w.folder.propose_dialog
    gui.wait(dialog.isVisible)
    for n, line in enumerate(lines):
        gui.qtbot.keyClicks(dialog.phrases, line)
        if n + 1 < len(lines):
            gui.qtbot.keyClick(dialog.phrases, Key.Key_Return)
    gui.qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    gui.wait(lambda: dialog.run_button.isEnabled() and bool(dialog.summary.toPlainText()), 10000)
    summary = dialog.summary.toPlainText()
    dialog.reject()
    gui.wait(lambda: QApplication.activeWindow() is gui.w)
    return summary


def test_review_by_doubt_walks_the_least_sure_first_and_space_accepts_what_is_on_screen(open_window, photos):
    store, _ = open_project(photos)
    ids = {r.path: r.id for r in store.images.all()}
    boxes = {"a1.png": (((20, 20, 60, 60), 0.9), ((150, 100, 80, 80), 0.4)), "a2.png": (((40, 40, 80, 100), 0.35),),
             "a10.png": (((10, 10, 100, 100), 0.6),)}
    store.proposals.add((ids[name], "the square", [proposal_box(Proposal(b, s, "square", "", model_version="m"),
                                                                BoxState.PROPOSED) for b, s in found])
                        for name, found in boxes.items())
    store.close()
    gui = open_window(photos)
    c = gui.w.canvas
    gui.key(Key.Key_R, Mod.ControlModifier | Mod.ShiftModifier, widget=c)
    assert gui.w.image_list.visible_ids() == [ids["a2.png"], ids["a10.png"], ids["a1.png"]]
    assert gui.w.doc.labels.image.path == "a2.png"
    assert gui.w.image_list.proxy.index(0, 0).data() == "0.35  a2.png"

    weak = gui.annotations()[0][1][0]
    gui.wait(lambda: c.box_item(weak.id) is not None)
    assert c.box_item(weak.id).weak  # under the threshold: drawn faint
    gui.click_image(50, 50)  # select it, and Enter makes it a label
    gui.key(Key.Key_Return, widget=c)
    assert gui.store.labels.box(weak.id).state == BoxState.ACCEPTED
    gui.key(Key.Key_Space, widget=c)  # reviewed: it leaves the list, the next least sure is shown
    assert gui.w.doc.labels.image.path == "a10.png" and gui.w.image_list.visible_count() == 2
    gui.key(Key.Key_Space, widget=c)
    assert gui.w.doc.labels.image.path == "a1.png"
    gui.key(Key.Key_Space, widget=c)
    assert [b.state for _, bs in gui.annotations(ids["a10.png"]) for b in bs] == [BoxState.ACCEPTED]
    assert [b.state for _, bs in gui.annotations(ids["a1.png"]) for b in bs] == [BoxState.ACCEPTED, BoxState.PROPOSED]
    assert gui.w.image_list.visible_count() == 0
    assert gui.store.images.get(ids["a1.png"]).state == ImageState.REVIEWED
    gui.key(Key.Key_Z, Mod.ControlModifier, widget=c)  # one step: the accept and the review
    assert [b.state for _, bs in gui.annotations(ids["a1.png"]) for b in bs] == [BoxState.PROPOSED] * 2
    assert gui.store.images.get(ids["a1.png"]).state == ImageState.IN_PROGRESS
