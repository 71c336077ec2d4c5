"""One project exported in every format, as the consumer tests read it: ``rotated_project`` (a
plural phrase, no-target phrases, a rejected box, two phrases on one box, an EXIF-rotated photo),
written with ``--with-images`` so every loader opens upright images."""
from __future__ import annotations

from pathlib import Path

from exportkit import rotated_project

from grounding_desktop.io.export import ExportOptions, export_project

LABEL_MAP = {"the horses": "horse", "the tree": "tree", "red ball": "ball", "the red block": "block"}


def export_everything(root: Path) -> dict[str, Path]:
    store, _ = rotated_project(root / "photos")
    out = {}
    with store:
        for name, fmt, options in [
            ("coco", "coco", ExportOptions(with_images=True)),
            ("coco-label-map", "coco", ExportOptions(with_images=True, label_map=LABEL_MAP)),
            ("coco-grounding", "coco-grounding", ExportOptions(with_images=True)),
            ("refexp", "coco-grounding", ExportOptions(with_images=True, dataset_name="refcoco")),
            ("odvg", "odvg", ExportOptions(with_images=True)),
            ("odvg-detection", "odvg", ExportOptions(with_images=True, label_map=LABEL_MAP)),
            ("refcoco", "refcoco", ExportOptions(with_images=True)),
        ]:
            export_project(store, fmt, root / name, options)
            out[name] = root / name
    return out
