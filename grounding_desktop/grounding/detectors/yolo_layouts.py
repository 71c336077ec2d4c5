"""Reading the raw outputs of the detectors people export to ONNX: which layout, and the boxes in it.

Three layouts are understood (``nc`` = number of class names):

- ``yolov5``: one output ``[1, N, 5 + nc]``: centre x, centre y, width, height (input pixels),
  objectness, then per-class probabilities; a box's class score is objectness x probability.
- ``yolov8`` (also YOLO11): one output ``[1, 4 + nc, N]``: centre x, centre y, width, height,
  then per-class scores (no objectness).
- ``boxes_scores_labels``: a detector with its own post-processing (torchvision, TF/SSD style):
  ``boxes [1, N, 4]``, ``scores [1, N]``, ``labels [1, N]`` (the batch axis optional; extra
  outputs such as a detection count are ignored). Boxes are xyxy in input pixels unless the
  sidecar says otherwise (``box_format: yxyx``, ``normalized: true``); normalised boxes are also
  recognised by every coordinate being at most 1.5.

Everything here is numpy on the outputs of one image; no onnxruntime, no torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

LAYOUTS = ("yolov5", "yolov8", "boxes_scores_labels")
BOX_FORMATS = ("xyxy", "yxyx", "cxcywh", "xywh")


class LayoutError(ValueError):
    """Outputs that match no known layout (the message says what was found)."""


@dataclass(frozen=True)
class Layout:
    """Which layout, and which output(s) of the model it reads."""

    name: str
    outputs: tuple[int, ...]  # yolo: (i,); triples: (boxes, scores, labels)


@dataclass
class RawDetections:
    """Candidates of one image before NMS: boxes xyxy in model-input pixels, scores per class."""

    boxes: np.ndarray         # (M, 4) float32
    class_scores: np.ndarray  # (M, nc) float32


def _shape(a: np.ndarray) -> list[int]:
    return [int(s) for s in np.shape(a)]


def _describe(outputs: Sequence[np.ndarray], names: Sequence[str]) -> str:
    return ", ".join(f"{n} {_shape(o)}" for n, o in zip(names, outputs))


def _unbatched(a: np.ndarray, ndim: int) -> Optional[np.ndarray]:
    """``a`` without its batch axis of 1 when it has ``ndim + 1`` axes; as is with ``ndim``."""
    a = np.asarray(a)
    if a.ndim == ndim + 1 and a.shape[0] == 1:
        return a[0]
    return a if a.ndim == ndim else None


def _yolo_layout(out: np.ndarray, nc: int) -> Optional[str]:
    a = _unbatched(out, 2)
    if a is None:
        return None
    rows, cols = a.shape
    v8, v5 = rows == 4 + nc, cols == 5 + nc
    if v8 and v5:  # only possible with N == 5 + nc: anchors outnumber attributes in practice
        return "yolov8" if cols >= rows else "yolov5"
    return "yolov8" if v8 else "yolov5" if v5 else None


def _triple_layout(outputs: Sequence[np.ndarray], names: Sequence[str]) -> Optional[tuple[int, int, int]]:
    boxes = [i for i, o in enumerate(outputs) if _unbatched(o, 2) is not None and np.shape(o)[-1] == 4]
    if len(boxes) != 1:
        return None
    n = _unbatched(outputs[boxes[0]], 2).shape[0]
    flat = [i for i, o in enumerate(outputs)
            if i != boxes[0] and (v := _unbatched(o, 1)) is not None and v.shape[0] == n]
    if len(flat) != 2:
        return None

    def named_labels(i: int) -> bool:
        return "label" in names[i].lower() or "class" in names[i].lower()

    def integral(i: int) -> bool:
        values = np.asarray(outputs[i])
        return np.issubdtype(values.dtype, np.integer) or bool(np.all(values == np.round(values)))

    first, second = flat
    for is_labels in (named_labels, integral):  # the output's name first, then its values
        if is_labels(first) != is_labels(second):
            labels = first if is_labels(first) else second
            break
    else:
        return None
    scores = second if labels == first else first
    return boxes[0], scores, labels


def find_layout(outputs: Sequence[np.ndarray], names: Sequence[str], num_classes: int,
                forced: Optional[str] = None) -> Layout:
    """The layout of a model's outputs (``forced``: the sidecar's ``layout`` key); ``LayoutError``
    naming the shapes found when none fits."""
    if forced is not None and forced not in LAYOUTS:
        raise LayoutError(f"unknown layout '{forced}' (one of: {', '.join(LAYOUTS)})")
    if forced in (None, "yolov5", "yolov8"):
        for i, out in enumerate(outputs):
            found = _yolo_layout(out, num_classes)
            if found is not None and forced in (None, found):
                return Layout(found, (i,))
    if forced in (None, "boxes_scores_labels"):
        triple = _triple_layout(outputs, names)
        if triple is not None:
            return Layout("boxes_scores_labels", triple)
    wanted = (f"YOLOv5 [1, N, {5 + num_classes}], YOLOv8 [1, {4 + num_classes}, N] "
              f"or boxes [1, N, 4] + scores [1, N] + labels [1, N]") if forced is None else forced
    raise LayoutError(f"outputs {_describe(outputs, names)} match no detector layout for "
                      f"{num_classes} classes (expected {wanted})")


def to_xyxy(boxes: np.ndarray, box_format: str) -> np.ndarray:
    """(N, 4) boxes in ``box_format`` -> xyxy."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    if box_format == "xyxy":
        return b
    if box_format == "yxyx":
        return b[:, [1, 0, 3, 2]]
    if box_format == "cxcywh":
        half = b[:, 2:] / 2
        return np.concatenate([b[:, :2] - half, b[:, :2] + half], 1)
    if box_format == "xywh":
        return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], 1)
    raise LayoutError(f"unknown box_format '{box_format}' (one of: {', '.join(BOX_FORMATS)})")


def decode(layout: Layout, outputs: Sequence[np.ndarray], num_classes: int,
           input_hw: tuple[int, int], box_format: Optional[str] = None,
           normalized: Optional[bool] = None) -> RawDetections:
    """Every candidate of one image: xyxy boxes in model-input pixels with their class scores.

    ``box_format``/``normalized`` apply to the ``boxes_scores_labels`` layout (YOLO boxes are
    always centre/size in input pixels); ``normalized=None`` recognises normalised boxes.
    """
    if layout.name in ("yolov5", "yolov8"):
        pred = _unbatched(outputs[layout.outputs[0]], 2).astype(np.float32, copy=False)
        if layout.name == "yolov8":
            pred = pred.T
            scores = pred[:, 4:]
        else:
            scores = pred[:, 5:] * pred[:, 4:5]
        return RawDetections(to_xyxy(pred[:, :4], "cxcywh"), np.ascontiguousarray(scores))
    bi, si, li = layout.outputs
    boxes = to_xyxy(_unbatched(outputs[bi], 2), box_format or "xyxy")
    scores = _unbatched(outputs[si], 1).astype(np.float32)
    labels = np.rint(_unbatched(outputs[li], 1)).astype(np.int64)
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        raise LayoutError(f"the model reports class {int(labels[bad][0])} but has {num_classes} class "
                          f"names (line k of the class file names label k)")
    if normalized is None:
        normalized = bool(boxes.size) and float(np.abs(boxes).max()) <= 1.5
    if normalized:
        h, w = input_hw
        boxes = boxes * np.array([w, h, w, h], np.float32)
    class_scores = np.zeros((len(scores), num_classes), np.float32)
    class_scores[np.arange(len(scores)), labels] = scores
    return RawDetections(boxes, class_scores)
