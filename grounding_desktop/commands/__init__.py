"""Subcommands of the ``grounding-desktop`` CLI, one module each.

Each module defines ``add_parser(subparsers)`` (setting ``func=run``) and ``run(args) -> int``.
Modules stay light to import: torch and Qt are imported inside ``run`` only.
"""
from __future__ import annotations


class CliError(Exception):
    """A user-facing error: ``cli.main`` prints it as one line on stderr and exits with 2 (as it
    does a ``store.StoreError``: a missing folder, a busy, full or damaged database)."""


COMMAND_MODULES = ("info", "ground", "doctor", "export", "import_")


def add_folder_arguments(parser) -> None:
    """FOLDER and --db, as every command that works on a folder's project takes them."""
    parser.add_argument("folder", help="image folder (its project is created and scanned if needed)")
    parser.add_argument("--db", help="project database path (default FOLDER/.grounding/project.sqlite)")


def open_folder_project(args):
    """Open and scan ``args.folder``'s project as the GUI does."""
    from ..project import open_project

    store, _ = open_project(args.folder, args.db)
    return store
