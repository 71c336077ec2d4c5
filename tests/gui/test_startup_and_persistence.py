"""Start-up (model loading, failures, unreadable images), persistence, layout and the CLI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from fakes import FailingGrounder
from grounding_desktop.core import BoxSource, ImageState
from grounding_desktop.store import ProjectStore
from grounding_desktop.ui.shortcuts import ACTIONS, MOUSE

Key = Qt.Key
Mod = Qt.KeyboardModifier
REPO = Path(__file__).resolve().parents[2]


def snapshot(store: ProjectStore):
    return ([(r.path, r.state) for r in store.images.all()],
            {r.path: [(e.text, [(b.id, b.bbox, b.state, b.source, b.score) for b in bs])
                      for e, bs in store.labels.annotations(r.id)] for r in store.images.all()})


def test_every_edit_is_on_disk_at_once_and_after_reopening(open_window, photos, qtbot):
    gui = open_window(photos)
    c = gui.w.canvas
    gui.type_phrase("the white square")
    gui.key(Key.Key_Return)  # accept
    (_, (box,)), = gui.annotations()
    x, y, w, h = box.bbox
    gui.click_image(x + w / 2, y + h / 2)
    gui.drag_image((x + w / 2, y + h / 2), (x + w / 2 + 10, y + h / 2 + 5))  # move
    gui.drag_image((x + w + 10, y + h + 5), (x + w + 20, y + h + 15))  # resize
    gui.type_phrase("a corner")
    gui.key(Key.Key_B, Mod.ControlModifier)
    gui.drag_image((2, 2), (30, 25))  # draw
    gui.key(Key.Key_W, widget=c)  # leave draw mode
    gui.key(Key.Key_Escape)  # clear the phrase: a click on a proposal would accept it
    gui.click_image(x + w / 2 + 10, y + h / 2 + 5)
    gui.key(Key.Key_F2, widget=c)  # rename (the phrase's only box: the phrase itself)
    gui.answer_phrase("the bright square")
    gui.type_phrase("tmp")
    gui.key(Key.Key_Return)
    gui.key(Key.Key_Escape)
    gui.key(Key.Key_Escape)
    (_, (tmp_box,)) = gui.annotations()[-1]
    gui.click_image(tmp_box.bbox[0] + 2, tmp_box.bbox[1] + 2)
    gui.key(Key.Key_Delete, widget=c)  # delete
    gui.key(Key.Key_Space, widget=c)  # review + next
    # A second connection (as after a crash) sees every edit before the window closes.
    live = ProjectStore.open_folder(photos)
    seen = snapshot(live)
    live.close()
    texts = [e for e, _ in seen[1]["a1.png"]]
    assert texts == ["the bright square", "a corner"]
    moved = seen[1]["a1.png"][0][1][0]
    assert moved[1] == pytest.approx((x + 10, y + 5, w + 10, h + 10), abs=1.0)
    assert moved[3] == BoxSource.MODEL_EDITED
    assert dict(seen[0])["a1.png"] == ImageState.REVIEWED
    gui.w.close()
    reopened = ProjectStore.open_folder(photos)
    assert snapshot(reopened) == seen
    reopened.close()
    # ... and a new window shows it.
    gui2 = open_window(photos)
    assert [e.text for e, _ in gui2.annotations(gui2.store.images.by_path()["a1.png"].id)] == texts
    # the model's explanation of the accepted box is still its tooltip in the phrases panel
    gui2.w.show_image(gui2.store.images.by_path()["a1.png"].id)
    gui2.wait(lambda: gui2.w.doc.labels.image.path == "a1.png")
    tree = gui2.w.panel.tree
    tips = [tree.topLevelItem(i).child(j).toolTip(0) for i in range(tree.topLevelItemCount())
            for j in range(tree.topLevelItem(i).childCount())]
    assert any("Why: fake: rank 1 for 'the white square'" in t for t in tips), tips


def test_model_failure_shows_why_and_manual_labelling_works(open_window, photos):
    gui = open_window(photos, factory=FailingGrounder)
    gui.wait(lambda: isinstance(getattr(gui.w, "model_dialog", None), QMessageBox) and gui.w.model_dialog.isVisible())
    assert "weights not found" in gui.w.model_dialog.text()
    assert "unavailable" in gui.w.status.model.text()
    gui.w.model_dialog.accept()
    gui.wait(lambda: QApplication.activeWindow() is gui.w)  # back to the window, as a person would be
    gui.type_phrase("a thing", wait=False)
    gui.wait(lambda: "unavailable" in gui.w.phrase_bar.info.text().lower())
    gui.key(Key.Key_B, Mod.ControlModifier)
    gui.drag_image((10, 10), (60, 50))
    expr, box = gui.only_box()
    assert expr.text == "a thing" and box.source == BoxSource.MANUAL


def test_unreadable_image_shows_a_placeholder_with_the_reason(open_window, photos):
    good = (photos / "a1.png").read_bytes()
    (photos / "a0.png").write_bytes(good[: len(good) // 3])  # truncated
    gui = open_window(photos)
    assert gui.w.doc.labels.image.path == "a0.png"
    texts = gui.w.canvas.message_lines
    assert any("Cannot show" in t for t in texts)
    assert any("truncated" in t for t in texts)
    assert gui.w.image_list.model.data(gui.w.image_list.model.index(0), gui.w.image_list.model.StatusRole) == "error"
    gui.type_phrase("a thing", wait=False)
    gui.wait(lambda: "cannot be read" in gui.w.phrase_bar.info.text())
    gui.key(Key.Key_Space, widget=gui.w.canvas)  # skips on to a readable image
    assert gui.w.doc.labels.image.path == "a1.png"


def test_exif_rotated_image_uses_the_rotated_frame(open_window, tmp_path):
    folder = tmp_path / "exif"
    folder.mkdir()
    img = Image.new("RGB", (300, 100), (90, 90, 90))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90°: shown as 100 x 300
    img.save(folder / "rot.jpg", exif=exif.tobytes())
    gui = open_window(folder)
    rect = gui.w.canvas.image_rect
    assert (rect.width(), rect.height()) == (100, 300)
    gui.type_phrase("thing")
    assert all(p.bbox[0] + p.bbox[2] <= 100 + 1e-6 for p in gui.w.doc.query.proposals)


def test_layout_and_recent_folders_are_remembered(open_window, photos, isolated_settings):
    gui = open_window(photos)
    gui.key(Key.Key_H, Mod.ControlModifier, widget=gui.w.canvas)
    gui.key(Key.Key_F7, widget=gui.w.canvas)  # hide the image list
    assert gui.w.history_dock.isVisible() and not gui.w.images_dock.isVisible()
    gui.w.resize(1000, 700)
    gui.w.close()
    assert isolated_settings.exists()
    gui2 = open_window(photos)
    assert gui2.w.history_dock.isVisible() and not gui2.w.images_dock.isVisible()
    assert not gui2.w.actions_by_name["show_images"].isChecked()
    assert (gui2.w.width(), gui2.w.height()) == (1000, 700) or gui2.w.width() == 1200  # offscreen may clamp
    gui2.w.fill_recent_menu()
    labels = [a.text() for a in gui2.w.recent_menu.actions()]
    assert any(str(photos.resolve()) in t for t in labels)


def test_every_action_has_its_table_shortcut_and_is_in_help(gui):
    for spec in ACTIONS:
        action = gui.w.actions_by_name[spec.name]
        assert [s.toString() for s in action.shortcuts()] == [QKeySequence(k).toString() for k in spec.keys], spec.name
        assert action.shortcuts(), f"{spec.name} has no shortcut"
    keys = [QKeySequence(k).toString() for spec in ACTIONS for k in spec.keys]
    assert len(keys) == len(set(keys)), "a key is bound twice"
    gui.key(Key.Key_F1, widget=gui.w.canvas)
    dlg = gui.w.shortcuts_dialog
    assert dlg.isVisible()
    assert dlg.table.rowCount() == len(ACTIONS) + len(MOUSE)
    dlg.reject()


def test_readme_lists_the_shortcuts():
    from grounding_desktop.ui.shortcuts import markdown_table

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "paste `python -m grounding_desktop.ui.shortcuts` into the README"


def test_screenshot_command_saves_the_window(tmp_path, photos):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(Path(__file__).parent),
               GROUNDING_DESKTOP_SETTINGS=str(tmp_path / "s.ini"))
    proc = subprocess.run([sys.executable, "-m", "grounding_desktop.cli", str(photos), "--phrase", "the white square",
                           "--screenshot", str(out), "--grounder", "fakes:FakeGrounder"],
                          env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as shot:
        assert shot.size[0] >= 1000 and shot.size[1] >= 600
        # The proposals' dashed yellow/orange is on screen.
        colours = shot.convert("RGB").getcolors(maxcolors=1 << 20)
        assert any(r > 240 and 130 < g < 160 and b < 30 for _, (r, g, b) in colours)


def test_screenshot_reports_a_model_that_cannot_load(tmp_path, photos):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(Path(__file__).parent),
               GROUNDING_DESKTOP_SETTINGS=str(tmp_path / "s.ini"))
    proc = subprocess.run([sys.executable, "-m", "grounding_desktop.cli", str(photos), "--phrase", "x",
                           "--screenshot", str(out), "--grounder", "fakes:FailingGrounder"],
                          env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 1
    assert "weights not found" in proc.stderr and out.exists()


def test_cli_refuses_a_missing_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grounding_desktop.cli", str(tmp_path / "nope"), "--screenshot",
                           str(tmp_path / "x.png")], capture_output=True, text=True, timeout=60, cwd=REPO,
                          env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert proc.returncode == 2 and "folder not found" in proc.stderr


def test_empty_folder_says_so_and_a_rescan_finds_new_images(qtbot, tmp_path):
    from gui_helpers import Driver, make_window
    from fakes import FakeGrounder
    from grounding_desktop.store import ProjectStore

    folder = tmp_path / "empty"
    folder.mkdir()
    store = ProjectStore.open_folder(folder)
    w = make_window(qtbot, store, FakeGrounder, rescan=True)
    d = Driver(qtbot, w)
    d.wait(lambda: not w.session.scanning)
    d.wait(lambda: "No images here" in w.canvas.message_lines)
    Image.new("RGB", (50, 40), (1, 2, 3)).save(folder / "new.png")
    d.key(Key.Key_F5, widget=w.canvas)
    d.wait(lambda: w.doc.labels.image is not None and w.last_painted_id == w.doc.labels.image.id)
    assert w.doc.labels.image.path == "new.png" and w.image_list.count.text() == "1 / 1"
    w.close()


def test_huge_image_is_downscaled_for_display_not_for_coordinates(open_window, tmp_path):
    folder = tmp_path / "huge"
    folder.mkdir()
    Image.new("RGB", (5000, 400), (120, 80, 40)).save(folder / "wide.png")
    gui = open_window(folder)
    c = gui.w.canvas
    assert (c.image_rect.width(), c.image_rect.height()) == (5000, 400)
    assert c.display_size.width() == gui.w.display.loader.max_side < 5000
    gui.type_phrase("thing")
    best = gui.expected((5000, 400), "thing")[0]
    gui.key(Key.Key_Return)
    _, box = gui.only_box()
    assert box.bbox == pytest.approx(best.bbox)  # original pixels
    item = c.box_item(box.id)
    assert item.xywh() == pytest.approx(best.bbox)


def test_reopening_a_project_starts_where_the_user_left_off(open_window, photos, tmp_path):
    gui = open_window(photos)
    gui.key(Key.Key_End, widget=gui.w.canvas)
    assert gui.w.doc.labels.image.path == "a10.png"
    gui.w.close()
    again = open_window(photos)
    assert again.w.doc.labels.image.path == "a10.png" and again.w.image_list.count.text() == "3 / 3"
    again.w.close()
    other = tmp_path / "other"
    other.mkdir()
    for name in ("b1.png", "b2.png"):
        Image.new("RGB", (40, 30), (9, 9, 9)).save(other / name)
    assert open_window(other).w.doc.labels.image.path == "b1.png"  # each project has its own place
    (photos / "a10.png").unlink()  # the image left on is gone (the scan on opening drops it): the first
    assert open_window(photos).w.doc.labels.image.path == "a1.png"


def test_quitting_while_the_model_loads_ends_the_process_at_once(tmp_path, photos):
    """The window closes (here: the screenshot gives up waiting after 1 s) while a model that takes
    an hour to load is loading: the process ends then, without waiting for it or a traceback."""
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(Path(__file__).parent),
               GROUNDING_DESKTOP_SETTINGS=str(tmp_path / "s.ini"), GROUNDING_DESKTOP_SCREENSHOT_TIMEOUT="1")
    proc = subprocess.run([sys.executable, "-m", "grounding_desktop.cli", str(photos), "--phrase", "the white square",
                           "--screenshot", str(out), "--grounder", "fakes:slow_grounder"],
                          env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 1 and "not everything had finished" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and out.exists()


def test_an_action_without_its_handler_fails_when_the_actions_are_built(gui):
    from grounding_desktop.ui.window_actions import check_handlers

    handlers = {a.name: (lambda: None) for a in ACTIONS if not a.checkable and a.name not in ("undo", "redo")}
    check_handlers(handlers)  # the window's own table passed this when it was built
    del handlers["rescan"]
    with pytest.raises(ValueError, match="rescan"):
        check_handlers(handlers)
    with pytest.raises(ValueError, match="resacn"):
        check_handlers({**handlers, "rescan": lambda: None, "resacn": lambda: None})
