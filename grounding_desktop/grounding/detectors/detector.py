"""The CNN detector of the grounding model: SSD-MobileNetV2 COCO, run in torch.

``SSDDetector.detect`` returns every COCO detection down to a low score (the phrase scorer, not
this threshold, decides what is shown) together with each detection's full per-class score
vector, so the grounding stage never has to run the CNN again for a new phrase, and (unless asked
not to: the Grounder does not use them) a RoIAlign region feature from the backbone. Asked for
``candidates``, it adds class-agnostic regions: the
anchors ranked by objectness (1 - p(background)) after their own NMS, so a thing outside COCO's
80 classes still has a box to be chosen; their class scores stay evidence, never a gate.

The port reproduces the frozen graph and OpenCV's reading of it: the anchors, variances and
post-processing settings come from the text graph beside it
(``ssd_mobilenet_v2_coco_2018_03_29.pbtxt``, read by ``ssd_weights.read_ssd_spec``):
``PriorBox_0..5`` anchors (TF's ``SsdAnchorGenerator`` layout), ``CENTER_SIZE`` decoding with
variances 0.1/0.1/0.2/0.2 (TF's box-coder scales 10/10/5/5), sigmoid class scores, per-class
top-k 100 and NMS at IoU 0.6, at most 100 detections. One deliberate addition: boxes are clipped
to the image after NMS (as TF's own post-processing window does), and boxes left empty by the
clipping are dropped. ``tests/unit/test_detector.py`` holds the port to OpenCV DNN.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .box_ops import batched_nms, nms, roi_align
from . import NO_CLASS
from .ssd_model import NUM_CLASSES, SSDMobileNetV2
from .ssd_weights import INPUT_SIZE, MODEL_NAME, SSDSpec, load_weights

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

# Preprocessor/mul and Preprocessor/sub of the graph: uint8 -> [-1, 1].
INPUT_SCALE = 0.007843138
INPUT_SHIFT = 1.0
# Region features: RoIAlign on the 576-channel stride-16 map (first SSD feature map), 3x3 bins
# averaged: coarse enough to be cheap, fine enough to tell a region's parts apart later.
REGION_FEATURE_MAP = 0
REGION_POOL = 3
# Class-agnostic candidates: anchors at least this likely to be an object, NMS at this IoU.
CANDIDATE_MIN_OBJECTNESS = 0.05
CANDIDATE_NMS_IOU = 0.6

COCO_LABELS: dict[int, str] = {
    1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 5: "airplane", 6: "bus", 7: "train",
    8: "truck", 9: "boat", 10: "traffic light", 11: "fire hydrant", 13: "stop sign",
    14: "parking meter", 15: "bench", 16: "bird", 17: "cat", 18: "dog", 19: "horse",
    20: "sheep", 21: "cow", 22: "elephant", 23: "bear", 24: "zebra", 25: "giraffe",
    27: "backpack", 28: "umbrella", 31: "handbag", 32: "tie", 33: "suitcase", 34: "frisbee",
    35: "skis", 36: "snowboard", 37: "sports ball", 38: "kite", 39: "baseball bat",
    40: "baseball glove", 41: "skateboard", 42: "surfboard", 43: "tennis racket",
    44: "bottle", 46: "wine glass", 47: "cup", 48: "fork", 49: "knife", 50: "spoon",
    51: "bowl", 52: "banana", 53: "apple", 54: "sandwich", 55: "orange", 56: "broccoli",
    57: "carrot", 58: "hot dog", 59: "pizza", 60: "donut", 61: "cake", 62: "chair",
    63: "couch", 64: "potted plant", 65: "bed", 67: "dining table", 70: "toilet", 72: "tv",
    73: "laptop", 74: "mouse", 75: "remote", 76: "keyboard", 77: "cell phone",
    78: "microwave", 79: "oven", 80: "toaster", 81: "sink", 82: "refrigerator", 84: "book",
    85: "clock", 86: "vase", 87: "scissors", 88: "teddy bear", 89: "hair drier",
    90: "toothbrush",
}
"""TF OD API COCO label map (80 classes on ids 1..90). The ten ids missing here were never
trained; the detector does not report them."""

ImageLike = Union["Image.Image", np.ndarray]


@dataclass
class Detections:
    """Detections of one image, best first; all arrays are numpy on the CPU.

    This is what the grounding stage needs from any detector: boxes, a per-class score vector
    per box (column = COCO id, the evidence for class words), and how likely each box holds an
    object at all (``objectness``; a detector without one may leave it None and its best class
    score counts). Class-agnostic candidates come last, with label ``regions.NO_CLASS`` (-1) and
    their objectness as score. ``region_features`` pool each box (3x3 RoIAlign bins, averaged)
    on the SSD backbone's stride-16 map, the 576-channel expansion output of MobileNetV2 block 13
    that also feeds the first box predictor; other detectors may give (N, 0).
    """

    boxes: np.ndarray            # (N, 4) float32 xyxy, pixels of the image passed to detect()
    scores: np.ndarray           # (N,) float32
    labels: np.ndarray           # (N,) int64 COCO ids, NO_CLASS for a class-agnostic candidate
    class_scores: np.ndarray     # (N, 91) float32 sigmoid scores of the anchor, index = COCO id
    region_features: np.ndarray  # (N, 576) float32, L2-normalised RoIAlign features (see below)
    image_size: tuple[int, int]  # (width, height)
    objectness: np.ndarray | None = None  # (N,) float32, 1 - p(background) of the anchor

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def generate_anchors(feature_sizes: list[tuple[int, int]],
                     anchor_sizes: tuple) -> torch.Tensor:
    """Anchors as (A, 4) ``[cx, cy, w, h]``, normalised, ordered [map][y][x][anchor] like the heads.

    Centres sit at ``(i + 0.5) / size`` of each map (TF ``SsdAnchorGenerator`` and OpenCV's
    ``PriorBox`` with its default offset); ``anchor_sizes`` holds each map's (w, h) pairs from
    the text graph (``SSDSpec.anchor_sizes``).
    """
    out = []
    for (fh, fw), sizes in zip(feature_sizes, anchor_sizes, strict=True):
        cy = (torch.arange(fh, dtype=torch.float64) + 0.5) / fh
        cx = (torch.arange(fw, dtype=torch.float64) + 0.5) / fw
        wh = torch.tensor(sizes, dtype=torch.float64)  # (a, 2)
        gy, gx = torch.meshgrid(cy, cx, indexing="ij")
        centers = torch.stack([gx, gy], -1).reshape(-1, 1, 2).expand(-1, len(sizes), 2)
        out.append(torch.cat([centers, wh.expand(fh * fw, -1, -1)], -1).reshape(-1, 4))
    return torch.cat(out).float()


def decode_boxes(encodings: torch.Tensor, anchors: torch.Tensor,
                 variances: tuple[float, float, float, float]) -> torch.Tensor:
    """TF ``[ty, tx, th, tw]`` encodings + ``[cx, cy, w, h]`` anchors -> normalised xyxy.

    ``variances`` are PriorBox's (x, y, w, h) ones: 0.1/0.1/0.2/0.2 is TF's box coder with
    scales 10/10/5/5 (``CENTER_SIZE``).
    """
    vx, vy, vw, vh = variances
    cx = encodings[:, 1] * vx * anchors[:, 2] + anchors[:, 0]
    cy = encodings[:, 0] * vy * anchors[:, 3] + anchors[:, 1]
    w = torch.exp(encodings[:, 3] * vw) * anchors[:, 2]
    h = torch.exp(encodings[:, 2] * vh) * anchors[:, 3]
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


def _valid_class_mask(device: torch.device) -> torch.Tensor:
    mask = torch.zeros(NUM_CLASSES, dtype=torch.bool)
    mask[list(COCO_LABELS)] = True
    return mask.to(device)


@dataclass(frozen=True)
class ClassNMS:
    """How ``select_detections`` keeps an image's class detections: the caller's threshold and
    limit, and the graph's NMS settings (``SSDSpec.nms_threshold``, ``SSDSpec.top_k``)."""

    score_threshold: float  # (anchor, class) pairs scoring above it are candidates
    max_detections: int     # survivors kept overall
    nms_threshold: float    # IoU of the NMS within a class
    top_k: int              # candidates of each class entering NMS


