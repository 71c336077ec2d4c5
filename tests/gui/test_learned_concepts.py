"""The app learns a thing no detector class names from the user's boxes, with the real model: a
box drawn on the first picture and a proposal accepted on the second make the third picture
propose the thing first; Grounding → Evaluate then judges each picture by the others."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from gui_helpers import REAL_MODEL_MS
from support import make_gizmo_photos
from grounding_desktop.core import iou_xywh
from grounding_desktop.editing.state import ModelState

pytestmark = pytest.mark.model
Key, Mod = Qt.Key, Qt.KeyboardModifier


def _next_image(gui, name: str) -> None:
    gui.key(Key.Key_D, widget=gui.w.canvas)
    gui.wait(lambda: gui.w.doc.labels.image.path == name and gui.w.last_painted_id == gui.w.doc.labels.image.id)


def test_boxes_accepted_on_two_pictures_teach_the_third(open_window, tmp_path, qtbot):
    from grounding_desktop.grounder_factory import loaded_grounder

    photos = make_gizmo_photos(tmp_path / "gizmos", 3)
    gui = open_window(photos[0][0].parent, factory=loaded_grounder, ready_timeout=240_000)
    assert gui.w.host.state == ModelState.READY, gui.w.host.error

    # Picture 1: the model does not know the word; the user draws the box (Ctrl+B, drag).
    (x, y, w, h) = photos[0][1]
    gui.type_phrase("the gizmo", timeout=REAL_MODEL_MS)
    assert iou_xywh(gui.w.doc.query.proposals[0].bbox, photos[0][1]) < 0.5
    gui.key(Key.Key_B, Mod.ControlModifier)
    gui.drag_image((x, y), (x + w, y + h))
    gui.key(Key.Key_Escape, widget=gui.w.canvas)  # leave draw mode

    # Picture 2: the user accepts the proposal that holds the thing (Tab to it, Enter).
    _next_image(gui, "gizmo2.png")
    gui.type_phrase("the gizmo", timeout=REAL_MODEL_MS)
    shown = gui.w.doc.query.proposals
    best = max(range(len(shown)), key=lambda i: iou_xywh(shown[i].bbox, photos[1][1]))
    assert iou_xywh(shown[best].bbox, photos[1][1]) >= 0.75
    for _ in range(best):
        gui.key(Key.Key_Tab, widget=gui.w.phrase_bar.edit)
    gui.key(Key.Key_Return, widget=gui.w.phrase_bar.edit)
    (expr, (accepted,)), = gui.annotations()
    assert expr.text == "the gizmo" and accepted.bbox == pytest.approx(shown[best].bbox)

    # Picture 3: the first proposal is the thing, learned from those two boxes.
    _next_image(gui, "gizmo3.png")
    gui.type_phrase("the gizmo", timeout=REAL_MODEL_MS)
    first = gui.w.doc.query.proposals[0]
    assert iou_xywh(first.bbox, photos[2][1]) >= 0.75
    assert "learned from 2 of your boxes" in first.explanation
    assert gui.store.embeddings.read(gui.w.host.info.embedding_model).keys() == \
        {b.id for i in (1, 2) for _, bs in gui.annotations(i) for b in bs}  # kept in the project

    # Grounding → Evaluate: each labelled picture judged by the other one.
    gui.key(Key.Key_Return, widget=gui.w.phrase_bar.edit)
    gui.w.actions_by_name["evaluate"].trigger()
    dialog = gui.w.transfer_dialog
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is not None and not dialog.job.running
                    and dialog.run_button.isEnabled(), timeout=120_000)
    cells = [[dialog.table.item(r, c).text() for c in range(dialog.table.columnCount())]
             for r in range(dialog.table.rowCount())]
    assert cells[0][:3] == ["the gizmo", "3", "100 %"] and cells[0][5] == "concept 3"
    assert cells[0][4] in ("none above 0.5", "1 of 1", "2 of 2", "3 of 3")  # every top box was right
    counts = [int(dialog.bins_table.item(r, 1).text()) for r in range(dialog.bins_table.rowCount())]
    assert len(counts) == 10 and sum(counts) == 3
    assert dialog.picture.pixmap().size().toTuple() == (760, 320)
    assert "leave-one-image-out" in dialog.summary.toPlainText()


def test_a_reopened_project_proposes_what_its_boxes_taught_at_once(open_window, tmp_path):
    from grounding_desktop.core import Box, BoxSource, BoxState
    from grounding_desktop.project import open_project
    from grounding_desktop.grounder_factory import loaded_grounder

    photos = make_gizmo_photos(tmp_path / "gizmos", 3)
    store, _ = open_project(photos[0][0].parent)
    for path, box in photos[1:]:  # labelled in an earlier session
        store.labels.add_expression(store.images.by_path()[path.name].id, "the gizmo",
                             [Box(0, 0, box, BoxState.ACCEPTED, BoxSource.MANUAL)])
    store.close()
    gui = open_window(photos[0][0].parent, factory=loaded_grounder, ready_timeout=240_000)
    assert gui.w.doc.labels.image.path == "gizmo1.png"
    gui.type_phrase("the gizmo", timeout=REAL_MODEL_MS)  # the first proposal after the model loaded
    first = gui.w.doc.query.proposals[0]
    assert iou_xywh(first.bbox, photos[0][1]) >= 0.75
    assert "learned from 2 of your boxes" in first.explanation
