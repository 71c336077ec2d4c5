"""The project database file, the base of ``ProjectStore`` and what each of its parts is given:
opened with the WAL journal, ``synchronous=FULL`` and foreign keys on, migrated to the current
schema, read and written through the calling thread's connection, each operation one
transaction, and the file's own problems (full, busy, damaged, I/O) raised as one-line
``StoreError``s. Also the ``meta`` settings the file keeps.

Threading: one connection per thread (SQLite connections must not be shared), so the GUI thread
can write while workers read. Writers serialise on SQLite's own lock (BEGIN IMMEDIATE) and wait at
most ``BUSY_TIMEOUT_S`` for it; readers never wait (WAL).
"""
from __future__ import annotations

import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from ..core import display_path
from .connections import ThreadConnected, ThreadConnections
from .problems import BUSY_TIMEOUT_S, StoreError, database_problem, lost_database_problem
from .schema import current_version, migrate

ROWS_PER_REPORT = 5000  # rows of a long read between progress reports (a few ms each)


def _enable_wal(conn: sqlite3.Connection, patience_s: float = 30.0) -> None:
    """Switch to WAL. On a new file this needs an exclusive lock, and SQLite answers "locked" at once
    (no busy wait) when another process is doing the same: retry, as the busy timeout would."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class ProjectFile(ThreadConnected):
    """The file at ``db_path``, opened and migrated: the base of ``ProjectStore``, and what its
    parts (``store.images``, ``store.labels``, ...) read and write through, so a transaction
    opened around calls to several parts is one transaction."""

    def __init__(self, db_path: os.PathLike | str):
        self.db_path = Path(db_path)
        problem = lost_database_problem(self.db_path)
        if problem is not None:
            raise problem
        self._connections = ThreadConnections(self._open_connection)
        try:
            with self._problems():
                problem = lost_database_problem(self.db_path, current_version(self._conn()))
                if problem is not None:
                    raise problem
                migrate(self._conn())
        except StoreError:
            self.close()
            raise
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(f"cannot open project database {display_path(str(self.db_path))}: {exc}") from exc
        except RuntimeError as exc:
            self.close()
            raise StoreError(str(exc)) from exc

    # -- connections -------------------------------------------------------------------------
    def _open_connection(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot open project database {self.db_path}: {exc}") from exc
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    # -- transactions and reads ------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: commit on success, roll back on any exception (also KeyboardInterrupt).

        A transaction opened inside another one (on the same thread) joins it: an edit made of
        several store calls (a box moved to another phrase, the image's state with it) commits or
        rolls back as one. A full disk, a write lock held elsewhere for over ``BUSY_TIMEOUT_S``, a
        damaged file or an I/O error become one StoreError; other SQLite errors (constraints) pass
        through."""
        with self._problems(), self._connections.transaction() as conn:
            yield conn

    @contextmanager
    def no_wait(self) -> Iterator[None]:
        """Within the block, a write lock held by another process fails at once instead of waiting."""
        conn = self._conn()
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")

    @contextmanager
    def _problems(self) -> Iterator[None]:
        """An error of the database file itself (full, busy, damaged, I/O) becomes its one-line
        StoreError; any other SQLite error (a constraint) passes through as it is."""
        try:
            yield
        except sqlite3.Error as exc:
            problem = database_problem(exc, self.db_path)
            if problem is None:
                raise
            raise problem from exc

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The calling thread's connection for reads (which never wait for a writer: WAL), the
        file's problems raised as StoreErrors."""
        with self._problems():
            yield self._conn()

    def read(self, sql: str, args: Sequence = ()) -> list[tuple]:
        """The rows of one read."""
        with self.reading() as c:
            return c.execute(sql, args).fetchall()

    def read_chunks(self, sql: str, progress: Optional[Callable[[int], None]]) -> Iterator[list[tuple]]:
        """The rows of one read, ``ROWS_PER_REPORT`` at a time, each chunk reported to ``progress``."""
        with self.reading() as c:
            cursor = c.execute(sql)
            while rows := cursor.fetchmany(ROWS_PER_REPORT):
                yield rows
                if progress is not None:
                    progress(len(rows))

    # -- the settings the file keeps ------------------------------------------------------------
    def get_meta(self, key: str, default: Optional[str] = None) -> Optional[str]:
        rows = self.read("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as c:
            c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


class Part:
    """A part of ``ProjectStore`` (``store.images``, ``store.labels``, ...): the methods of what it
    holds, over the store's one file."""

    def __init__(self, file: ProjectFile) -> None:
        self._file = file
