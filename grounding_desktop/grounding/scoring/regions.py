"""Colour make-up of detected regions, computed once per image so phrases re-score for free.

Each pixel of a small copy of the image gets soft memberships in the colour names of
``vocabulary.COLOUR_NAMES`` (HSV rules with fuzzy hue borders: an amber pixel is half orange,
half yellow, as people disagree on it too). A region's colours are read

- on its central part (``INNER``), where the object is, rather than the corners;
- without the pixels of *other* confidently detected objects nested inside it, so a bowl's
  colour is its own and not that of the oranges in it, and a horse's not that of its rider;
- with vivid pixels counting more than pale ones for chromatic names, since people name an
  object by its vivid colours (cream bread is not "the yellow thing" next to a yellow bowl).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.vocabulary import COLOUR_NAMES
from ..detectors import NO_CLASS

STATS_MAX_SIDE = 192      # colour statistics need little resolution
INNER = 0.2               # fraction cut from each side before reading a box's colours
NESTED_MIN_SCORE = 0.1    # a nested detection this confident is another object, not a part
NESTED_MIN_INSIDE = 0.8   # share of the nested box inside the region
NESTED_MAX_AREA = 0.5     # nested box at most this share of the region's area

_IDX = {name: i for i, name in enumerate(COLOUR_NAMES)}
# Hue bands (degrees) of the chromatic names; borders are fuzzy over +-HUE_SOFTNESS.
_HUE_BANDS = (("red", -15.0, 14.0), ("orange", 14.0, 40.0), ("yellow", 40.0, 70.0),
              ("green", 70.0, 170.0), ("blue", 170.0, 260.0), ("purple", 260.0, 290.0),
              ("pink", 290.0, 345.0))
HUE_SOFTNESS = 4.0
_ACHROMATIC = ("black", "white", "gray")


def rgb_to_hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 RGB (H, W, 3) -> hue in degrees [0, 360), saturation and value in [0, 1]."""
    x = rgb.astype(np.float32) / 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    # Element-wise over the three planes: a reduction along a last axis of length 3 is slow.
    v = np.maximum(np.maximum(r, g), b)
    c = v - np.minimum(np.minimum(r, g), b)
    s = np.where(v > 0, c / np.maximum(v, 1e-6), 0.0)
    safe = np.maximum(c, 1e-6)
    h = np.where(v == r, ((g - b) / safe) % 6.0,
                 np.where(v == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0)) * 60.0
    h = np.where(c > 0, h, 0.0)
    return h, s, v


def _band(h: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Fuzzy membership of hue in [lo, hi) (circular), 0.5 at each border."""
    hh = np.where(h >= 180.0, h - 360.0, h) if lo < 0 else h
    k = 1.0 / HUE_SOFTNESS
    return 1.0 / (1.0 + np.exp(-(hh - lo) * k)) / (1.0 + np.exp(-(hi - hh) * k))


def colour_memberships(rgb: np.ndarray, hsv: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """(H, W, K) soft membership of every pixel in each colour name; rows sum to 1.

    Achromatic pixels (low saturation or chroma) are black, white or gray by value; dark
    oranges and reds are brown, light desaturated reds pink, as people name them. ``hsv``:
    ``rgb_to_hsv(rgb)`` when the caller has it already.
    """
    h, s, v = rgb_to_hsv(rgb) if hsv is None else hsv
    out = np.zeros(h.shape + (len(COLOUR_NAMES),), np.float32)
    chroma = s * v
    achromatic = (s < 0.18) | (chroma < 0.08)
    black = v < 0.22
    bands = [_band(h, lo, hi) for _, lo, hi in _HUE_BANDS]
    total = np.maximum(sum(bands[1:], bands[0]), 1e-6)
    for (name, _, _), band in zip(_HUE_BANDS, bands):
        out[..., _IDX[name]] = band / total
    # Warm hues turn brown when dark; light washed-out reds read as pink.
    warm_dark = (v < 0.6)[..., None] * out[..., [_IDX["red"], _IDX["orange"]]]
    yellow_dark = ((v < 0.45) * out[..., _IDX["yellow"]])
    out[..., _IDX["brown"]] += warm_dark[..., 0] + warm_dark[..., 1] + yellow_dark
    out[..., [_IDX["red"], _IDX["orange"]]] -= warm_dark
    out[..., _IDX["yellow"]] -= yellow_dark
    pale_red = ((s < 0.5) & (v > 0.7)) * out[..., _IDX["red"]]
    out[..., _IDX["pink"]] += pale_red
    out[..., _IDX["red"]] -= pale_red
    out[achromatic] = 0.0
    out[achromatic & (v < 0.78), _IDX["gray"]] = 1.0
    out[achromatic & (v >= 0.78), _IDX["white"]] = 1.0
    black_row = np.zeros(len(COLOUR_NAMES), np.float32)
    black_row[_IDX["black"]] = 1.0
    out[black] = black_row
    return out


def nested_objects(boxes: np.ndarray, labels: np.ndarray, scores: np.ndarray) -> list[np.ndarray]:
    """For each region, the indices of other objects detected inside it (its contents).

    Only class detections count as contents: a region with no class (``NO_CLASS``, a
    class-agnostic candidate) may as well be a part of the region as another object."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(b)
    if n == 0:
        return []
    ix = np.clip(np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]), 0, None)
    area = np.maximum((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), 1e-6)
    inside = ix * iy / area[None, :]            # [i, j]: share of j inside i
    ok = ((inside >= NESTED_MIN_INSIDE) & (area[None, :] <= NESTED_MAX_AREA * area[:, None])
          & (labels[None, :] != labels[:, None]) & (labels[None, :] != NO_CLASS)
          & (scores[None, :] >= NESTED_MIN_SCORE))
    np.fill_diagonal(ok, False)
    return [np.nonzero(row)[0] for row in ok]


