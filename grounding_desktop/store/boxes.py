"""The boxes of the phrases: reading them, adding, restoring (undo), changing, moving to another
phrase and deleting one, and ``insert_box``, the one way a box row is written."""
from __future__ import annotations

import sqlite3
from typing import Optional, Sequence

from ..core import Box, BoxSource, BoxState
from .images import sync_image_state
from .problems import StoreError
from .project_file import ProjectFile
from .rows import BOX_COLS, BOX_INSERT, box_from, box_values, enum_value, require_expression


def insert_box(c: sqlite3.Connection, expression_id: int, b: Box, keep_id: bool = False) -> Box:
    """Write box spec ``b`` as a box of ``expression_id`` under a new id (``keep_id``: under its own
    id, to put a deleted box back) and return it as stored."""
    values = box_values(expression_id, b)
    if keep_id:
        c.execute(f"INSERT INTO boxes({BOX_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", (b.id, *values))
        box_id = b.id
    else:
        box_id = c.execute(BOX_INSERT, values).lastrowid
    return Box(box_id, expression_id, values[1:5], BoxState(values[5]), BoxSource(values[6]), b.score,
               b.model_version, b.explanation)


class Boxes(ProjectFile):
    """The ``ProjectStore`` methods of the boxes table."""

    def boxes(self, expression_id: int) -> list[Box]:
        rows = self._query(f"SELECT {BOX_COLS} FROM boxes WHERE expression_id=? ORDER BY id", (expression_id,))
        return [box_from(r) for r in rows]

    def box(self, box_id: int) -> Optional[Box]:
        rows = self._query(f"SELECT {BOX_COLS} FROM boxes WHERE id=?", (box_id,))
        return box_from(rows[0]) if rows else None

    def add_box(self, expression_id: int, bbox: Sequence[float], state: BoxState | str = BoxState.ACCEPTED,
                source: BoxSource | str = BoxSource.MANUAL, score: Optional[float] = None,
                model_version: Optional[str] = None, explanation: Optional[str] = None) -> Box:
        spec = Box(0, expression_id, tuple(float(v) for v in bbox), BoxState(enum_value(state)),
                   BoxSource(enum_value(source)), score, model_version, explanation)
        with self.transaction() as c:
            expr = require_expression(c, expression_id)
            box = insert_box(c, expression_id, spec)
            sync_image_state(c, expr.image_id)
        return box

    def restore_box(self, box: Box) -> None:
        """Put back a deleted box with its original id (undo of a delete)."""
        with self.transaction() as c:
            insert_box(c, box.expression_id, box, keep_id=True)

    def update_box(self, box_id: int, bbox: Optional[Sequence[float]] = None,
                   state: BoxState | str | None = None, source: BoxSource | str | None = None) -> Box:
        with self.transaction() as c:
            row = c.execute(f"SELECT {BOX_COLS} FROM boxes WHERE id=?", (box_id,)).fetchone()
            if row is None:
                raise StoreError(f"box {box_id} does not exist")
            old = box_from(row)
            x, y, w, h = old.bbox if bbox is None else (float(v) for v in bbox)
            c.execute(
                "UPDATE boxes SET x=?, y=?, w=?, h=?, state=?, source=? WHERE id=?",
                (x, y, w, h, enum_value(state or old.state), enum_value(source or old.source), box_id),
            )
        return self.box(box_id)

    def move_box(self, box_id: int, expression_id: int) -> Box:
        """Give a box to another phrase of its image (the box keeps its id and everything else)."""
        with self.transaction() as c:
            row = c.execute("SELECT e.image_id FROM boxes b JOIN expressions e ON e.id = b.expression_id "
                            "WHERE b.id=?", (box_id,)).fetchone()
            if row is None:
                raise StoreError(f"box {box_id} does not exist")
            if require_expression(c, expression_id).image_id != row[0]:
                raise StoreError(f"expression {expression_id} is on another image than box {box_id}")
            c.execute("UPDATE boxes SET expression_id=? WHERE id=?", (expression_id, box_id))
        return self.box(box_id)

    def delete_box(self, box_id: int) -> Box:
        with self.transaction() as c:
            row = c.execute(f"SELECT {BOX_COLS} FROM boxes WHERE id=?", (box_id,)).fetchone()
            if row is None:
                raise StoreError(f"box {box_id} does not exist")
            c.execute("DELETE FROM boxes WHERE id=?", (box_id,))
        return box_from(row)
