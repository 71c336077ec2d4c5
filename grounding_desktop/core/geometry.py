"""Box geometry on pixel ``[x, y, w, h]`` tuples (COCO convention, top-left origin).

This is the single place that converts between box conventions, so every layer agrees on them.
"""
from __future__ import annotations

from typing import Sequence

XYWH = tuple[float, float, float, float]
XYXY = tuple[float, float, float, float]


def xywh_to_xyxy(b: Sequence[float]) -> XYXY:
    x, y, w, h = (float(v) for v in b)
    return (x, y, x + w, y + h)


def xyxy_to_xywh(b: Sequence[float]) -> XYWH:
    x1, y1, x2, y2 = (float(v) for v in b)
    return (x1, y1, x2 - x1, y2 - y1)


def normalize_xywh(b: Sequence[float], width: float, height: float) -> XYWH:
    """Pixel box -> fractions of the image size (YOLO-style trainers and the UI use these)."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    x, y, w, h = (float(v) for v in b)
    return (x / width, y / height, w / width, h / height)


def denormalize_xywh(b: Sequence[float], width: float, height: float) -> XYWH:
    x, y, w, h = (float(v) for v in b)
    return (x * width, y * height, w * width, h * height)


def clamp_xywh(b: Sequence[float], width: float, height: float) -> XYWH:
    """Clip a box to the image; a box wholly outside collapses to zero size on the border."""
    x1, y1, x2, y2 = xywh_to_xyxy(_normalised_order(b))
    x1 = min(max(x1, 0.0), width)
    x2 = min(max(x2, 0.0), width)
    y1 = min(max(y1, 0.0), height)
    y2 = min(max(y2, 0.0), height)
    return (x1, y1, x2 - x1, y2 - y1)


def keep_inside(b: Sequence[float], width: float, height: float) -> XYWH:
    """Move a box back inside the image, keeping its size where it fits (a box dragged or nudged
    past an edge stops at the edge; one larger than the image is cut to the image's size)."""
    x, y, w, h = _normalised_order(b)
    w, h = min(w, float(width)), min(h, float(height))
    return (min(max(x, 0.0), width - w), min(max(y, 0.0), height - h), w, h)


def clamp_point(x: float, y: float, width: float, height: float) -> tuple[float, float]:
    """The nearest point of the image (a drag that leaves the image draws up to its edge)."""
    return (min(max(float(x), 0.0), float(width)), min(max(float(y), 0.0), float(height)))


def _normalised_order(b: Sequence[float]) -> XYWH:
    """A box dragged 'backwards' has negative w/h; flip it so w, h >= 0."""
    x, y, w, h = (float(v) for v in b)
    if w < 0:
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    return (x, y, w, h)


def area_xywh(b: Sequence[float]) -> float:
    return max(float(b[2]), 0.0) * max(float(b[3]), 0.0)


def iou_xywh(a: Sequence[float], b: Sequence[float]) -> float:
    ax1, ay1, ax2, ay2 = xywh_to_xyxy(a)
    bx1, by1, bx2, by2 = xywh_to_xyxy(b)
    iw = min(ax2, bx2) - max(ax1, bx1)
    ih = min(ay2, by2) - max(ay1, by1)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = area_xywh(a) + area_xywh(b) - inter
    return inter / union if union > 0 else 0.0
