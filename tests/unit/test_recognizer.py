"""The second CNN: the EfficientNet-Lite0 port held to the reference implementation the weights'
package documents (``efficientnet_lite_pytorch``), on the bundled photos, and its crops and
embeddings on pictures the tests make."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from support import SAMPLES
from grounding_desktop.grounding.recognition.efficientnet_lite import INPUT_MEAN, INPUT_STD, load_model, weights_path
from grounding_desktop.grounding.recognition.recognizer import RegionRecognizer, imagenet_labels

pytestmark = pytest.mark.model

# photo -> ImageNet labels its top class must be one of
KNOWN = {"chelsea": {"Egyptian cat", "tabby", "tiger cat"}, "coffee": {"espresso", "cup", "coffee mug"}}


def _batch(size: int) -> torch.Tensor:
    rgb = [np.asarray(Image.open(SAMPLES / f"{name}.jpg").convert("RGB").resize((size, size)))
           for name in KNOWN]
    return torch.from_numpy(np.stack(rgb)).permute(0, 3, 1, 2).float().sub(INPUT_MEAN).div(INPUT_STD)


def test_the_port_gives_the_reference_logits_and_knows_the_photos():
    reference_pkg = pytest.importorskip("efficientnet_lite_pytorch")
    port = load_model("lite0")
    reference = reference_pkg.EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=str(weights_path("lite0"))).eval()
    x = _batch(port.resolution)
    with torch.inference_mode():
        ours, pooled = port(x)
        theirs = reference(x)
    assert pooled.shape == (len(KNOWN), 1280)
    assert float((ours - theirs).abs().max()) < 1e-3 * float(theirs.abs().max())
    labels = imagenet_labels()
    for row, (name, expected) in enumerate(KNOWN.items()):
        assert labels[int(ours[row].argmax())][0] in expected, name


def test_crops_follow_the_box_and_embeddings_prefer_the_same_thing():
    recognizer = RegionRecognizer("cpu")
    img = np.full((240, 320, 3), 200, np.uint8)
    img[40:100, 30:130] = (200, 30, 30)  # a red bar
    img[150:210, 190:290] = (200, 30, 30)  # the same bar elsewhere
    img[150:230, 20:60] = (20, 20, 180)  # something else
    boxes = np.array([[30, 40, 130, 100], [190, 150, 290, 210], [20, 150, 60, 230]], float)
    crops = recognizer.crops(img, boxes)
    assert crops.shape == (3, 224, 224, 3)
    centre = crops[:, 100:124, 100:124].reshape(3, -1, 3).mean(1)
    assert np.allclose(centre[0], (200, 30, 30), atol=2) and np.allclose(centre[2], (20, 20, 180), atol=2)
    emb = recognizer.embed(recognizer.features(img), boxes)
    assert emb.shape[0] == 3 and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]


def test_onnxruntime_classifies_crops_as_the_torch_port_does(tmp_path, monkeypatch):
    """On a CPU the crops run on onnxruntime, on the port's ONNX export made once in the cache:
    the same classes, probabilities within 1e-4, and the export is reused."""
    from grounding_desktop.grounding.recognition.export_recognizer import cached_file, use_onnxruntime

    monkeypatch.setenv("GROUNDING_DESKTOP_CACHE", str(tmp_path))
    recognizer = RegionRecognizer("cpu")
    rgb = np.asarray(Image.open(SAMPLES / "coffee.jpg").convert("RGB"))
    h, w = rgb.shape[:2]
    boxes = np.array([[0, 0, w, h], [w / 4, h / 4, 3 * w / 4, 3 * h / 4], [10, 20, 90, 200]], float)
    by_torch = recognizer.classify(rgb, boxes)
    use_onnxruntime(recognizer)
    by_onnxruntime = recognizer.classify(rgb, boxes)
    assert recognizer.crop_logits is not None
    assert np.array_equal(by_torch.argmax(1), by_onnxruntime.argmax(1))
    assert np.abs(by_torch - by_onnxruntime).max() < 1e-4
    made = cached_file(recognizer).stat().st_mtime_ns
    use_onnxruntime(RegionRecognizer("cpu"))
    assert cached_file(recognizer).stat().st_mtime_ns == made
    # A cached file onnxruntime cannot read (a disk error, a crash of another version) is made again.
    cached_file(recognizer).write_bytes(b"not an ONNX model")
    again = RegionRecognizer("cpu")
    use_onnxruntime(again)
    assert np.array_equal(again.classify(rgb, boxes), by_onnxruntime)


def test_crops_go_back_to_torch_when_onnxruntime_fails(caplog):
    """A session that fails while classifying (a broken runtime) costs one warning: the crops
    are classified by the torch port then and from then on."""
    recognizer = RegionRecognizer("cpu")
    rgb = np.asarray(Image.open(SAMPLES / "coffee.jpg").convert("RGB"))
    boxes = np.array([[0, 0, 200, 150], [50, 40, 260, 220]], float)
    by_torch = recognizer.classify(rgb, boxes)

    def broken(x):
        raise RuntimeError("onnxruntime: bad allocation")

    recognizer.crop_logits = broken
    with caplog.at_level("WARNING"):
        assert np.array_equal(recognizer.classify(rgb, boxes), by_torch)
    assert recognizer.crop_logits is None
    assert sum("crops run on torch" in r.getMessage() for r in caplog.records) == 1
