"""The bundled SSD with its network run by onnxruntime from the exported file (``export_onnx.py``).

Everything but the network is ``SSDDetector``'s own (resize and scaling in ``preprocess``, per-class
NMS, clipping and RoIAlign region features in ``detect``), so the torch and onnxruntime backends
differ only in who multiplies the matrices; ``tests/unit/test_onnx_export.py`` holds them to the
same boxes. Post-processing runs in torch on the CPU; the settings it needs come from the file's
metadata.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import torch

from .detector import SSDDetector, _valid_class_mask
from .onnx_runtime import ModelFileError, metadata, open_session, provider_label, run_session
from .ssd_weights import SSDSpec

INPUT_NAME = "images"  # the exported graph's input (``export_onnx`` names it so)


class OnnxSSDDetector(SSDDetector):
    """``SSDDetector`` whose ``forward`` runs an exported ONNX file (fp32 or int8)."""

    batch_limit = 1  # the exported graph takes one image

    def __init__(self, path: str | Path, device: Optional[str] = None, variant: str = "fp32") -> None:
        # Not SSDDetector.__init__: there are no torch weights to load, only the file to open.
        self.weights_path = Path(path)
        self.session = open_session(self.weights_path, device)
        self.device = torch.device("cpu")  # where pre- and post-processing run
        self.runtime = provider_label(self.session)
        meta = metadata(self.session)
        if "ssd_spec" not in meta:
            raise ModelFileError(f"{path}: not an ONNX export of the bundled SSD (no ssd_spec in its metadata)")
        self.spec = SSDSpec(**json.loads(meta["ssd_spec"]))
        self.version = f"{meta.get('model_version', self.weights_path.stem)}+onnx-{variant}"
        self._valid_classes = _valid_class_mask(self.device)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        boxes, scores, features = run_session(
            self.session, {INPUT_NAME: x.contiguous().numpy()}, self.weights_path)
        return torch.from_numpy(boxes), torch.from_numpy(scores), [torch.from_numpy(features)]
