"""What preparing an image yields, as one record that can be kept: ``ImageFeatures``.

The detector runs once per image; everything a phrase is scored on afterwards is here: the
regions (detections and class-agnostic candidates) in the frame the detector saw, with their
per-class scores, objectness and colour make-up, and the image's original size to map boxes
back. ``Grounder.prepare`` builds its cache entries from these records and the feature pass
keeps them in the project (``store.features``), so an image prepared now and one read back from
disk score alike, to the bit.

Scores and colour shares are kept as float16 (they lie in [0, 1]; 3 significant digits is far
finer than anything a score is compared with), boxes as float32: about 230 bytes a region with
the SSD's 91 classes, 15 KB for an image of 65 regions. A record made by the feature pass also
holds the second CNN's embeddings (``recognizer.embed``) of the ``EMBEDDED_REGIONS`` most
object-like regions, what learned concepts are judged on (``concepts``), so searching a folder
for one needs no CNN pass: int8 with a scale per vector (each keeps a cosine above 0.9999 with
what was computed), about 2.3 KB a region. It holds the ImageNet kinds of the crops of its most
object-like regions too (``region_evidence.classify_regions``, kept as ``imagenet.kept`` keeps
them: 128 kinds a crop, about 6 KB an image), so searching for an ImageNet noun needs none either.
``to_bytes``/``from_bytes`` are a plain header and the arrays back to back, so reading thousands
of records costs little more than the copy.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np

from .scoring.scorer import Scene

FEATURES_FORMAT = 3   # bump when what a record holds, or how it is computed, changes
EMBEDDED_REGIONS = 16  # regions whose embeddings a feature pass record keeps
_MAGIC = b"GDF"
# magic, format, regions, classes, colours, w, h, frame w, h, embedded regions, embedding size,
# classified regions, kinds kept a crop
_HEADER = struct.Struct("<3sBIHHIIIIHHHH")
HEADER_BYTES = _HEADER.size
_ITEMSIZE = {"<f4": 4, "<i2": 2, "<f2": 2, "i1": 1}  # bytes a value of each type in ``_layout``


class FeaturesFormatError(ValueError):
    """Bytes that are not a record of this format (another version wrote them): prepare again."""


def record_problem(head: bytes, length: int) -> Optional[str]:
    """Why a record of ``length`` bytes whose first ``HEADER_BYTES`` are ``head`` is not an image
    features record this version reads (its header and its length checked), or None when it is.
    ``from_bytes`` refuses what this names; the feature pass checks kept records with it without
    reading them whole."""
    if length < HEADER_BYTES or len(head) < HEADER_BYTES:
        return "not an image features record (too short)"
    magic, fmt = bytes(head[:3]), head[3]
    if magic != _MAGIC or fmt != FEATURES_FORMAT:
        return f"image features of another format ({magic!r} {fmt})"
    _, _, n, c, k, _, _, _, _, e, d, m, kk = _HEADER.unpack_from(head)
    if HEADER_BYTES + sum(math.prod(shape) * _ITEMSIZE[dtype]
                          for shape, dtype in _layout((n, c, k, e, d, m, kk))) != length:
        return "image features record of the wrong length"
    return None


def _layout(counts: tuple[int, ...]) -> tuple:
    """(shape, dtype) of each array of a record, in the order ``to_bytes`` writes them, for the
    header's counts: regions, classes, colours, embedded regions, embedding size, classified
    regions, kinds a crop."""
    n, c, k, e, d, m, kk = counts
    return (((n, 4), "<f4"), ((n,), "<i2"), ((n,), "<f2"), ((n,), "<f2"), ((n,), "<f2"),
            ((n, c), "<f2"), ((n, k), "<f2"), ((e,), "<i2"), ((e,), "<f2"), ((e, d), "i1"),
            ((m,), "<i2"), ((m, kk), "<i2"), ((m, kk), "<f2"))


def _rows(values, n: int) -> np.ndarray:
    """``values`` as float16 (n, K) rows; with no region (n 0) the columns are kept when known."""
    a = np.asarray(values, np.float16)
    return a.reshape(n, a.shape[-1] if a.ndim == 2 else (a.size // n if n else 0))


@dataclass(frozen=True)
class ImageFeatures:
    """The regions of one prepared image (see the module docstring)."""

    width: int                  # original, EXIF-corrected size
    height: int
    frame_width: int            # the pixels the detector saw (at most ``Grounder.preparation.max_side``)
    frame_height: int
    boxes: np.ndarray           # (N, 4) float32 xyxy in the frame
    labels: np.ndarray          # (N,) int16 class id, ``regions.NO_CLASS`` for a candidate
    scores: np.ndarray          # (N,) float16 detector score
    objectness: np.ndarray      # (N,) float16 how likely the region holds any object
    lightness: np.ndarray       # (N,) float16
    class_scores: np.ndarray    # (N, C) float16 per-class scores, column = class id
    colour_frac: np.ndarray     # (N, K) float16 colour shares (``regions.RegionStats``)
    embedded: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))  # (E,) region indices
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int8))  # (E, D) int8
    embedding_scale: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float16))  # (E,)
    classified: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))  # (M,) region indices
    kind_ids: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int16))  # (M, K) ImageNet ids
    kind_probs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float16))  # (M, K)

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

    def with_embeddings(self, regions: np.ndarray, vectors: np.ndarray) -> "ImageFeatures":
        """This record with the embeddings ``vectors`` (E, D) of its regions ``regions`` (E,)."""
        vectors = np.asarray(vectors, np.float32)
        vectors = vectors.reshape(len(regions), vectors.shape[-1] if vectors.ndim == 2 else 0)
        scale = np.maximum(np.abs(vectors).max(1, initial=0.0), 1e-12) / 127.0
        return replace(self, embedded=np.asarray(regions, np.int16),
                       embeddings=np.round(vectors / scale[:, None]).astype(np.int8),
                       embedding_scale=scale.astype(np.float16))

    def with_kinds(self, regions: np.ndarray, ids: np.ndarray, probs: np.ndarray) -> "ImageFeatures":
        """This record with the kept ImageNet kinds (``imagenet.kept``) of its regions ``regions``' crops."""
        m = len(regions)
        return replace(self, classified=np.asarray(regions, np.int16).reshape(m),
                       kind_ids=np.asarray(ids, np.int16).reshape(m, -1 if m else 0),
                       kind_probs=np.asarray(probs, np.float16).reshape(m, -1 if m else 0))

    def kept_kinds(self) -> Optional[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(indices of the regions classified, their crops' kind ids, probabilities), as
        ``region_evidence.classify_regions`` gives them; None when the record kept none."""
        if not len(self.classified):
            return None
        return self.classified.astype(np.int64), self.kind_ids, self.kind_probs

    def kept_embeddings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indices of the regions embedded, their (E, D) int8 embeddings, their (E,) scales): an
        embedding is its int8 row times its scale."""
        return self.embedded.astype(np.int64), self.embeddings, self.embedding_scale.astype(np.float64)

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
        e, d = self.embeddings.shape
        m, kk = self.kind_ids.shape
        header = _HEADER.pack(_MAGIC, FEATURES_FORMAT, n, c, k, self.width, self.height,
                              self.frame_width, self.frame_height, e, d if e else 0, m, kk if m else 0)
        return b"".join([header, *(np.ascontiguousarray(a, dt).tobytes() for a, dt in (
            (self.boxes, "<f4"), (self.labels, "<i2"), (self.scores, "<f2"), (self.objectness, "<f2"),
            (self.lightness, "<f2"), (self.class_scores, "<f2"), (self.colour_frac, "<f2"),
            (self.embedded, "<i2"), (self.embedding_scale, "<f2"), (self.embeddings, "i1"),
            (self.classified, "<i2"), (self.kind_ids, "<i2"), (self.kind_probs, "<f2")))])

    @classmethod
    def from_bytes(cls, data: bytes) -> "ImageFeatures":
        """The record ``to_bytes`` wrote; ``FeaturesFormatError`` for anything else."""
        data = memoryview(data)
        problem = record_problem(data[:HEADER_BYTES], len(data))
        if problem:
            raise FeaturesFormatError(problem)
        _, _, n, c, k, w, h, fw, fh, e, d, m, kk = _HEADER.unpack_from(data)
        arrays, offset = [], _HEADER.size
        for shape, dtype in _layout((n, c, k, e, d, m, kk)):
            count = math.prod(shape)
            arrays.append(np.frombuffer(data, dtype, count, offset).reshape(shape))
            offset += count * _ITEMSIZE[dtype]
        *regions, embedded, scale, embeddings, classified, kind_ids, kind_probs = arrays
        return cls(w, h, fw, fh, *regions, embedded=embedded, embeddings=embeddings, embedding_scale=scale,
                   classified=classified, kind_ids=kind_ids, kind_probs=kind_probs)
