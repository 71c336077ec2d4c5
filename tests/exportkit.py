"""A small labelled project for the export/import tests: real image files (PIL) in tmp_path, labels
added through the store the way the GUI adds them, covering every case the exporters must handle."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from support import make_image

from grounding_desktop.core import Box, BoxSource, BoxState, ImageState
from grounding_desktop.project import open_project

SIZES = {"a.jpg": (64, 48), "b.png": (80, 60), "sub/c.jpg": (50, 50), "d.jpg": (40, 30), "e.jpg": (32, 32)}


def make_photos(folder: Path) -> Path:
    for i, (name, size) in enumerate(SIZES.items()):
        make_image(folder / name, size=size, color=(30 * i, 90, 150))
    return folder


def labelled_project(folder: Path, db: Path | None = None):
    """Open (creating) the project of ``folder`` with these labels:

    - a.jpg: "the horses" (2 accepted boxes + 1 proposal), "the cat" (no-target, no boxes)
    - b.png: "red ball" (accepted, model, score 0.9), "blue ball" (its proposal rejected, then said
      not in the image -> no-target)
    - sub/c.jpg: "a dog" (only an unreviewed proposal -> skipped)
    - d.jpg (reviewed): "the tree" (accepted), "the horses" (accepted, same box as "the tree")
    - e.jpg: nothing
    """
    make_photos(folder)
    store, _ = open_project(folder, db)
    img = {r.path: r for r in store.images.all()}
    store.labels.add_expression(img["a.jpg"].id, "the horses", [
        Box(0, 0, (1.25, 2.5, 10.0, 12.0)),
        Box(0, 0, (20.0, 5.0, 10.5, 12.25), source=BoxSource.MODEL_EDITED, score=0.7, model_version="m1"),
        Box(0, 0, (3.0, 3.0, 3.0, 3.0), BoxState.PROPOSED, BoxSource.MODEL, 0.4),
    ])
    store.labels.add_expression(img["a.jpg"].id, "the cat", [], no_target=True)
    store.labels.add_expression(img["b.png"].id, "red ball", [Box(0, 0, (40.0, 30.0, 20.0, 20.0), source=BoxSource.MODEL, score=0.9)])
    store.labels.add_expression(img["b.png"].id, "blue ball", [Box(0, 0, (5.0, 5.0, 5.0, 5.0), BoxState.REJECTED, BoxSource.MODEL, 0.3)],
                         no_target=True)
    store.labels.add_expression(img["sub/c.jpg"].id, "a dog", [Box(0, 0, (1.0, 1.0, 9.0, 9.0), BoxState.PROPOSED, BoxSource.MODEL, 0.5)])
    store.labels.add_expression(img["d.jpg"].id, "the tree", [Box(0, 0, (2.0, 3.0, 20.0, 20.0))])
    store.labels.add_expression(img["d.jpg"].id, "the horses", [Box(0, 0, (2.0, 3.0, 20.0, 20.0))])
    store.images.set_state(img["d.jpg"].id, ImageState.REVIEWED)
    return store


def rotated_project(folder: Path):
    """:func:`labelled_project` plus ``phone.jpg``: an upright 40x60 picture with a red block at
    (5, 10, 10, 20), stored sideways with EXIF orientation 6 as a phone camera writes it, labelled
    "the red block". Returns the store and the block's (upright) box."""
    from PIL import Image, ImageDraw

    from grounding_desktop.project import rescan_project

    store = labelled_project(folder)
    upright = Image.new("RGB", (40, 60), (20, 120, 20))
    ImageDraw.Draw(upright).rectangle((5, 10, 14, 29), fill=(230, 20, 20))
    raw = upright.transpose(Image.Transpose.ROTATE_90)  # orientation 6 turns it back 90 degrees clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    raw.save(folder / "phone.jpg", quality=98, exif=exif.tobytes())
    rescan_project(store)
    img = store.images.by_path()["phone.jpg"]
    assert (img.width, img.height) == (40, 60)  # the project's frame is the upright one
    box = (5.0, 10.0, 10.0, 20.0)
    store.labels.add_expression(img.id, "the red block", [Box(0, 0, box)])
    return store, box


def grounding_view(coco: dict) -> dict[tuple[str, str], list[tuple]]:
    """(file_name, caption) -> sorted boxes (x, y, w, h): what must survive a round trip."""
    boxes = defaultdict(list)
    for ann in coco["annotations"]:
        boxes[ann["image_id"]].append(tuple(ann["bbox"]))
    out: dict[tuple[str, str], list] = defaultdict(list)
    for im in coco["images"]:
        out[(im["file_name"], im["caption"])].append(sorted(boxes.get(im["id"], [])))
    return {k: sorted(v) for k, v in out.items()}


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