def select_detections(boxes: torch.Tensor, scores: torch.Tensor, settings: ClassNMS,
                      valid_classes: torch.Tensor | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-class NMS the way the graph's ``DetectionOutput`` does it.

    ``boxes`` (A, 4) xyxy, ``scores`` (A, 91) with background at column 0. For every class the
    (anchor, class) pairs above the threshold are ranked, the best ``top_k`` go through NMS at
    IoU ``nms_threshold``, and the best ``max_detections`` survivors overall are kept (each of
    ``settings``). Returns (anchor index, class id, score) tensors, best first.
    """
    cls_scores = scores[:, 1:]
    mask = cls_scores > settings.score_threshold
    if valid_classes is not None:
        mask &= valid_classes[1:]
    anchor_idx, cls_idx = mask.nonzero(as_tuple=True)
    cand_scores = cls_scores[anchor_idx, cls_idx]
    labels = cls_idx + 1
    if cand_scores.numel():
        # Rank within each class (stable sorts: by score, then by class) and keep the top k.
        order = torch.argsort(cand_scores, descending=True, stable=True)
        order = order[torch.argsort(labels[order], stable=True)]
        sorted_labels = labels[order]
        first = torch.searchsorted(sorted_labels, sorted_labels)
        rank = torch.arange(order.numel(), device=order.device) - first
        order = order[rank < settings.top_k]
        anchor_idx, labels, cand_scores = anchor_idx[order], labels[order], cand_scores[order]
        keep = batched_nms(boxes[anchor_idx], cand_scores, labels, settings.nms_threshold)
        keep = keep[:settings.max_detections]
        anchor_idx, labels, cand_scores = anchor_idx[keep], labels[keep], cand_scores[keep]
    return anchor_idx, labels, cand_scores


def select_candidates(boxes: torch.Tensor, objectness: torch.Tensor, count: int,
                      exclude: torch.Tensor) -> torch.Tensor:
    """Anchor indices of up to ``count`` class-agnostic regions, best first.

    ``boxes`` (A, 4) normalised xyxy (clipped), ``objectness`` (A,). Anchors already kept as class
    detections (``exclude``) are left out: they are in the answer with their class. Boxes that
    are empty after clipping are no candidates.
    """
    ok = (objectness > CANDIDATE_MIN_OBJECTNESS) & (boxes[:, 2] > boxes[:, 0]) & \
        (boxes[:, 3] > boxes[:, 1])
    idx = ok.nonzero(as_tuple=True)[0]
    idx = idx[nms(boxes[idx], objectness[idx], CANDIDATE_NMS_IOU)]
    idx = idx[~torch.isin(idx, exclude)]
    return idx[:count]


def clip_to_image(norm_boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Clip normalised xyxy boxes to the image, and say which still have an area.

    TF's post-processing clips to its window the same way; a box wholly outside the image is
    no use to anyone, so the caller drops those.
    """
    clipped = norm_boxes.clamp(0.0, 1.0)
    return clipped, (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])


