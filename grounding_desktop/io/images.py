"""Image decoding with EXIF orientation applied, and cheap header reads for scans.

Pillow's decompression-bomb guard stays on: a file over ``Image.MAX_IMAGE_PIXELS`` is recorded
as unreadable with the reason instead of being decoded.
"""
from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..core import ImageReadError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
# EXIF orientations 5..8 rotate by 90 degrees, so a viewer shows width and height swapped.
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION = 0x0112
# The transpose that shows an image upright for each EXIF orientation (ImageOps.exif_transpose's
# table, applied here to the reduced image, which no longer carries the EXIF block).
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}
_REDUCIBLE_MODES = frozenset({"L", "LA", "RGB", "RGBA", "CMYK", "I", "F"})  # what Image.reduce takes


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not an image"
    if isinstance(exc, Image.DecompressionBombError):
        return f"image too large to decode safely ({exc})"
    if isinstance(exc, UnidentifiedImageError):
        return "not a readable image (unknown or corrupt format)"
    if isinstance(exc, OSError) and "truncated" in str(exc).lower():
        return "truncated image file"
    return f"{type(exc).__name__}: {exc}"


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block should not make the image unreadable
        return 1


def _oriented_size(img: Image.Image) -> tuple[int, int]:
    w, h = img.size
    return (h, w) if _orientation(img) in _SWAPPING_ORIENTATIONS else (w, h)


