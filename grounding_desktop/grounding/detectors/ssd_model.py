"""SSD-MobileNetV2 (TF Object Detection API, ``ssd_mobilenet_v2_coco_2018_03_29``) as a torch module.

The layout mirrors the TF graph one-to-one so converted weights drop in by name
(see ``ssd_weights.convert_constants``): MobileNetV2 (depth multiplier 1), four extra
feature layers (1x1 reduce, 3x3 stride-2 depthwise, 1x1 pointwise), and a 3x3 box/class
predictor per feature map.

TF's ``SAME`` padding is asymmetric for stride-2 convolutions on even-sized inputs (the extra
row/column goes at the bottom/right), which torch's symmetric ``padding=`` cannot express; the
convolutions therefore work out their padding from the input size and pad explicitly only when
the split is uneven. Batch norm is folded into the convolutions at load (``fuse_for_inference``).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

NUM_CLASSES = 91  # COCO ids 1..90 plus background at 0 (TF OD API label space)
# Anchors per location for the six feature maps (first layer: reduce_boxes_in_lowest_layer).
ANCHORS_PER_LOCATION = (3, 6, 6, 6, 6, 6)
BN_EPS = 1e-3  # every BatchNorm in the graph adds 0.001 before rsqrt

# (expansion t, output channels, stride) for expanded_conv .. expanded_conv_16 (slim V2_DEF).
_BLOCKS = (
    (1, 16, 1),
    (6, 24, 2), (6, 24, 1),
    (6, 32, 2), (6, 32, 1), (6, 32, 1),
    (6, 64, 2), (6, 64, 1), (6, 64, 1), (6, 64, 1),
    (6, 96, 1), (6, 96, 1), (6, 96, 1),
    (6, 160, 2), (6, 160, 1), (6, 160, 1),
    (6, 320, 1),
)
# The first feature map is the expansion output (ReLU6) of this block ("layer_15/expansion_output").
_FEATURE_BLOCK = 13
# (reduce channels, output channels) of layer_19_{1,2}_Conv2d_{2..5}.
_EXTRAS = ((256, 512), (128, 256), (128, 256), (64, 128))


def tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding that TF's ``SAME`` uses along one axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class ConvBN(nn.Module):
    """Conv (TF SAME padding) + BatchNorm + optional ReLU6, with BN foldable into the conv."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, stride: int = 1,
                 groups: int = 1, relu6: bool = True) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding=0, groups=groups, bias=False)
        self.bn: nn.Module = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.relu6 = relu6
        # Padding depends only on the input size: looked up once per size. Where TF's split is
        # symmetric the conv pads by itself; only uneven splits need a separate pad op.
        self._pad_cache: dict[tuple[int, int], tuple[tuple[int, ...] | None, tuple[int, int]]] = {}

    def _padding(self, h: int, w: int) -> tuple[tuple[int, ...] | None, tuple[int, int]]:
        found = self._pad_cache.get((h, w))
        if found is None:
            top, bottom = tf_same_padding(h, self.kernel, self.stride)
            left, right = tf_same_padding(w, self.kernel, self.stride)
            if top == bottom and left == right:
                found = (None, (top, left))
            else:
                found = ((left, right, top, bottom), (0, 0))
            self._pad_cache[(h, w)] = found
        return found

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        explicit, implicit = self._padding(x.shape[-2], x.shape[-1])
        if explicit is not None:
            x = F.pad(x, explicit)
        conv = self.conv
        x = self.bn(F.conv2d(x, conv.weight, conv.bias, conv.stride, implicit, 1, conv.groups))
        # In place: x is this layer's own fresh output.
        return F.hardtanh_(x, 0.0, 6.0) if self.relu6 else x

    @torch.no_grad()
    def fuse_batchnorm(self) -> None:
        """Fold the BN affine transform into the conv weights and a bias (inference only)."""
        if not isinstance(self.bn, nn.BatchNorm2d):
            return
        bn = self.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        conv = self.conv
        fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                          padding=0, groups=conv.groups, bias=True)
        fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
        fused.bias.copy_(bn.bias - bn.running_mean * scale)
        self.conv = fused.to(conv.weight.device)
        self.bn = nn.Identity()


class InvertedResidual(nn.Module):
    """MobileNetV2 ``expanded_conv``: 1x1 expand, kxk depthwise, 1x1 linear projection.

    EfficientNet-Lite's MBConv block is the same block (no squeeze-excite, ReLU6) with 3x3 or 5x5
    depthwise kernels, so ``efficientnet_lite.py`` builds on it too.
    """

    def __init__(self, cin: int, cout: int, expansion: int, stride: int, kernel: int = 3) -> None:
        super().__init__()
        hidden = cin * expansion
        self.expand = ConvBN(cin, hidden) if expansion != 1 else None
        self.depthwise = ConvBN(hidden, hidden, kernel, stride, groups=hidden)
        self.project = ConvBN(hidden, cout, relu6=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor, return_expansion: bool = False):
        y = self.expand(x) if self.expand is not None else x
        expansion = y
        y = self.project(self.depthwise(y))
        if self.residual:
            y = y.add_(x)
        return (y, expansion) if return_expansion else y


