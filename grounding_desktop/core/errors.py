"""How an error reads to a person: one line in plain words, never Python's words for a bug.

An error meant for people (a file that cannot be read, a full disk, a model that cannot load, any
error class of this package) says what it says. Anything else is a bug (``AttributeError``,
``KeyError``…): the person reads one sentence, and its traceback goes to the log (the terminal)."""
from __future__ import annotations

import logging

log = logging.getLogger("grounding_desktop")

INTERNAL_ERROR = "an internal error (a bug in Grounding Desktop; the details are in the terminal)"
_SPEAK_FOR_THEMSELVES = (OSError, ValueError, RuntimeError)


def short_error(exc: BaseException) -> str:
    """``exc`` as one line for a person; a bug is logged with its traceback and named as one."""
    text = " ".join(str(exc).split())
    own = type(exc).__module__.split(".")[0] == __name__.split(".")[0]
    if text and (own or isinstance(exc, _SPEAK_FOR_THEMSELVES)):
        return text
    log.error("unexpected error: %s: %s", type(exc).__name__, text, exc_info=exc)
    return INTERNAL_ERROR
