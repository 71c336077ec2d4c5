"""Moving through the images, reviewing, filtering, the view gestures, and undo across images."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from grounding_desktop.core import ImageState
from grounding_desktop.ui.image_list import ImageFilter

Key = Qt.Key
Mod = Qt.KeyboardModifier


def names(gui):
    return gui.w.doc.labels.image.path


def test_next_previous_with_d_a_and_page_keys(gui):
    c = gui.w.canvas
    assert names(gui) == "a1.png" and gui.w.image_list.count.text() == "1 / 3"
    gui.key(Key.Key_D, widget=c)
    assert names(gui) == "a2.png" and gui.w.image_list.count.text() == "2 / 3"
    gui.key(Key.Key_PageDown, widget=c)
    assert names(gui) == "a10.png"  # natural order: a2 before a10
    gui.key(Key.Key_PageDown, widget=c)
    assert names(gui) == "a10.png"  # stays on the last one
    gui.key(Key.Key_A, widget=c)
    assert names(gui) == "a2.png"
    gui.key(Key.Key_PageUp, widget=c)
    assert names(gui) == "a1.png"
    gui.key(Key.Key_End, widget=c)
    assert names(gui) == "a10.png"
    gui.key(Key.Key_Home, widget=c)
    assert names(gui) == "a1.png"
    gui.wait(lambda: gui.w.last_painted_id == gui.w.doc.labels.image.id)


def test_page_down_works_from_the_phrase_bar_and_keeps_the_phrase(gui):
    gui.type_phrase("a thing")
    gui.key(Key.Key_PageDown)
    assert names(gui) == "a2.png"
    gui.wait(lambda: gui.w.doc.query.up_to_date and gui.w.doc.query.answer.query.image_id == gui.w.doc.labels.image.id)
    assert len(gui.w.canvas.proposal_items()) == 5


def test_space_marks_reviewed_and_goes_to_next_unreviewed(gui):
    c = gui.w.canvas
    c.setFocus()
    gui.key(Key.Key_D, widget=c)  # a2
    gui.key(Key.Key_Space, widget=c)  # a2 reviewed -> a10
    assert names(gui) == "a10.png"
    gui.key(Key.Key_Space, widget=c)  # a10 reviewed -> wraps to a1 (a2 is reviewed)
    assert names(gui) == "a1.png"
    states = {r.path: r.state for r in gui.store.images.all()}
    assert states == {"a1.png": ImageState.NEW, "a2.png": ImageState.REVIEWED, "a10.png": ImageState.REVIEWED}
    assert gui.w.image_list.model.record(gui.store.images.by_path()["a2.png"].id).state == ImageState.REVIEWED
    # Undo brings back the state and shows the image it touched.
    gui.key(Key.Key_Z, Mod.ControlModifier, widget=c)
    assert names(gui) == "a10.png"
    assert gui.store.images.by_path()["a10.png"].state == ImageState.NEW


def test_editing_a_reviewed_image_sets_it_back_to_in_progress_in_the_same_undo_step(gui):
    gui.type_phrase("x")
    gui.key(Key.Key_Return)
    image_id = gui.w.doc.labels.image.id
    gui.key(Key.Key_Space, widget=gui.w.canvas)  # reviewed, and on to the next
    gui.key(Key.Key_A, widget=gui.w.canvas)  # back to it
    model = gui.w.image_list.model
    assert model.record(image_id).state == ImageState.REVIEWED
    gui.type_phrase("y")
    gui.key(Key.Key_Return)
    assert model.record(image_id).state == ImageState.IN_PROGRESS and "in progress" in gui.w.windowTitle()
    gui.key(Key.Key_Z, Mod.ControlModifier)  # one step undoes the edit and gives the state back
    assert model.record(image_id).state == ImageState.REVIEWED and [e.text for e, _ in gui.annotations()] == ["x"]
    view = gui.w.history
    shown = [view.model().index(r, 0).data() for r in range(view.model().rowCount())]
    assert shown == ["Opened project", "Accept “x” (0.90) · a1.png", "Mark reviewed · a1.png",
                     "Accept “y” (0.90) · a1.png"]  # each step says which image it was made on


def test_space_drag_pans_instead_of_reviewing(gui):
    c = gui.w.canvas
    c.setFocus()
    gui.key(Key.Key_Equal, Mod.ControlModifier, widget=c)  # zoom in so there is room to pan
    before = c.mapToScene(c.viewport().rect().center())
    QTest.keyPress(c, Key.Key_Space)
    gui.drag_image((160, 120), (120, 100))
    QTest.keyRelease(c, Key.Key_Space)
    after = c.mapToScene(c.viewport().rect().center())
    assert (after - before).manhattanLength() > 5
    assert names(gui) == "a1.png"
    assert gui.store.images.by_path()["a1.png"].state == ImageState.NEW


def test_middle_button_pans(gui):
    c = gui.w.canvas
    c.zoom_by(3.0)
    before = c.mapToScene(c.viewport().rect().center())
    gui.drag_image((160, 120), (100, 90), button=Qt.MouseButton.MiddleButton)
    after = c.mapToScene(c.viewport().rect().center())
    assert after.x() > before.x() + 10 and after.y() > before.y() + 5


def test_wheel_zooms_around_the_cursor(gui):
    c = gui.w.canvas
    anchor = QPointF(80, 60)  # image pixels
    pos = c.mapFromScene(anchor)
    z0 = c.zoom
    ev = QWheelEvent(QPointF(pos), QPointF(c.viewport().mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 240),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(c.viewport(), ev)
    assert c.zoom > z0 * 1.3
    under = c.mapToScene(pos)
    assert abs(under.x() - anchor.x()) < 3 / c.zoom + 1 and abs(under.y() - anchor.y()) < 3 / c.zoom + 1
    gui.key(Key.Key_F, widget=c)  # fit again
    assert c.zoom == pytest.approx(z0)


def test_filter_by_state_and_count(gui):
    gui.type_phrase("x")
    gui.key(Key.Key_Return)  # a1 becomes "in progress"
    panel = gui.w.image_list
    panel.set_filter(ImageFilter.IN_PROGRESS)
    assert [gui.store.images.get(i).path for i in panel.visible_ids()] == ["a1.png"]
    assert panel.count.text() == "1 / 1  (of 3)"
    panel.set_filter(ImageFilter.NEW)
    assert [gui.store.images.get(i).path for i in panel.visible_ids()] == ["a2.png", "a10.png"]
    assert panel.count.text().startswith("– / 2")
    gui.key(Key.Key_D, widget=gui.w.canvas)  # next walks the filtered list
    assert names(gui) == "a2.png"
    panel.set_filter(ImageFilter.ALL)
    assert panel.count.text() == "2 / 3"


def test_clicking_the_list_shows_that_image(gui):
    view = gui.w.image_list.view
    idx = gui.w.image_list.proxy.index(2, 0)
    gui.qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(idx).center())
    assert names(gui) == "a10.png"
    gui.wait(lambda: gui.w.last_painted_id == gui.w.doc.labels.image.id)
    assert gui.w.canvas.has_image


def test_undo_of_an_edit_on_another_image_goes_back_to_it(gui):
    gui.type_phrase("x")
    gui.key(Key.Key_Return)
    first = gui.w.doc.labels.image.id
    gui.key(Key.Key_PageDown)
    assert gui.w.doc.labels.image.id != first
    gui.key(Key.Key_Z, Mod.ControlModifier)
    assert gui.w.doc.labels.image.id == first
    assert gui.annotations(first) == []


def test_title_and_list_show_the_state_in_words(gui):
    assert gui.w.windowTitle().startswith("a1.png (new) — ")
    gui.type_phrase("x")
    gui.key(Key.Key_Return)
    assert gui.w.windowTitle().startswith("a1.png (in progress) — ")
    model = gui.w.image_list.model
    assert model.data(model.index(0), Qt.ItemDataRole.ToolTipRole).endswith("· in progress")
    assert "in progress" in gui.w.status.image.text()


def test_a_rescan_clears_the_undo_history_only_when_rows_changed_under_it(gui, photos):
    gui.type_phrase("x")
    gui.key(Key.Key_Return)
    stack = gui.w.undo_stack
    gui.key(Key.Key_F5, widget=gui.w.canvas)  # nothing changed on disk
    gui.wait(lambda: not gui.w.session.scanning)
    assert stack.count() == 1
    (photos / "a10.png").unlink()  # an unlabelled image goes: its row is deleted
    gui.key(Key.Key_F5, widget=gui.w.canvas)
    gui.wait(lambda: not gui.w.session.scanning)
    assert stack.count() == 0
    assert "undo history was cleared" in gui.w.statusBar().currentMessage()
    gui.key(Key.Key_Z, Mod.ControlModifier, widget=gui.w.canvas)  # nothing to undo, nothing breaks
    assert [e.text for e, _ in gui.annotations()] == ["x"]


def highlighted_rows(w) -> list[int]:
    """Rows of the image list drawn highlighted in the window as it is on screen (its backing store),
    not as a fresh render would draw it: stale highlights only show there."""
    from PySide6.QtGui import QPalette

    view = w.image_list.view
    shot = QApplication.primaryScreen().grabWindow(w.winId()).toImage()
    highlight = view.palette().color(QPalette.ColorRole.Highlight).name()
    rows = []
    for r in range(w.image_list.visible_count()):
        rect = view.visualRect(w.image_list.proxy.index(r, 0))
        if rect.bottom() < view.viewport().height():
            p = view.viewport().mapTo(w, rect.topRight())
            if shot.pixelColor(p.x() - 3, p.y() + rect.height() // 2).name() == highlight:
                rows.append(r)
    return rows


def test_the_image_list_highlights_only_the_current_image(open_window, tmp_path):
    from PIL import Image

    folder = tmp_path / "twelve"
    folder.mkdir()
    for i in range(12):
        Image.new("RGB", (64, 48), (20 * i, 90, 90)).save(folder / f"im{i:02d}.png")
    gui = open_window(folder)
    w, view = gui.w, gui.w.image_list.view
    gui.qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.visualRect(w.image_list.proxy.index(0, 0)).center())
    gui.click_image(10, 10)
    for key in (Key.Key_D, Key.Key_D, Key.Key_D, Key.Key_A):
        gui.key(key, widget=w.canvas)
    assert w.image_list.count.text() == "3 / 12"
    gui.wait(lambda: highlighted_rows(w) == [2])  # once repainted: the one row (stale rows never go)
    gui.key(Key.Key_PageDown, widget=w.canvas)
    toolbar = w.toolbar
    for name in ("next_image", "next_image", "prev_image"):
        gui.qtbot.mouseClick(toolbar.widgetForAction(w.actions_by_name[name]), Qt.MouseButton.LeftButton)
    assert w.image_list.count.text() == "5 / 12"
    gui.wait(lambda: highlighted_rows(w) == [4])
    gui.key(Key.Key_End, widget=w.canvas)
    gui.key(Key.Key_Home, widget=w.canvas)
    assert w.image_list.count.text() == "1 / 12"
    gui.wait(lambda: highlighted_rows(w) == [0])
