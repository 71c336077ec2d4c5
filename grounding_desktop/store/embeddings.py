"""What the model learned from the boxes (``store.embeddings``, learned concepts): one embedding
per box and model, with the bbox it was made for, so a reopened project needs no image work."""
from __future__ import annotations

import sqlite3
from typing import Iterable, Optional, Sequence

from .project_file import Part


class BoxEmbeddings(Part):
    """``store.embeddings``: the box_embeddings table."""

    def read(self, model: str, box_ids: Optional[Iterable[int]] = None
             ) -> dict[int, tuple[tuple[float, float, float, float], bytes]]:
        """Box id -> (the bbox it was made for, vector bytes) of the embeddings made by ``model``
        (of ``box_ids`` only, if given)."""
        sql = "SELECT box_id, x, y, w, h, vector FROM box_embeddings WHERE model=?"
        args: list = [model]
        if box_ids is not None:
            ids = [int(i) for i in box_ids]
            sql += f" AND box_id IN ({','.join('?' * len(ids))})"
            args += ids
        return {r[0]: ((r[1], r[2], r[3], r[4]), bytes(r[5])) for r in self._file.read(sql, args)}

    def write(self, model: str, rows: Iterable[tuple[int, Sequence[float], bytes]]) -> None:
        """Keep ``(box id, bbox, vector)`` rows made by ``model``, in one transaction. A box deleted
        meanwhile (an undo on another thread) is skipped: its vector has nothing to describe."""
        values = [(box_id, model, *(float(v) for v in bbox), sqlite3.Binary(vector))
                  for box_id, bbox, vector in rows]
        if not values:
            return
        with self._file.transaction() as c:
            c.executemany("INSERT OR REPLACE INTO box_embeddings(box_id, model, x, y, w, h, vector) "
                          "SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM boxes WHERE id=?)",
                          [v + (v[0],) for v in values])
