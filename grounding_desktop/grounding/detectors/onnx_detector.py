"""The user's own detector: an ONNX file (YOLOv5, YOLOv8/YOLO11, or boxes/scores/labels) run by onnxruntime.

It stands in for the bundled SSD behind the same ``detect`` (see ``backends.py``): boxes in the
pixels of the image passed in, each with its score vector over the model's own classes, so the
scorer matches phrases to those class names through the phrase encoder ("the widget" finds
class ``widget``). It has no backbone features to offer: ``region_features`` is (N, 0).

How the image goes in comes from the model itself, or from a sidecar ``FILE.yaml`` beside
``FILE.onnx`` (every key optional; ``models/README.md`` has examples):

``input_size: [H, W]``
    for a model whose input shape is dynamic (a fixed shape always wins); default the metadata's
    ``imgsz`` (Ultralytics writes it), else the image's own size padded up to a multiple of
    ``stride`` (default 32).
``letterbox: true``
    keep the aspect ratio and pad (Ultralytics' LetterBox, centred); ``false`` stretches.
``pad_value: 114`` · ``channel_order: rgb`` (or ``bgr``) · ``scale: 0.0039215686`` (1/255)
    · ``mean: [0, 0, 0]`` · ``std: [1, 1, 1]``
    the input tensor is ``(pixel * scale - mean) / std`` per channel (a uint8 input gets the
    pixels as they are).
``layout: yolov8``
    ``yolov5``, ``yolov8`` or ``boxes_scores_labels``; default: found from the output shapes.
``box_format: xyxy`` · ``normalized: auto``
    for ``boxes_scores_labels`` only: ``xyxy``, ``yxyx`` (TF), ``cxcywh`` or ``xywh``; boxes in
    0..1 of the input (``true``), in input pixels (``false``) or recognised (``auto``).
``nms_iou: 0.45``
    class-aware NMS of the YOLO candidates (a boxes/scores/labels model did its own).
``names: [widget, gadget]``
    class names, if neither ``--detector-classes`` nor the model's metadata gives them.

Class names: the ``--detector-classes`` file (one a line; line k names label k), else the
sidecar's ``names``, else the model's metadata ``names`` as Ultralytics writes it
(``{0: 'person', 1: 'bicycle', ...}``). Anything unusable (no such file, not ONNX, no class
names, outputs that match no layout) is a ``ModelFileError`` with one line naming the file; so is
a setting of the wrong type or out of range, and an input over 8192 pixels a side
(``detector_sidecar`` reads and checks the sidecar, the metadata and the class file).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from .detector import CANDIDATE_NMS_IOU, Detections, ImageLike, to_rgb_array
from .detector_sidecar import (MAX_INPUT_SIDE, checked_input_size, metadata_setting, read_class_file,
                               read_sidecar, sidecar_path)
from .onnx_runtime import (ModelFileError, metadata, open_session, provider_label, run_session,
                           session_device)
from . import NO_CLASS
from .ssd_weights import file_sha256
from .yolo_layouts import Layout, LayoutError, decode, find_layout

DEFAULT_NMS_IOU = 0.45
MAX_NMS_CANDIDATES = 3000  # best-scoring candidates that go into NMS (YOLO heads have ~8400-25200)
CANDIDATE_MIN_SCORE = 0.01  # raw boxes this sure of some class can be class-agnostic candidates


@dataclass(frozen=True)
class InputSpec:
    """How an image becomes the model's input tensor."""

    size: Optional[tuple[int, int]]  # (H, W); None: the image's own size, padded to ``stride``
    stride: int
    letterbox: bool
    pad_value: int
    bgr: bool
    scale: float
    mean: np.ndarray
    std: np.ndarray
    uint8: bool
    batched: bool


@dataclass(frozen=True)
class Placement:
    """Where the image sits in the input: input = image * scale + offset, per axis."""

    scale_x: float
    scale_y: float
    left: float
    top: float


