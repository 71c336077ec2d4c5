"""``grounding-desktop evaluate`` and ``ground --project``: what a project's labelled boxes teach,
judged leave-one-image-out, kept in the project database."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from support import make_gizmo_photos
from grounding_desktop.cli import main
from grounding_desktop.core import Box, BoxSource, BoxState, iou_xywh
from grounding_desktop.project import open_project

pytestmark = pytest.mark.model


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    from grounding_desktop.grounding.detectors import ssd_weights

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ssd_weights.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        yield


def _label(folder, photos, phrase="the gizmo"):
    """Accept a box for ``phrase`` on each photo, as the app would store it."""
    store, _ = open_project(folder)
    for path, box in photos:
        record = store.images.by_path()[path.name]
        store.labels.add_expression(record.id, phrase, [Box(0, 0, box, BoxState.ACCEPTED, BoxSource.MANUAL)])
    store.labels.add_expression(store.images.by_path()[photos[0][0].name].id, "a unicorn", no_target=True)  # not in the image
    return store


def test_evaluate_judges_each_image_by_the_others_and_keeps_what_it_learned(tmp_path, capsys):
    folder = tmp_path / "project"
    photos = make_gizmo_photos(folder, 4)
    store = _label(folder, photos[:3])
    store.close()

    assert main(["evaluate", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (gizmo,) = report["phrases"]
    assert (gizmo["phrase"], gizmo["tried"], gizmo["evidence"]) == ("the gizmo", 3, {"concept": 3})
    assert gizmo["acc50"] == 1.0 and gizmo["mean_iou"] > 0.75
    assert report["no_target_phrases"] == 1 and report["images"] == 3
    # How far the scores can be trusted, from the scores alone (three top boxes, all right).
    assert gizmo["above_half_right"] == gizmo["above_half"] <= 3
    assert gizmo["reliability"] == (1.0 if gizmo["above_half"] else None)
    bins = report["reliability_bins"]
    assert len(bins) == 10 and sum(b["count"] for b in bins) == sum(b["right"] for b in bins) == 3
    assert 0 <= report["calibration_error"] <= 1
    plot = tmp_path / "evaluation.png"
    assert main(["evaluate", str(folder), "--plot", str(plot)]) == 0
    text = capsys.readouterr().out
    assert "the gizmo" in text and "100.0%" in text and "leave-one-image-out" in text
    assert "right when >0.5" in text and "score of the top box" in text and "expected calibration error" in text
    with Image.open(plot) as picture:
        assert picture.format == "PNG" and picture.size == (1000, 420)

    # The concept lives in the project: with the labelled pictures gone, it still finds the gizmo.
    for path, _ in photos[:3]:
        path.unlink()
    fourth, truth = photos[3]
    assert main(["ground", str(fourth), "--project", str(folder), "-p", "the gizmo", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["results"][0]["boxes"][0]
    assert iou_xywh(top["bbox"], truth) >= 0.75
    assert "learned from 3 of your boxes" in top["explanation"]
    assert main(["evaluate", str(folder)]) == 0
    assert "None of the 3 labelled images can be read" in capsys.readouterr().out


def test_an_image_is_never_judged_by_its_own_box(tmp_path, capsys):
    folder = tmp_path / "project"
    photos = make_gizmo_photos(folder, 2)
    _label(folder, photos[:1]).close()  # one labelled picture: nothing else to learn from
    assert main(["evaluate", str(folder), "--json"]) == 0
    (gizmo,) = json.loads(capsys.readouterr().out)["phrases"]
    assert gizmo["tried"] == 1 and "concept" not in gizmo["evidence"]


def test_evaluate_without_labels_says_so(tmp_path, capsys):
    folder = tmp_path / "project"
    make_gizmo_photos(folder, 1)
    assert main(["evaluate", str(folder)]) == 0
    assert "No phrase with accepted boxes" in capsys.readouterr().out
