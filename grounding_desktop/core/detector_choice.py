"""Which detector proposes the boxes: the bundled SSD on one of its backends, or the user's ONNX file.

One value that the CLI options (``--backend``, ``--detector``, ``--detector-classes``), the app's
Grounding → Model… dialog and the project database (``meta`` key ``detector``, so each project
remembers its own) all mean the same thing by; ``grounding.detectors.backends`` declares the
backends, checks a choice's (``check_backend``) and turns it into a detector (``make_detector``).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Optional

META_KEY = "detector"  # ProjectStore meta key holding DetectorChoice.to_json()


class DetectorChoiceError(ValueError):
    """A choice that names no backend (``backends.check_backend``), or a stored setting that cannot be read."""


@dataclass(frozen=True)
class DetectorChoice:
    """``onnx_file`` set: the user's detector (run by onnxruntime; ``backend`` is not used).
    Otherwise the bundled SSD on ``backend`` (a name of ``grounding.detectors.backends.BACKENDS``).
    ``classes_file``: class names, one a line."""

    backend: str = "auto"
    onnx_file: Optional[str] = None
    classes_file: Optional[str] = None

    def __post_init__(self) -> None:
        if not isinstance(self.backend, str) or not self.backend:
            raise DetectorChoiceError(f"unreadable backend {self.backend!r}")
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
