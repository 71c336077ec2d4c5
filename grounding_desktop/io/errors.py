"""The io layer's user-facing errors: every message is one line meant for the person who ran the
export or import (the CLI prints it on stderr and exits 2, the GUI shows it in the dialog)."""
from __future__ import annotations


class ExportError(Exception):
    """An export that cannot be done (bad options, a refused or unwritable target)."""


class Cancelled(Exception):
    """The user cancelled; nothing was written over any existing file, nothing was imported."""


class ImportFileError(ValueError):
    """A file that cannot be imported; ``problems`` lists every problem found (up to a limit),
    each naming the file and the entry."""

    def __init__(self, problems: list[str], more: int = 0):
        self.problems = problems
        self.more = more
        text = problems[0]
        extra = len(problems) - 1 + more
        if extra:
            text += f" (and {extra} more problem{'s' if extra != 1 else ''})"
        super().__init__(text)
