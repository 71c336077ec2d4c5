"""Search a folder by phrase: its images ranked by how well their best region matches.

Images not prepared yet are prepared first (the feature pass, kept for next time); the ranking
itself reads only kept features (``grounding.image_search``), in this process: it takes well under
a second for 10,000 images, less than shipping them anywhere would.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from ..core import ImageRecord, Proposal
from ..store import ProjectStore
from ..store.features import FeatureStore
from .engine import Engine
from .feature_pass import PassReport, kept_features, preparable, run_feature_pass

if TYPE_CHECKING:
    from ..grounding.image_search import IndexedGrounder


@dataclass(frozen=True)
class SearchRun:
    """What a search asks: the ``top`` images best matching ``phrase``; ``progress(done, total)``
    counts the images the feature pass prepares first, ``cancelled()`` stops after the batch in hand."""

    phrase: str
    top: int
    progress: Optional[Callable[[int, int], None]] = None
    cancelled: Optional[Callable[[], bool]] = None


def search_folder(store: ProjectStore, features: FeatureStore, engine: Engine, grounder: IndexedGrounder,
                  run: SearchRun) -> tuple[list[tuple[ImageRecord, Proposal]], PassReport]:
    """The ``run.top`` images best matching ``run.phrase``, each with its best proposal, best first
    (ties in natural path order), and what the feature pass did first. ``grounder`` ranks (in this
    process, whatever the engine). Raises ``core.PhraseError`` for an unusable phrase."""
    from ..grounding.features import ImageFeatures
    from ..grounding.image_search import ImageIndex

    report = run_feature_pass(store, features, engine, progress=run.progress, cancelled=run.cancelled)
    records = preparable(store)
    kept = kept_features(features, engine.features_version, records)
    index = ImageIndex(grounder)
    by_key = {}
    for r in records:
        data = kept.get(r.content_hash)
        if data is not None:
            key = str(Path(store.root) / r.path)
            by_key[key] = r
            index.add(key, ImageFeatures.from_bytes(data))
    return [(by_key[m.key], m.proposal) for m in index.search(run.phrase, run.top, run.cancelled)], report
