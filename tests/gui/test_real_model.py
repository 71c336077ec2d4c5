"""The window with the real pretrained grounder on a bundled sample photo (no fake)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

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

    from grounding_desktop.ui.workers import default_grounder_factory

    gui = open_window(folder, factory=default_grounder_factory, ready_timeout=240_000)
    assert gui.w.host.state == ModelState.READY, gui.w.host.error
    gui.type_phrase(phrase)
    best = gui.w.doc.proposals[0]
    rec = gui.w.doc.image
    x, y, w, h = best.bbox
    assert best.modules.get("detector_label") == label
    assert 0 <= x and 0 <= y and x + w <= rec.width + 0.5 and y + h <= rec.height + 0.5
    assert w * h > 0.2 * rec.width * rec.height  # each of these photos is mostly its subject
    assert best.explanation and "ms" in gui.w.status.latency.text()
    # Each proposal is labelled with what the detector saw there, not with the phrase's class.
    shown = [item.label.text for item in gui.w.canvas.proposal_items()]
    assert [t.split("  ")[-1] for t in shown] == [p.modules["detector_label"] or "object" for p in gui.w.doc.proposals]
    gui.key(Qt.Key.Key_Return)
    expr, box = gui.only_box()
    assert expr.text == phrase
    assert box.bbox == pytest.approx(best.bbox)
    assert box.model_version == gui.w.host.grounder.model_version
    assert box.explanation == best.explanation  # stored: the tooltip survives a restart
