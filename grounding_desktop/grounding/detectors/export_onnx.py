"""Our SSD as an ONNX file: the export, its checks, int8 quantisation, and the cached copies that the
``onnxruntime`` backends run.

The exported graph is the network of ``SSDDetector.forward``: a ``[1, 3, 300, 300]`` float input
(``INPUT_DESCRIPTION``) and three outputs, ``boxes`` ``[1, A, 4]``
(decoded, normalised xyxy per anchor), ``scores`` ``[1, A, 91]`` (sigmoid, column = COCO id, 0 is
background) and ``features`` ``[1, 576, 19, 19]`` (the backbone map the region features pool).
Resizing, per-class NMS and RoIAlign stay outside the graph, in ``SSDDetector`` itself, so the
torch and onnxruntime backends share every step but the network. The file's metadata carries the
class names (``names``, as Ultralytics writes them), the input size and the post-processing
settings (``ssd_spec``), so a file needs nothing else to run.

Converted files are cached beside the torch weights (``ssd_weights.cache_dir()``), keyed by the
graph's SHA-256 and ``EXPORT_FORMAT``; nothing is downloaded.
"""
from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from .detector import INPUT_SCALE, INPUT_SHIFT
from .model_card import Card, render
from .onnx_ssd import INPUT_NAME, OnnxSSDDetector
from .ssd_weights import INPUT_SIZE, MODEL_NAME, PIP_NAME, atomic_write, cache_dir, load_weights

EXPORT_FORMAT = 1  # bump when the graph's inputs, outputs or metadata change
OPSET = 17
OUTPUT_NAMES = ("boxes", "scores", "features")
VARIANTS = ("fp32", "int8")
INPUT_DESCRIPTION = (f"RGB resized to {INPUT_SIZE}x{INPUT_SIZE} (bilinear, aspect not kept), "
                     f"x * {INPUT_SCALE} - {INPUT_SHIFT:g}")


@dataclass(frozen=True)
class ParityReport:
    """How far onnxruntime's detections are from torch's on the same images."""

    images: int
    detections: int          # torch's detections, all images
    matched: int             # of those, how many onnxruntime reports too (same class, same rank)
    max_box_px: float        # largest coordinate difference of a matched box, in image pixels
    max_score: float         # largest score difference of a matched detection

    def within(self, box_px: float = 1.0, score: float = 1e-3) -> bool:
        return self.matched == self.detections and self.max_box_px <= box_px and self.max_score <= score

    def describe(self) -> str:
        return (f"{self.matched}/{self.detections} detections on {self.images} images match; "
                f"boxes within {self.max_box_px:.4f} px, scores within {self.max_score:.2e}")


def _exportable(detector):
    """``detector.forward`` as an ``nn.Module`` whose outputs are the graph's three."""
    import torch

    from .detector import REGION_FEATURE_MAP

    class SSDGraph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = detector.model  # registers the weights with the exporter

        def forward(self, x):
            boxes, scores, maps = detector.forward(x)
            return boxes, scores, maps[REGION_FEATURE_MAP]

    return SSDGraph().eval()


def onnx_bytes(module, example, input_names: Sequence[str], output_names: Sequence[str],
               dynamic_axes: Optional[dict] = None) -> bytes:
    """``module`` traced on ``example`` as an ONNX graph (the legacy exporter: no onnxscript)."""
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode():
        # The tracer's notes on the padding arithmetic (constant for a fixed input size) and the
        # legacy exporter's deprecation notice say nothing a user can act on.
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), buffer, dynamo=False, opset_version=OPSET,
                          input_names=list(input_names), output_names=list(output_names),
                          dynamic_axes=dynamic_axes)
    return buffer.getvalue()


def finish_model(model, facts: dict[str, str], path: Path) -> Path:
    """Add ``facts`` as metadata, check the graph with ``onnx.checker`` and write it (atomic)."""
    import onnx

    from ... import __version__

    for key, value in facts.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name, model.producer_version = "grounding-desktop", __version__
    onnx.checker.check_model(model, full_check=True)
    atomic_write(Path(path), lambda fh: fh.write(model.SerializeToString()))
    return Path(path)


