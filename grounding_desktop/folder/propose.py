"""Propose for every image: the model's best boxes for phrases stored as proposals on each image.

Reviewed images are left alone (the user said they are done). Each batch of answers is written
in one transaction (``store.proposals.add``), which never touches a box that is there and
never stores a box the phrase has already, whatever its state: a second run adds nothing, a
rejected box is not proposed again. The app writes the same answers (``proposal_answers``) as one
undoable step (``editing.edits.ProposeBatch``, each batch joining the step).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from ..core import BoxState, ImageState, Proposal
from ..editing.edits import proposal_box
from ..store import ProjectStore
from ..store.features import FeatureStore
from .engine import Engine
from .feature_pass import PassReport, kept_features, preparable, run_feature_pass

BATCH = 64  # images per engine batch, and per write
DEFAULT_MIN_SCORE = 0.3  # proposals scoring less are not stored

# (image id, phrase, the proposals to store for it there): what one batch asks to be stored.
AnswerRow = tuple[int, str, list[Proposal]]


@dataclass(frozen=True)
class ProposeRun:
    """What a run asks: the model's best boxes for ``phrases`` (cleaned) scoring at least
    ``min_score``, ``batch_size`` images a batch; ``progress(stage, done, total)`` reports
    "preparing" then "proposing", ``cancelled()`` stops after the batch in hand."""

    phrases: Sequence[str]
    min_score: float = DEFAULT_MIN_SCORE
    progress: Optional[Callable[[str, int, int], None]] = None
    cancelled: Optional[Callable[[], bool]] = None
    batch_size: int = BATCH


@dataclass
class ProposeReport:
    features: PassReport = field(default_factory=PassReport)
    images: int = 0          # images the phrases were proposed on
    boxes_added: int = 0
    images_changed: int = 0
    skipped_reviewed: int = 0
    cancelled: bool = False


def phrase_lines(text: str) -> list[tuple[int, str]]:
    """The phrases of a phrases file, one a line: ``(line number, line)``, blank lines and lines
    starting with ``#`` skipped."""
    return [(n, line) for n, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.lstrip().startswith("#")]


def proposal_answers(store: ProjectStore, features: FeatureStore, engine: Engine, run: ProposeRun,
                     report: ProposeReport) -> Iterator[list[AnswerRow]]:
    """The answers ``run`` asks for on every image not yet reviewed, a batch of images at a time,
    for the caller to store; images are prepared first where needed. ``report`` is filled in as it
    goes (what was stored is the caller's to count)."""
    progress, cancelled = run.progress, run.cancelled
    report.features = run_feature_pass(
        store, features, engine, cancelled=cancelled,
        progress=None if progress is None else lambda done, total: progress("preparing", done, total))
    if report.features.cancelled:
        report.cancelled = True
        return
    records = preparable(store)
    report.skipped_reviewed = sum(r.state == ImageState.REVIEWED for r in records)
    records = [r for r in records if r.state != ImageState.REVIEWED]
    kept = kept_features(features, engine.features_version, records)
    items = [(str(r.id), str(Path(store.root) / r.path), kept[r.content_hash])
             for r in records if r.content_hash in kept]
    report.images = len(items)
    done = 0
    results = engine.propose(items, list(run.phrases), run.min_score, run.batch_size)
    try:
        for batch in results:
            yield [(int(key), phrase, found) for key, answers in batch for phrase, found in answers if found]
            done += len(batch)
            if progress is not None:
                progress("proposing", done, len(items))
            if cancelled is not None and cancelled():
                report.cancelled = done < len(items)
                break
    finally:
        results.close()


def propose_folder(store: ProjectStore, features: FeatureStore, engine: Engine, run: ProposeRun) -> ProposeReport:
    """``proposal_answers`` stored as they come, each batch in one transaction."""
    report = ProposeReport()
    for rows in proposal_answers(store, features, engine, run, report):
        added = store.proposals.add((image_id, phrase, [proposal_box(p, BoxState.PROPOSED) for p in found])
                                    for image_id, phrase, found in rows)
        report.boxes_added += added.box_count
        report.images_changed += len(added.image_ids)
    return report
