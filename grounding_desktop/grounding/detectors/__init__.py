"""The detector stage: the bundled SSD (torch port, its weights, its ONNX export), the same network
in onnxruntime or OpenCV DNN, the user's ONNX detector, and the registry of backends that chooses
one (``backends``).

Every detector has ``detect(rgb, score_threshold, max_detections) -> Detections``, ``class_names``
(label id -> name: the columns of ``Detections.class_scores`` and what the scorer matches phrases
to), ``version`` (goes into the model version of every proposal) and ``runtime`` (what runs the
network, for ``doctor`` and the status bar). Nothing heavy is imported here.
"""
from __future__ import annotations

from typing import Protocol

NO_CLASS = -1  # the label of a region no detector class named (a class-agnostic candidate)


class Detector(Protocol):
    class_names: dict[int, str]
    version: str
    runtime: str

    def detect(self, image, score_threshold: float = 0.05, max_detections: int = 100): ...
