"""A daily copy of the project database, so a damaged database (a failing disk, a bad copy) costs
at most a day of work. SQLite's online backup API copies a consistent snapshot while other
processes read and write; the copy is written to a temporary file and renamed into place, and only
after ``PRAGMA quick_check`` found the database sound, so a damaged database never replaces the
last good backup."""
from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

BACKUP_EVERY_S = 24 * 3600


def backup_path(db_path: os.PathLike | str) -> Path:
    """Beside the database: ``.grounding/project.backup.sqlite``, or ``NAME.backup.EXT`` beside a
    ``--db NAME.EXT`` file."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.backup{db_path.suffix}")


def keep_daily_backup(conn: sqlite3.Connection, db_path: os.PathLike | str) -> None:
    """Back the database up through ``conn`` unless its backup is less than a day old. A damaged
    database raises ``sqlite3.DatabaseError`` (and keeps its old backup); a backup that cannot be
    written (a full disk) is logged and skipped: it must never stop the work."""
    target = backup_path(db_path)
    try:
        if time.time() - target.stat().st_mtime < BACKUP_EVERY_S:
            return
    except FileNotFoundError:
        pass
    verdict = conn.execute("PRAGMA quick_check").fetchall()
    if verdict != [("ok",)]:
        raise sqlite3.DatabaseError(f"database disk image is malformed ({verdict[0][0]})")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, os.stat(db_path).st_mode & 0o777)  # readable by whoever can read the database
        copy = sqlite3.connect(tmp)
        try:
            conn.backup(copy)
        finally:
            copy.close()
        os.replace(tmp, target)
    except (OSError, sqlite3.Error) as exc:
        log.warning("could not back up %s to %s: %s", db_path, target, exc)
        Path(tmp).unlink(missing_ok=True)