def _check_supported(spec: SSDSpec) -> None:
    """The port implements one flavour of SSD output; refuse a graph that asks for another."""
    problems = []
    if spec.code_type != "CENTER_SIZE":
        problems.append(f"code_type {spec.code_type}")
    if not spec.sigmoid:
        problems.append("softmax scores")
    if not spec.loc_pred_transposed:
        problems.append("[x, y, w, h] box encodings")
    if spec.num_classes != NUM_CLASSES:
        problems.append(f"{spec.num_classes} classes")
    if problems:
        raise ValueError("unsupported SSD graph: " + ", ".join(problems))


def to_rgb_array(image: ImageLike) -> np.ndarray:
    """PIL image or (H, W[, 3|4]) array -> contiguous (H, W, 3) uint8 RGB."""
    if hasattr(image, "convert") and hasattr(image, "size"):  # PIL image
        array = np.asarray(image.convert("RGB"))
    else:
        array = np.asarray(image)
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        elif array.ndim == 3 and array.shape[2] == 4:
            array = array[:, :, :3]
        if array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) RGB image, got shape {array.shape}")
        if array.dtype != np.uint8:
            if np.issubdtype(array.dtype, np.floating) and array.size and array.max() <= 1.0:
                array = array * 255.0
            array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"empty image of shape {array.shape}")
    return np.ascontiguousarray(array)


