"""The open project's prepared images, searchable in the model process (``ModelProcess.search``).

The model process has no database: the app reads the features kept beside the project and sends
them (``messages.IndexFeatures``), then each batch the feature pass writes, so images not prepared
when the project opened are searched as the pass reaches them. Records arrive on the process's main
loop, which only files them (a search may be running); a search folds in what arrived since the
last one (``ImageIndex`` grows by parts) and lets go of their bytes. The index belongs to the model
it was made with: loading a model clears it (``serve``), and the app sends the new model's records.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Sequence

from ..core import Proposal
from ..io.errors import Cancelled

if TYPE_CHECKING:
    from ..grounding.image_search import IndexedGrounder

# (content hash, image path, feature record): what the app sends of one prepared image.
IndexRow = tuple[str, str, bytes]


class FolderIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()    # guards the fields below (the main loop adds, a job searches)
        self._pending: list[IndexRow] = []  # records sent since the last search
        self._index = None                  # grounding.image_search.ImageIndex of the records before them
        self._searching = threading.Lock()  # one search at a time

    def add(self, rows: Sequence[IndexRow], clear: bool = False) -> None:
        """File ``rows`` (after dropping every record there, with ``clear``)."""
        with self._lock:
            if clear:
                self._pending, self._index = [], None
            self._pending.extend(rows)

    def search(self, grounder: IndexedGrounder, phrase: str, top: int, cancelled: Callable[[], bool]
               ) -> list[tuple[str, Proposal]]:
        """The ``top`` content hashes whose image matches ``phrase`` best, each with its best
        proposal, best first (``ImageIndex.search``). Raises ``Cancelled`` when ``cancelled()``
        said so meanwhile, ``core.PhraseError`` for an unusable phrase."""
        from ..grounding.features import FeaturesFormatError, ImageFeatures
        from ..grounding.image_search import ImageIndex

        with self._searching:
            with self._lock:
                if self._index is None:
                    self._index = ImageIndex(grounder)
                index, new, self._pending = self._index, self._pending, []
            for key, path, data in new:
                try:
                    index.add(key, ImageFeatures.from_bytes(data), path)
                except FeaturesFormatError:
                    continue  # a record of another format: that image is prepared again by the pass
            matches = index.search(phrase, top, cancelled)
            if cancelled():
                raise Cancelled("search cancelled")
            return [(m.key, m.proposal) for m in matches]
