"""``ground --detector FILE.onnx``: the user's detector end to end, and one line for what is wrong."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from onnx_models import odd_model, yolo_model
from grounding_desktop.cli import main

NAMES = ["gadget", "widget"]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (640, 320), (90, 90, 90)).save(path)
    return path


@pytest.mark.model
def test_ground_with_own_detector_finds_its_class_by_name(tmp_path, photo, capsys):
    model = yolo_model(tmp_path / "det.onnx", "yolov8", [160, 160, 64, 32], 1, NAMES)
    rc = main(["ground", str(photo), "the widget", "--detector", str(model), "--device", "cpu", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["runtime"].startswith("onnxruntime") and out["model"].startswith("det+")
    top = out["results"][0]["boxes"][0]
    assert top["label"] == "widget" and top["bbox"] == [256.0, 128.0, 128.0, 64.0]


def _one_error_line(capfd, *argv) -> str:
    rc = main(list(argv))
    err = capfd.readouterr().err
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_unusable_detector_files_are_one_line_and_exit_2(tmp_path, photo, capfd):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x00\x01 not a model")
    assert "not a readable ONNX model" in _one_error_line(capfd, "ground", str(photo), "the widget",
                                                          "--detector", str(broken))
    odd = odd_model(tmp_path / "odd.onnx", NAMES)
    line = _one_error_line(capfd, "ground", str(photo), "the widget", "--detector", str(odd))
    assert "[1, 7, 9]" in line and "match no detector layout" in line
    ok = yolo_model(tmp_path / "ok.onnx", "yolov5", [160, 160, 64, 32], 1, NAMES)
    line = _one_error_line(capfd, "ground", str(photo), "the widget", "--detector", str(ok),
                           "--detector-classes", str(tmp_path / "missing.txt"))
    assert "missing.txt: no such class file" in line
    line = _one_error_line(capfd, "doctor", "--detector", str(broken))
    assert "not a readable ONNX model" in line
    line = _one_error_line(capfd, "ground", str(photo), "the widget", "--detector-classes", str(tmp_path / "c.txt"))
    assert "class file goes with an ONNX detector" in line
