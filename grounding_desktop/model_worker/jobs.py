"""Long work the model process runs on a thread of its own, beside the proposals, with progress
and cancel: ``JOBS[name](grounder, payload, progress, cancelled) -> result``. The payload is what
the app read from the project; the result goes back to it, which writes what is kept (the project
database and the features file have one writer)."""
from __future__ import annotations

from typing import Any, Callable

from ..evaluation import run_plan
from ..folder.engine import feature_results, propose_results

EVALUATE = "evaluate"               # evaluation.EvaluationPlan -> evaluation.Outcome
FEATURES = "features"               # a batch of (key, image path) -> [folder.engine.FeatureResult]
PROPOSE_IMAGES = "propose images"   # ([(key, path, record)], phrases, min_score) -> [folder.engine.ProposeResult]

JOBS: dict[str, Callable[..., Any]] = {
    EVALUATE: run_plan,
    FEATURES: lambda grounder, items, _progress, _cancelled: feature_results(grounder, items),
    PROPOSE_IMAGES: lambda grounder, job, _progress, _cancelled: propose_results(grounder, *job),
}
