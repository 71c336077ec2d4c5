"""The user's own ONNX detector: YOLOv5 / YOLOv8 / boxes-scores-labels models built here with
``onnx.helper`` (each outputs one known box) read through onnxruntime, letterbox and sidecar included."""
from __future__ import annotations

import numpy as np
import pytest

from onnx_models import odd_model, triple_model, yolo_model
from grounding_desktop.grounding.detectors.onnx_detector import OnnxDetector, letterbox
from grounding_desktop.grounding.detectors.onnx_runtime import ModelFileError

NAMES = ["gadget", "widget"]
# A 640x320 photo letterboxed into the 320x320 input: scale 0.5, 80 px of padding above and below.
PHOTO = np.zeros((320, 640, 3), np.uint8)
BOX_IN_INPUT = [160, 160, 64, 32]        # cx, cy, w, h in input pixels
BOX_IN_PHOTO = [256, 128, 384, 192]      # the same box in the photo, xyxy


@pytest.mark.parametrize("layout", ["yolov8", "yolov5"])
def test_yolo_layouts_give_the_known_box_through_the_letterbox(tmp_path, layout):
    path = yolo_model(tmp_path / f"{layout}.onnx", layout, BOX_IN_INPUT, NAMES.index("widget"), NAMES)
    det = OnnxDetector(path)
    assert det.layout.name == layout and det.class_names == {0: "gadget", 1: "widget"}
    found = det.detect(PHOTO)
    assert len(found) == 1 and det.class_names[int(found.labels[0])] == "widget"
    np.testing.assert_allclose(found.boxes[0], BOX_IN_PHOTO, atol=1e-3)
    assert found.scores[0] == pytest.approx(0.9)
    assert found.class_scores.shape == (1, 2) and found.region_features.shape == (1, 0)
    assert det.runtime.startswith("onnxruntime") and det.device == "cpu"


def test_a_users_detector_offers_class_agnostic_candidates_beside_its_classes(tmp_path):
    """Class 0 stays a class; a box the model is barely sure of comes as a candidate with no class."""
    from grounding_desktop.grounding.detectors import NO_CLASS

    path = yolo_model(tmp_path / "y.onnx", "yolov8", BOX_IN_INPUT, NAMES.index("gadget"), NAMES,
                      also=[((60, 200, 40, 40), NAMES.index("widget"), 0.03)])
    det = OnnxDetector(path)
    assert [int(v) for v in det.detect(PHOTO).labels] == [0]
    found = det.detect(PHOTO, candidates=5)
    assert [int(v) for v in found.labels] == [0, NO_CLASS]
    np.testing.assert_allclose(found.boxes[1], [80, 200, 160, 280], atol=1e-3)  # (40, 180, 80, 220) in the input
    np.testing.assert_allclose(found.objectness, [0.9, 0.03], atol=1e-6)


def test_letterbox_places_the_image_as_ultralytics_does():
    canvas, placed = letterbox(np.full((480, 640, 3), 7, np.uint8), (320, 320), 114)
    assert (placed.scale_x, placed.scale_y, placed.left, placed.top) == (0.5, 0.5, 0.0, 40.0)
    assert canvas[39, 0, 0] == 114 and canvas[40, 0, 0] == 7 and canvas[279, 0, 0] == 7 and canvas[280, 0, 0] == 114


def test_sidecar_and_class_file_override_the_model(tmp_path):
    path = yolo_model(tmp_path / "det.onnx", "yolov8", BOX_IN_INPUT, 1, NAMES, names_in_metadata=False)
    with pytest.raises(ModelFileError, match="no class names.*--detector-classes"):
        OnnxDetector(path)
    (tmp_path / "det.yaml").write_text("letterbox: false\nnames: [bolt, nut]\n")
    stretched = OnnxDetector(path)
    assert stretched.class_names == {0: "bolt", 1: "nut"}
    # Stretched, not letterboxed: x halves, y stays.
    np.testing.assert_allclose(stretched.detect(PHOTO).boxes[0], [256, 144, 384, 176], atol=1e-3)
    classes = tmp_path / "classes.txt"
    classes.write_text("spanner\nhammer\n\n")
    assert OnnxDetector(path, classes).class_names == {0: "spanner", 1: "hammer"}


def test_boxes_scores_labels_with_normalised_yxyx_boxes(tmp_path):
    path = triple_model(tmp_path / "ssd.onnx", boxes=[[0.25, 0.5, 0.75, 0.75], [0.1, 0.1, 0.2, 0.2]],
                        scores=[0.8, 0.01], labels=[1, 0], names=NAMES)
    (tmp_path / "ssd.yaml").write_text("box_format: yxyx\nletterbox: false\n")
    det = OnnxDetector(path)
    assert det.layout.name == "boxes_scores_labels"
    found = det.detect(np.zeros((200, 400, 3), np.uint8), score_threshold=0.05)
    assert list(found.labels) == [1]  # the 0.01 one is under the threshold
    np.testing.assert_allclose(found.boxes[0], [200, 50, 300, 150], atol=1e-3)


def test_unusable_models_say_what_is_wrong_in_one_line(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not a protobuf")
    cases = [
        (broken, None, "not a readable ONNX model"),
        (tmp_path / "absent.onnx", None, "no such model file"),
        (odd_model(tmp_path / "odd.onnx", NAMES), None, r"output0 \[1, 7, 9\] match no detector layout"),
        (yolo_model(tmp_path / "ok.onnx", "yolov8", BOX_IN_INPUT, 1, NAMES), tmp_path / "none.txt",
         "no such class file"),
    ]
    for path, classes, message in cases:
        with pytest.raises(ModelFileError, match=message) as info:
            OnnxDetector(path, classes)
        assert "\n" not in str(info.value) and str(path if classes is None else classes) in str(info.value)
    (tmp_path / "ok.yaml").write_text("letterbox: yes\nanchors: 3\n")
    with pytest.raises(ModelFileError, match="unknown key.*anchors"):
        OnnxDetector(tmp_path / "ok.onnx")


def test_the_example_sidecars_in_models_work(tmp_path):
    """models/examples/*.yaml are what people copy: each loads beside a model of its layout."""
    from support import REPO

    examples = REPO / "models" / "examples"
    three = ["widget", "gadget", "sprocket"]
    built = {
        "yolov8": yolo_model(tmp_path / "yolov8.onnx", "yolov8", BOX_IN_INPUT, 1, NAMES),
        "yolov5": yolo_model(tmp_path / "yolov5.onnx", "yolov5", BOX_IN_INPUT, 0, three, names_in_metadata=False),
        "boxes_scores_labels": triple_model(tmp_path / "boxes_scores_labels.onnx", [[16, 32, 48, 64]], [0.9], [1],
                                            NAMES),
    }
    assert sorted(p.stem for p in examples.glob("*.yaml")) == sorted(built)
    for layout, model in built.items():
        (tmp_path / f"{layout}.yaml").write_text((examples / f"{layout}.yaml").read_text())
        det = OnnxDetector(model)
        assert det.layout.name == layout and len(det.detect(PHOTO)) == 1
