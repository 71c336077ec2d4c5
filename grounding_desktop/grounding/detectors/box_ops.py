"""Non-maximum suppression and RoIAlign: torchvision's compiled kernels, called without importing
torchvision's Python package.

The model needs three of torchvision's operators, but ``import torchvision`` imports its model zoo,
and with it ``torch._dynamo``: about a second of every model start, for nothing we use. The kernels
live in the package's compiled library, which registers them with torch as
``torch.ops.torchvision.*`` when loaded; loading it costs a millisecond. Should a torchvision build
name its library otherwise, importing ``torchvision.ops`` registers the same kernels (slower, same
results).
"""
from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import torch

_LIBRARIES = ("_C_stable", "_C")  # torchvision 0.25+ / before
_lock = threading.Lock()
_loaded = False


def _kernels():
    """``torch.ops.torchvision``, its library loaded on first use."""
    global _loaded
    with _lock:
        if not _loaded:
            spec = importlib.util.find_spec("torchvision")
            folder = Path(next(iter(spec.submodule_search_locations))) if spec else None
            library = next((p for name in _LIBRARIES for p in sorted(folder.glob(name + ".*"))
                            if p.suffix in (".so", ".pyd", ".dylib")), None) if folder else None
            if library is not None:
                torch.ops.load_library(str(library))
            else:
                import torchvision.ops  # noqa: F401 - registers the kernels itself
            _loaded = True
    return torch.ops.torchvision


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Indices of the xyxy ``boxes`` kept, by decreasing score (``torchvision.ops.nms``)."""
    return _kernels().nms(boxes, scores, float(iou_threshold))


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor,
                iou_threshold: float) -> torch.Tensor:
    """NMS within each class (``torchvision.ops.batched_nms``): each class's boxes are moved
    apart from the others', so one NMS never lets two classes suppress each other."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    offsets = classes.to(boxes) * (boxes.max() + 1)
    return nms(boxes + offsets[:, None], scores, iou_threshold)


def roi_align(features: torch.Tensor, rois: torch.Tensor, output_size: int | tuple[int, int],
              spatial_scale: float = 1.0, sampling_ratio: int = -1,
              aligned: bool = False) -> torch.Tensor:
    """``torchvision.ops.roi_align`` for ``rois`` as a (K, 5) tensor of (batch index, x0, y0, x1, y1)."""
    h, w = (output_size, output_size) if isinstance(output_size, int) else output_size
    return _kernels().roi_align(features, rois.to(features.dtype), float(spatial_scale), int(h), int(w),
                                int(sampling_ratio), bool(aligned))
