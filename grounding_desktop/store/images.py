"""The project's images: reading them, adding one, their state and why one cannot be read, and
the one rule of an image's state that follows from its phrases (``sync_image_state``)."""
from __future__ import annotations

import sqlite3
from typing import Optional

from ..core import ImageRecord, ImageState, natural_path_key
from .project_file import ProjectFile
from .rows import IMAGE_COLS, IMAGE_INSERT, enum_value, image_from, path_value, require


def sync_image_state(c: sqlite3.Connection, image_id: int) -> None:
    """'new' means untouched: an image is 'in_progress' from its first expression, and goes back
    to 'new' when its last one is removed. 'reviewed' is only ever set or cleared by the user."""
    has = c.execute("SELECT 1 FROM expressions WHERE image_id=? LIMIT 1", (image_id,)).fetchone() is not None
    if has:
        c.execute("UPDATE images SET state='in_progress' WHERE id=? AND state='new'", (image_id,))
    else:
        c.execute("UPDATE images SET state='new' WHERE id=? AND state='in_progress'", (image_id,))


class Images(ProjectFile):
    """The ``ProjectStore`` methods of the images table (the folder scan's are in ``scan_sync``)."""

    def images(self, state: ImageState | str | None = None, include_missing: bool = False) -> list[ImageRecord]:
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
        rows = [image_from(r) for r in self._query(sql, args)]
        rows.sort(key=lambda r: natural_path_key(r.path))
        return rows

    def image(self, image_id: int) -> Optional[ImageRecord]:
        rows = self._query(f"SELECT {IMAGE_COLS} FROM images WHERE id=?", (image_id,))
        return image_from(rows[0]) if rows else None

    def image_by_path(self, path: str) -> Optional[ImageRecord]:
        rows = self._query(f"SELECT {IMAGE_COLS} FROM images WHERE path=?", (path_value(path),))
        return image_from(rows[0]) if rows else None

    def add_image(self, path: str, width: int, height: int, content_hash: str = "",
                  error: Optional[str] = None, size: int = 0, mtime: float = 0.0) -> ImageRecord:
        with self.transaction() as c:
            cur = c.execute(IMAGE_INSERT, (path_value(path), width, height, content_hash, error, size, mtime))
            image_id = cur.lastrowid
        return self.image(image_id)

    def set_image_state(self, image_id: int, state: ImageState | str) -> None:
        """Reviewing an image also settles why it was flagged for review."""
        state = enum_value(state)
        with self.transaction() as c:
            require(c, "images", image_id)
            c.execute("UPDATE images SET state=?, review_reason=CASE WHEN ?='reviewed' THEN NULL ELSE review_reason END "
                      "WHERE id=?", (state, state, image_id))

    def reopen_image(self, image_id: int) -> bool:
        """A reviewed image whose labels were just edited is not done any more: back to in progress
        (or new, when it has no phrase left). True if it was reviewed."""
        with self.transaction() as c:
            reopened = c.execute("UPDATE images SET state='new' WHERE id=? AND state='reviewed'", (image_id,)).rowcount
            sync_image_state(c, image_id)
        return bool(reopened)

    def set_image_error(self, image_id: int, error: Optional[str]) -> None:
        """Record (or clear) why a file cannot be read, e.g. found at full decode after the scan."""
        with self.transaction() as c:
            c.execute("UPDATE images SET error=? WHERE id=?", (error, image_id))
