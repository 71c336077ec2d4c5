"""The second CNN (EfficientNet-Lite0, ImageNet-1k; ``recognizer.py``) as an ONNX file with its card.

The graph is the network ``RegionRecognizer.classify`` runs on region crops: a batch of 224 x 224
crops in, ``logits`` ``[N, 1000]`` and the pooled ``features`` ``[N, 1280]`` out (the batch is
dynamic, the size fixed: TF's SAME padding is traced for that size). Cropping stays outside, in
``RegionRecognizer.crops``. The whole-image maps that region embeddings pool are not part of the
file: their size follows each image's.

The export is checked by ``onnx.checker`` and by onnxruntime against the torch port on crops of the
check photos (the whole picture and its centre).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .efficientnet_lite import INPUT_MEAN, INPUT_STD, NUM_CLASSES, pip_name
from ..detectors.export_onnx import ExportOptions, Exported, finish_model, onnx_bytes, write_card
from ..detectors.ssd_weights import cache_dir
from ..detectors.model_card import Card
from .recognizer import VARIANT, RegionRecognizer, imagenet_labels

FILE = f"efficientnet_{VARIANT}_imagenet"
INPUT_NAME = "images"
OUTPUT_NAMES = ("logits", "features")
PROBABILITY_TOLERANCE = 1e-3  # softmax of onnxruntime's logits against torch's, largest difference
CACHE_FORMAT = 1  # bump when the port's graph or its export changes: a cached export is made again


def _input_description(size: int) -> str:
    return f"RGB crops, (x - {INPUT_MEAN:g}) / {INPUT_STD:g}, NCHW, {size} x {size}"


CARD = Card(
    title="EfficientNet-Lite0 ImageNet-1k (ONNX export of Grounding Desktop's region recogniser)",
    source_package=pip_name(VARIANT),
    architecture="EfficientNet-Lite0 (MBConv blocks without squeeze-excite, ReLU6), ported to torch by "
                 "grounding_desktop; batch norm folded into the convolutions",
    training_data="ImageNet-1k (Google's EfficientNet-Lite checkpoints, converted to PyTorch by the package)",
    classes=f"the {NUM_CLASSES} ImageNet-1k classes in the standard order; first names in the metadata `names`",
    inputs=f"`{INPUT_NAME}` float32 [N, 3, 224, 224]: {_input_description(224)}",
    outputs=f"`logits` [N, {NUM_CLASSES}]; `features` [N, 1280], the head map averaged over the crop",
)


def export_recognizer_file(path, recognizer: RegionRecognizer):
    """Write the recogniser to ``path`` as ONNX with its metadata, checked by ``onnx.checker``."""
    import onnx
    import torch

    size = recognizer.resolution
    dynamic = {INPUT_NAME: {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}}
    raw = onnx_bytes(recognizer.model, torch.zeros(1, 3, size, size), [INPUT_NAME], OUTPUT_NAMES, dynamic)
    facts = {"names": str([names[0] for names in imagenet_labels()]), "imgsz": str([size, size]),
             "model_version": recognizer.version, "input": _input_description(size)}
    return finish_model(onnx.load_from_string(raw), facts, path)


def cached_file(recognizer: RegionRecognizer, again: bool = False) -> Path:
    """The recogniser's ONNX export in the cache, made on first use (a few seconds), or ``again``
    (a cached file onnxruntime could not read). The write is atomic: processes making it at once
    leave one whole file."""
    path = cache_dir() / f"{recognizer.version}_onnx{CACHE_FORMAT}.onnx"
    if again or not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        export_recognizer_file(path, recognizer)
    return path


def use_onnxruntime(recognizer: RegionRecognizer) -> None:
    """Classify ``recognizer``'s crops with onnxruntime on its export (``cached_file``) from now
    on, with as many threads as torch has: on a CPU faster than the torch port (figures in
    models/efficientnet_lite0_imagenet.md), probabilities within 1e-4 of it. A cached export
    onnxruntime cannot read is made again once.
    Raises whatever keeps the export or the session from being made; the torch port stays then."""
    import torch

    from ..detectors.onnx_runtime import ModelFileError, open_session, run_session

    path, threads = cached_file(recognizer), torch.get_num_threads()
    try:
        session = open_session(path, "cpu", threads=threads)
    except ModelFileError:
        session = open_session(cached_file(recognizer, again=True), "cpu", threads=threads)
    recognizer.crop_logits = lambda x: run_session(session, {INPUT_NAME: x}, path)[0]


def _parity(recognizer: RegionRecognizer, session, images) -> tuple[float, int, int]:
    """(largest probability difference, top-1 agreements, crops) of onnxruntime against torch on
    crops of ``images``: each whole picture and its centre, in one batch per image."""
    import torch

    prob_diff, agree, crops = 0.0, 0, 0
    for rgb in images:
        h, w = rgb.shape[:2]
        boxes = np.array([[0, 0, w, h], [w / 4, h / 4, 3 * w / 4, 3 * h / 4]], np.float64)
        x = recognizer.network_input(recognizer.crops(rgb, boxes))
        with torch.inference_mode():
            expected = _softmax(recognizer.model(x)[0].numpy())
        got = _softmax(session.run(None, {INPUT_NAME: x.numpy()})[0])
        prob_diff = max(prob_diff, float(np.abs(expected - got).max()))
        agree += int((expected.argmax(1) == got.argmax(1)).sum())
        crops += len(boxes)
    return prob_diff, agree, crops


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def export_recognizer(options: ExportOptions) -> list[Exported]:
    """The region recogniser as ONNX (fp32), checked against torch and carded."""
    from ..detectors.onnx_runtime import open_session

    recognizer = RegionRecognizer("cpu")
    path = export_recognizer_file(options.out_dir / f"{FILE}.onnx", recognizer)
    prob_diff, agree, crops = _parity(recognizer, open_session(path), options.check_images)
    ok = prob_diff <= PROBABILITY_TOLERANCE and agree == crops
    checks = ["`onnx.checker.check_model(full_check=True)` passed",
              f"onnxruntime against the torch port on {crops} crops of {len(options.check_images)} photos: "
              f"top-1 class the same on {agree}/{crops}, probabilities within {prob_diff:.1e} "
              f"(required: all, {PROBABILITY_TOLERANCE:g})"]
    return [write_card(CARD, path, options, checks, ok)]
