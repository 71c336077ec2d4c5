"""``grounding-desktop ground IMAGE [IMAGE ...] [PHRASE ...] [--phrase P ...]``: boxes for phrases,
headless.

Leading arguments that are image files (or are named like one) are the images, the rest are
phrases, so both ``ground photo.jpg "the cat"`` and ``ground a.jpg b.jpg --phrase "the cat"`` work.
``--project FOLDER`` first teaches the model the concepts of that project's labelled boxes (the
phrases' nouns only). ``--json`` prints one JSON object per image, one per line (boxes in original
pixels after EXIF orientation, best first); otherwise a readable table. Bad input (an unreadable
image, an empty or over-long phrase) is one line on stderr and exit status 2, before any output.
An image where nothing is found is a normal answer: no boxes.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from ..core.grounder import LearningGrounder

from . import CliError, add_detector_arguments, checked_phrases, detector_choice, model_errors


def add_parser(sub) -> None:
    p = sub.add_parser("ground", help="propose boxes for phrases on images",
                       description="Propose boxes for one or more phrases on one or more images.")
    p.add_argument("inputs", nargs="+", metavar="IMAGE_OR_PHRASE",
                   help="image files (jpg, png, bmp, webp, tiff), then phrases (same as --phrase)")
    p.add_argument("--phrase", "-p", action="append", default=[], dest="phrase_opts",
                   metavar="P", help="a phrase to ground; repeat for several")
    p.add_argument("--top-k", type=int, default=5, metavar="K",
                   help="alternatives per singular phrase (default 5); plural phrases "
                        "('the horses') return every match")
    p.add_argument("--project", metavar="FOLDER",
                   help="use the concepts this project's labelled boxes taught the model")
    p.add_argument("--device", default="auto",
                   help="auto (CUDA, else MPS, else CPU), cpu, cuda, cuda:N or mps")
    add_detector_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object per image")
    p.set_defaults(func=run)


def split_inputs(inputs: list[str]) -> tuple[list[str], list[str]]:
    """(images, phrases): the leading arguments that are files or have an image file's suffix
    (the first one always: a missing image is reported as such), then the phrases."""
    from ..io.images import IMAGE_SUFFIXES

    n = 1
    while n < len(inputs) and (Path(inputs[n]).is_file()
                               or Path(inputs[n]).suffix.lower() in IMAGE_SUFFIXES):
        n += 1
    return inputs[:n], inputs[n:]


def _phrases(raw: list[str]) -> list[str]:
    if not raw:
        raise CliError("give at least one phrase (--phrase 'the dog on the left')")
    return checked_phrases(raw)


def _check_image(name: str) -> tuple[int, int]:
    """The image's (width, height) as a viewer shows it; a clear CliError for a bad file."""
    from ..io.images import ImageReadError, read_header

    path = Path(name)
    if not path.exists():
        raise CliError(f"{name}: no such file")
    if path.is_dir():
        raise CliError(f"{name}: is a folder, not an image")
    try:
        return read_header(name)  # clear messages for missing, empty, truncated files
    except ImageReadError as exc:
        raise CliError(f"{name}: {exc}") from exc
    except OSError as exc:
        raise CliError(f"{name}: {exc.strerror or exc}") from exc


def _teach(grounder: LearningGrounder, folder: str) -> None:
    from ..project import open_project
    from ..project_concepts import teach_project
    from ..store import StoreError

    try:
        store, _ = open_project(folder)
    except StoreError as exc:
        raise CliError(f"--project: {exc}") from exc
    try:
        teach_project(grounder, store)
    finally:
        store.close()


def run(args: argparse.Namespace) -> int:
    images, positional_phrases = split_inputs(args.inputs)
    phrases = _phrases(positional_phrases + list(args.phrase_opts))
    choice = detector_choice(args)
    if args.top_k < 1:
        raise CliError("--top-k must be at least 1")
    sizes = [_check_image(name) for name in images]

    from ..core import ImageReadError, display_path
    from ..grounder_factory import make_grounder
    from ..grounding.device import DeviceFallbackWarning, resolve_device
    from ..core.phrase_parse import parse_phrase

    answers = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeviceFallbackWarning)
        try:
            resolve_device(args.device)
        except ValueError as exc:  # an unknown --device name
            raise CliError(str(exc)) from exc
        try:
            grounder = make_grounder(args.device, cache_size=1, detector=choice)
            if args.project:
                _teach(grounder, args.project)
            for name, (width, height) in zip(images, sizes):
                key = grounder.prepare(name)
                results = [(phrase, parse_phrase(phrase).plural,
                            grounder.propose(key, phrase, top_k=args.top_k)) for phrase in phrases]
                answers.append((name, width, height, results))
        except (ImageReadError, *model_errors()) as exc:
            raise CliError(str(exc)) from exc
    for w in {str(w.message) for w in caught if issubclass(w.category, DeviceFallbackWarning)}:
        print(f"grounding-desktop: warning: {w}", file=sys.stderr)

    # The device may have fallen back to the CPU meanwhile.
    device, runtime, model = grounder.device, grounder.runtime, grounder.model_version
    for name, width, height, results in answers:
        name = display_path(name)
        if args.json:
            print(json.dumps({
                "image": name, "width": width, "height": height, "device": device,
                "runtime": runtime, "model": model,
                "results": [{
                    "phrase": phrase, "plural": plural,
                    "boxes": [{"bbox": [round(float(v), 2) for v in p.bbox], "score": p.score,
                               "label": p.label, "explanation": p.explanation} for p in props],
                } for phrase, plural, props in results],
            }))
            continue
        print(f"{name}  {width}x{height}  device {device} ({runtime})  model {model}")
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
        if len(answers) > 1:
            print()
    return 0
