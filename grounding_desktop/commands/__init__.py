"""Subcommands of the ``grounding-desktop`` CLI, one module each.

Each module defines ``add_parser(subparsers)`` (setting ``func=run``) and ``run(args) -> int``.
Modules stay light to import: torch and Qt are imported inside ``run`` only.
"""
from __future__ import annotations


class CliError(Exception):
    """A user-facing error: ``cli.main`` prints it as one line on stderr and exits with 2 (as it
    does a ``store.StoreError``: a missing folder, a busy, full or damaged database)."""


COMMAND_MODULES = ("info", "ground", "search", "propose", "prepare", "evaluate", "doctor", "export", "import_",
                   "export_model")


def add_folder_arguments(parser) -> None:
    """FOLDER and --db, as every command that works on a folder's project takes them."""
    parser.add_argument("folder", help="image folder (its project is created and scanned if needed)")
    parser.add_argument("--db", help="project database path (default FOLDER/.grounding/project.sqlite)")


def add_quiet_argument(parser) -> None:
    """--quiet: no progress on stderr (``io.progress.TerminalProgress``)."""
    parser.add_argument("--quiet", "-q", action="store_true", help="print no progress on stderr")


def add_declared_options(parser, specs) -> None:
    """The arguments of options declared in io (``io.option_spec.OptionSpec``: the export's and the
    import's), so the CLI and the dialogs built from the same table offer the same."""
    from ..io.option_spec import OptionKind

    for spec in specs:
        if spec.kind == OptionKind.FLAG:
            parser.add_argument(spec.flag, action="store_true", dest=spec.field, help=spec.help)
        else:
            parser.add_argument(spec.flag, metavar=spec.metavar, dest=spec.field, help=spec.help)


def open_folder_project(args):
    """Open and scan ``args.folder``'s project as the GUI does."""
    from ..project import open_project

    store, _ = open_project(args.folder, args.db)
    return store


def add_detector_arguments(parser) -> None:
    """--backend, --detector, --detector-classes: which detector proposes the boxes."""
    from ..grounding.detectors.backends import AUTO, BACKEND_NAMES, BACKENDS

    parser.add_argument("--backend", choices=BACKEND_NAMES, default=AUTO, metavar="BACKEND",
                        help=f"what runs the bundled detector (default {AUTO}): "
                             + "; ".join(f"{b.name}: {b.help}" for b in BACKENDS))
    parser.add_argument("--detector", metavar="FILE.onnx",
                        help="your own ONNX detector (YOLOv5, YOLOv8/YOLO11 or boxes/scores/labels outputs) "
                             "instead of the bundled one; settings in FILE.yaml beside it")
    parser.add_argument("--detector-classes", metavar="FILE",
                        help="class names of --detector, one a line (default: the model's metadata)")


def detector_choice(args):
    """The ``DetectorChoice`` of --backend/--detector/--detector-classes; a bad one (also the
    a backend that cannot run here, as the opencv one on OpenCV 5) is a CliError."""
    from ..core.detector_choice import DetectorChoice, DetectorChoiceError
    from ..grounding.detectors.backends import BackendUnavailable, check_backend

    try:
        choice = DetectorChoice(args.backend, args.detector, args.detector_classes)
        check_backend(choice)
    except (DetectorChoiceError, BackendUnavailable) as exc:
        raise CliError(str(exc)) from exc
    return choice


def model_errors() -> tuple[type, ...]:
    """The errors of a model that cannot load (missing weights or encoder, an unusable ONNX file):
    each is one line for the user."""
    from ..grounding.detectors.backends import BackendUnavailable
    from ..grounding.recognition.efficientnet_lite import WeightsNotFoundError
    from ..grounding.text.encoder import EncoderNotFoundError
    from ..grounding.detectors.onnx_runtime import ModelFileError
    from ..grounding.detectors.ssd_weights import SSDWeightsNotFoundError

    return SSDWeightsNotFoundError, EncoderNotFoundError, WeightsNotFoundError, ModelFileError, BackendUnavailable


def checked_phrases(raw: list[str], names: list[str] | None = None) -> list[str]:
    """Each phrase cleaned (``core.clean_phrase``); a bad one is a CliError naming it ("phrase 2",
    or its entry of ``names``, such as "phrases.txt line 3")."""
    from ..core.phrase import PhraseError, clean_phrase

    out = []
    for i, text in enumerate(raw):
        try:
            out.append(clean_phrase(text))
        except PhraseError as exc:
            where = names[i] if names else f"phrase {i + 1}" if len(raw) > 1 else "phrase"
            raise CliError(f"{where}: {exc}") from exc
    return out
