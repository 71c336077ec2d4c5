"""What preparing an image yields, as one record that can be kept: ``ImageFeatures``.

The detector runs once per image; everything a phrase is scored on afterwards is here: the
regions (detections and class-agnostic candidates) in the frame the detector saw, with their
per-class scores, objectness and colour make-up, and the image's original size to map boxes
back. ``Grounder.prepare`` builds its cache entries from these records and the feature pass
keeps them in the project (``store.features``), so an image prepared now and one read back from
disk score alike, to the bit.

Scores and colour shares are kept as float16 (they lie in [0, 1]; 3 significant digits is far
finer than anything a score is compared with), boxes as float32: about 230 bytes a region with
the SSD's 91 classes, 15 KB for an image of 65 regions. ``to_bytes``/``from_bytes`` are a plain
header and the arrays back to back, so reading thousands of records costs little more than the
copy.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .scorer import Scene

FEATURES_FORMAT = 1   # bump when what a record holds, or how it is computed, changes
_MAGIC = b"GDF"
_HEADER = struct.Struct("<3sBIHHIIII")  # magic, format, regions, classes, colours, w, h, frame w, h
HEADER_BYTES = _HEADER.size


class FeaturesFormatError(ValueError):
    """Bytes that are not a record of this format (another version wrote them): prepare again."""


def record_problem(head: bytes, length: int) -> Optional[str]:
    """Why a record of ``length`` bytes whose first ``HEADER_BYTES`` are ``head`` is not an image
    features record this version reads (its header and its length checked), or None when it is.
    ``from_bytes`` refuses what this names; the feature pass checks kept records with it without
    reading them whole."""
    if length < HEADER_BYTES or len(head) < HEADER_BYTES:
        return "not an image features record (too short)"
    magic, fmt, n, c, k = _HEADER.unpack_from(head)[:5]
    if magic != _MAGIC or fmt != FEATURES_FORMAT:
        return f"image features of another format ({magic!r} {fmt})"
    if HEADER_BYTES + n * (24 + 2 * c + 2 * k) != length:  # the arrays of ``from_bytes``'s layout
        return "image features record of the wrong length"
    return None


def _rows(values, n: int) -> np.ndarray:
    """``values`` as float16 (n, K) rows; with no region (n 0) the columns are kept when known."""
    a = np.asarray(values, np.float16)
    return a.reshape(n, a.shape[-1] if a.ndim == 2 else (a.size // n if n else 0))


@dataclass(frozen=True)
class ImageFeatures:
    """The regions of one prepared image (see the module docstring)."""

    width: int                  # original, EXIF-corrected size
    height: int
    frame_width: int            # the pixels the detector saw (at most ``Grounder.max_side``)
    frame_height: int
    boxes: np.ndarray           # (N, 4) float32 xyxy in the frame
    labels: np.ndarray          # (N,) int16 class id, ``regions.NO_CLASS`` for a candidate
    scores: np.ndarray          # (N,) float16 detector score
    objectness: np.ndarray      # (N,) float16 how likely the region holds any object
    lightness: np.ndarray       # (N,) float16
    class_scores: np.ndarray    # (N, C) float16 per-class scores, column = class id
    colour_frac: np.ndarray     # (N, K) float16 colour shares (``regions.RegionStats``)

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @classmethod
    def from_scene(cls, scene: Scene, size: tuple[int, int]) -> "ImageFeatures":
        """The record of a scene built on the frame (``grounder.build_scene``) of an image whose
        original size is ``size``."""
        n = len(scene)
        return cls(width=int(size[0]), height=int(size[1]),
                   frame_width=int(round(scene.width)), frame_height=int(round(scene.height)),
                   boxes=np.asarray(scene.boxes, np.float32).reshape(n, 4),
                   labels=np.asarray(scene.labels, np.int16).reshape(n),
                   scores=np.asarray(scene.scores, np.float16).reshape(n),
                   objectness=np.asarray(scene.objectness, np.float16).reshape(n),
                   lightness=np.asarray(scene.lightness, np.float16).reshape(n),
                   class_scores=_rows(scene.class_scores, n), colour_frac=_rows(scene.colour_frac, n))

    def scene(self) -> Scene:
        """The scorer's view of these regions (float64, as it computes)."""
        return Scene(boxes=self.boxes.astype(np.float64), class_scores=self.class_scores.astype(np.float64),
                     labels=self.labels.astype(np.int64), scores=self.scores.astype(np.float64),
                     colour_frac=self.colour_frac.astype(np.float64),
                     lightness=self.lightness.astype(np.float64),
                     width=float(self.frame_width), height=float(self.frame_height),
                     objectness=self.objectness.astype(np.float64))

    # ------------------------------------------------------------------ bytes
    def to_bytes(self) -> bytes:
        n, c, k = len(self), self.class_scores.shape[1], self.colour_frac.shape[1]
        header = _HEADER.pack(_MAGIC, FEATURES_FORMAT, n, c, k, self.width, self.height,
                              self.frame_width, self.frame_height)
        return b"".join([header, *(np.ascontiguousarray(a, dt).tobytes() for a, dt in (
            (self.boxes, "<f4"), (self.labels, "<i2"), (self.scores, "<f2"), (self.objectness, "<f2"),
            (self.lightness, "<f2"), (self.class_scores, "<f2"), (self.colour_frac, "<f2")))])

    @classmethod
    def from_bytes(cls, data: bytes) -> "ImageFeatures":
        """The record ``to_bytes`` wrote; ``FeaturesFormatError`` for anything else."""
        data = memoryview(data)
        problem = record_problem(data[:HEADER_BYTES], len(data))
        if problem:
            raise FeaturesFormatError(problem)
        magic, fmt, n, c, k, w, h, fw, fh = _HEADER.unpack_from(data)
        # (shape, dtype, bytes) of each array, in the order ``to_bytes`` wrote them
        layout = (((n, 4), "<f4", 16 * n), ((n,), "<i2", 2 * n), ((n,), "<f2", 2 * n), ((n,), "<f2", 2 * n),
                  ((n,), "<f2", 2 * n), ((n, c), "<f2", 2 * n * c), ((n, k), "<f2", 2 * n * k))
        arrays, offset = [], _HEADER.size
        for shape, dtype, size in layout:
            arrays.append(np.frombuffer(data, dtype, size // (4 if dtype == "<f4" else 2), offset).reshape(shape))
            offset += size
        return cls(w, h, fw, fh, *arrays)
