"""What the feature pass computed once per image, kept beside the project database.

A file of its own (``.grounding/project.features.sqlite``, ``NAME.features.EXT`` beside a ``--db``
file) rather than a table of the project database, because it is a cache, not labels:

- it is large (about 15 KB an image: 150 MB for 10,000 images) and can always be computed again,
  so it stays out of the project database's daily backup and integrity check, and out of every
  copy a user makes of their labels;
- it is written in bulk with ``synchronous=NORMAL`` (a crash may lose the last batches, which the
  next pass computes again) where the labels need ``FULL``;
- it is disposable: a damaged or foreign file (a format or schema of its own, damage found on
  opening or at any read or write later, a folder or a link that leads nowhere in its place) is
  moved aside (``NAME.damaged-TIME``) and started afresh, a record that is not bytes is not
  counted as kept, and ``drop`` removes records the model cannot read (``feature_pass`` finds
  them): the next pass prepares those images again. Each of these adds one line to ``notes``
  (the CLI prints them as warnings; they are logged too): nothing in it is anyone's work.

Rows are keyed by the image's content hash (``images.content_hash``) and the version of what made
them (``Grounder.features_version``): a renamed file keeps its features, a changed one gets new
ones, another detector has its own rows, and switching back finds them again. ``prune`` drops the
rows of contents no image of the project has any more. The records are opaque bytes here
(``grounding.features.ImageFeatures``). An image that could not be prepared has no row: the next
pass tries it again.
"""
from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import stat
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence, TypeVar

from .connections import ThreadConnected, ThreadConnections
from .problems import BUSY_TIMEOUT_S, database_problem

log = logging.getLogger(__name__)

T = TypeVar("T")
FORMAT = 1  # PRAGMA user_version of the file; another one is started afresh
_WHAT = "image features file"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS features (
    model TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (model, content_hash)
)
"""
_COLUMNS = [("model", "TEXT", 1), ("content_hash", "TEXT", 2), ("data", "BLOB", 0)]  # (name, type, pk)
_ONLY_BYTES = "typeof(data) = 'blob'"  # a record of another type is not kept: the pass writes it again


def features_path(db_path: os.PathLike | str) -> Path:
    """Beside the project database: ``project.features.sqlite`` for ``project.sqlite``."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.features{db_path.suffix}")


