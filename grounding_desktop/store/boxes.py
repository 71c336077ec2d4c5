"""The boxes of the phrases: ``insert_box``, the one way a box row is written (by
``store.labels``, the import merge and the batch proposals)."""
from __future__ import annotations

import sqlite3

from ..core import Box, BoxSource, BoxState
from .rows import BOX_COLS, BOX_INSERT, box_values


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
