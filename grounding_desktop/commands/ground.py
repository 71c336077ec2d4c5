"""``grounding-desktop ground IMAGE --phrase P [...]``: boxes for phrases, headless.

Prints one JSON object with ``--json`` (boxes in original pixels after EXIF orientation, best
first), else a readable table. Bad input (unreadable image, empty or over-long phrase) is one
line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings

from . import CliError, add_detector_arguments, detector_choice


def add_parser(sub) -> None:
    p = sub.add_parser("ground", help="propose boxes for phrases on one image",
                       description="Propose boxes for one or more phrases on IMAGE.")
    p.add_argument("image", help="image file (jpg, png, bmp, webp, tiff)")
    p.add_argument("phrases", nargs="*", metavar="PHRASE",
                   help="phrase(s) to ground (same as --phrase)")
    p.add_argument("--phrase", "-p", action="append", default=[], dest="phrase_opts",
                   metavar="P", help="a phrase to ground; repeat for several")
    p.add_argument("--top-k", type=int, default=5, metavar="K",
                   help="alternatives per singular phrase (default 5); plural phrases "
                        "('the horses') return every match")
    p.add_argument("--device", default="auto",
                   help="auto (CUDA, else MPS, else CPU), cpu, cuda, cuda:N or mps")
    add_detector_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _phrases(args: argparse.Namespace) -> list[str]:
    from ..core.phrase import PhraseError, clean_phrase

    raw = list(args.phrases) + list(args.phrase_opts)
    if not raw:
        raise CliError("give at least one phrase (--phrase 'the dog on the left')")
    out = []
    for i, text in enumerate(raw, 1):
        try:
            out.append(clean_phrase(text))
        except PhraseError as exc:
            where = f"phrase {i}" if len(raw) > 1 else "phrase"
            raise CliError(f"{where}: {exc}") from exc
    return out


def run(args: argparse.Namespace) -> int:
    phrases = _phrases(args)
    choice = detector_choice(args)
    if args.top_k < 1:
        raise CliError("--top-k must be at least 1")
    from pathlib import Path

    from ..io.images import ImageReadError, read_header

    path = Path(args.image)
    if not path.exists():
        raise CliError(f"{args.image}: no such file")
    if path.is_dir():
        raise CliError(f"{args.image}: is a folder, not an image")
    try:
        width, height = read_header(args.image)  # clear messages for missing, empty, truncated files
    except ImageReadError as exc:
        raise CliError(f"{args.image}: {exc}") from exc
    except OSError as exc:
        raise CliError(f"{args.image}: {exc.strerror or exc}") from exc

    from ..core import Grounder, ImageReadError, display_path
    from ..grounder_factory import make_grounder
    from ..grounding.device import DeviceFallbackWarning
    from ..grounding.encoder import EncoderNotFoundError
    from ..grounding.onnx_runtime import ModelFileError
    from ..grounding.phrase_parse import parse_phrase
    from ..grounding.ssd_weights import SSDWeightsNotFoundError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeviceFallbackWarning)
        try:
            grounder: Grounder = make_grounder(args.device, cache_size=1, detector=choice)
            device = grounder.device
            key = grounder.prepare(args.image)
            results = []
            for phrase in phrases:
                props = grounder.propose(key, phrase, top_k=args.top_k)
                results.append((phrase, parse_phrase(phrase).plural, props))
            device = grounder.device  # may have fallen back to the CPU
        except (ImageReadError, SSDWeightsNotFoundError, EncoderNotFoundError, ModelFileError) as exc:
            raise CliError(str(exc)) from exc
        except ValueError as exc:  # an unknown --device name
            raise CliError(str(exc)) from exc
    for w in {str(w.message) for w in caught if issubclass(w.category, DeviceFallbackWarning)}:
        print(f"grounding-desktop: warning: {w}", file=sys.stderr)

    payload = {
        "image": display_path(str(args.image)), "width": width, "height": height,
        "device": device, "runtime": grounder.runtime, "model": grounder.model_version,
        "results": [{
            "phrase": phrase, "plural": plural,
            "boxes": [{"bbox": [round(float(v), 2) for v in p.bbox], "score": p.score,
                       "label": p.label, "explanation": p.explanation} for p in props],
        } for phrase, plural, props in results],
    }
    if args.json:
        print(json.dumps(payload))
        return 0
    print(f"{payload['image']}  {width}x{height}  device {device} ({payload['runtime']})  "
          f"model {payload['model']}")
    for phrase, plural, props in results:
        print(f"\n\"{phrase}\"" + ("  (plural: every match)" if plural else ""))
        if not props:
            print("  no boxes")
            continue
        print(f"  {'#':>2}  {'score':>6}  {'label':<14} {'x':>7} {'y':>7} {'w':>7} {'h':>7}  why")
        for i, p in enumerate(props, 1):
            x, y, w, h = p.bbox
            print(f"  {i:>2}  {p.score:6.3f}  {p.label[:14]:<14} {x:7.1f} {y:7.1f} {w:7.1f} {h:7.1f}"
                  f"  {p.explanation}")
    return 0