def export_ssd(path: Path, detector=None) -> Path:
    """Write the bundled SSD (``detector``: an ``SSDDetector`` on the CPU, built when None) to
    ``path`` as ONNX with its metadata, checked by ``onnx.checker``; atomic."""
    import onnx
    import torch

    from .detector import COCO_LABELS, SSDDetector

    detector = detector or SSDDetector("cpu")
    x = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
    model = onnx.load_from_string(onnx_bytes(_exportable(detector), x, [INPUT_NAME], OUTPUT_NAMES))
    facts = {
        "names": str(COCO_LABELS),
        "imgsz": str([INPUT_SIZE, INPUT_SIZE]),
        "model_version": detector.version,  # MODEL_NAME + the graph's hash
        "ssd_spec": json.dumps(detector.spec.as_dict()),
        "input": f"{INPUT_DESCRIPTION}, NCHW",
        "export_format": str(EXPORT_FORMAT),
    }
    return finish_model(model, facts, path)


def quantize_int8(fp32_path: Path, path: Path, calibration: Iterable) -> Path:
    """onnxruntime static int8 quantisation of an exported SSD, calibrated on ``calibration``
    (RGB images: arrays or PIL): per-channel int8 weights, uint8 activations, QDQ format; atomic."""
    import tempfile

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    preprocess = OnnxSSDDetector(fp32_path).preprocess
    feeds = [{INPUT_NAME: preprocess(rgb)[0].contiguous().numpy()} for rgb in calibration]
    if not feeds:
        raise ValueError("int8 quantisation needs at least one calibration photo")

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = iter(feeds)

        def get_next(self):
            return next(self._feeds, None)

    with tempfile.TemporaryDirectory() as tmp:
        prepared, quantized = Path(tmp) / "prepared.onnx", Path(tmp) / "int8.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(str(prepared), str(quantized), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8)
        data = quantized.read_bytes()
    atomic_write(Path(path), lambda fh: fh.write(data))
    return Path(path)


def compare(reference, candidate, images: Sequence[np.ndarray], threshold: float = 0.05) -> ParityReport:
    """Detections of ``candidate`` against ``reference`` (both with ``detect``) on ``images``:
    matched rank by rank, as both keep the same best-first order."""
    total = matched = 0
    box_px = score = 0.0
    for rgb in images:
        a, b = reference.detect(rgb, threshold), candidate.detect(rgb, threshold)
        total += len(a)
        n = min(len(a), len(b))
        same = a.labels[:n] == b.labels[:n]
        matched += int(same.sum())
        if same.any():
            box_px = max(box_px, float(np.abs(a.boxes[:n][same] - b.boxes[:n][same]).max()))
            score = max(score, float(np.abs(a.scores[:n][same] - b.scores[:n][same]).max()))
    return ParityReport(len(images), total, matched, box_px, score)


# ------------------------------------------------------------------ cached copies for the backends

def cached_path(variant: str, source_sha256: str) -> Path:
    return cache_dir() / f"{MODEL_NAME}_{source_sha256[:16]}_onnx{EXPORT_FORMAT}_{variant}.onnx"


