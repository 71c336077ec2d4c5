"""The rows of the phrases (the ``expressions`` table) that ``store.labels``, the import merge and
the batch proposals write (``insert_expression``, ``restore_expression_rows``) and read
(``phrases_with_boxes``, indexed by the rule of which phrase a text joins, ``core.phrase_joined``,
which typing, drawing, renaming, relabelling, propose and import all follow)."""
from __future__ import annotations

import sqlite3
from typing import Iterable, Sequence

from ..core import Box, Expression, phrase_key
from .boxes import insert_box
from .rows import EXPR_COLS, spans_value


def insert_expression(c: sqlite3.Connection, image_id: int, text: str, now: float, no_target: bool,
                      spans: Sequence[Sequence[int]] = ()) -> int:
    """Write a new phrase of ``image_id``, created and updated ``now``; its id."""
    return c.execute("INSERT INTO expressions(image_id, text, created, updated, no_target, spans) "
                     "VALUES (?,?,?,?,?,?)", (image_id, text, now, now, int(no_target), spans_value(spans))).lastrowid


def restore_expression_rows(c: sqlite3.Connection, expr: Expression, boxes: Iterable[Box]) -> None:
    """Write a deleted phrase and its boxes back under their own ids."""
    c.execute(f"INSERT INTO expressions({EXPR_COLS}) VALUES (?,?,?,?,?,?,?,?)",
              (expr.id, expr.image_id, expr.text, expr.created, expr.updated, int(expr.no_target),
               spans_value(expr.spans), int(expr.absent_before)))
    for b in boxes:
        insert_box(c, expr.id, b, keep_id=True)


def phrases_with_boxes(c: sqlite3.Connection, image_id: int) -> dict[str, tuple[int, dict[tuple, tuple[int, str]]]]:
    """An image's phrases as ``phrase_joined`` matches them, for many look-ups in one transaction:
    by ``phrase_key`` the phrase a text of that key joins (the first), with the boxes of every
    phrase of that key by coordinates: ``key -> (id, {(x, y, w, h): (box id, state)})``."""
    out: dict[str, tuple[int, dict[tuple, tuple[int, str]]]] = {}
    key_of: dict[int, str] = {}
    for expr_id, text in c.execute("SELECT id, text FROM expressions WHERE image_id=? ORDER BY id", (image_id,)):
        key_of[expr_id] = phrase_key(text)
        out.setdefault(key_of[expr_id], (expr_id, {}))
    rows = c.execute("SELECT b.id, b.expression_id, b.x, b.y, b.w, b.h, b.state FROM boxes b "
                     "JOIN expressions e ON e.id = b.expression_id WHERE e.image_id=? ORDER BY b.id", (image_id,))
    for box_id, expr_id, x, y, w, h, state in rows:
        out[key_of[expr_id]][1].setdefault((x, y, w, h), (box_id, state))
    return out
