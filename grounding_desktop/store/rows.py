"""The rows of the project's images, phrases and boxes, in one place: each table's column list and
insert statement, a row turned into its ``core`` record (``image_from``, ``expression_from``,
``box_from``), a record's fields turned into column values (``*_value``), and the check that a
row exists.

Paths are TEXT, except a file name that is not valid UTF-8: SQLite TEXT must be UTF-8, so such a
path is stored as its raw bytes (a BLOB in the same column) and read back as the surrogate-escaped
str that ``os.fsdecode`` gives, which opens the file. The mapping is one-to-one, so UNIQUE holds.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Optional, Sequence

from ..core import Box, BoxSource, BoxState, Expression, ImageRecord, ImageState
from .problems import StoreError

IMAGE_COLS = "id, path, width, height, state, content_hash, error, size, mtime, missing, review_reason"
IMAGE_INSERT = "INSERT INTO images(path, width, height, content_hash, error, size, mtime) VALUES (?,?,?,?,?,?,?)"
EXPR_COLS = "id, image_id, text, created, updated, no_target, spans, absent_before"
BOX_COLS = "id, expression_id, x, y, w, h, state, source, score, model_version, explanation"
BOX_INSERT = ("INSERT INTO boxes(expression_id, x, y, w, h, state, source, score, model_version, explanation) "
              "VALUES (?,?,?,?,?,?,?,?,?,?)")

# Dict lookups instead of Enum calls: exports turn 100k rows into boxes, and Enum(value) is slow.
_BOX_STATES = {s.value: s for s in BoxState}
_BOX_SOURCES = {s.value: s for s in BoxSource}


def path_value(path: str) -> str | bytes:
    """A path as stored: TEXT, or its raw bytes when it is not valid UTF-8 (see the module docstring)."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape")


def path_text(value: str | bytes) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def image_from(row: Sequence) -> ImageRecord:
    """The record of a row of ``IMAGE_COLS``."""
    return ImageRecord(
        id=row[0], path=path_text(row[1]), width=row[2], height=row[3], state=ImageState(row[4]),
        content_hash=row[5], error=row[6], size=row[7], mtime=row[8], missing=bool(row[9]), review_reason=row[10],
    )


def box_from(row: Sequence) -> Box:
    """The record of a row of ``BOX_COLS``."""
    return Box(
        id=row[0], expression_id=row[1], bbox=(row[2], row[3], row[4], row[5]),
        state=_BOX_STATES[row[6]], source=_BOX_SOURCES[row[7]], score=row[8], model_version=row[9], explanation=row[10],
    )


def box_values(expression_id: int, b: Box) -> tuple:
    """A box spec as the row values of ``BOX_INSERT`` (its id and expression id are not taken)."""
    x, y, w, h = (float(v) for v in b.bbox)
    return (expression_id, x, y, w, h, enum_value(b.state), enum_value(b.source), b.score, b.model_version,
            b.explanation)


def expression_from(row: Sequence) -> Expression:
    """The record of a row of ``EXPR_COLS``."""
    return Expression(id=row[0], image_id=row[1], text=row[2], created=row[3], updated=row[4], no_target=bool(row[5]),
                      spans=spans_from(row[6]), absent_before=bool(row[7]))


def spans_from(value: Optional[str]) -> tuple[tuple[int, int], ...]:
    return tuple((int(s), int(e)) for s, e in json.loads(value)) if value else ()


def spans_value(spans: Sequence[Sequence[int]]) -> Optional[str]:
    """The column value of a phrase's spans (NULL: the whole phrase)."""
    return json.dumps([[int(s), int(e)] for s, e in spans]) if spans else None


def enum_value(v) -> str:
    return v.value if hasattr(v, "value") else str(v)


def require(c: sqlite3.Connection, table: str, row_id: int) -> None:
    """Raise a StoreError unless ``table`` has the row ``row_id``."""
    if c.execute(f"SELECT 1 FROM {table} WHERE id=?", (row_id,)).fetchone() is None:
        raise StoreError(f"{table[:-1] if table != 'boxes' else 'box'} {row_id} does not exist")


def require_expression(c: sqlite3.Connection, expression_id: int) -> Expression:
    """The expression ``expression_id``, or the StoreError that it does not exist."""
    row = c.execute(f"SELECT {EXPR_COLS} FROM expressions WHERE id=?", (expression_id,)).fetchone()
    if row is None:
        raise StoreError(f"expression {expression_id} does not exist")
    return expression_from(row)
