"""What the feature pass computed once per image, kept beside the project database.

A file of its own (``.grounding/project.features.sqlite``, ``NAME.features.EXT`` beside a ``--db``
file) rather than a table of the project database, because it is a cache, not labels:

- it is large (about 15 KB an image: 150 MB for 10,000 images) and can always be computed again,
  so it stays out of the project database's daily backup and integrity check, and out of every
  copy a user makes of their labels;
- it is written in bulk with ``synchronous=NORMAL`` (a crash may lose the last batches, which the
  next pass computes again) where the labels need ``FULL``;
- a damaged or foreign file is deleted and started afresh (a warning is logged): nothing in it
  is anyone's work.

Rows are keyed by the image's content hash (``images.content_hash``) and the version of what made
them (``Grounder.features_version``): a renamed file keeps its features, a changed one gets new
ones, another detector has its own rows, and switching back finds them again. ``prune`` drops the
rows of contents no image of the project has any more. The records are opaque bytes here
(``grounding.features.ImageFeatures``). An image that could not be prepared has no row: the next
pass tries it again.
"""
from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

from .connections import ThreadConnected, ThreadConnections
from .problems import BUSY_TIMEOUT_S, database_problem

log = logging.getLogger(__name__)

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


def features_path(db_path: os.PathLike | str) -> Path:
    """Beside the project database: ``project.features.sqlite`` for ``project.sqlite``."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.features{db_path.suffix}")


class FeatureStore(ThreadConnected):
    """The kept features of one project. One connection per thread, like ``ProjectStore``."""

    def __init__(self, path: os.PathLike | str) -> None:
        self.path = Path(path)
        self._connections = ThreadConnections(self._open_connection)
        with self._problems():
            self._open_or_start_afresh()

    @classmethod
    def of_project(cls, store) -> "FeatureStore":
        """The features file of a ``ProjectStore``."""
        return cls(features_path(store.db_path))

    def _open_or_start_afresh(self) -> None:
        try:
            self._check(self._conn())
        except sqlite3.DatabaseError as exc:
            if "malformed" not in str(exc) and "not a database" not in str(exc) \
                    and not isinstance(exc, _ForeignFile):
                raise
            log.warning("%s: %s; starting it afresh", self.path, exc)
            self.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self._check(self._conn())

    @staticmethod
    def _check(conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, FORMAT):
            raise _ForeignFile(f"features file of format {version}, not {FORMAT}")
        conn.execute(_SCHEMA)
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

    # ------------------------------------------------------------------ reading
    def known(self, model: str) -> set[str]:
        """The content hashes that have features of ``model``."""
        with self._problems():
            return {r[0] for r in self._conn().execute(
                "SELECT content_hash FROM features WHERE model=?", (model,))}

    def features(self, model: str, hashes: Optional[Iterable[str]] = None) -> Iterator[tuple[str, bytes]]:
        """(content hash, record) of ``model``'s features (of ``hashes`` only, if given)."""
        sql = "SELECT content_hash, data FROM features WHERE model=?"
        with self._problems():
            if hashes is None:
                for h, data in self._conn().execute(sql, (model,)):
                    yield h, data
                return
            wanted = list(dict.fromkeys(hashes))
            for start in range(0, len(wanted), 500):  # SQLite's limit on parameters
                part = wanted[start:start + 500]
                rows = self._conn().execute(f"{sql} AND content_hash IN ({','.join('?' * len(part))})",
                                            (model, *part)).fetchall()
                yield from rows

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
        with self._transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO features(model, content_hash, data) VALUES (?, ?, ?)",
                             [(model, h, sqlite3.Binary(data)) for h, data in rows])

    def prune(self, keep: Iterable[str]) -> int:
        """Drop the rows of every content hash not in ``keep`` (files changed or gone); returns
        how many rows went."""
        with self._transaction() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep_hashes (h TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM keep_hashes")
            conn.executemany("INSERT OR IGNORE INTO keep_hashes VALUES (?)", ((h,) for h in keep))
            return conn.execute("DELETE FROM features WHERE content_hash NOT IN "
                                "(SELECT h FROM keep_hashes)").rowcount

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._problems(), self._connections.transaction() as conn:
            yield conn


class _ForeignFile(sqlite3.DatabaseError):
    """A features file of another format."""