def exif_orientation(path: os.PathLike | str) -> int:
    """The EXIF orientation tag (1 = upright, 2..8 = mirrored or rotated); 1 for a file that has
    none or cannot be read. Exports ask this of every image, so a JPEG's tag is read straight from
    the first 64 KiB (a tenth of the time of opening it with Pillow, which other formats use)."""
    try:
        with open(path, "rb") as f:
            head = f.read(_EXIF_HEAD_BYTES)
        found = _jpeg_orientation(head)
        if found is not None:
            return found
        with Image.open(path) as img:
            return _orientation(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return 1


_EXIF_HEAD_BYTES = 1 << 16  # JPEG puts its APP1 (EXIF) segment first; it is at most 64 KiB long


def _jpeg_orientation(head: bytes) -> Optional[int]:
    """The orientation in a JPEG's EXIF segment (1 when it has none); None when ``head`` is not a
    JPEG start or the segment is not in it (the caller then asks Pillow)."""
    if head[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(head):
        if head[i] != 0xFF:
            return None
        marker = head[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == 0xDA:  # start of the image data: no EXIF segment came before it
            return 1
        length = int.from_bytes(head[i + 2:i + 4], "big")
        if marker == 0xE1 and head[i + 4:i + 10] == b"Exif\x00\x00":
            return _tiff_orientation(head[i + 10:i + 2 + length])
        i += 2 + length
    return None


def _tiff_orientation(tiff: bytes) -> Optional[int]:
    """Tag 0x0112 of the first IFD of a TIFF structure (EXIF's), 1 when absent, None if malformed."""
    order = {b"II": "little", b"MM": "big"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return None
    ifd = int.from_bytes(tiff[4:8], order)
    count = int.from_bytes(tiff[ifd:ifd + 2], order)
    for k in range(count):
        entry = tiff[ifd + 2 + 12 * k:ifd + 14 + 12 * k]
        if len(entry) < 12:
            return None
        if int.from_bytes(entry[:2], order) == _EXIF_ORIENTATION:
            return int.from_bytes(entry[8:10], order)
    return 1


def upright_file_bytes(path: os.PathLike | str) -> bytes:
    """The image re-encoded in its own format with its EXIF orientation applied to the pixels and
    the tag removed, so a reader that ignores EXIF (PIL's ``Image.open``, as trainers use it) sees
    it as a viewer does. Deterministic: the same file gives the same bytes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                fmt = img.format
                icc = img.info.get("icc_profile")
                upright = ImageOps.exif_transpose(img)
                exif = upright.getexif()
                exif.pop(_EXIF_ORIENTATION, None)
                params: dict = {"exif": exif.tobytes()}
                if icc:
                    params["icc_profile"] = icc
                if fmt == "JPEG":
                    params["quality"] = 95
                buf = io.BytesIO()
                upright.save(buf, format=fmt, **params)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageReadError(_describe(exc)) from exc
    return buf.getvalue()


JPEG_SUFFIXES = frozenset({".jpg", ".jpeg"})


def jpeg_file_bytes(path: os.PathLike | str) -> bytes:
    """The image as an upright 8-bit RGB JPEG (quality 95, no EXIF), for formats whose readers open
    only ``.jpg`` files (Pascal VOC's ``JPEGImages/``). Deterministic: the same file, the same bytes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                upright = _eight_bit(ImageOps.exif_transpose(img))
                if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
                    rgba = upright.convert("RGBA")  # transparent pixels on white, as viewers show them
                    upright = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
                buf = io.BytesIO()
                upright.convert("RGB").save(buf, format="JPEG", quality=95)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageReadError(_describe(exc)) from exc
    return buf.getvalue()


def _looks_truncated(path: Path, fmt: Optional[str], size: int) -> bool:
    """Cheap trailer check so truncated JPEG/PNG files are caught without a full decode."""
    if fmt not in ("JPEG", "PNG") or size < 16:
        return False
    with open(path, "rb") as f:
        f.seek(max(size - 64, 0))
        tail = f.read()
    if fmt == "JPEG":
        return b"\xff\xd9" not in tail
    return b"IEND" not in tail


def read_header(path: os.PathLike | str) -> tuple[int, int]:
    """(width, height) as a viewer shows the image (EXIF-rotated), reading the header only.

    Raises ImageReadError for empty, unknown, truncated or oversized files.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size == 0:
            raise ImageReadError("empty file (0 bytes)")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = _oriented_size(img)
                fmt = img.format
        if w * h > (Image.MAX_IMAGE_PIXELS or float("inf")) * 2:
            raise ImageReadError(f"image too large to decode safely ({w}x{h} pixels)")
        if _looks_truncated(path, fmt, size):
            raise ImageReadError("truncated image file")
        return w, h
    except ImageReadError:
        raise
    except Image.DecompressionBombWarning as exc:
        return _oversized_but_allowed(path, exc)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageReadError(_describe(exc)) from exc


def _oversized_but_allowed(path: Path, exc: BaseException) -> tuple[int, int]:
    # Between MAX_IMAGE_PIXELS and twice that Pillow only warns: the image is big but allowed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            return _oriented_size(img)


def load_image(path: os.PathLike | str, max_side: Optional[int] = None) -> Image.Image:
    """Decode fully as RGB with EXIF orientation applied; optionally downscale for display or
    inference (coordinates are never stored in the downscaled frame: callers scale back)."""
    return decode_image(path, max_side)[0]


def decode_image(path: os.PathLike | str, max_side: Optional[int] = None) -> tuple[Image.Image, tuple[int, int]]:
    """Like :func:`load_image`, and also the full EXIF-corrected (width, height), which a caller
    that asked for a downscaled image needs to map its coordinates back to original pixels.

    With ``max_side``, full-size pixels are kept out of memory: a JPEG is decoded at the size
    needed (libjpeg scales by 1/2, 1/4 or 1/8 while decoding); any other format is decoded once at
    full size and reduced and resized at once, before any full-size copy (a 169-megapixel PNG then
    costs one frame, not three). Orientation and the RGB conversion work on the small image.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                orientation = _orientation(img)
                full = _oriented_size(img)
                if max_side and max(img.size) > max_side and img.format == "JPEG":
                    scale = max_side / max(img.size)
                    img.draft("RGB", (math.ceil(img.width * scale), math.ceil(img.height * scale)))
                img.load()
                out = _eight_bit(_fitted(img, max_side))
                if out is img:
                    out = img.copy()  # the file's own image is closed with it
        if orientation in _UPRIGHT:
            out = out.transpose(_UPRIGHT[orientation])
        if out.mode != "RGB":
            out = out.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageReadError(_describe(exc)) from exc
    return out, full


def _fitted(img: Image.Image, max_side: Optional[int]) -> Image.Image:
    """``img`` shrunk to fit ``max_side``: by the largest whole factor first (a box filter that makes
    no full-size copy), then bilinear to the exact size. Modes that ``reduce`` cannot take become
    8-bit first."""
    if not max_side or max(img.size) <= max_side:
        return img
    if img.mode not in _REDUCIBLE_MODES:
        img = _eight_bit(img) if img.mode.startswith("I;16") else img.convert("RGB")
    factor = max(img.size) // max_side
    if factor >= 2:
        img = img.reduce(factor)
    return ImageOps.contain(img, (max_side, max_side), Image.Resampling.BILINEAR)


def _eight_bit(img: Image.Image) -> Image.Image:
    """Greyscale deeper than 8 bits as 8-bit 'L', scaled where Pillow's own conversion clips (a
    16-bit photo turned white, a float one black): 16-bit by its bit depth; 32-bit integers by the
    depth their values fit (8 or 16 bits) else their range; floats from 0..1, as most tools write
    them, else by their range. Other modes are returned as they are."""
    if img.mode.startswith("I;16"):  # reduce() cannot take these: shift at full size, 1 byte a pixel
        return Image.fromarray((np.asarray(img) >> 8).astype(np.uint8), "L")
    if img.mode not in ("I", "F"):
        return img
    arr = np.asarray(img, dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if img.mode == "I" and lo >= 0 and hi <= 65535:
        lo, hi = 0.0, (255.0 if hi <= 255 else 65535.0)
    elif img.mode == "F" and lo >= 0 and hi <= 1:
        lo, hi = 0.0, 1.0
    scaled = (np.nan_to_num(arr, nan=lo, posinf=hi, neginf=lo) - lo) * (255.0 / ((hi - lo) or 1.0))
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), "L")
