"""The project database: every operation is one SQLite transaction, so a crash at any point
leaves the last committed state intact (WAL journal, synchronous=FULL).

Threading: one connection per thread (SQLite connections must not be shared), so the GUI thread
can write while workers read. Writers serialise on SQLite's own lock (BEGIN IMMEDIATE) and wait at
most ``BUSY_TIMEOUT_S`` for it; readers never wait (WAL), and a rescan that finds nothing new does
not take the lock. A full disk, a busy or a damaged database surface as one-line ``StoreError``s.

Paths are TEXT, except a file name that is not valid UTF-8: SQLite TEXT must be UTF-8, so such a
path is stored as its raw bytes (a BLOB in the same column) and read back as the surrogate-escaped
str that ``os.fsdecode`` gives, which opens the file. The mapping is one-to-one, so UNIQUE holds.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

from ..core import (DB_FILENAME, PROJECT_DIRNAME, Box, BoxSource, BoxState, Expression, ImageRecord, ImageState,
                    ScanEntry, display_path, natural_path_key, phrase_key)
from ..core.proposal import is_stored
from .backup import keep_daily_backup
from .connections import ThreadConnections
from .problems import BUSY_TIMEOUT_S, StoreBusyError, StoreError, database_problem
from .schema import current_version, migrate


_IMAGE_COLS = "id, path, width, height, state, content_hash, error, size, mtime, missing, review_reason"
_IMAGE_INSERT = "INSERT INTO images(path, width, height, content_hash, error, size, mtime) VALUES (?,?,?,?,?,?,?)"
_EXPR_COLS = "id, image_id, text, created, updated, no_target, spans"
_BOX_COLS = "id, expression_id, x, y, w, h, state, source, score, model_version, explanation"
ROWS_PER_REPORT = 5000  # rows of a long read between progress reports (a few ms each)
_BOX_INSERT = ("INSERT INTO boxes(expression_id, x, y, w, h, state, source, score, model_version, explanation) "
               "VALUES (?,?,?,?,?,?,?,?,?,?)")


class _DryRun(Exception):
    """Raised at the end of a dry-run transaction so that it rolls back."""


def default_db_path(folder: os.PathLike | str) -> Path:
    return Path(folder) / PROJECT_DIRNAME / DB_FILENAME


@dataclass
class MergeReport:
    """What :meth:`ProjectStore.merge_phrases` did (or, in a dry run, would have done)."""

    phrases_added: int = 0
    boxes_added: int = 0
    proposals_promoted: int = 0
    duplicates: int = 0  # phrases that were already in the project with these boxes
    reviewed: int = 0  # images newly marked reviewed


@dataclass(frozen=True)
class ProposalBatch:
    """What :meth:`ProjectStore.add_proposals` stored, as undo and redo need it: the phrases it
    created, each with its boxes, the boxes it added to phrases that were there, and the images
    it touched (in the order it touched them)."""

    phrases: tuple[tuple[Expression, tuple[Box, ...]], ...] = ()
    boxes: tuple[Box, ...] = ()
    image_ids: tuple[int, ...] = ()

    @property
    def box_count(self) -> int:
        return len(self.boxes) + sum(len(bs) for _, bs in self.phrases)


@dataclass
class ScanReport:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # gone from disk (kept as 'missing' if labelled)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old, new), matched by content hash
    changed: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # labelled files replaced by a different picture
    unchanged: int = 0


def _path_value(path: str) -> str | bytes:
    """A path as stored: TEXT, or its raw bytes when it is not valid UTF-8 (see the module docstring)."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape")


def _path_text(value: str | bytes) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def _image(row: Sequence) -> ImageRecord:
    return ImageRecord(
        id=row[0], path=_path_text(row[1]), width=row[2], height=row[3], state=ImageState(row[4]),
        content_hash=row[5], error=row[6], size=row[7], mtime=row[8], missing=bool(row[9]), review_reason=row[10],
    )


# Dict lookups instead of Enum calls: exports turn 100k rows into boxes, and Enum(value) is slow.
_BOX_STATES = {s.value: s for s in BoxState}
_BOX_SOURCES = {s.value: s for s in BoxSource}


def _replaced_reason(old: ImageRecord, new: ScanEntry) -> str:
    sizes = f" (was {old.width}x{old.height}, now {new.width}x{new.height})" if (old.width, old.height) != (
        new.width, new.height) else ""
    return f"the file was replaced by a different picture after it was labelled{sizes}: check its labels"


def _box(row: Sequence) -> Box:
    return Box(
        id=row[0], expression_id=row[1], bbox=(row[2], row[3], row[4], row[5]),
        state=_BOX_STATES[row[6]], source=_BOX_SOURCES[row[7]], score=row[8], model_version=row[9], explanation=row[10],
    )


def _box_values(expression_id: int, b: Box) -> tuple:
    """A box spec as the row values of ``_BOX_INSERT`` (its id and expression id are not taken)."""
    x, y, w, h = (float(v) for v in b.bbox)
    return (expression_id, x, y, w, h, _enum_value(b.state), _enum_value(b.source), b.score, b.model_version,
            b.explanation)


