"""What io needs from the project store, as a typed protocol: ``io`` imports ``core`` only, so it
names the methods it calls instead of importing ``store.ProjectStore`` (which satisfies it)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Protocol, Sequence

from ..core import Box, Expression, ImageRecord


class ImportOutcome(Protocol):
    """What :meth:`LabelStore.merge_phrases` did (or, in a dry run, would do)."""

    phrases_added: int
    boxes_added: int
    proposals_promoted: int
    duplicates: int
    reviewed: int


class LabelStore(Protocol):
    root: Path
    db_path: Path

    def images(self, state=None, include_missing: bool = False) -> list[ImageRecord]: ...

    def all_annotations(self, progress: Optional[Callable[[int], None]] = None
                        ) -> dict[int, list[tuple[Expression, list[Box]]]]: ...

    def counts(self) -> dict[str, int]: ...

    def category_ids(self, names: Iterable[str]) -> dict[str, int]: ...

    def merge_phrases(self, items: Iterable[tuple[int, str, Sequence[Box], Sequence[Sequence[int]]]],
                      reviewed: Iterable[int] = (), dry_run: bool = False,
                      categories: Optional[Mapping[str, int]] = None) -> ImportOutcome: ...
