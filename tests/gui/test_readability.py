"""What a labeller reads: the phrase bar at the default size, the shortcuts table, long phrases,
the side panels after a resize, and the window before a folder is open."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from fakes import FakeGrounder
from grounding_desktop.project import open_project
from grounding_desktop.ui.main_window import MainWindow
from grounding_desktop.ui.model_start import ModelStart
from grounding_desktop.ui.settings import add_recent_folder, app_settings

Key = Qt.Key
Mod = Qt.KeyboardModifier


def first_run_window(qtbot, store=None) -> MainWindow:
    """A window at the size and layout of a first start (nothing remembered yet)."""
    w = MainWindow(store, ModelStart(FakeGrounder))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_the_phrase_bar_shows_its_whole_hint_and_keeps_its_height_whatever_it_says(qtbot, photos, open_window):
    store, _ = open_project(photos)
    w = first_run_window(qtbot, store)
    edit = w.phrase_bar.edit
    assert edit.fontMetrics().horizontalAdvance(edit.placeholderText()) + 40 <= edit.width()  # padding, clear button
    from gui_helpers import Driver

    gui = Driver(qtbot, w)
    gui.wait_ready()
    bar_height, zoom = w.phrase_bar.height(), w.canvas.zoom
    w.phrase_bar.threshold.setValue(0.95)
    gui.type_phrase("the horse")  # the best matches score alike, under the threshold: the longest hint
    info = w.phrase_bar.info
    assert info.text().startswith("The best matches score alike") and info.toolTip() == info.text()
    assert info.shown_text() == info.text() or info.shown_text().endswith("…")  # one line, cut if need be
    for text in ("?!", "a cup", ""):
        gui.type_phrase(text, wait=False)
        QApplication.processEvents()
        assert (w.phrase_bar.height(), w.canvas.zoom) == (bar_height, zoom)  # the image never re-fits
    w.close()


def test_the_shortcuts_dialog_shows_what_each_action_does_in_full(gui):
    gui.key(Key.Key_F1, widget=gui.w.canvas)
    table = gui.w.shortcuts_dialog.table
    QApplication.processEvents()
    width = table.columnWidth(3)
    for row in range(table.rowCount()):
        text = table.item(row, 3).text()
        needed = table.fontMetrics().boundingRect(QRect(0, 0, width - 8, 10_000), int(Qt.TextFlag.TextWordWrap),
                                                  text).height()
        assert table.rowHeight(row) >= needed, text
    gui.w.shortcuts_dialog.resize(700, 600)  # narrower: the rows grow
    QApplication.processEvents()
    assert table.rowHeight(0) >= table.fontMetrics().boundingRect(
        QRect(0, 0, table.columnWidth(3) - 8, 10_000), int(Qt.TextFlag.TextWordWrap), table.item(0, 3).text()).height()


def test_a_long_phrase_shows_whole_in_a_tooltip_and_its_column_can_grow(gui):
    long_phrase = "the small brown dog " + "sitting next to the red bicycle leaning on the old wall " * 3
    gui.type_phrase(long_phrase, wait=False)
    gui.key(Key.Key_Return, Mod.ShiftModifier)  # stored: not in this image
    row = next(r for r in gui.w.panel.rows() if r.text(1) == "no target")
    text = " ".join(long_phrase.split())
    assert all(text in row.toolTip(c) for c in range(4))
    tree = gui.w.panel.tree
    assert tree.visualItemRect(row).width() < tree.fontMetrics().horizontalAdvance(text)  # cut on screen
    tree.header().resizeSection(0, 2000)  # the user drags the column wider
    assert tree.columnWidth(0) == 2000
    gui.w.panel_dock.resize(gui.w.panel_dock.width() + 50, gui.w.panel_dock.height())
    QApplication.processEvents()
    assert tree.columnWidth(0) == 2000  # kept while the panel changes


def test_the_side_panels_come_back_after_the_window_was_shrunk_to_its_minimum(qtbot, photos):
    store, _ = open_project(photos)
    w = first_run_window(qtbot, store)
    before = (w.images_dock.width(), w.panel_dock.width())
    size = w.size()
    w.resize(w.minimumSizeHint())
    QApplication.processEvents()
    assert w.panel_dock.width() < before[1]  # squeezed
    w.resize(size)
    QApplication.processEvents()
    assert (w.images_dock.width(), w.panel_dock.width()) == before
    w.close()


def test_with_no_folder_open_the_window_offers_open_and_the_recent_folders(qtbot, photos, tmp_path, monkeypatch):
    settings = app_settings()
    add_recent_folder(settings, tmp_path / "gone")  # no longer there: not offered
    add_recent_folder(settings, photos)
    w = first_run_window(qtbot)
    assert w.welcome.isVisible() and not w.canvas.isVisible()
    assert [b.text() for b in w.welcome.recent_buttons] == [str(photos.resolve())]
    qtbot.mouseClick(w.welcome.recent_buttons[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.doc.labels.image is not None)
    assert w.canvas.isVisible() and w.doc.labels.store.root == Path(str(photos.resolve()))
    w.close()
    other = first_run_window(qtbot)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(photos))
    qtbot.mouseClick(other.welcome.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: other.doc.labels.image is not None)
    assert other.doc.labels.image.path == "a1.png"
    other.close()


def test_review_by_doubt_keeps_the_image_lists_width(qtbot, photos):
    """The image list widened by ~65 px on Review by Doubt and pushed the image aside."""
    from gui_helpers import Driver

    from grounding_desktop.core import BoxState, Proposal
    from grounding_desktop.editing.edits import proposal_box

    store = open_project(photos)[0]
    first = store.images.all()[0]
    store.proposals.add([(first.id, "the square", [proposal_box(Proposal((20, 20, 60, 60), 0.4, "square", "",
                                                                         model_version="m"), BoxState.PROPOSED)])])
    w = first_run_window(qtbot, store)
    Driver(qtbot, w).wait_ready()
    width, canvas = w.images_dock.width(), w.canvas.width()
    w.folder.review_by_doubt()
    QApplication.processEvents()
    assert (w.images_dock.width(), w.canvas.width()) == (width, canvas)
    w.close()


def test_status_messages_are_whole_beside_the_permanent_labels(qtbot, photos):
    """Messages were cut ("Scan done: 20 new, 0 gone, 0 re…", "Draw mode: drag…") by the labels
    on the right, with the feature pass showing its progress."""
    from gui_helpers import Driver

    w = first_run_window(qtbot, open_project(photos)[0])
    Driver(qtbot, w).wait_ready()
    w.resize(1200, 800)
    w.folder.pass_status.show_progress(80, 300)
    bar = w.statusBar()
    for show in (lambda: w.actions_by_name["draw_mode"].setChecked(True), w.rescan):
        show()
        qtbot.waitUntil(lambda: bar.currentMessage().startswith(("Draw mode", "Scan:")))
        QApplication.processEvents()
        message = bar.currentMessage()
        room = min(c.geometry().left() for c in bar.children() if getattr(c, "isVisible", None) and c.isVisible()
                   and c.isWidgetType() and c.geometry().left() > 0)
        assert bar.fontMetrics().horizontalAdvance(message) + 12 <= room, message
        w.actions_by_name["draw_mode"].setChecked(False)
    w.close()


def test_another_folder_shows_no_latency_of_the_last_ones_proposals(gui, tmp_path):
    from support import make_image

    gui.type_phrase("the white square")
    assert gui.w.status.latency.text() != "Proposals: – ms"
    make_image(tmp_path / "other" / "b.png")
    assert gui.w.open_folder(tmp_path / "other")
    assert gui.w.status.latency.text() == "Proposals: – ms"


def test_the_phrases_panel_shows_every_column_whole(qtbot, photos):
    """At the first start's width the panel cut its "Source" header and "model+e…"."""
    from gui_helpers import Driver

    w = first_run_window(qtbot, open_project(photos)[0])
    gui = Driver(qtbot, w)
    gui.wait_ready()
    gui.type_phrase("the white square")
    gui.key(Key.Key_Return)
    _, box = gui.only_box()
    w.doc.labels.move_box(box.id, (5, 5, box.bbox[2], box.bbox[3]))  # model+edited, its longest source
    QApplication.processEvents()
    tree, fm = w.panel.tree, w.panel.tree.fontMetrics()
    header = tree.headerItem()
    assert [r.text(3) for r in w.panel.rows()][-1] == "model+edited"
    for c in (1, 2, 3):
        widest = max([fm.horizontalAdvance(r.text(c)) for r in w.panel.rows()] + [fm.horizontalAdvance(header.text(c))])
        assert tree.columnWidth(c) >= widest, header.text(c)
    assert sum(tree.columnWidth(c) for c in range(4)) <= tree.viewport().width(), [tree.columnWidth(c) for c in range(4)]
    w.close()
