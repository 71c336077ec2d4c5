"""The window with the real pretrained grounder on a bundled sample photo (no fake)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui_helpers import REAL_MODEL_MS
from grounding_desktop.editing.state import ModelState

pytestmark = pytest.mark.model

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
# sample file stem -> (phrase, COCO class the detector should find for it)
CASES = {"chelsea": ("the cat", "cat"), "coffee": ("the cup", "cup"), "astronaut": ("the woman", "person")}


def _case():
    for stem, (phrase, label) in CASES.items():
        hits = sorted(SAMPLES.glob(f"{stem}.*"))
        if hits:
            return hits[0], phrase, label
    return None


def test_real_model_grounds_a_phrase_on_a_sample_photo(open_window, tmp_path):
    case = _case()
    if case is None:
        pytest.skip(f"no sample photo among {sorted(CASES)} in {SAMPLES}")
    photo, phrase, label = case
    folder = tmp_path / "samples"
    folder.mkdir()
    shutil.copy(photo, folder / photo.name)

    from grounding_desktop.grounder_factory import loaded_grounder

    gui = open_window(folder, factory=loaded_grounder, ready_timeout=240_000)
    assert gui.w.host.state == ModelState.READY, gui.w.host.error
    gui.type_phrase(phrase, timeout=REAL_MODEL_MS)
    best = gui.w.doc.query.proposals[0]
    rec = gui.w.doc.labels.image
    x, y, w, h = best.bbox
    assert best.modules.get("detector_label") == label
    assert 0 <= x and 0 <= y and x + w <= rec.width + 0.5 and y + h <= rec.height + 0.5
    assert w * h > 0.2 * rec.width * rec.height  # each of these photos is mostly its subject
    assert best.explanation and "ms" in gui.w.status.latency.text()
    # Each proposal's tag names what the model's answer says its score rests on, as its tooltip does.
    for item, p in zip(gui.w.canvas.proposal_items(), gui.w.doc.query.proposals):
        assert item.label.text.split("  ")[-1] == p.label and item.toolTip().startswith(item.label.text)
    gui.key(Qt.Key.Key_Return)
    expr, box = gui.only_box()
    assert expr.text == phrase
    assert box.bbox == pytest.approx(best.bbox)
    assert box.model_version == gui.w.host.info.model_version
    assert box.explanation == best.explanation  # stored: the tooltip survives a restart


def test_real_model_search_ranks_the_photo_with_the_thing_first(open_window, tmp_path):
    """The app's search with the real model in its process, over images the background pass
    prepared: the cat photo comes first for "the cat", the coffee for "a cup"; Enter opens it."""
    from PIL import Image

    from grounding_desktop.grounder_factory import loaded_grounder

    folder = tmp_path / "samples"
    folder.mkdir()
    for photo in sorted(SAMPLES.glob("*.jpg")):
        with Image.open(photo) as im:
            im.convert("RGB").resize((320, 240)).save(folder / photo.name)
    gui = open_window(folder, factory=loaded_grounder, ready_timeout=240_000)
    gui.wait(lambda: not gui.w.folder.folder_pass.running, 120_000)
    panel = gui.w.folder.search
    gui.key(Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier, widget=gui.w.canvas)
    for phrase, first in (("the cat", "chelsea.jpg"), ("a cup", "coffee.jpg")):
        gui.qtbot.keyClick(panel.edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        gui.qtbot.keyClicks(panel.edit, phrase)
        gui.wait(lambda: panel.phrase == phrase and bool(panel.shown()), 60_000)
        assert panel.shown()[0][0].path == first, [(r.path, p.score) for r, p in panel.shown()]
    record, proposal = panel.shown()[0]
    gui.key(Qt.Key.Key_Return, widget=panel.edit)
    gui.wait(lambda: gui.w.doc.labels.image.id == record.id and gui.w.doc.query.up_to_date, 60_000)
    assert gui.w.doc.query.current_proposal().bbox == proposal.bbox  # the box the search matched, highlighted