def letterbox(rgb: np.ndarray, out_hw: tuple[int, int], pad_value: int,
              keep_aspect: bool = True) -> tuple[np.ndarray, Placement]:
    """Resize ``rgb`` into ``out_hw``: aspect kept and centred on a ``pad_value`` canvas (as
    Ultralytics' LetterBox does, same rounding), or stretched when ``keep_aspect`` is False."""
    import cv2

    h, w = rgb.shape[:2]
    out_h, out_w = out_hw
    if not keep_aspect:
        resized = rgb if (h, w) == (out_h, out_w) else cv2.resize(rgb, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
        return resized, Placement(out_w / w, out_h / h, 0.0, 0.0)
    r = min(out_h / h, out_w / w)
    new_w, new_h = round(w * r), round(h * r)
    top, left = round((out_h - new_h) / 2 - 0.1), round((out_w - new_w) / 2 - 0.1)
    canvas = np.full((out_h, out_w, 3), pad_value, np.uint8)
    resized = rgb if (new_w, new_h) == (w, h) else cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    canvas[top:top + new_h, left:left + new_w] = resized
    return canvas, Placement(new_w / w, new_h / h, float(left), float(top))


class OnnxDetector:
    """A detector from the user's ONNX file; ``detect`` as ``SSDDetector.detect``."""

    def __init__(self, path: str | Path, classes_file: str | Path | None = None,
                 device: Optional[str] = None) -> None:
        self.weights_path = Path(path)
        self.session = open_session(self.weights_path, device)
        self.device = session_device(self.session)
        self.runtime = provider_label(self.session)
        meta = metadata(self.session)
        side = read_sidecar(sidecar_path(self.weights_path))
        if classes_file is not None:
            self.class_names = read_class_file(Path(classes_file))
        elif "names" in side:
            self.class_names = side["names"]
        elif "names" in meta:
            self.class_names = metadata_setting(meta, "names", "names", str(self.weights_path))
        else:
            raise ModelFileError(f"{self.weights_path}: no class names in the model's metadata; give a class "
                                 f"file (--detector-classes FILE, one name a line)")
        self.num_classes = max(self.class_names) + 1
        self.input = self._input_spec(side, meta)
        self.box_format = side.get("box_format", "xyxy")
        self.nms_iou = side.get("nms_iou", DEFAULT_NMS_IOU)
        normalized = side.get("normalized", "auto")
        self.normalized = None if normalized == "auto" else normalized
        self.layout = self._probe_layout(side.get("layout"))
        self.version = f"{self.weights_path.stem}+{file_sha256(self.weights_path)[:8]}"

    # ------------------------------------------------------------------ set-up
    def _input_spec(self, side: dict, meta: dict) -> InputSpec:
        """The input's fixed shape, else the sidecar's ``input_size``, else the metadata's ``imgsz``
        (else the image's own size); each side at most ``MAX_INPUT_SIDE``."""
        inp = self.session.get_inputs()[0]
        shape = list(inp.shape)
        if len(shape) not in (3, 4):
            raise ModelFileError(f"{self.weights_path}: input '{inp.name}' has shape {shape}; an image "
                                 f"input is [1, 3, H, W] or [3, H, W]")
        fixed = [d if isinstance(d, int) and d > 0 else None for d in shape[-2:]]
        where = str(self.weights_path)
        if all(fixed):
            try:
                size: Optional[tuple[int, int]] = checked_input_size(fixed)
            except ValueError:
                raise ModelFileError(f"{where}: input '{inp.name}' is {fixed[0]}x{fixed[1]}; the largest input "
                                     f"this app feeds a model is {MAX_INPUT_SIDE}x{MAX_INPUT_SIDE}") from None
        elif "input_size" in side:
            size = side["input_size"]
        elif "imgsz" in meta:
            size = metadata_setting(meta, "imgsz", "input_size", where)
        else:
            size = None
        stride = side["stride"] if "stride" in side else \
            metadata_setting(meta, "stride", "stride", where) if "stride" in meta else 32
        return InputSpec(size=size, stride=stride, letterbox=side.get("letterbox", True),
                         pad_value=side.get("pad_value", 114), bgr=side.get("channel_order") == "bgr",
                         scale=side.get("scale", 1.0 / 255.0),
                         mean=np.asarray(side.get("mean", [0.0]), np.float32),
                         std=np.asarray(side.get("std", [1.0]), np.float32),
                         uint8="uint8" in inp.type, batched=len(shape) == 4)

    def _probe_layout(self, forced: Optional[str]) -> Layout:
        """Run the model once on a blank image and find its output layout (also warms it up)."""
        size = self.input.size or (self.input.stride * 2, self.input.stride * 2)
        x, _ = self._tensor(np.full((size[0], size[1], 3), self.input.pad_value, np.uint8))
        outputs = self._run(x)
        names = [o.name for o in self.session.get_outputs()]
        try:
            return find_layout(outputs, names, self.num_classes, forced)
        except LayoutError as exc:
            raise ModelFileError(f"{self.weights_path}: {exc}") from exc

    # ------------------------------------------------------------------ inference
    def _tensor(self, rgb: np.ndarray) -> tuple[np.ndarray, Placement]:
        spec = self.input
        if spec.size is not None:
            img, placed = letterbox(rgb, spec.size, spec.pad_value, keep_aspect=spec.letterbox)
        else:  # a dynamic input: the image as it is, padded right and down to the stride
            h, w = rgb.shape[:2]
            img = np.full((-(-h // spec.stride) * spec.stride, -(-w // spec.stride) * spec.stride, 3),
                          spec.pad_value, np.uint8)
            img[:h, :w] = rgb
            placed = Placement(1.0, 1.0, 0.0, 0.0)
        if spec.bgr:
            img = img[:, :, ::-1]
        if spec.uint8:
            x = np.ascontiguousarray(img.transpose(2, 0, 1))
        else:
            x = (img.astype(np.float32) * spec.scale - spec.mean) / spec.std
            x = np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)
        return (x[None] if spec.batched else x), placed

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        return run_session(self.session, {self.session.get_inputs()[0].name: x}, self.weights_path)

    def detect(self, image: ImageLike, score_threshold: float = 0.05,
               max_detections: int = 100, candidates: int = 0) -> Detections:
        """Detections of the model's classes; with ``candidates``, up to that many more of its raw
        boxes follow, class-agnostic (``NO_CLASS``), ranked by their best class score (the
        model's nearest thing to objectness) after their own NMS."""
        import torch

        from .box_ops import batched_nms, nms

        rgb = to_rgb_array(image)
        height, width = rgb.shape[:2]
        x, placed = self._tensor(rgb)
        outputs = self._run(x)
        try:
            raw = decode(self.layout, outputs, self.num_classes, x.shape[-2:], self.box_format,
                         self.normalized)
        except LayoutError as exc:
            raise ModelFileError(f"{self.weights_path}: {exc}") from exc
        # A score the model left NaN counts as none, an infinite one as certain: never a NaN ranking.
        class_scores = np.nan_to_num(raw.class_scores, nan=0.0, posinf=1.0, neginf=0.0)
        scores = class_scores.max(1) if class_scores.size else np.zeros(len(class_scores), np.float32)
        labels = class_scores.argmax(1) if class_scores.size else np.zeros(len(class_scores), np.int64)
        keep = np.nonzero(scores > score_threshold)[0]
        keep = keep[np.argsort(-scores[keep], kind="stable")][:MAX_NMS_CANDIDATES]
        if self.layout.name != "boxes_scores_labels" and keep.size:
            kept = batched_nms(torch.from_numpy(raw.boxes[keep]), torch.from_numpy(scores[keep]),
                               torch.from_numpy(labels[keep]), self.nms_iou).numpy()
            keep = keep[kept]
        keep = keep[:max_detections]
        labels = labels.astype(np.int64)
        if candidates and self.layout.name != "boxes_scores_labels":
            pool = np.setdiff1d(np.nonzero(scores > CANDIDATE_MIN_SCORE)[0], keep)
            pool = pool[np.argsort(-scores[pool], kind="stable")][:MAX_NMS_CANDIDATES]
            if pool.size:
                pool = pool[nms(torch.from_numpy(raw.boxes[pool]), torch.from_numpy(scores[pool]),
                                CANDIDATE_NMS_IOU).numpy()][:candidates]
            labels = labels.copy()
            labels[pool] = NO_CLASS
            keep = np.concatenate([keep, pool])
        # Back from input pixels to the image's, clipped to it; boxes left empty are dropped.
        boxes = (raw.boxes[keep] - [placed.left, placed.top, placed.left, placed.top]) / \
            [placed.scale_x, placed.scale_y, placed.scale_x, placed.scale_y]
        boxes = np.clip(boxes, 0, [width, height, width, height]).astype(np.float32)
        inside = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])  # NaN boxes go too
        keep, boxes = keep[inside], boxes[inside]
        return Detections(boxes=boxes, scores=scores[keep].astype(np.float32),
                          labels=labels[keep],
                          class_scores=class_scores[keep].astype(np.float32),
                          region_features=np.zeros((len(keep), 0), np.float32),
                          image_size=(int(width), int(height)),
                          objectness=scores[keep].astype(np.float32))
