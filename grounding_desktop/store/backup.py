"""Daily copies of the project database, so a damaged database (a failing disk, a bad copy) costs
at most a day of work. SQLite's online backup API copies a consistent snapshot while other
processes read and write; the copy is written to a temporary file and renamed into place, and only
after ``PRAGMA quick_check`` found the database sound, so a damaged database never becomes a
backup.

The last ``KEEP`` copies are kept, newest first: ``project.backup.sqlite``, then
``project.backup.1.sqlite`` and ``project.backup.2.sqlite``. A new copy never pushes out the one
holding the most boxes: when the oldest has more than every newer copy, the next oldest goes
instead, so a day of deleted labels (or an emptied project) never costs the last good backup."""
from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

BACKUP_EVERY_S = 24 * 3600
KEEP = 3


def backup_path(db_path: os.PathLike | str, age: int = 0) -> Path:
    """Beside the database: ``.grounding/project.backup.sqlite`` (``age`` 0, the newest), then
    ``project.backup.1.sqlite`` and so on; ``NAME.backup.EXT`` beside a ``--db NAME.EXT`` file."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.backup{f'.{age}' if age else ''}{db_path.suffix}")


def kept_backups(db_path: os.PathLike | str) -> list[Path]:
    """The backups of ``db_path`` that exist, newest first."""
    return [p for p in (backup_path(db_path, age) for age in range(KEEP)) if p.exists()]


def keep_daily_backup(conn: sqlite3.Connection, db_path: os.PathLike | str) -> None:
    """Back the database up through ``conn`` unless its newest backup is less than a day old. A
    damaged database raises ``sqlite3.DatabaseError`` (and keeps its old backups); a backup that
    cannot be written (a full disk) is logged and skipped: it must never stop the work."""
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
        _rotate(db_path)
        os.replace(tmp, target)
    except (OSError, sqlite3.Error) as exc:
        log.warning("could not back up %s to %s: %s", db_path, target, exc)
        Path(tmp).unlink(missing_ok=True)


def _rotate(db_path: os.PathLike | str) -> None:
    """Make room for a new newest backup: each kept one moves one age up; of the oldest two, the
    one with fewer boxes goes when all ``KEEP`` places are taken."""
    slots = [backup_path(db_path, age) for age in range(KEEP)]
    if slots[-1].exists() and _boxes(slots[-1]) > max(_boxes(p) for p in slots[:-1]):
        slots[-2].unlink(missing_ok=True)  # the oldest holds the most work: it stays where it is
        slots = slots[:-1]
    for older, newer in zip(reversed(slots[1:]), reversed(slots[:-1])):
        if newer.exists():
            os.replace(newer, older)


def _boxes(backup: Path) -> int:
    """How many boxes ``backup`` holds (-1 when it cannot be read)."""
    if not backup.exists():
        return -1
    try:
        conn = sqlite3.connect(backup)
        try:
            return conn.execute("SELECT count(*) FROM boxes").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return -1
