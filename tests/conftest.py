"""Shared test set-up: offscreen Qt, a private cache folder, and helpers that make small images."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

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


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    for i, name in enumerate(["img1.jpg", "img2.png", "img10.jpg", "sub/img3.bmp"]):
        make_image(folder / name, color=(40 * i, 100, 200 - 40 * i))
    return folder
