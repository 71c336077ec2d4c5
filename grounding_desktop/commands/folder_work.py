"""What ``prepare``, ``search`` and ``propose`` share: the engine options (and --quiet), the session
that opens a project with its features file, model and engine, and the unprepared images on stderr."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

from ..core.grounder import FolderGrounder
from . import CliError, add_detector_arguments, add_folder_arguments, add_quiet_argument, detector_choice, model_errors

MAX_WORKERS = 1024  # model copies a --engine ray run may ask for (each takes a GPU or a CPU)


def add_engine_arguments(parser) -> None:
    """FOLDER, --db, --quiet, the model options and --engine/--address/--workers."""
    add_folder_arguments(parser)
    add_quiet_argument(parser)
    parser.add_argument("--device", default="auto", help="auto (CUDA, else MPS, else CPU), cpu, cuda, cuda:N or mps")
    add_detector_arguments(parser)
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="where the model runs: this process (default), or a Ray cluster "
                             "(pip install 'grounding-desktop[cluster]'); the project is written here either way")
    parser.add_argument("--address", metavar="ADDR",
                        help="with --engine ray: the cluster to join (ray://HOST:10001, or auto for the one this "
                             "machine belongs to); default: start Ray on this machine")
    parser.add_argument("--workers", metavar="N",
                        help=f"with --engine ray: model copies, 1 to {MAX_WORKERS} and at most one per GPU (else CPU) "
                             "of the cluster (default: one per GPU of the cluster, else one per CPU)")


def worker_count(text: Optional[str]) -> Optional[int]:
    """--workers N: ASCII digits, 1 to :data:`MAX_WORKERS` (the cluster's own bound is the engine's)."""
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 6 and 1 <= int(text) <= MAX_WORKERS):
        raise CliError(f"--workers must be a whole number from 1 to {MAX_WORKERS}, got {text[:40]!r}")
    return int(text)


@dataclass
class FolderSession:
    store: object          # store.ProjectStore
    features: object       # store.features.FeatureStore
    grounder: FolderGrounder  # the model in this process (it ranks searches, and is the local engine's)
    engine: object         # folder.engine.Engine


@contextmanager
def folder_session(args, phrases: Optional[Sequence[str]] = None) -> Iterator[FolderSession]:
    """The project of ``args.folder`` (opened and scanned), its features file, the model having
    learned what every box of the project teaches (when ``phrases`` are asked), and the engine of
    ``args``. A model that cannot load, an unreachable cluster or a full disk is a one-line CliError."""
    from ..folder.engine import EngineError, LocalEngine
    from ..grounder_factory import make_grounder
    from ..grounding.device import resolve_device
    from ..project import open_project
    from ..project_concepts import project_lessons, teach_project
    from ..store.features import FeatureStore

    choice = detector_choice(args)
    workers = worker_count(args.workers)
    if args.engine != "ray" and (args.address or workers):
        raise CliError("--address and --workers go with --engine ray")
    try:
        resolve_device(args.device)
    except ValueError as exc:  # an unknown --device name
        raise CliError(str(exc)) from exc
    store, _ = open_project(args.folder, args.db)
    engine = None
    try:
        features = FeatureStore.of_project(store)
        try:
            grounder = make_grounder(args.device, cache_size=4, detector=choice)
            if phrases:
                teach_project(grounder, store)
            if args.engine == "ray":
                from ..folder.ray_engine import RayEngine

                engine = RayEngine(args.address, workers, args.device, choice,
                                   project_lessons(store, grounder.embedding_model, look=False) if phrases else ())
            else:
                engine = LocalEngine(grounder)
            yield FolderSession(store, features, grounder, engine)
        except (*model_errors(), EngineError) as exc:
            raise CliError(str(exc)) from exc
        finally:
            if engine is not None:
                engine.close()
            for note in features.notes:  # a damaged features file started afresh, records dropped
                print(f"grounding-desktop: warning: {note}", file=sys.stderr)
            features.close()
    finally:
        store.close()


def report_unprepared(failed: list[tuple[str, str]]) -> None:
    """The images the model could not look at, on stderr (the first few)."""
    from ..core import display_path

    for path, why in failed[:5]:
        print(f"grounding-desktop: warning: {display_path(path)}: {why}", file=sys.stderr)
    if len(failed) > 5:
        print(f"grounding-desktop: warning: ... and {len(failed) - 5} more images not prepared", file=sys.stderr)
