"""The same SSD graph run by OpenCV DNN, behind ``SSDDetector``'s interface.

It is the reference the torch port is measured against (``benchmarks/grounding_latency.py``
times both in the same run) and a CPU-only fall-back. Per-class score vectors come from the
graph's ``ClassPredictor/concat/sigmoid`` output: each kept detection is matched to the anchor
whose decoded box it is. OpenCV gives no backbone features, so ``region_features`` is (N, 0), and
this reference offers no class-agnostic candidates (``candidates`` is accepted and ignored).
"""
from __future__ import annotations

import threading

import numpy as np

from .detector import COCO_LABELS, Detections, ImageLike, to_rgb_array
from .ssd_weights import INPUT_SIZE, MODEL_NAME, find_graph_files

_EXTRA_OUTPUTS = ["ClassPredictor/concat/sigmoid", "BoxEncodingPredictor/concat",
                  "PriorBox/concat"]


class OpenCVSSDDetector:
    """SSD-MobileNetV2 COCO with ``cv2.dnn`` on the CPU."""

    class_names = COCO_LABELS

    def __init__(self, device: str = "cpu", weights=None) -> None:
        import cv2

        files = find_graph_files()
        engine = getattr(cv2.dnn, "ENGINE_NEW", None)
        if engine is not None:
            self.net = cv2.dnn.readNetFromTensorflow(str(files.pb), str(files.pbtxt), engine,
                                                     _EXTRA_OUTPUTS)
        else:  # OpenCV 4: every layer can be asked for by name
            self.net = cv2.dnn.readNetFromTensorflow(str(files.pb), str(files.pbtxt))
        self.device = "cpu"
        self.version = f"{MODEL_NAME}+opencv{cv2.__version__}"
        self.runtime = f"OpenCV DNN {cv2.__version__} cpu"
        self._lock = threading.Lock()  # a cv2.dnn.Net is not re-entrant

    def detect(self, image: ImageLike, score_threshold: float = 0.05,
               max_detections: int = 100, candidates: int = 0) -> Detections:
        import cv2

        rgb = to_rgb_array(image)
        height, width = rgb.shape[:2]
        blob = cv2.dnn.blobFromImage(rgb, size=(INPUT_SIZE, INPUT_SIZE), swapRB=False)
        with self._lock:
            self.net.setInput(blob)
            det, cls, loc, prior = self.net.forward(["detection_out"] + _EXTRA_OUTPUTS)
        rows = det.reshape(-1, 7)
        rows = rows[(rows[:, 2] > score_threshold) & np.isin(rows[:, 1].astype(int), list(COCO_LABELS))]
        rows = rows[np.argsort(-rows[:, 2], kind="stable")][:max_detections]
        anchors = _decode_anchors(loc, prior)
        class_scores = cls.reshape(anchors.shape[0], -1)
        if len(rows):
            dist = np.abs(anchors[None, :, :] - rows[:, None, 3:7]).sum(-1)
            anchor_idx = dist.argmin(1)
            vectors = class_scores[anchor_idx].astype(np.float32)
        else:
            vectors = np.zeros((0, class_scores.shape[1]), np.float32)
        norm = np.clip(rows[:, 3:7], 0.0, 1.0)
        boxes = (norm * np.array([width, height, width, height], np.float32)).astype(np.float32)
        return Detections(boxes=boxes, scores=rows[:, 2].astype(np.float32),
                          labels=rows[:, 1].astype(np.int64), class_scores=vectors,
                          region_features=np.zeros((len(rows), 0), np.float32),
                          image_size=(int(width), int(height)), objectness=1.0 - vectors[:, 0])


def _decode_anchors(loc: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """CENTER_SIZE decoding as ``DetectionOutput`` does it: normalised xyxy per anchor."""
    prior = prior.reshape(2, -1, 4)
    p, var = prior[0], prior[1]
    loc = loc.reshape(-1, 4)
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    pcx, pcy = (p[:, 0] + p[:, 2]) / 2, (p[:, 1] + p[:, 3]) / 2
    cx = pcx + var[:, 0] * loc[:, 0] * pw
    cy = pcy + var[:, 1] * loc[:, 1] * ph
    w = pw * np.exp(var[:, 2] * loc[:, 2])
    h = ph * np.exp(var[:, 3] * loc[:, 3])
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
