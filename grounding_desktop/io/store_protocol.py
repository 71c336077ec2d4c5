"""What io needs from the project store, as a typed protocol: ``io`` imports ``core`` only, so it
names the parts and methods it calls instead of importing ``store.ProjectStore`` (which satisfies
it)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Protocol, Sequence

from ..core import Box, Expression, ImageRecord


class ImportOutcome(Protocol):
    """What ``LabelStore.imports.merge_phrases`` did (or, in a dry run, would do)."""

    phrases_added: int
    boxes_added: int
    proposals_promoted: int
    duplicates: int
    reviewed: int


class ImageRows(Protocol):
    """``store.images`` as io reads it."""

    def all(self, state=None, include_missing: bool = False) -> list[ImageRecord]: ...


class LabelRows(Protocol):
    """``store.labels`` as an export reads it."""

    def all_annotations(self, progress: Optional[Callable[[int], None]] = None
                        ) -> dict[int, list[tuple[Expression, list[Box]]]]: ...


class CategoryIds(Protocol):
    """``store.categories``: the project's class id of each category name."""

    def ids(self, names: Iterable[str]) -> dict[str, int]: ...


class ImportMerge(Protocol):
    """``store.imports``: an import merged into the project."""

    def merge_phrases(self, items: Iterable[tuple[int, str, Sequence[Box], Sequence[Sequence[int]]]],
                      reviewed: Iterable[int] = (), dry_run: bool = False,
                      categories: Optional[Mapping[str, int]] = None) -> ImportOutcome: ...


class LabelStore(Protocol):
    """The store's parts io uses (read-only attributes, so ``ProjectStore``'s own parts satisfy them)."""

    root: Path
    db_path: Path

    @property
    def images(self) -> ImageRows: ...

    @property
    def labels(self) -> LabelRows: ...

    @property
    def categories(self) -> CategoryIds: ...

    @property
    def imports(self) -> ImportMerge: ...

    def counts(self) -> dict[str, int]: ...