@dataclass
class RegionStats:
    """Per-pixel colour memberships of a small copy of the image, queried per box.

    A box's colours are sums over a rectangle, read from summed-area tables (``_sums``) in
    constant time per box; only a box with other objects nested in it (their pixels left out)
    is summed over a mask of its own.
    """

    members: np.ndarray   # (h, w, K) soft colour memberships, vivid-weighted for chromatic names
    value: np.ndarray     # (h, w) HSV value (lightness)
    scale: float          # stats pixels per box pixel

    @classmethod
    def from_rgb(cls, rgb: np.ndarray) -> "RegionStats":
        """``rgb`` (H, W, 3) uint8 in the frame the boxes will be given in."""
        height, width = rgb.shape[:2]
        scale = min(1.0, STATS_MAX_SIDE / max(height, width))
        small = rgb
        if scale < 1.0:
            import cv2

            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        hsv = rgb_to_hsv(small)
        members = colour_memberships(small, hsv)
        _, s, v = hsv
        vivid = np.clip(s * v / 0.5, 0.0, 1.0)
        chromatic = [i for i, name in enumerate(COLOUR_NAMES) if name not in _ACHROMATIC]
        members[..., chromatic] *= vivid[..., None]
        return cls(members=members, value=v.astype(np.float32), scale=small.shape[1] / width)

    def _rects(self, boxes: np.ndarray, inner: float) -> tuple[np.ndarray, ...]:
        """(r0, c0, r1, c1) of each xyxy box's central part on the stats grid, never empty."""
        h, w = self.value.shape
        x0, y0, x1, y1 = (boxes[:, i] * self.scale for i in range(4))
        bw, bh = x1 - x0, y1 - y0
        r0 = np.clip(np.floor(y0 + inner * bh), 0, h - 1).astype(np.int64)
        c0 = np.clip(np.floor(x0 + inner * bw), 0, w - 1).astype(np.int64)
        r1 = np.clip(np.ceil(y1 - inner * bh), r0 + 1, h).astype(np.int64)
        c1 = np.clip(np.ceil(x1 - inner * bw), c0 + 1, w).astype(np.int64)
        return r0, c0, r1, c1

    def _sums(self) -> np.ndarray:
        """(h+1, w+1, K+1) summed-area table of the memberships and the value (last channel)."""
        import cv2

        grid = np.concatenate([self.members, self.value[..., None]], -1)
        return cv2.integral(grid, sdepth=cv2.CV_64F).reshape(grid.shape[0] + 1, grid.shape[1] + 1, -1)

    def _masked_sums(self, rect: tuple[int, int, int, int], exclude: np.ndarray) -> np.ndarray:
        """Mean memberships and value (K+1) over the rectangle minus the boxes of nested objects
        (over the whole rectangle if none of it is left)."""
        r0, c0, r1, c1 = rect
        keep = np.ones((r1 - r0, c1 - c0), bool)
        for e in exclude:
            ex0, ey0, ex1, ey1 = (float(v) * self.scale for v in e)
            rows = slice(max(int(max(ey0, 0)), r0) - r0, max(min(int(np.ceil(ey1)), r1) - r0, 0))
            cols = slice(max(int(max(ex0, 0)), c0) - c0, max(min(int(np.ceil(ex1)), c1) - c0, 0))
            keep[rows, cols] = False
        if not keep.any():  # the contents cover everything: fall back to the whole centre
            keep[:] = True
        n = float(keep.sum())
        members = self.members[r0:r1, c0:c1][keep].sum(0) / n
        return np.append(members, self.value[r0:r1, c0:c1][keep].mean())

    def describe(self, boxes: np.ndarray, nested: list[np.ndarray] | None = None,
                 inner: float = INNER) -> tuple[np.ndarray, np.ndarray]:
        """(N, K) colour shares and (N,) mean lightness of each xyxy box, contents excluded."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        if not len(boxes):
            return np.zeros((0, self.members.shape[-1])), np.zeros(0)
        r0, c0, r1, c1 = self._rects(boxes, inner)
        table = self._sums()
        sums = table[r1, c1] - table[r0, c1] - table[r1, c0] + table[r0, c0]
        sums /= ((r1 - r0) * (c1 - c0))[:, None]
        for i in range(len(boxes)) if nested is not None else ():
            if len(nested[i]):
                sums[i] = self._masked_sums((r0[i], c0[i], r1[i], c1[i]), boxes[nested[i]])
        return sums[:, :-1], sums[:, -1]
