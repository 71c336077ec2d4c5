"""Long work the model process runs on a thread of its own, beside the proposals, with progress
and cancel: ``JOBS[name](context, payload, progress, cancelled) -> result``. The payload is what
the app read from the project; the result goes back to it, which writes what is kept (the project
database and the features file have one writer)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..evaluation import run_plan
from ..folder.engine import feature_results, propose_results
from .folder_index import FolderIndex

EVALUATE = "evaluate"               # evaluation.EvaluationPlan -> evaluation.Outcome
FEATURES = "features"               # a batch of (key, image path) -> [folder.engine.FeatureResult]
PROPOSE_IMAGES = "propose images"   # ([(key, path, record)], phrases, min_score) -> [folder.engine.ProposeResult]
SEARCH = "search"                   # (phrase, top) -> [(content hash, core.Proposal)], best first


@dataclass(frozen=True)
class JobContext:
    """What a job may use of the process: the model, the open project's searchable images, and
    ``wait_turn(cancelled)``, which returns once nothing the user waits for (proposals, the image
    shown) is queued, or raises ``Cancelled``."""

    grounder: Any
    index: FolderIndex
    wait_turn: Callable[[Callable[[], bool]], None]


JOBS: dict[str, Callable[..., Any]] = {
    EVALUATE: lambda job, plan, progress, cancelled: run_plan(job.grounder, plan, progress, cancelled),
    # The feature pass yields to proposals before each detector batch: the image the user looks at
    # comes first.
    FEATURES: lambda job, items, _progress, cancelled: feature_results(
        job.grounder, items, pause=lambda: job.wait_turn(cancelled)),
    PROPOSE_IMAGES: lambda job, work, _progress, _cancelled: propose_results(job.grounder, *work),
    SEARCH: lambda job, query, _progress, cancelled: job.index.search(job.grounder, *query, cancelled),
}
