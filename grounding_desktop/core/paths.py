"""Project-relative image paths: the one sort order, the project folder's own name, and the form
a path is shown in; and where a source checkout keeps its sample photos."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from natsort import natsort_keygen, ns

PROJECT_DIRNAME = ".grounding"  # beside the images: the database, its backup; never scanned
DB_FILENAME = "project.sqlite"

# Natural, case-insensitive path order (img2 before img10): the image list, scans and exports agree.
natural_path_key = natsort_keygen(alg=ns.PATH | ns.IGNORECASE)


def display_path(path: str) -> str:
    """``path`` as a person can read it, for messages, lists and JSON summaries.

    A file name that is not valid UTF-8 (a Latin-1 ``café.jpg`` on a UTF-8 system) reaches Python
    as surrogate escapes, which is how paths are kept in memory and opened (``os.fsdecode``), but
    such a string cannot be printed, drawn or written as UTF-8. Each byte that does not decode is
    shown as ``\\xNN`` (``caf\\xe9.jpg``), and so is each control or format character
    (``\\x1b``, ``\\n``, ``\\u202e``); every other path is returned as it is.
    """
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no file name decodes to
        shown = path.encode("utf-8", "backslashreplace").decode("utf-8")
    else:
        shown = raw.decode("utf-8", "backslashreplace")
    if shown.isprintable():
        return shown
    return "".join(_escaped(ch) for ch in shown)


def _escaped(ch: str) -> str:
    """A control, format or line-separator character as ``\\x1b``, ``\\n``, ``\\u202e`` (a
    name holding ESC would colour the terminal, one holding a newline split a line of output);
    zero-width joiners, which emoji and some scripts need, are kept."""
    if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch not in "\u200c\u200d":
        return ch.encode("unicode_escape").decode("ascii")
    return ch


# The repository's four sample photos (resources/samples): the doctor's timed image, the photos
# exports of the model are checked on and int8 is calibrated on. Present in a source checkout.
SAMPLE_PHOTOS_DIR = Path(__file__).resolve().parents[2] / "resources" / "samples"
