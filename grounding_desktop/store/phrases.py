"""The phrases of the images (the ``expressions`` table): reading them with their boxes, adding
one or many, restoring (undo), changing the text or the no-target flag, and deleting one; the
row writes the import merge and the batch proposals share (``insert_expression``,
``restore_expression_rows``, ``phrases_with_boxes``); and the one rule of which phrase a text joins
(``phrase_joined``), which typing, drawing, renaming, relabelling, propose and import all follow."""
from __future__ import annotations

import sqlite3
import time
from typing import Callable, Iterable, Optional, Sequence, TypeVar

from ..core import Box, Expression, phrase_key
from .boxes import Boxes, insert_box
from .images import sync_image_state
from .rows import (BOX_COLS, BOX_INSERT, EXPR_COLS, box_from, box_values, expression_from, require,
                   require_expression, spans_value)


def insert_expression(c: sqlite3.Connection, image_id: int, text: str, now: float, no_target: bool,
                      spans: Sequence[Sequence[int]] = ()) -> int:
    """Write a new phrase of ``image_id``, created and updated ``now``; its id."""
    return c.execute("INSERT INTO expressions(image_id, text, created, updated, no_target, spans) "
                     "VALUES (?,?,?,?,?,?)", (image_id, text, now, now, int(no_target), spans_value(spans))).lastrowid


def restore_expression_rows(c: sqlite3.Connection, expr: Expression, boxes: Iterable[Box]) -> None:
    """Write a deleted phrase and its boxes back under their own ids."""
    c.execute(f"INSERT INTO expressions({EXPR_COLS}) VALUES (?,?,?,?,?,?,?)",
              (expr.id, expr.image_id, expr.text, expr.created, expr.updated, int(expr.no_target),
               spans_value(expr.spans)))
    for b in boxes:
        insert_box(c, expr.id, b, keep_id=True)


T = TypeVar("T")


def phrase_joined(text: str, phrases: Iterable[T], text_of: Callable[[T], str] = lambda e: e.text) -> Optional[T]:
    """THE rule of which phrase of an image ``text`` joins: the first (oldest) of the image's
    ``phrases`` (given in creation order) with the same :func:`core.phrase_key` (case and spacing
    ignored: "The  Dog" joins "the dog"); None: the text makes a new phrase. A box typed, drawn,
    accepted, relabelled, proposed or imported for ``text`` goes there, and a phrase renamed onto
    it merges into it. ``phrases_with_boxes`` indexes an image's phrases by the same rule."""
    key = phrase_key(text)
    return next((p for p in phrases if phrase_key(text_of(p)) == key), None)


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


