"""The images table matched with a folder scan (a rescan): what ``store.images.apply_scan``
writes to sync it with the files on disk, renamed and moved files keeping their labels, and what
it reports (``ScanReport``)."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from ..core import ImageRecord, ImageState, ScanEntry
from .rows import IMAGE_COLS, IMAGE_INSERT, image_from, path_value


@dataclass
class ScanReport:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # gone from disk (kept as 'missing' if labelled)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old, new), matched by content hash
    changed: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # labelled files replaced by a different picture
    unchanged: int = 0


def plan_scan(c: sqlite3.Connection, entries: list[ScanEntry]) -> tuple[ScanReport, dict[str, list[tuple]]]:
    """What ``Images.apply_scan`` reports and writes: the parameter rows of each statement."""
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
