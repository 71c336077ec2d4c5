"""The feature pass: every image of a project prepared once, its features kept beside the project.

Images are keyed by content hash, so a file is prepared once however many paths show it, a
renamed one is not prepared again, and a changed one (a new hash after a rescan) is. A model
change (another ``features_version``) prepares everything again under its own key. Each batch the
engine returns is written in one transaction before the next is asked for: a pass cancelled or
killed keeps every finished batch, and the next one starts where it stopped. Images that cannot be
decoded are reported, not kept: the next pass looks at them again. Kept records the model cannot
read (damaged in the file) are dropped first and prepared again (``FeatureStore.drop`` notes it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ..core import ImageRecord
from ..store import ProjectStore
from ..store.features import FeatureStore
from .engine import Engine

BATCH = 16  # images per engine batch, and per write


@dataclass
class PassReport:
    prepared: int = 0                   # images whose features were computed now
    kept: int = 0                       # images whose features were kept already
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, why) of images not prepared
    cancelled: bool = False


def preparable(store: ProjectStore) -> list[ImageRecord]:
    """The images the model can look at (on disk, readable, hashed), in natural path order."""
    return [r for r in store.images.all() if r.readable and r.content_hash]


def kept_features(features: FeatureStore, version: str, records: list[ImageRecord]) -> dict[str, bytes]:
    """Content hash -> kept record of ``version``, for the contents of ``records``."""
    return dict(features.features(version, (r.content_hash for r in records)))


def _drop_unreadable(features: FeatureStore, version: str, hashes: set[str]) -> set[str]:
    """Drop the kept records of ``hashes`` that are no image features record (damaged: their
    header or length checked); returns their hashes."""
    from ..grounding.features import HEADER_BYTES, record_problem

    bad = {h: why for h, length, head in features.heads(version, hashes, HEADER_BYTES)
           if (why := record_problem(head, length))}
    if bad:
        features.drop(version, bad, next(iter(bad.values())))
    return set(bad)


def run_feature_pass(store: ProjectStore, features: FeatureStore, engine: Engine, *,
                     progress: Optional[Callable[[int, int], None]] = None,
                     cancelled: Optional[Callable[[], bool]] = None, batch_size: int = BATCH) -> PassReport:
    """Prepare every image of ``store`` whose features ``features`` lacks for the engine's model,
    writing each batch as it comes; ``progress(done, total)`` counts images to prepare, and
    ``cancelled()`` true stops after the batch in hand. Rows of contents the project no longer
    has are dropped at the end."""
    version = engine.features_version
    report = PassReport()
    images = preparable(store)
    known = features.known(version)
    known -= _drop_unreadable(features, version, {r.content_hash for r in images} & known)
    todo: dict[str, list[ImageRecord]] = {}  # content hash -> the images that show it
    for record in images:
        if record.content_hash in known:
            report.kept += 1
        else:
            todo.setdefault(record.content_hash, []).append(record)
    items = [(h, str(Path(store.root) / records[0].path)) for h, records in todo.items()]
    total = len(items)
    if progress is not None:
        progress(0, total)
    results = engine.features(items, batch_size)
    done = 0
    try:
        for batch in results:
            features.put(version, [(h, data) for h, data, _ in batch if data is not None])
            for h, data, error in batch:
                if data is None:  # the model's message names the file: keep the reason
                    reason = error.removeprefix(f"{dict(items)[h]}: ")
                    report.failed += [(r.path, reason) for r in todo[h]]
                else:
                    report.prepared += len(todo[h])
            done += len(batch)
            if progress is not None:
                progress(done, total)
            if cancelled is not None and cancelled():
                report.cancelled = done < total
                break
    finally:
        results.close()
    if not report.cancelled:
        features.prune(r.content_hash for r in store.images.by_path().values() if r.content_hash)
    return report
