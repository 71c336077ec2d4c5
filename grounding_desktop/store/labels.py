"""The labels (``store.labels``): the phrases of the images with their boxes, read, added,
changed, deleted and put back (undo). The rows are written by the functions of the modules that
own the tables (``phrases.insert_expression``, ``boxes.insert_box``), which the import merge and
the batch proposals use too."""
from __future__ import annotations

import time
from typing import Callable, Iterable, Optional, Sequence

from ..core import Box, BoxSource, BoxState, Expression
from .boxes import insert_box
from .images import sync_image_state
from .phrases import insert_expression, restore_expression_rows
from .problems import StoreError
from .project_file import Part
from .rows import BOX_COLS, EXPR_COLS, box_from, enum_value, expression_from, require, require_expression, spans_value


class Labels(Part):
    """``store.labels``: the expressions and boxes tables."""

    def expressions(self, image_id: int) -> list[Expression]:
        rows = self._file.read(f"SELECT {EXPR_COLS} FROM expressions WHERE image_id=? ORDER BY id", (image_id,))
        return [expression_from(r) for r in rows]

    def expression(self, expression_id: int) -> Optional[Expression]:
        rows = self._file.read(f"SELECT {EXPR_COLS} FROM expressions WHERE id=?", (expression_id,))
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
        for rows in self._file.read_chunks(f"SELECT {BOX_COLS} FROM boxes ORDER BY id", progress):
            for r in rows:
                by_expr.setdefault(r[1], []).append(box_from(r))
        out: dict[int, list[tuple[Expression, list[Box]]]] = {}
        for rows in self._file.read_chunks(f"SELECT {EXPR_COLS} FROM expressions ORDER BY id", progress):
            for r in rows:
                out.setdefault(r[1], []).append((expression_from(r), by_expr.get(r[0], [])))
        return out

    def add_expression(self, image_id: int, text: str, boxes: Iterable[Box] = (),
                       no_target: bool = False) -> tuple[Expression, list[Box]]:
        """Store a phrase with its boxes (ids in ``boxes`` are ignored) in one transaction;
        ``no_target``: the user said the thing is not in the image."""
        now = time.time()
        with self._file.transaction() as c:
            require(c, "images", image_id)
            expr = Expression(insert_expression(c, image_id, text, now, no_target), image_id, text, now, now,
                              no_target)
            stored = [insert_box(c, expr.id, b) for b in boxes]
            sync_image_state(c, image_id)
        return expr, stored

    def restore_expression(self, expr: Expression, boxes: Iterable[Box] = ()) -> None:
        """Put back a deleted expression with its original ids (undo of a delete)."""
        with self._file.transaction() as c:
            restore_expression_rows(c, expr, boxes)
            sync_image_state(c, expr.image_id)

    def set_expression_text(self, expression_id: int, text: str,
                            spans: Sequence[Sequence[int]] = ()) -> Expression:
        """New text for a phrase; its ``spans`` index into the new text (none: the whole phrase)."""
        with self._file.transaction() as c:
            require(c, "expressions", expression_id)
            c.execute("UPDATE expressions SET text=?, spans=?, updated=? WHERE id=?",
                      (text, spans_value(spans), time.time(), expression_id))
        return self.expression(expression_id)

    def set_no_target(self, expression_id: int, no_target: bool) -> Expression:
        """Say (or unsay) that the thing a phrase names is not in its image; either way the phrase's
        answer is the user's own now, so it forgets an earlier one (``absent_before``)."""
        with self._file.transaction() as c:
            require(c, "expressions", expression_id)
            c.execute("UPDATE expressions SET no_target=?, absent_before=0, updated=? WHERE id=?",
                      (int(no_target), time.time(), expression_id))
        return self.expression(expression_id)

    def take_back_no_target(self, expression_id: int) -> Expression:
        """A box came for a phrase said "not in image": the answer goes, and the phrase remembers it
        (``Expression.absent_before``) so that deleting its last box brings it back."""
        with self._file.transaction() as c:
            require(c, "expressions", expression_id)
            c.execute("UPDATE expressions SET no_target=0, absent_before=1, updated=? WHERE id=?",
                      (time.time(), expression_id))
        return self.expression(expression_id)

    def put_back_expression(self, expr: Expression) -> None:
        """Write a phrase's row back as ``expr`` holds it (text, spans, flags and times): the undo
        of an edit that changed it in passing."""
        with self._file.transaction() as c:
            require(c, "expressions", expr.id)
            c.execute("UPDATE expressions SET text=?, spans=?, no_target=?, absent_before=?, created=?, updated=? "
                      "WHERE id=?", (expr.text, spans_value(expr.spans), int(expr.no_target), int(expr.absent_before),
                                     expr.created, expr.updated, expr.id))

    def delete_expression(self, expression_id: int) -> tuple[Expression, list[Box]]:
        """Delete a phrase and its boxes; returns what was deleted so undo can restore it."""
        with self._file.transaction() as c:
            expr = require_expression(c, expression_id)
            boxes = [box_from(r) for r in c.execute(f"SELECT {BOX_COLS} FROM boxes WHERE expression_id=? ORDER BY id", (expression_id,))]
            c.execute("DELETE FROM expressions WHERE id=?", (expression_id,))
            sync_image_state(c, expr.image_id)
        return expr, boxes

    def boxes(self, expression_id: int) -> list[Box]:
        rows = self._file.read(f"SELECT {BOX_COLS} FROM boxes WHERE expression_id=? ORDER BY id", (expression_id,))
        return [box_from(r) for r in rows]

    def box(self, box_id: int) -> Optional[Box]:
        rows = self._file.read(f"SELECT {BOX_COLS} FROM boxes WHERE id=?", (box_id,))
        return box_from(rows[0]) if rows else None

    def add_box(self, expression_id: int, spec: Box) -> Box:
        """Store box spec ``spec`` (its id and expression id are not taken) as a box of
        ``expression_id``; returns it as stored."""
        with self._file.transaction() as c:
            expr = require_expression(c, expression_id)
            box = insert_box(c, expression_id, spec)
            sync_image_state(c, expr.image_id)
        return box

    def restore_box(self, box: Box) -> None:
        """Put back a deleted box with its original id (undo of a delete)."""
        with self._file.transaction() as c:
            insert_box(c, box.expression_id, box, keep_id=True)

    def update_box(self, box_id: int, bbox: Optional[Sequence[float]] = None,
                   state: BoxState | str | None = None, source: BoxSource | str | None = None) -> Box:
        with self._file.transaction() as c:
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
        with self._file.transaction() as c:
            row = c.execute("SELECT e.image_id FROM boxes b JOIN expressions e ON e.id = b.expression_id "
                            "WHERE b.id=?", (box_id,)).fetchone()
            if row is None:
                raise StoreError(f"box {box_id} does not exist")
            if require_expression(c, expression_id).image_id != row[0]:
                raise StoreError(f"expression {expression_id} is on another image than box {box_id}")
            c.execute("UPDATE boxes SET expression_id=? WHERE id=?", (expression_id, box_id))
        return self.box(box_id)

    def delete_box(self, box_id: int) -> Box:
        with self._file.transaction() as c:
            row = c.execute(f"SELECT {BOX_COLS} FROM boxes WHERE id=?", (box_id,)).fetchone()
            if row is None:
                raise StoreError(f"box {box_id} does not exist")
            c.execute("DELETE FROM boxes WHERE id=?", (box_id,))
        return box_from(row)
