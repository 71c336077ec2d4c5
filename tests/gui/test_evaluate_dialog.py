"""Grounding → Evaluate shows how far the model's scores can be trusted: per phrase how often a top
box scoring above 0.5 was right, the reliability table, and the picture of both. The model here
answers each phrase with scripted top boxes (scores and right or wrong), as the model process
would; everything else (the plan read from the project, the judging, the picture) is the app's."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from grounding_desktop.core import Box, Proposal
from grounding_desktop.evaluation import Outcome
from grounding_desktop.project import open_project
from grounding_desktop.ui.evaluate_dialog import PICTURE_SIZE, EvaluateDialog

TRUTH = (40.0, 40.0, 81.0, 101.0)
ANSWERS = {"the white box": [(0.92, True), (0.81, False), (0.35, True)], "a square": [(0.2, False)]}


class ScriptedModel:
    """The window's model host, answering ``evaluate`` from ``ANSWERS`` (phrase -> (score, right) in
    the order the images come)."""

    ready = True
    info = SimpleNamespace(embedding_model="scripted")

    def evaluate(self, plan, progress=None, cancelled=None):
        left = {phrase: list(answers) for phrase, answers in ANSWERS.items()}
        tops = []
        for image in plan.images:
            shots = [left[phrase].pop(0) for phrase, _ in image.phrases]
            tops.append(tuple(Proposal(TRUTH if right else (0.0, 0.0, 20.0, 20.0), score) for score, right in shots))
        return Outcome(tuple(tops))


@pytest.fixture
def store(photos):
    s, _ = open_project(photos)
    for path in ("a1.png", "a2.png", "a10.png"):
        s.labels.add_expression(s.images.by_path()[path].id, "the white box", [Box(0, 0, TRUTH)])
    s.labels.add_expression(s.images.by_path()["a1.png"].id, "a square", [Box(0, 0, TRUTH)])
    yield s
    s.close()


def test_evaluate_shows_the_reliability_of_the_scores_and_its_picture(qtbot, store):
    dialog = EvaluateDialog(store, ScriptedModel())
    qtbot.addWidget(dialog)
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is not None and not dialog.job.running and dialog.run_button.isEnabled(),
                    timeout=20000)
    rows = {dialog.table.item(r, 0).text(): [dialog.table.item(r, c).text() for c in range(dialog.table.columnCount())]
            for r in range(dialog.table.rowCount())}
    assert rows["the white box"][1:5] == ["3", "67 %", rows["the white box"][3], "1 of 2"]
    assert rows["a square"][4] == "none above 0.5"
    assert rows["all phrases"][4] == "1 of 2"

    bins = [[dialog.bins_table.item(r, c).text() for c in range(3)] for r in range(dialog.bins_table.rowCount())]
    assert len(bins) == 10
    assert bins[9] == ["0.9–1.0", "1", "100 %"] and bins[8] == ["0.8–0.9", "1", "0 %"]
    assert bins[3] == ["0.3–0.4", "1", "100 %"] and bins[2] == ["0.2–0.3", "1", "0 %"]
    assert bins[0][1:] == ["0", "–"]

    assert dialog.picture.pixmap().size().toTuple() == PICTURE_SIZE
    summary = dialog.summary.toPlainText()
    assert "top boxes scoring above 0.5 were right 1 of 2 times" in summary and "calibration error" in summary