def resize_for_model(rgb: np.ndarray) -> np.ndarray:
    """Resize to 300x300 (no aspect ratio kept, bilinear without antialiasing, as SSD expects).

    OpenCV's ``INTER_LINEAR`` is what ``cv2.dnn.blobFromImage`` uses, so the parity test feeds
    both implementations the same pixels.
    """
    if rgb.shape[0] == INPUT_SIZE and rgb.shape[1] == INPUT_SIZE:
        return rgb
    return cv2.resize(rgb, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)


class SSDDetector:
    """SSD-MobileNetV2 COCO in torch on ``device``; weights converted once from the TF graph."""

    class_names = COCO_LABELS  # label id -> name, as every detector backend has (backends.py)
    batch_limit = 32           # images per network call in ``detect_batch``

    def __init__(self, device: str | torch.device = "cpu",
                 weights: str | Path | None = None) -> None:
        self.device = torch.device(device)
        self.runtime = f"torch {torch.__version__} {self.device.type}"
        loaded = load_weights(weights)
        self.version = f"{MODEL_NAME}+{loaded.source_sha256[:8]}"
        self.weights_path = loaded.path
        self.spec: SSDSpec = loaded.spec
        _check_supported(self.spec)
        model = SSDMobileNetV2()
        model.load_state_dict(loaded.state_dict)
        model.fuse_for_inference().eval()
        for p in model.parameters():
            p.requires_grad_(False)
        self.model = model.to(self.device, memory_format=torch.channels_last)
        sizes = self._feature_sizes()
        self.anchors = generate_anchors(sizes, self.spec.anchor_sizes).to(self.device)
        self._valid_classes = _valid_class_mask(self.device)

    def _feature_sizes(self) -> list[tuple[int, int]]:
        """Feature-map sizes for the 300x300 input (19, 10, 5, 3, 2, 1), from the network itself.

        Running the whole network once here also warms up the backend (oneDNN / cuDNN kernel
        selection), so the first real ``detect`` is as fast as the rest.
        """
        with torch.inference_mode():
            x = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE, device=self.device)
            _, _, maps = self.model(x.contiguous(memory_format=torch.channels_last))
        return [(m.shape[2], m.shape[3]) for m in maps]

    def preprocess(self, image: ImageLike) -> tuple[torch.Tensor, tuple[int, int]]:
        """Image -> (1, 3, 300, 300) float tensor in [-1, 1] on the device (channels_last)."""
        rgb = to_rgb_array(image)
        height, width = rgb.shape[:2]
        resized = resize_for_model(rgb)
        x = torch.from_numpy(resized).to(self.device)
        # HWC -> NCHW view whose memory is already channels_last.
        x = x.permute(2, 0, 1).unsqueeze(0).float() * INPUT_SCALE - INPUT_SHIFT
        return x.contiguous(memory_format=torch.channels_last), (width, height)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Raw network on a preprocessed batch: (normalised xyxy boxes, sigmoid scores, maps)."""
        encodings, logits, maps = self.model(x)
        boxes = torch.stack([decode_boxes(e, self.anchors, self.spec.variances)
                             for e in encodings])
        return boxes, torch.sigmoid(logits), maps

    def detect(self, image: ImageLike, score_threshold: float = 0.05,
               max_detections: int = 100, candidates: int = 0, region_features: bool = True) -> Detections:
        """Detect COCO objects in an RGB image (PIL or (H, W, 3) uint8 array); with
        ``candidates``, up to that many class-agnostic regions follow them. Without
        ``region_features`` the RoIAlign features are left out ((N, 0), as other detectors give)."""
        return self.detect_batch([image], score_threshold, max_detections, candidates, region_features)[0]

    def detect_batch(self, images: list[ImageLike], score_threshold: float = 0.05,
                     max_detections: int = 100, candidates: int = 0,
                     region_features: bool = True) -> list[Detections]:
        """``detect`` on each of ``images``, the network running up to ``batch_limit`` of them at
        once (on a GPU a batch costs about what one image does)."""
        settings = ClassNMS(score_threshold, max_detections, self.spec.nms_threshold, self.spec.top_k)
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_limit):
                inputs = [self.preprocess(image) for image in images[start:start + self.batch_limit]]
                boxes, scores, maps = self.forward(torch.cat([x for x, _ in inputs]))
                for i, (_, size) in enumerate(inputs):
                    feature_map = maps[REGION_FEATURE_MAP][i:i + 1] if region_features else None
                    out.append(self._select(boxes[i], scores[i], feature_map, size, settings, candidates))
        return out

    def _select(self, boxes: torch.Tensor, scores: torch.Tensor, feature_map: Optional[torch.Tensor],
                size: tuple[int, int], settings: ClassNMS, candidates: int) -> Detections:
        """One image's ``Detections`` from the network's output for it (region features read
        from ``feature_map``, none without one)."""
        width, height = size
        anchor_idx, labels, det_scores = select_detections(boxes, scores, settings, self._valid_classes)
        norm, inside = clip_to_image(boxes[anchor_idx])
        if not bool(inside.all()):
            anchor_idx, labels, det_scores, norm = (
                anchor_idx[inside], labels[inside], det_scores[inside], norm[inside])
        objectness = 1.0 - scores[:, 0]
        if candidates:
            extra = select_candidates(clip_to_image(boxes)[0], objectness, candidates,
                                      anchor_idx)
            anchor_idx = torch.cat([anchor_idx, extra])
            labels = torch.cat([labels, labels.new_full(extra.shape, NO_CLASS)])
            det_scores = torch.cat([det_scores, objectness[extra]])
            norm = torch.cat([norm, clip_to_image(boxes[extra])[0]])
        features = norm.new_zeros((len(norm), 0)) if feature_map is None else \
            self._region_features(feature_map, norm)
        scale = torch.tensor([width, height, width, height], dtype=norm.dtype,
                             device=norm.device)
        return Detections(
            boxes=(norm * scale).float().cpu().numpy(),
            scores=det_scores.float().cpu().numpy(),
            labels=labels.to(torch.int64).cpu().numpy(),
            class_scores=scores[anchor_idx].float().cpu().numpy(),
            region_features=features.float().cpu().numpy(),
            image_size=(int(width), int(height)),
            objectness=objectness[anchor_idx].float().cpu().numpy(),
        )

    @staticmethod
    def _region_features(feature_map: torch.Tensor, norm_boxes: torch.Tensor) -> torch.Tensor:
        """RoIAlign each box on a backbone map, average-pool, L2-normalise -> (N, C)."""
        n, channels = norm_boxes.shape[0], feature_map.shape[1]
        if n == 0:
            return feature_map.new_zeros((0, channels))
        fh, fw = feature_map.shape[2], feature_map.shape[3]
        rois = norm_boxes * torch.tensor([fw, fh, fw, fh], dtype=norm_boxes.dtype,
                                         device=norm_boxes.device)
        rois = torch.cat([rois.new_zeros((n, 1)), rois], 1)
        pooled = roi_align(feature_map.contiguous(), rois, output_size=REGION_POOL,
                           spatial_scale=1.0, sampling_ratio=2, aligned=True)
        return F.normalize(pooled.mean(dim=(2, 3)), dim=1)
