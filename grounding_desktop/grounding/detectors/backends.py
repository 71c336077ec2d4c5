"""The detectors behind the Grounder: what each offers, and which one a ``DetectorChoice`` means.

Every detector (the torch SSD, the same SSD in onnxruntime fp32/int8 or OpenCV DNN, the user's
ONNX file) has ``detect(rgb, score_threshold, max_detections) -> Detections``, ``class_names``
(label id -> name: the columns of ``Detections.class_scores`` and what the scorer matches phrases
to), ``version`` (goes into the model version of every proposal) and ``runtime`` (what runs the
network, for ``doctor`` and the status bar).
"""
from __future__ import annotations

import logging
from typing import Optional, Protocol

from ...core.detector_choice import DetectorChoice

# The bundled SSD's backend on a CPU when none is asked for. benchmarks/onnx_backends.py measures
# torch against onnxruntime fp32 and int8 on the same images; a backend becomes the default only
# when it is more than 10 % faster (and int8 only if it loses nothing on the coco8 phrases).
# Measured on 2 cores: onnxruntime fp32 1.3-1.4x torch's speed with the same boxes; int8 3.2x but
# 16/23 instead of 19/23 on the coco8 phrases, so not the default.
CPU_DEFAULT_BACKEND = "onnxruntime"
ONNX_BACKENDS = ("onnxruntime", "onnxruntime-int8")

log = logging.getLogger(__name__)

# OpenCV 5 dropped the TensorFlow importer the reference backend reads the SSD graph with.
OPENCV_FIX = "pip install 'opencv-python-headless<5'"


class OpenCVBackendError(RuntimeError):
    """The installed OpenCV cannot run the reference backend: one line for the user, naming the fix."""


def opencv_backend_problem() -> Optional[str]:
    """Why the ``opencv`` backend cannot run here (no cv2, or one without
    ``cv2.dnn.readNetFromTensorflow``: OpenCV 5), or None when it can."""
    try:
        import cv2
    except ImportError as exc:
        return f"the opencv backend needs OpenCV 4, and cv2 cannot be imported ({exc}); install it: {OPENCV_FIX}"
    if not hasattr(getattr(cv2, "dnn", None), "readNetFromTensorflow"):
        return (f"the opencv backend needs OpenCV 4's TensorFlow importer, which OpenCV {cv2.__version__} "
                f"does not have; install OpenCV 4: {OPENCV_FIX}")
    return None


def require_opencv_backend() -> None:
    """Raise ``OpenCVBackendError`` when the opencv backend cannot run here."""
    problem = opencv_backend_problem()
    if problem:
        raise OpenCVBackendError(problem)


def check_backend(choice: DetectorChoice) -> None:
    """Raise ``OpenCVBackendError`` when ``choice`` asks for the opencv backend and it cannot run."""
    if choice.bundled and choice.backend == "opencv":
        require_opencv_backend()


class Detector(Protocol):
    class_names: dict[int, str]
    version: str
    runtime: str

    def detect(self, image, score_threshold: float = 0.05, max_detections: int = 100): ...


def resolve_backend(choice: DetectorChoice, torch_device: str) -> str:
    """The backend that runs: ``auto`` is torch on a GPU, ``CPU_DEFAULT_BACKEND`` on the CPU;
    a user's ONNX file always runs in onnxruntime."""
    if choice.onnx_file:
        return "onnxruntime"
    if choice.backend == "auto":
        return "torch" if torch_device != "cpu" else CPU_DEFAULT_BACKEND
    return choice.backend


def backend_device(choice: DetectorChoice, requested: Optional[str], torch_device: str) -> str:
    """The device the detector of ``choice`` runs on, for a ``--device`` request that torch
    resolves to ``torch_device`` (``device.resolve_device``)."""
    backend = resolve_backend(choice, torch_device)
    if backend == "opencv":
        return "cpu"
    if backend in ONNX_BACKENDS:
        from .onnx_runtime import CUDA_PROVIDER, providers_for

        return "cuda" if providers_for(requested)[0] == CUDA_PROVIDER else "cpu"
    return torch_device


def make_detector(choice: DetectorChoice, device: str) -> Detector:
    """Build the detector of ``choice`` on ``device`` (from ``backend_device``)."""
    if choice.onnx_file:
        from .onnx_detector import OnnxDetector

        return OnnxDetector(choice.onnx_file, choice.classes_file, device)
    backend = resolve_backend(choice, device)
    if backend == "opencv":
        from .opencv_detector import OpenCVSSDDetector

        return OpenCVSSDDetector()
    if backend in ONNX_BACKENDS:
        from .export_onnx import cached_model
        from .onnx_ssd import OnnxSSDDetector

        variant = "int8" if backend == "onnxruntime-int8" else "fp32"
        try:
            path = cached_model(variant, calibration_photos)
        except Exception as exc:  # noqa: BLE001 - no ONNX export here (e.g. a torch without its exporter)
            if choice.backend != "auto":
                raise
            log.warning("onnxruntime backend unavailable (%s); the detector runs in torch", exc)
        else:
            return OnnxSSDDetector(path, device, variant)
    from .detector import SSDDetector

    return SSDDetector(device=device)


def calibration_photos():
    """The photos int8 quantisation is calibrated on: the repository's samples (four photos)."""
    from PIL import Image

    from ...core.paths import SAMPLE_PHOTOS_DIR

    photos = sorted(SAMPLE_PHOTOS_DIR.glob("*.jpg"))
    if not photos:
        from .onnx_runtime import ModelFileError

        raise ModelFileError(f"{SAMPLE_PHOTOS_DIR}: no calibration photos for the int8 model "
                             f"(they come with a source checkout)")
    out = []
    for p in photos:
        with Image.open(p) as im:
            out.append(im.convert("RGB"))
    return out
