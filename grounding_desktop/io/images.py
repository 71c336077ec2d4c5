"""Image decoding with EXIF orientation applied, and cheap header reads for scans.

Pillow's decompression-bomb guard stays on: a file over ``Image.MAX_IMAGE_PIXELS`` is recorded
as unreadable with the reason instead of being decoded.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Optional

from PIL import Image, ImageOps, UnidentifiedImageError

from ..core import ImageReadError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
# EXIF orientations 5..8 rotate by 90 degrees, so a viewer shows width and height swapped.
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION = 0x0112


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
    none or cannot be read (reading the header only)."""
    try:
        with Image.open(path) as img:
            return _orientation(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
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
    that asked for a downscaled image needs to map its coordinates back to original pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                full = _oriented_size(img)
                if max_side and max(img.size) > 2 * max_side and img.format == "JPEG":
                    img.draft("RGB", (max_side, max_side))  # fast JPEG DCT downscale
                img.load()
                out = ImageOps.exif_transpose(img)
                out = out.convert("RGB") if out.mode != "RGB" else out.copy()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageReadError(_describe(exc)) from exc
    if max_side and max(out.size) > max_side:
        out.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return out, full
