"""What can go wrong with the database file itself (a full disk, another process holding the
write lock, damage, an I/O error), said in one line a user can act on."""
from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Optional

from ..core import display_path
from .backup import backup_path, kept_backups

# How long a writer waits for another process's write lock before it gives up with BUSY. Edits
# commit in milliseconds and a 100,000-box import in a few seconds: a longer hold is a stuck process.
BUSY_TIMEOUT_S = 5.0
_NEARLY_FULL_BYTES = 1 << 20


class StoreError(Exception):
    """A problem with the project database, phrased for the user."""


class StoreBusyError(StoreError):
    """Another process holds the project's write lock."""


def database_problem(exc: sqlite3.Error, db_path: os.PathLike | str,
                     what: str = "project database") -> Optional[StoreError]:
    """The one-line StoreError for an error of the database file, or None for anything else (a
    constraint, a bug), which should surface as it is. ``what`` names the file for the user.

    SQLite's messages are matched rather than its error codes, which Python exposes from 3.11 only;
    each text below is the fixed message of one SQLite result code (extended codes share it).
    """
    db = display_path(str(db_path))
    text = str(exc)
    if "disk is full" in text or ("disk I/O error" in text and _nearly_full(Path(db_path))):
        # SQLITE_FULL rolls the transaction back; on a full disk, opening can also fail as an I/O
        # error (the WAL index file cannot grow): nothing was changed either way.
        return StoreError(f"disk full: could not write the {what} {db}; nothing was changed "
                          f"(free some space and try again)")
    if "database is locked" in text:  # SQLITE_BUSY after BUSY_TIMEOUT_S
        return StoreBusyError(f"the project is busy in another process (it has held the write lock of {db} "
                          f"for over {BUSY_TIMEOUT_S:g} s); try again when it has finished")
    if "malformed" in text or "not a database" in text:  # SQLITE_CORRUPT, SQLITE_NOTADB
        return StoreError(f"the {what} {db} is damaged ({text}); {_backup_hint(Path(db_path))}")
    if "disk I/O error" in text:  # SQLITE_IOERR
        return StoreError(f"cannot read or write the {what} {db} (disk I/O error); nothing was changed")
    return None


def lost_database_problem(db_path: os.PathLike | str, version: Optional[int] = None) -> Optional[StoreError]:
    """A database that is missing, empty (0 bytes) or holds no project (``version`` 0: no schema)
    while backups of it are kept: the project had labels, so opening it as a new, empty project
    (whose next backup would push a good one out) is refused, naming the newest backup."""
    db_path = Path(db_path)
    if version is not None:
        if version:
            return None
        state = "holds no project"
    else:
        try:
            if db_path.stat().st_size > 0:
                return None
            state = "is empty (0 bytes)"
        except FileNotFoundError:
            state = "is missing"
        except OSError:
            return None  # opening it says what is wrong
    if not kept_backups(db_path):
        return None
    return StoreError(f"the project database {display_path(str(db_path))} {state}, but the project has a "
                      f"backup: {_backup_hint(db_path)} (or move the backups away to start a new project)")


def _nearly_full(db_path: Path) -> bool:
    try:
        return shutil.disk_usage(db_path.parent).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


def _backup_hint(db_path: Path) -> str:
    backup = (kept_backups(db_path) or [backup_path(db_path)])[0]
    try:
        taken = time.strftime("%Y-%m-%d %H:%M", time.localtime(backup.stat().st_mtime))
    except OSError:
        return f"there is no backup of it ({display_path(str(backup))} does not exist)"
    return (f"the last good backup is {display_path(str(backup))} (taken {taken}): "
            f"copy it over {display_path(str(db_path))} to go back to that state")
