"""``grounding-desktop propose FOLDER --phrase P [--phrase ...] [--phrases-file F] [--min-score S]``:
the model's best boxes for each phrase stored on every image as proposals, to review in the app
(images with proposals, least sure first). Reviewed images are left alone; boxes that are there
are never changed, and a box a phrase has already (accepted, rejected or proposed) is not stored
again, so running it twice adds nothing. Written in batches: Ctrl+C keeps what is done."""
from __future__ import annotations

import argparse
import json

from ..folder.propose import DEFAULT_MIN_SCORE, phrase_lines
from . import CliError, checked_phrases
from .folder_work import add_engine_arguments, folder_session, report_unprepared


def add_parser(sub) -> None:
    p = sub.add_parser("propose", help="store the model's boxes for phrases on every image, as proposals",
                       description="Store the model's best boxes for each phrase on every image not yet "
                                   "reviewed, as proposals to accept or reject in the app.")
    add_engine_arguments(p)
    p.add_argument("--phrase", "-p", action="append", default=[], metavar="P",
                   help="a phrase; repeat for several")
    p.add_argument("--phrases-file", metavar="FILE",
                   help="more phrases, one a line (UTF-8; blank lines and lines starting with # are skipped)")
    p.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE, metavar="S",
                   help=f"store only boxes scoring at least S, 0..1 (default {DEFAULT_MIN_SCORE})")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=run)


def _phrases(args: argparse.Namespace) -> list[str]:
    raw, names = list(args.phrase), [f"--phrase {i + 1}" for i in range(len(args.phrase))]
    if args.phrases_file:
        from ..io.errors import ImportFileError
        from ..io.import_files import read_text

        try:
            text = read_text(args.phrases_file, what="text file", starts=b"", raise_it="")
        except ImportFileError as exc:
            raise CliError(f"--phrases-file: {exc}") from None
        for n, line in phrase_lines(text):
            raw.append(line)
            names.append(f"{args.phrases_file} line {n}")
    if not raw:
        raise CliError("give at least one phrase (--phrase 'the dog' or --phrases-file FILE)")
    return list(dict.fromkeys(checked_phrases(raw, names)))


def run(args: argparse.Namespace) -> int:
    from ..folder.propose import ProposeRun, propose_folder
    from ..io.progress import TerminalProgress

    phrases = _phrases(args)
    if not 0.0 <= args.min_score <= 1.0:
        raise CliError("--min-score must be between 0 and 1")
    bars = {stage: TerminalProgress(stage, "image", args.quiet) for stage in ("preparing", "proposing")}
    try:
        with folder_session(args, phrases) as s:
            run = ProposeRun(phrases, args.min_score, progress=lambda stage, done, total: bars[stage](done, total))
            report = propose_folder(s.store, s.features, s.engine, run)
    finally:
        for bar in bars.values():
            bar.close()
    report_unprepared(report.features.failed)
    summary = {"phrases": phrases, "images": report.images, "boxes_added": report.boxes_added,
               "images_changed": report.images_changed, "reviewed_left_alone": report.skipped_reviewed,
               "prepared_now": report.features.prepared}
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"{len(phrases)} phrase{'s' if len(phrases) != 1 else ''} on {report.images} images: "
          f"{report.boxes_added} proposals added on {report.images_changed} images "
          f"({report.skipped_reviewed} reviewed images left alone, {report.features.prepared} prepared now)")
    return 0
