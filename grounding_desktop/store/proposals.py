"""The model's proposals for many images at once (``store.proposals``; propose for every image):
stored as one batch, taken back and put back exactly (undo and redo), and the images with
proposals in order of the model's doubt (review by doubt)."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from ..core import Box, BoxSource, BoxState, Expression, ImageRecord, natural_path_key, phrase_key
from ..core.proposal import is_stored
from .boxes import insert_box
from .images import sync_image_state
from .phrases import insert_expression, phrases_with_boxes, restore_expression_rows
from .project_file import Part
from .rows import IMAGE_COLS, image_from, require


@dataclass(frozen=True)
class ProposalBatch:
    """What ``store.proposals.add`` stored, as undo and redo need it: the phrases it
    created, each with its boxes, the boxes it added to phrases that were there, and the images
    it touched (in the order it touched them)."""

    phrases: tuple[tuple[Expression, tuple[Box, ...]], ...] = ()
    boxes: tuple[Box, ...] = ()
    image_ids: tuple[int, ...] = ()

    @property
    def box_count(self) -> int:
        return len(self.boxes) + sum(len(bs) for _, bs in self.phrases)


class Proposals(Part):
    """``store.proposals``: batch proposals."""

    def add(self, items: Iterable[tuple[int, str, Sequence[Box]]]) -> ProposalBatch:
        """Store the model's boxes for phrases on many images as proposals, in ONE transaction
        (propose for every image). ``items`` are ``(image id, phrase, box specs)``.

        A phrase joins the image's phrase ``core.phrase_joined`` names, or is created;
        one the image has as "not in this image" gets nothing (that is the user's answer).
        A box that is one of that phrase's boxes already, whatever its state (``core.is_stored``:
        a rejected box is not proposed again, a label not doubled), is skipped, so proposing again
        adds nothing. No box that is there is changed. Boxes are stored as proposed boxes of
        the model. Returns what was added, for ``remove`` and ``restore``."""
        created: dict[int, tuple[Expression, list[Box]]] = {}
        joined: list[Box] = []
        touched: dict[int, None] = {}
        now = time.time()
        with self._file.transaction() as c:
            known: dict[int, dict] = {}
            answered: set[int] = set()  # the phrases said "not in this image"
            for image_id, text, boxes in items:
                phrases = known.get(image_id)
                if phrases is None:
                    require(c, "images", image_id)
                    phrases = known[image_id] = phrases_with_boxes(c, image_id)
                    answered.update(i for (i,) in c.execute(
                        "SELECT id FROM expressions WHERE image_id=? AND no_target=1", (image_id,)))
                key = phrase_key(text)
                if phrases.get(key, (None,))[0] in answered:
                    continue
                for spec in boxes:
                    spec = replace(spec, state=BoxState.PROPOSED, source=BoxSource.MODEL)
                    expr_id, stored = phrases.get(key, (None, {}))
                    if is_stored(spec.bbox, [(x, y, w, h) for x, y, w, h in stored]):
                        continue
                    if expr_id is None:
                        expr_id = insert_expression(c, image_id, text, now, no_target=False)
                        created[expr_id] = (Expression(expr_id, image_id, text, now, now), [])
                        phrases[key] = (expr_id, stored)
                    box = insert_box(c, expr_id, spec)
                    stored[box.bbox] = (box.id, BoxState.PROPOSED.value)
                    (created[expr_id][1] if expr_id in created else joined).append(box)
                    touched[image_id] = None
            for image_id in touched:
                sync_image_state(c, image_id)
        return ProposalBatch(tuple((e, tuple(bs)) for e, bs in created.values()), tuple(joined), tuple(touched))

    def remove(self, batch: ProposalBatch) -> None:
        """Take back exactly what ``add`` added (undo), in one transaction."""
        with self._file.transaction() as c:
            c.executemany("DELETE FROM expressions WHERE id=?", [(e.id,) for e, _ in batch.phrases])
            c.executemany("DELETE FROM boxes WHERE id=?", [(b.id,) for b in batch.boxes])
            for image_id in batch.image_ids:
                sync_image_state(c, image_id)

    def restore(self, batch: ProposalBatch) -> None:
        """Put back what ``remove`` took, with the same ids (redo), in one transaction."""
        with self._file.transaction() as c:
            for expr, boxes in batch.phrases:
                restore_expression_rows(c, expr, boxes)
            for b in batch.boxes:
                insert_box(c, b.expression_id, b, keep_id=True)
            for image_id in batch.image_ids:
                sync_image_state(c, image_id)

    def images_by_doubt(self) -> list[tuple[ImageRecord, float]]:
        """Images with proposals to review (on disk, not reviewed), the model's least sure first,
        with that confidence: the lowest, over the image's phrases with proposals, of the phrase's
        best proposal score (a proposal without a score, say imported, counts as 0). Ties go in
        natural path order. Review by doubt: look first where the model is unsure."""
        cols = ", ".join(f"i.{c.strip()}" for c in IMAGE_COLS.split(","))
        rows = self._file.read(
            f"SELECT {cols}, MIN(p.best) FROM images i JOIN ("
            "  SELECT e.image_id AS image_id, MAX(COALESCE(b.score, 0)) AS best FROM boxes b"
            "  JOIN expressions e ON e.id = b.expression_id WHERE b.state = 'proposed' GROUP BY e.id"
            ") p ON p.image_id = i.id WHERE i.missing = 0 AND i.state != 'reviewed' GROUP BY i.id")
        out = [(image_from(r[:-1]), float(r[-1])) for r in rows]
        out.sort(key=lambda item: (item[1], natural_path_key(item[0].path)))
        return out
