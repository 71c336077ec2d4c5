"""An import as two steps every format shares: a planner checks the whole file and says what to
add (nothing is written; any problem raises ``ImportFileError`` naming the file and the entry);
then the plan lands in ONE store transaction (``merge_phrases``), which also skips what the
project already has and turns a proposal into a label when the file has that box as a label."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..core import Box
from .import_files import MAX_FILE_BYTES
from .import_summary import ImportSummary
from .progress import CancelFn, ProgressFn, Ticker, gc_paused
from .store_protocol import LabelStore


@dataclass(frozen=True)
class ImportOptions:
    """How a file is imported: the values of ``importers.IMPORT_OPTIONS`` (``import_options``)."""

    as_proposals: bool = False  # the file's boxes become proposals to review, not labels
    dry_run: bool = False  # check only: the summary says what would be added
    max_bytes: int = MAX_FILE_BYTES  # the largest file read


@dataclass
class PlannedPhrase:
    image_id: int
    text: str
    boxes: list[Box] = field(default_factory=list)
    spans: tuple[tuple[int, int], ...] = ()  # the words of ``text`` naming the boxes (none: all of it)


@dataclass
class ImportPlan:
    """What an import will hand to the store: phrases in file order, images to mark reviewed, and
    the file's categories with their ids (category key -> id: a plain COCO file's) for the project
    to keep (``merge_phrases``)."""

    phrases: list[PlannedPhrase]
    reviewed: set[int]
    summary: ImportSummary
    categories: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportRequest:
    """What a format's planner gets besides the parsed file."""

    store: LabelStore
    path: str
    as_proposals: bool
    ticker: Ticker
    max_bytes: int


Planner = Callable[[ImportRequest], ImportPlan]


def finish_plan(phrases: list[PlannedPhrase], reviewed: set[int], summary: ImportSummary,
                categories: Optional[dict[str, int]] = None) -> ImportPlan:
    summary.images = len({p.image_id for p in phrases} | reviewed)
    summary.phrases = len(phrases)
    summary.no_target = sum(1 for p in phrases if not p.boxes)
    summary.boxes = sum(len(p.boxes) for p in phrases)
    return ImportPlan(phrases, reviewed, summary, categories or {})


def importer(planner: Planner, what: str) -> Callable[..., ImportSummary]:
    """The public import function of a format: ``(store, path, options, progress, cancelled) ->
    ImportSummary``, running ``planner`` through :func:`run_import`."""

    def import_file(store: LabelStore, path: os.PathLike | str, options: ImportOptions = ImportOptions(),
                    progress: Optional[ProgressFn] = None, cancelled: Optional[CancelFn] = None) -> ImportSummary:
        return run_import(store, path, planner, options, progress, cancelled)

    import_file.__doc__ = f"Check the {what} ``path`` against the project of ``store`` and add it in one transaction."
    return import_file


def run_import(store: LabelStore, path: os.PathLike | str, planner: Planner, options: ImportOptions = ImportOptions(),
               progress: Optional[ProgressFn] = None, cancelled: Optional[CancelFn] = None) -> ImportSummary:
    """Plan the import of ``path`` with ``planner`` (all checks; nothing written), then hand it to
    the store in one transaction. Raises :class:`ImportFileError` or :class:`Cancelled`, in both
    cases with nothing written. With ``options.dry_run`` the summary says what would be added."""
    ticker = Ticker(progress, cancelled, 1, what="import")
    ticker.check()
    with gc_paused():
        plan = planner(ImportRequest(store, str(path), options.as_proposals, ticker, options.max_bytes))
    ticker.check()  # the last chance to cancel: nothing has been written
    outcome = store.imports.merge_phrases([(p.image_id, p.text, p.boxes, p.spans) for p in plan.phrases], plan.reviewed,
                                  dry_run=options.dry_run, categories=plan.categories)
    summary = plan.summary
    summary.phrases_added, summary.boxes_added = outcome.phrases_added, outcome.boxes_added
    summary.proposals_promoted, summary.duplicates = outcome.proposals_promoted, outcome.duplicates
    summary.reviewed = outcome.reviewed
    summary.applied = not options.dry_run
    ticker.finish()
    return summary
