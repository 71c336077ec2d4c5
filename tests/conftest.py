"""Shared test set-up: offscreen Qt, no hub access, and a folder of small images."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from support import make_image  # noqa: E402  (tests/ is on sys.path: this file lives there)


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    for i, name in enumerate(["img1.jpg", "img2.png", "img10.jpg", "sub/img3.bmp"]):
        make_image(folder / name, color=(40 * i, 100, 200 - 40 * i))
    return folder
