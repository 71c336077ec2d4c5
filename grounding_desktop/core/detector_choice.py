"""Which detector proposes the boxes: the bundled SSD on one of its backends, or the user's ONNX file.

One value that the CLI options (``--backend``, ``--detector``, ``--detector-classes``), the app's
Grounding → Model… dialog and the project database (``meta`` key ``detector``, so each project
remembers its own) all mean the same thing by; ``grounding.detectors.backends.make_detector`` turns it
into a detector.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Optional

META_KEY = "detector"  # ProjectStore meta key holding DetectorChoice.to_json()

# The bundled SSD-MobileNetV2 on: the best one for the device (``auto``), the torch port,
# onnxruntime fp32 or int8 (the ONNX export of the same network), or OpenCV DNN (the reference).
BACKENDS = ("auto", "torch", "onnxruntime", "onnxruntime-int8", "opencv")


class DetectorChoiceError(ValueError):
    """A choice that names no backend, or a stored setting that cannot be read."""


@dataclass(frozen=True)
class DetectorChoice:
    """``onnx_file`` set: the user's detector (run by onnxruntime; ``backend`` is not used).
    Otherwise the bundled SSD on ``backend``. ``classes_file``: class names, one a line."""

    backend: str = "auto"
    onnx_file: Optional[str] = None
    classes_file: Optional[str] = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise DetectorChoiceError(f"unknown backend '{self.backend}' (one of: {', '.join(BACKENDS)})")
        if self.classes_file and not self.onnx_file:
            raise DetectorChoiceError("a class file goes with an ONNX detector file (--detector FILE.onnx)")

    @property
    def bundled(self) -> bool:
        return not self.onnx_file

    def describe(self) -> str:
        """A few words for people: what proposes the boxes."""
        if self.onnx_file:
            return f"ONNX detector {self.onnx_file}"
        return f"bundled SSD-MobileNetV2 ({self.backend})"

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)

    @classmethod
    def from_json(cls, text: Optional[str]) -> "DetectorChoice":
        """The stored setting; no setting is the default choice."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(backend=str(data.get("backend", "auto")), onnx_file=data.get("onnx_file"),
                       classes_file=data.get("classes_file"))
        except (ValueError, TypeError, AttributeError) as exc:
            raise DetectorChoiceError(f"unreadable detector setting {text!r}: {exc}") from exc