def cached_model(variant: str = "fp32",
                 calibration: Optional[Callable[[], Sequence]] = None) -> Path:
    """The bundled SSD as ONNX in the cache, exported (and for ``int8`` quantised, calibrated on
    ``calibration()``) on first use."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant '{variant}' (one of: {', '.join(VARIANTS)})")
    loaded = load_weights()
    path = cached_path(variant, loaded.source_sha256)
    if path.is_file():
        return path
    if variant == "fp32":
        from .detector import SSDDetector

        return export_ssd(path, SSDDetector("cpu", weights=loaded.path))
    if calibration is None:
        raise ValueError("int8 quantisation needs calibration photos")
    return quantize_int8(cached_model("fp32"), path, calibration())


# ------------------------------------------------------------------ export-model: files and cards

SSD_FILE = "ssd_mobilenet_v2_coco"
PARITY_BOX_PX = 1.0  # an export's boxes may differ from torch's by at most this much
SSD_CARD = Card(
    title="SSD-MobileNetV2 COCO (ONNX export of Grounding Desktop's detector)",
    source_package=PIP_NAME,
    architecture=("SSD with a MobileNetV2 backbone (depth multiplier 1), six feature maps, 1917 anchors; "
                  f"TF Object Detection API model `{MODEL_NAME}`, ported to torch by grounding_desktop"),
    training_data="COCO (one of the TF Object Detection API model zoo's \"COCO-trained models\")",
    classes="the 80 COCO classes on TF's label ids 1..90 (0 is background); names in the file's metadata `names`",
    inputs=f"`{INPUT_NAME}` float32 [1, 3, {INPUT_SIZE}, {INPUT_SIZE}]: {INPUT_DESCRIPTION}",
    outputs="`boxes` [1, 1917, 4] decoded normalised xyxy per anchor; `scores` [1, 1917, 91] sigmoid per "
            "COCO id; `features` [1, 576, 19, 19] backbone map for region features. Per-class NMS (IoU and "
            "top-k in the metadata `ssd_spec`) is left to the runtime",
)


@dataclass
class ExportOptions:
    """What ``export-model`` asks of every exporter."""

    out_dir: Path
    check_images: Sequence[np.ndarray]      # photos the parity checks run on
    command: str                            # the command line, for the cards
    int8_calibration: Optional[Sequence[np.ndarray]] = None  # also write an int8 model


@dataclass
class Exported:
    """One model file written by ``export-model``, its card, and whether its checks passed."""

    path: Path
    card: Path
    checks: list[str] = field(default_factory=list)
    ok: bool = True


def write_card(card: Card, model: Path, options: ExportOptions, checks: list[str], ok: bool) -> Exported:
    """The card of ``model`` beside it (``NAME.md``), with the checks the export made."""
    card_path = model.with_suffix(".md")
    text = render(replace(card, checks=checks), model, options.command)
    atomic_write(card_path, lambda fh: fh.write(text.encode("utf-8")))
    return Exported(model, card_path, checks, ok)


def export_detector(options: ExportOptions) -> list[Exported]:
    """The SSD as ONNX (fp32; int8 too when calibration photos are given), each checked and carded."""
    from .detector import SSDDetector

    torch_detector = SSDDetector("cpu")
    fp32 = export_ssd(options.out_dir / f"{SSD_FILE}.onnx", torch_detector)
    fp32_detector = OnnxSSDDetector(fp32)
    parity = compare(torch_detector, fp32_detector, options.check_images)
    checks = ["`onnx.checker.check_model(full_check=True)` passed",
              f"onnxruntime against the torch port: {parity.describe()} "
              f"(required: all, boxes within {PARITY_BOX_PX:g} px)"]
    out = [write_card(SSD_CARD, fp32, options, checks, parity.within(PARITY_BOX_PX))]
    if options.int8_calibration is not None:
        int8 = quantize_int8(fp32, options.out_dir / f"{SSD_FILE}_int8.onnx", options.int8_calibration)
        drift = compare(fp32_detector, OnnxSSDDetector(int8, variant="int8"), options.check_images)
        checks = [f"onnxruntime static int8 quantisation (QDQ, per-channel) calibrated on "
                  f"{len(options.int8_calibration)} photos",
                  f"against the fp32 file: {drift.describe()} (int8 is not held to fp32's boxes; "
                  f"see models/ for its accuracy)"]
        out.append(write_card(replace(SSD_CARD, title=SSD_CARD.title.replace("ONNX", "ONNX int8")),
                          int8, options, checks, True))
    return out