class MobileNetV2Backbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv0 = ConvBN(3, 32, 3, 2)
        blocks, cin = [], 32
        for t, cout, stride in _BLOCKS:
            blocks.append(InvertedResidual(cin, cout, t, stride))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.conv_last = ConvBN(cin, 1280)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the two SSD feature maps: block-13 expansion (576 ch) and Conv_1 (1280 ch)."""
        x = self.conv0(x)
        c4 = x
        for i, block in enumerate(self.blocks):
            if i == _FEATURE_BLOCK:
                x, c4 = block(x, return_expansion=True)
            else:
                x = block(x)
        return c4, self.conv_last(x)


class ExtraLayer(nn.Module):
    """``layer_19_1_Conv2d_k_1x1`` + ``layer_19_2_Conv2d_k_3x3_s2`` (depthwise-separable)."""

    def __init__(self, cin: int, reduce: int, cout: int) -> None:
        super().__init__()
        self.reduce = ConvBN(cin, reduce)
        self.depthwise = ConvBN(reduce, reduce, 3, 2, groups=reduce)
        self.pointwise = ConvBN(reduce, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(self.reduce(x)))


class PredictionHead(nn.Module):
    """3x3 box-encoding and class convolutions of one ``BoxPredictor_i``.

    ``merge`` stacks the two into one convolution at load: both read the same input, so one
    pass over it does the work of two (the split afterwards is free).
    """

    def __init__(self, cin: int, anchors: int) -> None:
        super().__init__()
        self.box = nn.Conv2d(cin, anchors * 4, 3, padding=1)
        self.cls = nn.Conv2d(cin, anchors * NUM_CLASSES, 3, padding=1)
        self.merged: nn.Conv2d | None = None
        self.split_sizes = (anchors * 4, anchors * NUM_CLASSES)

    @torch.no_grad()
    def merge(self) -> None:
        if self.merged is not None:
            return
        box, cls = self.box, self.cls
        merged = nn.Conv2d(box.in_channels, sum(self.split_sizes), 3, padding=1)
        merged.weight.copy_(torch.cat([box.weight, cls.weight]))
        merged.bias.copy_(torch.cat([box.bias, cls.bias]))
        self.merged = merged.to(box.weight.device)
        # The separate convolutions are not needed any more (and would double the memory).
        self.box = self.cls = None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = x.shape[0]
        if self.merged is not None:
            box, cls = self.merged(x).split(self.split_sizes, 1)
        else:
            box, cls = self.box(x), self.cls(x)
        # NCHW -> (N, H*W*A, k): TF orders anchors as [y][x][anchor], like NHWC flattening.
        box = box.permute(0, 2, 3, 1).reshape(n, -1, 4)
        cls = cls.permute(0, 2, 3, 1).reshape(n, -1, NUM_CLASSES)
        return box, cls


class SSDMobileNetV2(nn.Module):
    """Raw network: image in [-1, 1] (N,3,300,300) -> box encodings, class logits, features.

    Box encodings are TF's ``[ty, tx, th, tw]`` per anchor; class logits (91 per anchor) go
    through a sigmoid (the graph's ``ClassPredictor/concat/sigmoid``), not a softmax.
    """

    def __init__(self) -> None:
        super().__init__()
        self.backbone = MobileNetV2Backbone()
        extras, cin = [], 1280
        for reduce, cout in _EXTRAS:
            extras.append(ExtraLayer(cin, reduce, cout))
            cin = cout
        self.extras = nn.ModuleList(extras)
        channels = (576, 1280) + tuple(c for _, c in _EXTRAS)
        self.heads = nn.ModuleList(
            PredictionHead(c, a) for c, a in zip(channels, ANCHORS_PER_LOCATION))

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        c4, c5 = self.backbone(x)
        maps = [c4, c5]
        for layer in self.extras:
            maps.append(layer(maps[-1]))
        return maps

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        maps = self.feature_maps(x)
        boxes, logits = zip(*(head(m) for head, m in zip(self.heads, maps)))
        return torch.cat(boxes, 1), torch.cat(logits, 1), maps

    def fuse_for_inference(self) -> "SSDMobileNetV2":
        """Fold batch norm into the convolutions and merge each head's two convolutions.

        The converted state_dict keeps TF's unfused layout; this runs after loading it, and
        the module's own state_dict changes layout accordingly (inference only).
        """
        for module in self.modules():
            if isinstance(module, ConvBN):
                module.fuse_batchnorm()
            elif isinstance(module, PredictionHead):
                module.merge()
        return self