class Phrases(Boxes):
    """The ``ProjectStore`` methods of the expressions table, and of phrases read with their boxes
    (hence a part over ``Boxes``)."""

    def expressions(self, image_id: int) -> list[Expression]:
        rows = self._query(f"SELECT {EXPR_COLS} FROM expressions WHERE image_id=? ORDER BY id", (image_id,))
        return [expression_from(r) for r in rows]

    def expression(self, expression_id: int) -> Optional[Expression]:
        rows = self._query(f"SELECT {EXPR_COLS} FROM expressions WHERE id=?", (expression_id,))
        return expression_from(rows[0]) if rows else None

    def annotations(self, image_id: int) -> list[tuple[Expression, list[Box]]]:
        """An image's expressions, each with its boxes, in creation order."""
        return [(e, self.boxes(e.id)) for e in self.expressions(image_id)]

    def all_annotations(self, progress: Optional[Callable[[int], None]] = None
                        ) -> dict[int, list[tuple[Expression, list[Box]]]]:
        """Every expression with its boxes, grouped by image id, in two queries (for exports).
        ``progress(n)`` is called after each ``ROWS_PER_REPORT`` rows read (a project of 300k
        boxes takes seconds); an exception it raises (a cancel) ends the read."""
        by_expr: dict[int, list[Box]] = {}
        for rows in self._chunks(f"SELECT {BOX_COLS} FROM boxes ORDER BY id", progress):
            for r in rows:
                by_expr.setdefault(r[1], []).append(box_from(r))
        out: dict[int, list[tuple[Expression, list[Box]]]] = {}
        for rows in self._chunks(f"SELECT {EXPR_COLS} FROM expressions ORDER BY id", progress):
            for r in rows:
                out.setdefault(r[1], []).append((expression_from(r), by_expr.get(r[0], [])))
        return out

    def add_expression(self, image_id: int, text: str, boxes: Iterable[Box] = (),
                       no_target: bool = False) -> tuple[Expression, list[Box]]:
        """Store a phrase with its boxes (ids in ``boxes`` are ignored) in one transaction;
        ``no_target``: the user said the thing is not in the image."""
        now = time.time()
        with self.transaction() as c:
            require(c, "images", image_id)
            expr = Expression(insert_expression(c, image_id, text, now, no_target), image_id, text, now, now,
                              no_target)
            stored = [insert_box(c, expr.id, b) for b in boxes]
            sync_image_state(c, image_id)
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
                    require(c, "images", image_id)
                    touched.add(image_id)
                expr_id = insert_expression(c, image_id, text, now, no_target=not boxes)
                ids.append(expr_id)
                c.executemany(BOX_INSERT, [box_values(expr_id, b) for b in boxes])
            for image_id in touched:
                sync_image_state(c, image_id)
            for image_id in set(reviewed):
                require(c, "images", image_id)
                c.execute("UPDATE images SET state='reviewed', review_reason=NULL WHERE id=?", (image_id,))
        return ids

    def restore_expression(self, expr: Expression, boxes: Iterable[Box] = ()) -> None:
        """Put back a deleted expression with its original ids (undo of a delete)."""
        with self.transaction() as c:
            restore_expression_rows(c, expr, boxes)
            sync_image_state(c, expr.image_id)

    def set_expression_text(self, expression_id: int, text: str,
                            spans: Sequence[Sequence[int]] = ()) -> Expression:
        """New text for a phrase; its ``spans`` index into the new text (none: the whole phrase)."""
        with self.transaction() as c:
            require(c, "expressions", expression_id)
            c.execute("UPDATE expressions SET text=?, spans=?, updated=? WHERE id=?",
                      (text, spans_value(spans), time.time(), expression_id))
        return self.expression(expression_id)

    def set_no_target(self, expression_id: int, no_target: bool) -> Expression:
        """Say (or take back) that the thing a phrase names is not in its image."""
        with self.transaction() as c:
            require(c, "expressions", expression_id)
            c.execute("UPDATE expressions SET no_target=?, updated=? WHERE id=?", (int(no_target), time.time(), expression_id))
        return self.expression(expression_id)

    def put_back_expression(self, expr: Expression) -> None:
        """Write a phrase's row back as ``expr`` holds it (text, spans, flag and times): the undo
        of an edit that changed it in passing."""
        with self.transaction() as c:
            require(c, "expressions", expr.id)
            c.execute("UPDATE expressions SET text=?, spans=?, no_target=?, created=?, updated=? WHERE id=?",
                      (expr.text, spans_value(expr.spans), int(expr.no_target), expr.created, expr.updated, expr.id))

    def delete_expression(self, expression_id: int) -> tuple[Expression, list[Box]]:
        """Delete a phrase and its boxes; returns what was deleted so undo can restore it."""
        with self.transaction() as c:
            expr = require_expression(c, expression_id)
            boxes = [box_from(r) for r in c.execute(f"SELECT {BOX_COLS} FROM boxes WHERE expression_id=? ORDER BY id", (expression_id,))]
            c.execute("DELETE FROM expressions WHERE id=?", (expression_id,))
            sync_image_state(c, expr.image_id)
        return expr, boxes
