"""The default command: open FOLDER in the desktop app (``grounding-desktop [FOLDER]``)."""
from __future__ import annotations

import argparse
import importlib.util
from typing import Optional

from ..core import GrounderFactory
from . import CliError
from .display import window_problem


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", nargs="?", metavar="FOLDER", help="image folder to open (default: the last one, or none)")
    p.add_argument("--db", help="project database path, for read-only image folders")
    p.add_argument("--device", help="inference device: cpu, cuda, cuda:1, mps (default: best available)")
    p.add_argument("--phrase", help="type this phrase into the phrase bar on start")
    p.add_argument("--screenshot", metavar="PNG",
                   help="open FOLDER, show the first image (and the proposals for --phrase, if given), "
                        "save the window as PNG, exit")
    # Developer option: MODULE:CALLABLE building the grounder (e.g. a fake for smoke tests).
    p.add_argument("--grounder", help=argparse.SUPPRESS)


def resolve_factory(spec: Optional[str]) -> Optional[GrounderFactory]:
    """``module:callable`` -> a grounder factory (a developer option: run the window with another
    grounder). Only the module's presence is checked here: it is imported in the model process."""
    if not spec:
        return None
    from ..grounder_factory import FactoryByName

    module_name = spec.partition(":")[0]
    try:
        found = importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise CliError(f"cannot load grounder {spec!r}: no module named {module_name!r}")
    return FactoryByName(spec)


def run(args: argparse.Namespace) -> int:
    if args.folder is not None:
        from pathlib import Path

        folder = Path(args.folder)
        if not folder.exists():
            raise CliError(f"folder not found: {folder}")
        if not folder.is_dir():
            raise CliError(f"not a folder: {folder}")
    problem = window_problem()
    if problem:
        raise CliError(problem)
    factory = resolve_factory(args.grounder)
    from ..ui.app import run_app  # Qt is imported only here

    return run_app(args.folder, args.db, factory, args.device, args.phrase, args.screenshot)

