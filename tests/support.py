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


GIZMO_COLOURS = ((235, 200, 40), (120, 40, 160))  # tile, stripes


def draw_gizmo(draw, box, colours=GIZMO_COLOURS) -> None:
    """A made-up thing no detector class names: a striped tile (yellow-purple unless ``colours``
    say otherwise) with a dark knob."""
    x0, y0, x1, y1 = box
    w = x1 - x0
    draw.rounded_rectangle(box, radius=max(2, round(w * 0.12)), fill=colours[0])
    for i in range(1, 6, 2):
        draw.rectangle((x0 + w * i / 6, y0, x0 + w * (i + 1) / 6, y1), fill=colours[1])
    r = w * 0.16
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(30, 30, 30))


def make_gizmo_photos(folder: Path, count: int = 3, size=(480, 360), colours=None) -> list[tuple[Path, tuple]]:
    """``count`` pictures of the gizmo at different places and sizes, beside a cat photo and a
    blue square, on a textured background; returns (path, gizmo box x, y, w, h) per picture.
    ``colours``: one (tile, stripes) pair per picture, different gizmos of one kind."""
    import numpy as np
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(7)
    with Image.open(SAMPLES / "chelsea.jpg") as im:
        cat = im.convert("RGB")
    out = []
    for i in range(count):
        noise = rng.randint(90, 150, (size[1] // 8, size[0] // 8, 3)).astype("uint8")
        img = Image.fromarray(noise).resize(size, Image.Resampling.BILINEAR)
        draw = ImageDraw.Draw(img)
        w = round(size[0] * (0.22 + 0.05 * (i % 3)))
        h = round(w * 0.75)
        left = i % 2 == 0
        x = round(size[0] * (0.08 if left else 0.55)) + 10 * i
        y = round(size[1] * 0.15) + 20 * (i % 3)
        draw_gizmo(draw, (x, y, x + w, y + h), colours[i] if colours else GIZMO_COLOURS)
        img.paste(cat.resize((150, 100)), (300 if left else 40, 230))
        draw.rectangle((260 if left else 30, 40, 330 if left else 100, 110), fill=(40, 80, 200))
        path = folder / f"gizmo{i + 1}.png"
        img.save(path)
        out.append((path, (float(x), float(y), float(w), float(h))))
    return out