class FeatureStore(ThreadConnected):
    """The kept features of one project. One connection per thread, like ``ProjectStore``."""

    def __init__(self, path: os.PathLike | str) -> None:
        self.path = Path(path)
        self.notes: list[str] = []  # what was found damaged and started afresh or dropped
        self._connections = ThreadConnections(self._open_connection)
        with self._problems():
            self._open_or_start_afresh()

    @classmethod
    def of_project(cls, store) -> "FeatureStore":
        """The features file of a ``ProjectStore``."""
        return cls(features_path(store.db_path))

    def _open_or_start_afresh(self) -> None:
        try:
            self._check_place()
            self._check(self._conn())
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise
            self._start_afresh(str(exc))
            self._check(self._conn())

    def _check_place(self) -> None:
        """What is at ``path`` must be a file (or a link to one), or nothing yet."""
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            if not self.path.is_symlink():
                return
            raise _ForeignFile("a link that leads nowhere is in its place") from None
        if not stat.S_ISREG(mode):
            raise _ForeignFile("a folder or something else that is not a file is in its place")

    def _start_afresh(self, why: str) -> None:
        """Move the damaged file (and its side files) aside and start an empty one."""
        self.close()
        aside = Path(f"{self.path}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            try:
                os.replace(f"{self.path}{suffix}", f"{aside}{suffix}")
            except FileNotFoundError:
                pass
        note = (f"the {_WHAT} {self.path} was damaged ({why}): moved aside to {aside.name} and started afresh; "
                f"the next pass prepares its images again")
        log.warning("%s", note)
        self.notes.append(note)

    @staticmethod
    def _check(conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, FORMAT):
            raise _ForeignFile(f"features file of format {version}, not {FORMAT}")
        try:
            conn.execute(_SCHEMA)
        except sqlite3.OperationalError as exc:
            if "already exists" not in str(exc):  # a view or an index of that name
                raise
            raise _ForeignFile(str(exc)) from exc
        kind = conn.execute("SELECT type FROM sqlite_master WHERE name='features'").fetchone()
        columns = [(r[1], r[2].upper(), r[5]) for r in conn.execute("PRAGMA table_info(features)")]
        if kind != ("table",) or columns != _COLUMNS:
            raise _ForeignFile("its features table is not the one this version writes")
        conn.execute(f"PRAGMA user_version = {FORMAT}")

    def _open_connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def __enter__(self) -> "FeatureStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _problems(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            problem = database_problem(exc, self.path, _WHAT)
            if problem is None:
                raise
            raise problem from exc

    def _afresh_on_damage(self, operation: Callable[[], T], when_damaged: Callable[[], T]) -> T:
        """``operation()``; on damage found meanwhile, the file is started afresh and
        ``when_damaged()`` answers instead (a write is made again: the new file takes it)."""
        with self._problems():
            try:
                return operation()
            except sqlite3.DatabaseError as exc:
                if not _is_damage(exc):
                    raise
                why = str(exc)
            self._start_afresh(why)
            self._check(self._conn())
            return when_damaged()

    # ------------------------------------------------------------------ reading
    def known(self, model: str) -> set[str]:
        """The content hashes that have features of ``model``."""
        return self._afresh_on_damage(lambda: {r[0] for r in self._conn().execute(
            f"SELECT content_hash FROM features WHERE model=? AND {_ONLY_BYTES}", (model,))}, set)

    def features(self, model: str, hashes: Optional[Iterable[str]] = None) -> Iterator[tuple[str, bytes]]:
        """(content hash, record) of ``model``'s features (of ``hashes`` only, if given). Damage
        found on the way starts the file afresh and ends the rows."""
        return self._rows("data", model, hashes)

    def heads(self, model: str, hashes: Iterable[str], size: int) -> Iterator[tuple[str, int, bytes]]:
        """(content hash, record length, its first ``size`` bytes) of ``model``'s records of
        ``hashes``: enough to check them without reading them whole."""
        return self._rows(f"length(data), substr(data, 1, {int(size)})", model, hashes)

    def _rows(self, columns: str, model: str, hashes: Optional[Iterable[str]]) -> Iterator[tuple]:
        """(content hash, *columns) of ``model``'s records that are bytes (of ``hashes`` only, if
        given), read as they are asked for; damage found on the way starts the file afresh and
        ends the rows."""
        def rows() -> Iterator[tuple]:
            sql = f"SELECT content_hash, {columns} FROM features WHERE model=? AND {_ONLY_BYTES}"
            if hashes is None:
                yield from self._conn().execute(sql, (model,))
                return
            wanted = list(dict.fromkeys(hashes))
            for start in range(0, len(wanted), 500):  # SQLite's limit on parameters
                part = wanted[start:start + 500]
                yield from self._conn().execute(f"{sql} AND content_hash IN ({','.join('?' * len(part))})",
                                                (model, *part)).fetchall()

        read = rows()
        while True:
            chunk = self._afresh_on_damage(lambda: list(itertools.islice(read, 500)), list)
            if not chunk:
                return
            yield from chunk

    def size_bytes(self) -> int:
        """The file's size on disk, its write-ahead log included."""
        return sum(Path(f"{self.path}{s}").stat().st_size for s in ("", "-wal")
                   if Path(f"{self.path}{s}").exists())

    # ------------------------------------------------------------------ writing
    def put(self, model: str, rows: Sequence[tuple[str, bytes]]) -> None:
        """Keep ``(content hash, record)`` rows of ``model`` in one transaction (what one batch of
        the pass computed)."""
        if not rows:
            return

        def write() -> None:
            with self._connections.transaction() as conn:
                conn.executemany("INSERT OR REPLACE INTO features(model, content_hash, data) VALUES (?, ?, ?)",
                                 [(model, h, sqlite3.Binary(data)) for h, data in rows])

        self._afresh_on_damage(write, write)

    def drop(self, model: str, hashes: Iterable[str], why: str) -> int:
        """Remove ``model``'s records of ``hashes`` (records the model cannot read: ``why``), so the
        next pass prepares those images again; returns how many went, and notes it."""
        hashes = list(hashes)

        def delete() -> int:
            with self._connections.transaction() as conn:
                return sum(conn.execute("DELETE FROM features WHERE model=? AND content_hash=?",
                                        (model, h)).rowcount for h in hashes)

        dropped = self._afresh_on_damage(delete, lambda: 0)
        if dropped:
            note = (f"{dropped} kept record{'s' if dropped != 1 else ''} of the {_WHAT} {self.path} "
                    f"{'were' if dropped != 1 else 'was'} damaged ({why}): dropped, prepared again")
            log.warning("%s", note)
            self.notes.append(note)
        return dropped

    def prune(self, keep: Iterable[str]) -> int:
        """Drop the rows of every content hash not in ``keep`` (files changed or gone); returns
        how many rows went."""
        keep = list(keep)

        def delete() -> int:
            with self._connections.transaction() as conn:
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep_hashes (h TEXT PRIMARY KEY)")
                conn.execute("DELETE FROM keep_hashes")
                conn.executemany("INSERT OR IGNORE INTO keep_hashes VALUES (?)", ((h,) for h in keep))
                return conn.execute("DELETE FROM features WHERE content_hash NOT IN "
                                    "(SELECT h FROM keep_hashes)").rowcount

        return self._afresh_on_damage(delete, lambda: 0)


class _ForeignFile(sqlite3.DatabaseError):
    """A features file of another format."""


def _is_damage(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says the file is damaged or not one of ours (not full, busy or unreadable)."""
    text = str(exc)
    return isinstance(exc, _ForeignFile) or "malformed" in text or "not a database" in text
