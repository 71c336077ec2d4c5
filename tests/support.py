"""Helpers shared by the test folders (a module of its own: every folder's conftest is named
``conftest``, so importing helpers from one of them is ambiguous)."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "resources" / "samples"
COCO8 = REPO.parent / "shared" / "data" / "coco8"


def make_image(path: Path, size=(64, 48), color=(200, 30, 30), exif_orientation: int | None = None,
               fmt: str | None = None) -> Path:
    """Write a small solid image; with ``exif_orientation`` the file carries that EXIF tag."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, color)
    kwargs = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif.tobytes()
    img.save(path, format=fmt, **kwargs)
    return path
