"""The project's images (``store.images``): reading them, syncing them with a folder scan (the
plan is ``scan_sync``'s), their state and why one cannot be read, and the one rule of an image's
state that follows from its phrases (``sync_image_state``)."""
from __future__ import annotations

import sqlite3
from typing import Iterable, Optional

from ..core import ImageRecord, ImageState, ScanEntry, natural_path_key
from .project_file import Part
from .rows import IMAGE_COLS, enum_value, image_from, require
from .scan_sync import ScanReport, plan_scan


def sync_image_state(c: sqlite3.Connection, image_id: int) -> None:
    """'new' means untouched: an image is 'in_progress' from its first expression, and goes back
    to 'new' when its last one is removed. 'reviewed' is only ever set or cleared by the user."""
    has = c.execute("SELECT 1 FROM expressions WHERE image_id=? LIMIT 1", (image_id,)).fetchone() is not None
    if has:
        c.execute("UPDATE images SET state='in_progress' WHERE id=? AND state='new'", (image_id,))
    else:
        c.execute("UPDATE images SET state='new' WHERE id=? AND state='in_progress'", (image_id,))


class Images(Part):
    """``store.images``: the images table."""

    def all(self, state: ImageState | str | None = None, include_missing: bool = False) -> list[ImageRecord]:
        """Images in natural path order (img2 before img10)."""
        sql = f"SELECT {IMAGE_COLS} FROM images"
        where, args = [], []
        if not include_missing:
            where.append("missing = 0")
        if state is not None:
            where.append("state = ?")
            args.append(enum_value(state))
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = [image_from(r) for r in self._file.read(sql, args)]
        rows.sort(key=lambda r: natural_path_key(r.path))
        return rows

    def get(self, image_id: int) -> Optional[ImageRecord]:
        rows = self._file.read(f"SELECT {IMAGE_COLS} FROM images WHERE id=?", (image_id,))
        return image_from(rows[0]) if rows else None

    def by_path(self) -> dict[str, ImageRecord]:
        """Every known image by path, missing ones too (the scanner skips the unchanged files)."""
        return {r.path: r for r in map(image_from, self._file.read(f"SELECT {IMAGE_COLS} FROM images"))}

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
        with self._file.reading() as c:
            report, writes = plan_scan(c, entries)
        if not writes:
            return report
        with self._file.transaction() as c:
            report, writes = plan_scan(c, entries)  # again under the lock: another process may have synced
            for sql, rows in writes.items():
                c.executemany(sql, rows)
        return report

    def set_state(self, image_id: int, state: ImageState | str) -> None:
        """Reviewing an image also settles why it was flagged for review."""
        state = enum_value(state)
        with self._file.transaction() as c:
            require(c, "images", image_id)
            c.execute("UPDATE images SET state=?, review_reason=CASE WHEN ?='reviewed' THEN NULL ELSE review_reason END "
                      "WHERE id=?", (state, state, image_id))

    def reopen(self, image_id: int) -> bool:
        """A reviewed image whose labels were just edited is not done any more: back to in progress
        (or new, when it has no phrase left). True if it was reviewed."""
        with self._file.transaction() as c:
            reopened = c.execute("UPDATE images SET state='new' WHERE id=? AND state='reviewed'", (image_id,)).rowcount
            sync_image_state(c, image_id)
        return bool(reopened)

    def set_error(self, image_id: int, error: Optional[str]) -> None:
        """Record (or clear) why a file cannot be read, e.g. found at full decode after the scan."""
        with self._file.transaction() as c:
            c.execute("UPDATE images SET error=? WHERE id=?", (error, image_id))
