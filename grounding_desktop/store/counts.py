"""How many images, phrases and boxes a project has, by state (``info``, the size of an export)."""
from __future__ import annotations

from ..core import BoxState, ImageState
from .project_file import ProjectFile


class Counts(ProjectFile):
    """The ``ProjectStore`` method of the project's summary."""

    def counts(self) -> dict[str, int]:
        def one(sql: str) -> int:
            return self._query(sql)[0][0]

        out = {
            "images": one("SELECT COUNT(*) FROM images WHERE missing=0"),
            "unreadable": one("SELECT COUNT(*) FROM images WHERE missing=0 AND error IS NOT NULL"),
            "missing": one("SELECT COUNT(*) FROM images WHERE missing=1"),
            "flagged": one("SELECT COUNT(*) FROM images WHERE missing=0 AND review_reason IS NOT NULL"),
            "phrases": one("SELECT COUNT(*) FROM expressions"),
            "boxes": one("SELECT COUNT(*) FROM boxes"),
        }
        for s in ImageState:
            out[f"images_{s.value}"] = 0
        for state, n in self._query("SELECT state, COUNT(*) FROM images WHERE missing=0 GROUP BY state"):
            out[f"images_{state}"] = n
        for s in BoxState:
            out[f"boxes_{s.value}"] = 0
        for state, n in self._query("SELECT state, COUNT(*) FROM boxes GROUP BY state"):
            out[f"boxes_{state}"] = n
        return out
