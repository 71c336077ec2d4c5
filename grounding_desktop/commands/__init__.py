"""Subcommands of the ``grounding-desktop`` CLI, one module each.

Each module defines ``add_parser(subparsers)`` (setting ``func=run``) and ``run(args) -> int``.
Modules stay light to import: torch and Qt are imported inside ``run`` only.
"""
from __future__ import annotations


class CliError(Exception):
    """A user-facing error: ``cli.main`` prints it as one line on stderr and exits with 2."""


COMMAND_MODULES = ("info", "ground", "doctor", "export", "import_")