def _expression(row: Sequence) -> Expression:
    return Expression(id=row[0], image_id=row[1], text=row[2], created=row[3], updated=row[4], no_target=bool(row[5]),
                      spans=_spans_from(row[6]))


def _spans_from(value: Optional[str]) -> tuple[tuple[int, int], ...]:
    return tuple((int(s), int(e)) for s, e in json.loads(value)) if value else ()


def _spans_value(spans: Sequence[Sequence[int]]) -> Optional[str]:
    """The column value of a phrase's spans (NULL: the whole phrase)."""
    return json.dumps([[int(s), int(e)] for s, e in spans]) if spans else None


def _enum_value(v) -> str:
    return v.value if hasattr(v, "value") else str(v)


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


class ProjectStore:
    """The labels of one image folder. Paths are relative to ``root`` with '/' separators."""

    def __init__(self, db_path: os.PathLike | str, root: os.PathLike | str | None = None):
        self.db_path = Path(db_path)
        self.root = Path(root) if root is not None else self.db_path.parent.parent
        self._connections = ThreadConnections(self._open_connection)
        try:
            with self._problems():
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

    @classmethod
    def open_folder(cls, folder: os.PathLike | str, db: os.PathLike | str | None = None) -> "ProjectStore":
        """Open (creating if needed) the project of an image folder; ``db`` for read-only folders.
        Keeps the daily backup of the database (``store.backup``)."""
        folder = Path(folder)
        if not folder.exists():
            raise StoreError(f"folder not found: {folder}")
        if not folder.is_dir():
            raise StoreError(f"not a folder: {folder}")
        db_path = Path(db) if db is not None else default_db_path(folder)
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the project database in {db_path.parent} ({exc.strerror or exc}); "
                f"pass --db PATH to keep it elsewhere"
            ) from exc
        if db_path.exists() and not db_path.is_file():
            raise StoreError(f"cannot keep the project database in {db_path}: it is not a regular file "
                             f"(a folder or a device); pass --db with the path of a file")
        if not os.access(db_path.parent, os.W_OK) or (db_path.exists() and not os.access(db_path, os.W_OK)):
            raise StoreError(
                f"cannot write the project database at {db_path} (read-only location); "
                f"pass --db PATH to keep it elsewhere"
            )
        store = cls(db_path, root=folder)
        try:
            with store._problems():
                keep_daily_backup(store._conn(), db_path)
        except BaseException:
            store.close()
            raise
        return store

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

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()

    def release_thread(self) -> None:
        """Close the calling thread's connection (a worker thread calls this before it ends)."""
        self._connections.release_thread()

    def __enter__(self) -> "ProjectStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

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

    def _query(self, sql: str, args: Sequence = ()) -> list[tuple]:
        """The rows of one read (which never waits for a writer: WAL)."""
        with self._problems():
            return self._conn().execute(sql, args).fetchall()

    @property
    def schema_version(self) -> int:
        with self._problems():
            return current_version(self._conn())

    # -- meta --------------------------------------------------------------------------------
    def get_meta(self, key: str, default: Optional[str] = None) -> Optional[str]:
        rows = self._query("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as c:
            c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- images ------------------------------------------------------------------------------
    def images(self, state: ImageState | str | None = None, include_missing: bool = False) -> list[ImageRecord]:
        """Images in natural path order (img2 before img10)."""
        sql = f"SELECT {_IMAGE_COLS} FROM images"
        where, args = [], []
        if not include_missing:
            where.append("missing = 0")
        if state is not None:
            where.append("state = ?")
            args.append(_enum_value(state))
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = [_image(r) for r in self._query(sql, args)]
        rows.sort(key=lambda r: natural_path_key(r.path))
        return rows

    def image(self, image_id: int) -> Optional[ImageRecord]:
        rows = self._query(f"SELECT {_IMAGE_COLS} FROM images WHERE id=?", (image_id,))
        return _image(rows[0]) if rows else None

    def image_by_path(self, path: str) -> Optional[ImageRecord]:
        rows = self._query(f"SELECT {_IMAGE_COLS} FROM images WHERE path=?", (_path_value(path),))
        return _image(rows[0]) if rows else None

    def add_image(self, path: str, width: int, height: int, content_hash: str = "",
                  error: Optional[str] = None, size: int = 0, mtime: float = 0.0) -> ImageRecord:
        with self.transaction() as c:
            cur = c.execute(_IMAGE_INSERT, (_path_value(path), width, height, content_hash, error, size, mtime))
            image_id = cur.lastrowid
        return self.image(image_id)

    def set_image_state(self, image_id: int, state: ImageState | str) -> None:
        """Reviewing an image also settles why it was flagged for review."""
        state = _enum_value(state)
        with self.transaction() as c:
            self._require(c, "images", image_id)
            c.execute("UPDATE images SET state=?, review_reason=CASE WHEN ?='reviewed' THEN NULL ELSE review_reason END "
                      "WHERE id=?", (state, state, image_id))

    def reopen_image(self, image_id: int) -> bool:
        """A reviewed image whose labels were just edited is not done any more: back to in progress
        (or new, when it has no phrase left). True if it was reviewed."""
        with self.transaction() as c:
            reopened = c.execute("UPDATE images SET state='new' WHERE id=? AND state='reviewed'", (image_id,)).rowcount
            self._sync_image_state(c, image_id)
        return bool(reopened)

    def set_image_error(self, image_id: int, error: Optional[str]) -> None:
        """Record (or clear) why a file cannot be read, e.g. found at full decode after the scan."""
        with self.transaction() as c:
            c.execute("UPDATE images SET error=? WHERE id=?", (error, image_id))

    def scan_index(self) -> dict[str, ImageRecord]:
        """Every known image by path (missing ones too), for the scanner to skip unchanged files."""
        return {r.path: r for r in map(_image, self._query(f"SELECT {_IMAGE_COLS} FROM images"))}

    def apply_scan(self, entries: Iterable[ScanEntry]) -> ScanReport:
        """Sync the database with a folder scan in one transaction.

        Files are matched by path, then by content hash (a renamed or moved file keeps its labels).
        A vanished file that has labels is kept as ``missing`` (hidden, restored if it comes back);
        one without labels is forgotten. A labelled file whose content changed (another picture
        under the same name) is flagged for review with the reason, and a reviewed one is reviewed
        no more. The write lock is taken only when something changed, so rescanning an unchanged
        folder never waits for another process.
        """
        entries = list(entries)
        with self._problems():
            report, writes = self._plan_scan(self._conn(), entries)
        if not writes:
            return report
        with self.transaction() as c:
            report, writes = self._plan_scan(c, entries)  # again under the lock: another process may have synced
            for sql, rows in writes.items():
                c.executemany(sql, rows)
        return report

    @staticmethod
    def _plan_scan(c: sqlite3.Connection, entries: list[ScanEntry]) -> tuple[ScanReport, dict[str, list[tuple]]]:
        """What ``apply_scan`` reports and writes: the parameter rows of each statement."""
        report = ScanReport()
        writes: dict[str, list[tuple]] = {}

        def write(sql: str, *params) -> None:
            writes.setdefault(sql, []).append(params)

        def kept(r: ImageRecord) -> tuple[bool, bool]:
            """(has phrases, worth keeping: has phrases or was reviewed, maybe as holding nothing)."""
            has = c.execute("SELECT 1 FROM expressions WHERE image_id=? LIMIT 1", (r.id,)).fetchone() is not None
            return has, has or r.state == ImageState.REVIEWED

        known = {r.path: r for r in map(_image, c.execute(f"SELECT {_IMAGE_COLS} FROM images"))}
        seen: set[str] = set()
        fresh: list[ScanEntry] = []
        for e in entries:
            seen.add(e.path)
            row = known.get(e.path)
            if row is None:
                fresh.append(e)
            elif e.unchanged:
                report.unchanged += 1
                if row.missing:
                    write("UPDATE images SET missing=0 WHERE id=?", row.id)
            else:
                report.changed.append(e.path)
                write("UPDATE images SET width=?, height=?, content_hash=?, error=?, size=?, mtime=?, missing=0 "
                      "WHERE id=?", e.width, e.height, e.content_hash, e.error, e.size, e.mtime, row.id)
                if row.content_hash and e.content_hash and row.content_hash != e.content_hash:
                    has_phrases, worth = kept(row)
                    if worth:
                        report.flagged.append(e.path)
                        state = row.state if row.state != ImageState.REVIEWED else (
                            ImageState.IN_PROGRESS if has_phrases else ImageState.NEW)
                        write("UPDATE images SET review_reason=?, state=? WHERE id=?",
                              _replaced_reason(row, e), state.value, row.id)
        gone = [r for p, r in known.items() if p not in seen]
        by_hash: dict[str, ImageRecord] = {}
        for r in gone:
            if r.content_hash:
                by_hash.setdefault(r.content_hash, r)
        renamed_ids: set[int] = set()
        for e in fresh:
            old = by_hash.pop(e.content_hash, None) if e.content_hash else None
            if old is not None:
                report.renamed.append((old.path, e.path))
                renamed_ids.add(old.id)
                write("UPDATE images SET path=?, width=?, height=?, error=?, size=?, mtime=?, missing=0 WHERE id=?",
                      _path_value(e.path), e.width, e.height, e.error, e.size, e.mtime, old.id)
            else:
                report.added.append(e.path)
                write(_IMAGE_INSERT, _path_value(e.path), e.width, e.height, e.content_hash, e.error, e.size, e.mtime)
        for r in gone:
            if r.id in renamed_ids or r.missing:
                continue
            report.removed.append(r.path)
            if kept(r)[1]:
                write("UPDATE images SET missing=1 WHERE id=?", r.id)
            else:
                write("DELETE FROM images WHERE id=?", r.id)
        return report, writes

    # -- expressions -------------------------------------------------------------------------
    def expressions(self, image_id: int) -> list[Expression]:
        rows = self._query(f"SELECT {_EXPR_COLS} FROM expressions WHERE image_id=? ORDER BY id", (image_id,))
        return [_expression(r) for r in rows]

    def expression(self, expression_id: int) -> Optional[Expression]:
        rows = self._query(f"SELECT {_EXPR_COLS} FROM expressions WHERE id=?", (expression_id,))
        return _expression(rows[0]) if rows else None

    def add_expression(self, image_id: int, text: str, boxes: Iterable[Box] = (),
                       no_target: bool = False) -> tuple[Expression, list[Box]]:
        """Store a phrase with its boxes (ids in ``boxes`` are ignored) in one transaction;
        ``no_target``: the user said the thing is not in the image."""
        now = time.time()
        with self.transaction() as c:
            self._require(c, "images", image_id)
            expr = Expression(self._insert_expression(c, image_id, text, now, no_target), image_id, text, now, now,
                              no_target)
            stored = [self._insert_box(c, expr.id, b) for b in boxes]
            self._sync_image_state(c, image_id)
        return expr, stored

    def add_expressions_bulk(
        self, items: Iterable[tuple[int, str, Sequence[Box]]], reviewed: Iterable[int] = ()
    ) -> list[int]:
        """Store many ``(image_id, text, boxes)`` at once in ONE transaction, then mark the images
        in ``reviewed`` as reviewed: an import lands whole or not at all (box ids are ignored). A
        phrase given with no box is a no-target phrase, as import files write them.
        Returns the new expression ids in input order."""
        now = time.time()
        ids: list[int] = []
        touched: set[int] = set()
        with self.transaction() as c:
            for image_id, text, boxes in items:
                if image_id not in touched:
                    self._require(c, "images", image_id)
                    touched.add(image_id)
                expr_id = self._insert_expression(c, image_id, text, now, no_target=not boxes)
                ids.append(expr_id)
                c.executemany(_BOX_INSERT, [_box_values(expr_id, b) for b in boxes])
            for image_id in touched:
                self._sync_image_state(c, image_id)
            for image_id in set(reviewed):
                self._require(c, "images", image_id)
                c.execute("UPDATE images SET state='reviewed', review_reason=NULL WHERE id=?", (image_id,))
        return ids

    def merge_phrases(self, items: Iterable[tuple[int, str, Sequence[Box], Sequence[Sequence[int]]]],
                      reviewed: Iterable[int] = (), dry_run: bool = False) -> MergeReport:
        """Add imported ``(image_id, text, boxes, spans)`` to what the project already has, in ONE write
        transaction that also does the duplicate check, so two imports of one file at once cannot
        both find it new. A phrase is matched by image and exact text; its boxes by coordinates:

        - a box the phrase already has in the same state is left alone;
        - a box equal to one of its proposals, imported as a label (accepted or rejected), promotes
          that proposal to the imported state (the project's own labels are never changed);
        - any other box is added to the phrase; a phrase the image does not have is added whole,
          with its ``spans`` (with no box: a no-target phrase, as import files write them);
        - a phrase with nothing to add or promote is a duplicate (a no-target phrase too).

        Then the images in ``reviewed`` are marked reviewed. With ``dry_run`` the same work is done
        and rolled back, so the report says exactly what an import would do."""
        report = MergeReport()
        now = time.time()
        try:
            with self.transaction() as c:
                known: dict[int, dict[str, tuple[int, dict[tuple, tuple[int, str]]]]] = {}
                touched: set[int] = set()
                for image_id, text, boxes, spans in items:
                    phrases = known.get(image_id)
                    if phrases is None:
                        self._require(c, "images", image_id)
                        phrases = known[image_id] = self._phrases_with_boxes(c, image_id)
                    match = phrases.get(text)
                    if match is None:
                        expr_id = self._insert_expression(c, image_id, text, now, no_target=not boxes, spans=spans)
                        match = phrases[text] = (expr_id, {})
                        report.phrases_added += 1
                        changed = True
                    else:
                        changed = False
                    expr_id, by_coords = match
                    for b in boxes:
                        coords = tuple(float(v) for v in b.bbox)
                        state = _enum_value(b.state)
                        have = by_coords.get(coords)
                        if have is None:
                            box_id = c.execute(_BOX_INSERT, _box_values(expr_id, b)).lastrowid
                            by_coords[coords] = (box_id, state)
                            report.boxes_added += 1
                            changed = True
                        elif have[1] == BoxState.PROPOSED.value and state != BoxState.PROPOSED.value:
                            c.execute("UPDATE boxes SET state=? WHERE id=?", (state, have[0]))
                            by_coords[coords] = (have[0], state)
                            report.proposals_promoted += 1
                            changed = True
                    if changed:
                        touched.add(image_id)
                    else:
                        report.duplicates += 1
                for image_id in touched:
                    self._sync_image_state(c, image_id)
                for image_id in set(reviewed):
                    self._require(c, "images", image_id)
                    report.reviewed += c.execute("UPDATE images SET state='reviewed' WHERE id=? AND state!='reviewed'",
                                                 (image_id,)).rowcount
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        return report

    @staticmethod
    def _phrases_with_boxes(c: sqlite3.Connection, image_id: int, key=lambda text: text
                            ) -> dict[str, tuple[int, dict[tuple, tuple[int, str]]]]:
        """An image's phrases by ``key(text)`` (the first phrase of a key; new boxes go there) with
        the boxes of every phrase of that key by coordinates: ``key -> (id, {(x, y, w, h): (box id, state)})``."""
        out: dict[str, tuple[int, dict[tuple, tuple[int, str]]]] = {}
        key_of: dict[int, str] = {}
        for expr_id, text in c.execute("SELECT id, text FROM expressions WHERE image_id=? ORDER BY id", (image_id,)):
            key_of[expr_id] = key(text)
            out.setdefault(key_of[expr_id], (expr_id, {}))
        rows = c.execute("SELECT b.id, b.expression_id, b.x, b.y, b.w, b.h, b.state FROM boxes b "
                         "JOIN expressions e ON e.id = b.expression_id WHERE e.image_id=? ORDER BY b.id", (image_id,))
        for box_id, expr_id, x, y, w, h, state in rows:
            out[key_of[expr_id]][1].setdefault((x, y, w, h), (box_id, state))
        return out

    def add_proposals(self, items: Iterable[tuple[int, str, Sequence[Box]]]) -> ProposalBatch:
        """Store the model's boxes for phrases on many images as proposals, in ONE transaction
        (propose for every image). ``items`` are ``(image id, phrase, box specs)``.

        A phrase joins the image's phrase of the same ``phrase_key`` (the first one) or is created;
        a phrase the image has as "not in this image" gets nothing (that is the user's answer).
        A box that is one of that phrase's boxes already, whatever its state (``core.is_stored``:
        a rejected box is not proposed again, a label not doubled), is skipped, so proposing again
        adds nothing. No box that is there is changed. Boxes are stored as proposed boxes of
        the model. Returns what was added, for ``remove_proposals`` and ``restore_proposals``."""
        created: dict[int, tuple[Expression, list[Box]]] = {}
        joined: list[Box] = []
        touched: dict[int, None] = {}
        now = time.time()
        with self.transaction() as c:
            known: dict[int, dict] = {}
            answered: dict[int, set[str]] = {}  # the phrase keys an image has as "not in this image"
            for image_id, text, boxes in items:
                phrases = known.get(image_id)
                if phrases is None:
                    self._require(c, "images", image_id)
                    phrases = known[image_id] = self._phrases_with_boxes(c, image_id, phrase_key)
                    answered[image_id] = {phrase_key(t) for (t,) in c.execute(
                        "SELECT text FROM expressions WHERE image_id=? AND no_target=1", (image_id,))}
                key = phrase_key(text)
                if key in answered[image_id]:
                    continue
                for spec in boxes:
                    spec = replace(spec, state=BoxState.PROPOSED, source=BoxSource.MODEL)
                    expr_id, stored = phrases.get(key, (None, {}))
                    if is_stored(spec.bbox, [(x, y, w, h) for x, y, w, h in stored]):
                        continue
                    if expr_id is None:
                        expr_id = self._insert_expression(c, image_id, text, now, no_target=False)
                        created[expr_id] = (Expression(expr_id, image_id, text, now, now), [])
                        phrases[key] = (expr_id, stored)
                    box = self._insert_box(c, expr_id, spec)
                    stored[box.bbox] = (box.id, BoxState.PROPOSED.value)
                    (created[expr_id][1] if expr_id in created else joined).append(box)
                    touched[image_id] = None
            for image_id in touched:
                self._sync_image_state(c, image_id)
        return ProposalBatch(tuple((e, tuple(bs)) for e, bs in created.values()), tuple(joined), tuple(touched))

    def remove_proposals(self, batch: ProposalBatch) -> None:
        """Take back exactly what ``add_proposals`` added (undo), in one transaction."""
        with self.transaction() as c:
            c.executemany("DELETE FROM expressions WHERE id=?", [(e.id,) for e, _ in batch.phrases])
            c.executemany("DELETE FROM boxes WHERE id=?", [(b.id,) for b in batch.boxes])
            for image_id in batch.image_ids:
                self._sync_image_state(c, image_id)

    def restore_proposals(self, batch: ProposalBatch) -> None:
        """Put back what ``remove_proposals`` took, with the same ids (redo), in one transaction."""
        with self.transaction() as c:
            for expr, boxes in batch.phrases:
                self._restore_expression_rows(c, expr, boxes)
            for b in batch.boxes:
                self._insert_box(c, b.expression_id, b, keep_id=True)
            for image_id in batch.image_ids:
                self._sync_image_state(c, image_id)

    def images_by_doubt(self) -> list[tuple[ImageRecord, float]]:
        """Images with proposals to review (on disk, not reviewed), the model's least sure first,
        with that confidence: the lowest, over the image's phrases with proposals, of the phrase's
        best proposal score (a proposal without a score, say imported, counts as 0). Ties go in
        natural path order. Review by doubt: look first where the model is unsure."""
        cols = ", ".join(f"i.{c.strip()}" for c in _IMAGE_COLS.split(","))
        rows = self._query(
            f"SELECT {cols}, MIN(p.best) FROM images i JOIN ("
            "  SELECT e.image_id AS image_id, MAX(COALESCE(b.score, 0)) AS best FROM boxes b"
            "  JOIN expressions e ON e.id = b.expression_id WHERE b.state = 'proposed' GROUP BY e.id"
            ") p ON p.image_id = i.id WHERE i.missing = 0 AND i.state != 'reviewed' GROUP BY i.id")
        out = [(_image(r[:-1]), float(r[-1])) for r in rows]
        out.sort(key=lambda item: (item[1], natural_path_key(item[0].path)))
        return out

    def restore_expression(self, expr: Expression, boxes: Iterable[Box] = ()) -> None:
        """Put back a deleted expression with its original ids (undo of a delete)."""
        with self.transaction() as c:
            self._restore_expression_rows(c, expr, boxes)
            self._sync_image_state(c, expr.image_id)

    @classmethod
    def _restore_expression_rows(cls, c: sqlite3.Connection, expr: Expression, boxes: Iterable[Box]) -> None:
        c.execute(f"INSERT INTO expressions({_EXPR_COLS}) VALUES (?,?,?,?,?,?,?)",
                  (expr.id, expr.image_id, expr.text, expr.created, expr.updated, int(expr.no_target),
                   _spans_value(expr.spans)))
        for b in boxes:
            cls._insert_box(c, expr.id, b, keep_id=True)

    def set_expression_text(self, expression_id: int, text: str,
                            spans: Sequence[Sequence[int]] = ()) -> Expression:
        """New text for a phrase; its ``spans`` index into the new text (none: the whole phrase)."""
        with self.transaction() as c:
            self._require(c, "expressions", expression_id)
            c.execute("UPDATE expressions SET text=?, spans=?, updated=? WHERE id=?",
                      (text, _spans_value(spans), time.time(), expression_id))
        return self.expression(expression_id)

    def set_no_target(self, expression_id: int, no_target: bool) -> Expression:
        """Say (or take back) that the thing a phrase names is not in its image."""
        with self.transaction() as c:
            self._require(c, "expressions", expression_id)
            c.execute("UPDATE expressions SET no_target=?, updated=? WHERE id=?", (int(no_target), time.time(), expression_id))
        return self.expression(expression_id)

    def delete_expression(self, expression_id: int) -> tuple[Expression, list[Box]]:
        """Delete a phrase and its boxes; returns what was deleted so undo can restore it."""
        with self.transaction() as c:
            expr = self._require_expression(c, expression_id)
            boxes = [_box(r) for r in c.execute(f"SELECT {_BOX_COLS} FROM boxes WHERE expression_id=? ORDER BY id", (expression_id,))]
            c.execute("DELETE FROM expressions WHERE id=?", (expression_id,))
            self._sync_image_state(c, expr.image_id)
        return expr, boxes

    # -- boxes -------------------------------------------------------------------------------
    def boxes(self, expression_id: int) -> list[Box]:
        rows = self._query(f"SELECT {_BOX_COLS} FROM boxes WHERE expression_id=? ORDER BY id", (expression_id,))
        return [_box(r) for r in rows]

    def box(self, box_id: int) -> Optional[Box]:
        rows = self._query(f"SELECT {_BOX_COLS} FROM boxes WHERE id=?", (box_id,))
        return _box(rows[0]) if rows else None

    def annotations(self, image_id: int) -> list[tuple[Expression, list[Box]]]:
        """An image's expressions, each with its boxes, in creation order."""
        return [(e, self.boxes(e.id)) for e in self.expressions(image_id)]

    def all_annotations(self, progress: Optional[Callable[[int], None]] = None
                        ) -> dict[int, list[tuple[Expression, list[Box]]]]:
        """Every expression with its boxes, grouped by image id, in two queries (for exports).
        ``progress(n)`` is called after each ``ROWS_PER_REPORT`` rows read (a project of 300k
        boxes takes seconds); an exception it raises (a cancel) ends the read."""
        by_expr: dict[int, list[Box]] = {}
        for rows in self._chunks(f"SELECT {_BOX_COLS} FROM boxes ORDER BY id", progress):
            for r in rows:
                by_expr.setdefault(r[1], []).append(_box(r))
        out: dict[int, list[tuple[Expression, list[Box]]]] = {}
        for rows in self._chunks(f"SELECT {_EXPR_COLS} FROM expressions ORDER BY id", progress):
            for r in rows:
                out.setdefault(r[1], []).append((_expression(r), by_expr.get(r[0], [])))
        return out

    def _chunks(self, sql: str, progress: Optional[Callable[[int], None]]) -> Iterator[list[tuple]]:
        """The rows of one read, ``ROWS_PER_REPORT`` at a time, each chunk reported to ``progress``."""
        with self._problems():
            cursor = self._conn().execute(sql)
            while rows := cursor.fetchmany(ROWS_PER_REPORT):
                yield rows
                if progress is not None:
                    progress(len(rows))

    def add_box(self, expression_id: int, bbox: Sequence[float], state: BoxState | str = BoxState.ACCEPTED,
                source: BoxSource | str = BoxSource.MANUAL, score: Optional[float] = None,
                model_version: Optional[str] = None, explanation: Optional[str] = None) -> Box:
        spec = Box(0, expression_id, tuple(float(v) for v in bbox), BoxState(_enum_value(state)),
                   BoxSource(_enum_value(source)), score, model_version, explanation)
        with self.transaction() as c:
            expr = self._require_expression(c, expression_id)
            box = self._insert_box(c, expression_id, spec)
            self._sync_image_state(c, expr.image_id)
        return box

    def restore_box(self, box: Box) -> None:
        """Put back a deleted box with its original id (undo of a delete)."""
        with self.transaction() as c:
            self._insert_box(c, box.expression_id, box, keep_id=True)

    def update_box(self, box_id: int, bbox: Optional[Sequence[float]] = None,
                   state: BoxState | str | None = None, source: BoxSource | str | None = None) -> Box:
        with self.transaction() as c:
            row = c.execute(f"SELECT {_BOX_COLS} FROM boxes WHERE id=?", (box_id,)).fetchone()
            if row is None:
                raise StoreError(f"box {box_id} does not exist")
            old = _box(row)
            x, y, w, h = old.bbox if bbox is None else (float(v) for v in bbox)
            c.execute(
                "UPDATE boxes SET x=?, y=?, w=?, h=?, state=?, source=? WHERE id=?",
                (x, y, w, h, _enum_value(state or old.state), _enum_value(source or old.source), box_id),
            )
        return self.box(box_id)

    def move_box(self, box_id: int, expression_id: int) -> Box:
        """Give a box to another phrase of its image (the box keeps its id and everything else)."""
        with self.transaction() as c:
            row = c.execute("SELECT e.image_id FROM boxes b JOIN expressions e ON e.id = b.expression_id "
                            "WHERE b.id=?", (box_id,)).fetchone()
            if row is None:
                raise StoreError(f"box {box_id} does not exist")
            if self._require_expression(c, expression_id).image_id != row[0]:
                raise StoreError(f"expression {expression_id} is on another image than box {box_id}")
            c.execute("UPDATE boxes SET expression_id=? WHERE id=?", (expression_id, box_id))
        return self.box(box_id)

    def delete_box(self, box_id: int) -> Box:
        with self.transaction() as c:
            row = c.execute(f"SELECT {_BOX_COLS} FROM boxes WHERE id=?", (box_id,)).fetchone()
            if row is None:
                raise StoreError(f"box {box_id} does not exist")
            c.execute("DELETE FROM boxes WHERE id=?", (box_id,))
        return _box(row)

    # -- categories --------------------------------------------------------------------------
    def category_ids(self, names: Iterable[str]) -> dict[str, int]:
        """The project's id of each category name, giving new names the next free id (in the order
        given) in one transaction. A name keeps its id for the life of the project, so adding a
        phrase never renumbers the classes of the next export. Names are used as given: callers
        pass ``core.phrase_key`` forms or label-map category names.

        An export is a reader and never waits for another process's writer: known names only read,
        and when new names meet a write lock held elsewhere they get the ids they would be given
        next (after the highest id ever used), without keeping them this time."""
        wanted = list(dict.fromkeys(names))
        known = dict(self._query("SELECT name, id FROM categories"))
        if all(name in known for name in wanted):
            return {name: known[name] for name in wanted}
        try:
            with self._no_wait(), self.transaction() as c:
                known = dict(c.execute("SELECT name, id FROM categories"))
                now = time.time()
                for name in wanted:
                    if name not in known:
                        known[name] = c.execute("INSERT INTO categories(name, created) VALUES (?, ?)",
                                                (name, now)).lastrowid
        except StoreBusyError:
            used = self._query("SELECT seq FROM sqlite_sequence WHERE name='categories'")
            next_id = max([used[0][0] if used else 0, *known.values()]) + 1
            for name in wanted:
                if name not in known:
                    known[name], next_id = next_id, next_id + 1
        return {name: known[name] for name in wanted}

    @contextmanager
    def _no_wait(self) -> Iterator[None]:
        """Within the block, a write lock held by another process fails at once instead of waiting."""
        conn = self._conn()
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")

    # -- what the model learned from the boxes --------------------------------------------------
    def box_embeddings(self, model: str, box_ids: Optional[Iterable[int]] = None
                       ) -> dict[int, tuple[tuple[float, float, float, float], bytes]]:
        """Box id -> (the bbox it was made for, vector bytes) of the embeddings made by ``model``
        (of ``box_ids`` only, if given)."""
        sql = "SELECT box_id, x, y, w, h, vector FROM box_embeddings WHERE model=?"
        args: list = [model]
        if box_ids is not None:
            ids = [int(i) for i in box_ids]
            sql += f" AND box_id IN ({','.join('?' * len(ids))})"
            args += ids
        return {r[0]: ((r[1], r[2], r[3], r[4]), bytes(r[5])) for r in self._query(sql, args)}

    def set_box_embeddings(self, model: str,
                           rows: Iterable[tuple[int, Sequence[float], bytes]]) -> None:
        """Keep ``(box id, bbox, vector)`` rows made by ``model``, in one transaction. A box deleted
        meanwhile (an undo on another thread) is skipped: its vector has nothing to describe."""
        values = [(box_id, model, *(float(v) for v in bbox), sqlite3.Binary(vector))
                  for box_id, bbox, vector in rows]
        if not values:
            return
        with self.transaction() as c:
            c.executemany("INSERT OR REPLACE INTO box_embeddings(box_id, model, x, y, w, h, vector) "
                          "SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM boxes WHERE id=?)",
                          [v + (v[0],) for v in values])

    # -- summary -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        def one(sql: str) -> int:
            return self._query(sql)[0][0]

        out = {
            "images": one("SELECT COUNT(*) FROM images WHERE missing=0"),
            "unreadable": one("SELECT COUNT(*) FROM images WHERE missing=0 AND error IS NOT NULL"),
            "missing": one("SELECT COUNT(*) FROM images WHERE missing=1"),
            "flagged": one("SELECT COUNT(*) FROM images WHERE missing=0 AND review_reason IS NOT NULL"),
            "phrases": one("SELECT COUNT(*) FROM expressions"),
            "boxes": one("SELECT COUNT(*) FROM boxes"),
        }
        for s in ImageState:
            out[f"images_{s.value}"] = 0
        for state, n in self._query("SELECT state, COUNT(*) FROM images WHERE missing=0 GROUP BY state"):
            out[f"images_{state}"] = n
        for s in BoxState:
            out[f"boxes_{s.value}"] = 0
        for state, n in self._query("SELECT state, COUNT(*) FROM boxes GROUP BY state"):
            out[f"boxes_{state}"] = n
        return out

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _require(c: sqlite3.Connection, table: str, row_id: int) -> None:
        if c.execute(f"SELECT 1 FROM {table} WHERE id=?", (row_id,)).fetchone() is None:
            raise StoreError(f"{table[:-1] if table != 'boxes' else 'box'} {row_id} does not exist")

    @staticmethod
    def _require_expression(c: sqlite3.Connection, expression_id: int) -> Expression:
        row = c.execute(f"SELECT {_EXPR_COLS} FROM expressions WHERE id=?", (expression_id,)).fetchone()
        if row is None:
            raise StoreError(f"expression {expression_id} does not exist")
        return _expression(row)

    @staticmethod
    def _insert_expression(c: sqlite3.Connection, image_id: int, text: str, now: float, no_target: bool,
                           spans: Sequence[Sequence[int]] = ()) -> int:
        return c.execute("INSERT INTO expressions(image_id, text, created, updated, no_target, spans) "
                         "VALUES (?,?,?,?,?,?)", (image_id, text, now, now, int(no_target), _spans_value(spans))).lastrowid

    @staticmethod
    def _insert_box(c: sqlite3.Connection, expression_id: int, b: Box, keep_id: bool = False) -> Box:
        values = _box_values(expression_id, b)
        if keep_id:
            c.execute(f"INSERT INTO boxes({_BOX_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", (b.id, *values))
            box_id = b.id
        else:
            box_id = c.execute(_BOX_INSERT, values).lastrowid
        return Box(box_id, expression_id, values[1:5], BoxState(values[5]), BoxSource(values[6]), b.score,
                   b.model_version, b.explanation)

    @staticmethod
    def _sync_image_state(c: sqlite3.Connection, image_id: int) -> None:
        """'new' means untouched: an image is 'in_progress' from its first expression, and goes back
        to 'new' when its last one is removed. 'reviewed' is only ever set or cleared by the user."""
        has = c.execute("SELECT 1 FROM expressions WHERE image_id=? LIMIT 1", (image_id,)).fetchone() is not None
        if has:
            c.execute("UPDATE images SET state='in_progress' WHERE id=? AND state='new'", (image_id,))
        else:
            c.execute("UPDATE images SET state='new' WHERE id=? AND state='in_progress'", (image_id,))
