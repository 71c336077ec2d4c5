"""The database matched with a folder scan (a rescan): what the scanner may skip, and the sync of
the images table with the files on disk, renamed and moved files keeping their labels."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Iterable

from ..core import ImageRecord, ImageState, ScanEntry
from .project_file import ProjectFile
from .rows import IMAGE_COLS, IMAGE_INSERT, image_from, path_value


@dataclass
class ScanReport:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # gone from disk (kept as 'missing' if labelled)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old, new), matched by content hash
    changed: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # labelled files replaced by a different picture
    unchanged: int = 0


class ScanSync(ProjectFile):
    """The ``ProjectStore`` methods of a rescan."""

    def scan_index(self) -> dict[str, ImageRecord]:
        """Every known image by path (missing ones too), for the scanner to skip unchanged files."""
        return {r.path: r for r in map(image_from, self._query(f"SELECT {IMAGE_COLS} FROM images"))}

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
            report, writes = _plan_scan(self._conn(), entries)
        if not writes:
            return report
        with self.transaction() as c:
            report, writes = _plan_scan(c, entries)  # again under the lock: another process may have synced
            for sql, rows in writes.items():
                c.executemany(sql, rows)
        return report


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

    known = {r.path: r for r in map(image_from, c.execute(f"SELECT {IMAGE_COLS} FROM images"))}
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
                  path_value(e.path), e.width, e.height, e.error, e.size, e.mtime, old.id)
        else:
            report.added.append(e.path)
            write(IMAGE_INSERT, path_value(e.path), e.width, e.height, e.content_hash, e.error, e.size, e.mtime)
    for r in gone:
        if r.id in renamed_ids or r.missing:
            continue
        report.removed.append(r.path)
        if kept(r)[1]:
            write("UPDATE images SET missing=1 WHERE id=?", r.id)
        else:
            write("DELETE FROM images WHERE id=?", r.id)
    return report, writes


def _replaced_reason(old: ImageRecord, new: ScanEntry) -> str:
    sizes = f" (was {old.width}x{old.height}, now {new.width}x{new.height})" if (old.width, old.height) != (
        new.width, new.height) else ""
    return f"the file was replaced by a different picture after it was labelled{sizes}: check its labels"
