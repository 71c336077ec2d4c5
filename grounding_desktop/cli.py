"""Command-line entry point: the GUI by default, subcommands for headless work on the same core."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Optional, Sequence

from . import __version__
from .commands import COMMAND_MODULES, CliError
from .store import StoreError

PROG = "grounding-desktop"
_SIGPIPE_STATUS = 141  # 128 + SIGPIPE: what a shell reports for a tool whose reader went away


def build_parser() -> argparse.ArgumentParser:
    """The subcommands' parser; its usage also shows the desktop app's form (no COMMAND)."""
    gui_usage = _gui_parser().format_usage().removeprefix("usage: ").strip()
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{gui_usage}\n       {PROG} COMMAND [-h] ...",
        description="Turn folders of images into phrase-grounding training data. Without a COMMAND, "
                    f"opens FOLDER in the desktop app ('{PROG} FOLDER --help' explains its options).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__package__}.commands.{name}").add_parser(sub)
    return parser


def _gui_parser() -> argparse.ArgumentParser:
    from .commands import gui

    parser = argparse.ArgumentParser(prog=PROG, description="Open FOLDER in the desktop app.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    gui.add_arguments(parser)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices) if parser._subparsers else set()
    first = next((a for a in argv if not a.startswith("-")), None)
    try:
        if argv and (first in commands or argv[0] in ("-h", "--help")):
            args = parser.parse_args(argv)
        else:
            args = _gui_parser().parse_args(argv)
            from .commands import gui

            args.func = gui.run
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # here, so a reader that went away is noticed below, not at exit
        return status
    except (CliError, StoreError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `export ... | head -1`: the reader has all it wanted. Point stdout at /dev/null so the
        # interpreter's last flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _SIGPIPE_STATUS
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
