"""The detectors behind the Grounder, declared once: ``BACKENDS``, what runs the bundled SSD (the
torch port, the same network in onnxruntime fp32/int8 or OpenCV DNN), and ``make_detector``, which
also opens the user's ONNX file. Each gives a ``Detector`` (the package's ``__init__``).

The CLI's ``--backend`` (its choices and help), the app's Grounding -> Model... dialog, ``doctor``
and the README's table (``python -m grounding_desktop.grounding.detectors.backends``; a test
compares) all read ``BACKENDS``: a new backend is its module, with its detector class, and one
``DetectorBackend`` line here. This module imports neither torch nor OpenCV (the dialog reads it in
the app's process): each ``make`` imports its module when it is called.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Optional

from ...core.detector_choice import DetectorChoice, DetectorChoiceError
from . import Detector

log = logging.getLogger(__name__)

# OpenCV 5 dropped the TensorFlow importer the reference backend reads the SSD graph with.
OPENCV_FIX = "pip install 'opencv-python-headless<5'"


class BackendUnavailable(RuntimeError):
    """The chosen backend cannot run here: one line for the user, naming the fix."""


def runs_anywhere() -> Optional[str]:
    return None


def opencv_problem() -> Optional[str]:
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


def make_torch(device: str) -> Detector:
    from .detector import SSDDetector

    return SSDDetector(device=device)


def make_onnxruntime(variant: str) -> Callable[[str], Detector]:
    def make(device: str) -> Detector:
        from .export_onnx import cached_model
        from .onnx_ssd import OnnxSSDDetector

        return OnnxSSDDetector(cached_model(variant, calibration_photos), device, variant)
    return make


def make_opencv(device: str) -> Detector:
    from .opencv_detector import OpenCVSSDDetector

    return OpenCVSSDDetector()


@dataclass(frozen=True)
class DetectorBackend:
    """``name``: the CLI's ``--backend`` and the stored choice; ``title``: the Model dialog's;
    ``help``: one line for the CLI's ``--help`` and the README's table; ``make(device)`` builds the detector
    (importing its module); ``runs_on``: which device it takes, ``"torch"`` (the torch device),
    ``"onnxruntime"`` (CUDA's provider when this onnxruntime has it, else the CPU) or ``"cpu"``;
    ``problem()``: why it cannot run here (None when it can; cheap, imports no model)."""

    name: str
    title: str
    help: str
    make: Optional[Callable[[str], Detector]]
    runs_on: str = "torch"
    problem: Callable[[], Optional[str]] = runs_anywhere


# The bundled SSD's backend on a CPU when none is asked for. benchmarks/onnx_backends.py measures
# torch against onnxruntime fp32 and int8 on the same images; a backend becomes the default only
# when it is more than 10 % faster (and int8 only if it loses nothing on the coco8 phrases).
# Measured on 2 cores: onnxruntime fp32 1.3-1.4x torch's speed with the same boxes; int8 3.2x but
# 16/23 instead of 19/23 on the coco8 phrases, so not the default.
CPU_DEFAULT_BACKEND = "onnxruntime"
AUTO = "auto"

BACKENDS: tuple[DetectorBackend, ...] = (
    DetectorBackend(AUTO, "Automatic (the fastest measured here)",
                    f"torch on a GPU, {CPU_DEFAULT_BACKEND} on a CPU (falls back to torch when it cannot run)",
                    None),
    DetectorBackend("torch", "torch", "the torch port of the SSD (CUDA, MPS or the CPU)", make_torch),
    DetectorBackend("onnxruntime", "onnxruntime", "the SSD's ONNX export (fp32), made once in the cache",
                    make_onnxruntime("fp32"), "onnxruntime"),
    DetectorBackend("onnxruntime-int8", "onnxruntime int8 (fastest, less accurate)",
                    "the ONNX export quantised to int8, calibrated on the sample photos",
                    make_onnxruntime("int8"), "onnxruntime"),
    DetectorBackend("opencv", "OpenCV DNN (reference, CPU)",
                    "the original TensorFlow graph in OpenCV 4's DNN module, on the CPU",
                    make_opencv, "cpu", opencv_problem),
)
BACKEND = {b.name: b for b in BACKENDS}
BACKEND_NAMES = tuple(BACKEND)


def backend(name: str) -> DetectorBackend:
    """The declared backend ``name``; ``DetectorChoiceError`` when there is none."""
    try:
        return BACKEND[name]
    except KeyError:
        raise DetectorChoiceError(f"unknown backend '{name}' (one of: {', '.join(BACKEND_NAMES)})") from None


def check_backend(choice: DetectorChoice) -> None:
    """Raise ``DetectorChoiceError`` when ``choice`` names no backend, ``BackendUnavailable`` when
    its backend cannot run here."""
    if not choice.bundled:
        return
    problem = backend(choice.backend).problem()
    if problem:
        raise BackendUnavailable(problem)


def resolve_backend(choice: DetectorChoice, torch_device: str) -> str:
    """The backend that runs: ``auto`` is torch on a GPU, ``CPU_DEFAULT_BACKEND`` on the CPU;
    a user's ONNX file always runs in onnxruntime."""
    if choice.onnx_file:
        return "onnxruntime"
    if choice.backend == AUTO:
        return "torch" if torch_device != "cpu" else CPU_DEFAULT_BACKEND
    return backend(choice.backend).name


def backend_device(choice: DetectorChoice, requested: Optional[str], torch_device: str) -> str:
    """The device the detector of ``choice`` runs on, for a ``--device`` request that torch
    resolves to ``torch_device`` (``device.resolve_device``)."""
    runs_on = BACKEND[resolve_backend(choice, torch_device)].runs_on
    if runs_on == "cpu":
        return "cpu"
    if runs_on == "onnxruntime":
        from .onnx_runtime import CUDA_PROVIDER, providers_for

        return "cuda" if providers_for(requested)[0] == CUDA_PROVIDER else "cpu"
    return torch_device


def make_detector(choice: DetectorChoice, device: str) -> Detector:
    """Build the detector of ``choice`` on ``device`` (from ``backend_device``)."""
    if choice.onnx_file:
        from .onnx_detector import OnnxDetector

        return OnnxDetector(choice.onnx_file, choice.classes_file, device)
    check_backend(choice)
    chosen = BACKEND[resolve_backend(choice, device)]
    try:
        return chosen.make(device)
    except Exception as exc:  # noqa: BLE001 - e.g. no ONNX export here (a torch without its exporter)
        if choice.backend != AUTO:
            raise
        log.warning("%s backend unavailable (%s); the detector runs in torch", chosen.name, exc)
    return make_torch(device)


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


def markdown_table() -> str:
    """The README's table of backends."""
    rows = ["| `--backend` | in the Model dialog | what runs the detector |", "|---|---|---|"]
    rows += [f"| `{b.name}` | {b.title} | {b.help} |" for b in BACKENDS]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
