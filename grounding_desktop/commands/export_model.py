"""``grounding-desktop export-model --out DIR``: the bundled networks as ONNX files, each with its card.

Every file is checked before it is kept: ``onnx.checker`` on the graph, then onnxruntime against
the torch port on photos (the repository's samples, or ``--images FOLDER``): the detector's boxes
within 1 px, the region recogniser's class probabilities within 1e-3.
``--int8`` adds an int8 copy quantised by onnxruntime, calibrated on the same photos.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.paths import SAMPLE_PHOTOS_DIR
from . import CliError


def add_parser(sub) -> None:
    p = sub.add_parser("export-model", help="write the bundled model as ONNX files with their cards",
                       description="Write the bundled detector and region recogniser as ONNX (checked against torch), each with a card.")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the .onnx files and cards to")
    p.add_argument("--images", metavar="FOLDER",
                   help="photos to check (and calibrate int8) on (default: the repository's samples)")
    p.add_argument("--int8", action="store_true",
                   help="also write an int8 model (onnxruntime static quantisation, calibrated on the photos)")
    p.set_defaults(func=run)


def _photos(folder: Path) -> list:
    """RGB arrays of the photos in ``folder`` (at most 16, in name order)."""
    import numpy as np

    from ..core import ImageReadError
    from ..io.images import IMAGE_SUFFIXES, decode_image

    out = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:16]:
        try:
            image, _ = decode_image(path, 1024)
        except (ImageReadError, OSError):
            continue
        out.append(np.asarray(image))
    return out


def run(args: argparse.Namespace) -> int:
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"{out_dir}: exists and is not a folder")
    folder = Path(args.images) if args.images else SAMPLE_PHOTOS_DIR
    if not folder.is_dir():
        raise CliError(f"{folder}: no such folder of photos (give --images FOLDER)")
    photos = _photos(folder)
    if not photos:
        raise CliError(f"{folder}: no readable photos to check the export on")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"{out_dir}: cannot create ({exc.strerror or exc})") from exc

    from ..grounding.recognition.efficientnet_lite import WeightsNotFoundError
    from ..grounding.detectors.export_onnx import ExportOptions, export_detector
    from ..grounding.recognition.export_recognizer import export_recognizer
    from ..grounding.detectors.ssd_weights import SSDWeightsNotFoundError

    command = f"grounding-desktop export-model --out {args.out}" + \
        (f" --images {args.images}" if args.images else "") + (" --int8" if args.int8 else "")
    options = ExportOptions(out_dir=out_dir, check_images=photos, command=command,
                            int8_calibration=photos if args.int8 else None)
    ok = True
    for exporter in (export_detector, export_recognizer):  # every network the model runs
        try:
            written = exporter(options)
        except (SSDWeightsNotFoundError, WeightsNotFoundError) as exc:
            raise CliError(str(exc)) from exc
        except OSError as exc:
            raise CliError(f"{out_dir}: cannot write ({exc.strerror or exc})") from exc
        for item in written:
            print(f"{item.path}  (card {item.card.name})")
            for check in item.checks:
                print(f"  {check}")
            if not item.ok:
                print(f"grounding-desktop: error: {item.path.name} failed its checks", file=sys.stderr)
            ok = ok and item.ok
    return 0 if ok else 1
