"""EXIF orientation in exports: the project stores boxes in the upright frame (as a viewer shows the
image), but torchvision, MDETR, GLIP and Open-GroundingDino open images with PIL without applying
EXIF, so on a rotated file their boxes land on a sideways image. An export either names those
images in a warning, or (``--with-images``) writes every image into the export folder, rotated
ones re-encoded upright with the tag removed, the others copied byte for byte."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..core import ImageReadError
from .errors import ExportError
from .export_layout import ExportLayout
from .images import JPEG_SUFFIXES, exif_orientation, jpeg_file_bytes, upright_file_bytes
from .progress import Ticker
from .selection import SelectedImage
from .staged_files import StagedFiles

WARN_NAMES = 10  # rotated images named in the warning line (the summary's JSON lists them all)


def rotated_images(root: Path, selected: Sequence[SelectedImage], ticker: Ticker) -> list[str]:
    """Project paths of the exported images whose file carries an EXIF orientation other than 1."""
    out = []
    base = str(root)
    for si in selected:
        ticker.step()
        if exif_orientation(os.path.join(base, si.image.path)) != 1:
            out.append(si.image.path)
    return out


def rotation_warning(rotated: Sequence[str]) -> str:
    named = ", ".join(rotated[:WARN_NAMES]) + (f" and {len(rotated) - WARN_NAMES} more" if len(rotated) > WARN_NAMES else "")
    return (f"{len(rotated)} image{'s' if len(rotated) != 1 else ''} carry an EXIF rotation that trainers opening "
            f"images with PIL ignore, so their boxes would land on a sideways image: {named}; "
            f"export with --with-images to write upright copies")


@dataclass(frozen=True)
class ImageCopies:
    """How ``--with-images`` writes the images of the project folder ``root``: each at
    ``target_of(image)``, the ``rotated`` ones (by path) re-encoded upright, and with ``jpeg_only``
    (VOC) one that is not a JPEG re-encoded as one."""

    root: Path
    target_of: Callable[[SelectedImage], Path]
    rotated: frozenset[str] = frozenset()
    jpeg_only: bool = False


def stage_images(selected: Sequence[SelectedImage], copies: ImageCopies, staged: StagedFiles, ticker: Ticker) -> int:
    """Stage a copy of each image (``copies`` says where and how); returns how many were re-encoded
    as JPEG."""
    encoded = 0
    for si in selected:
        ticker.step()
        path = si.image.path
        target = copies.target_of(si)
        source = copies.root / path
        try:
            if copies.jpeg_only and Path(path).suffix.lower() not in JPEG_SUFFIXES:
                staged.write_bytes(target, jpeg_file_bytes(source))
                encoded += 1
            elif path in copies.rotated:
                staged.write_bytes(target, upright_file_bytes(source))
            else:
                staged.copy(source, target)
        except (ImageReadError, FileNotFoundError) as exc:
            raise ExportError(f"cannot copy image {path} into the export: {exc}") from exc
    return encoded


def layout_images(layout: ExportLayout) -> Callable[[SelectedImage], Path]:
    """Where ``--with-images`` puts an image: ``images/<split>/<path in the project>``."""
    return lambda si: layout.images(si.split) / si.image.path
