"""Long work the model process runs on a thread of its own, beside the proposals, with progress
and cancel: ``JOBS[name](grounder, payload, progress, cancelled) -> result``. The payload is what
the app read from the project database; the result goes back to it (it stores what is stored).
A folder-wide pass over a project's images belongs here too, under a name of its own."""
from __future__ import annotations

from typing import Any, Callable

from ..evaluation import run_plan

EVALUATE = "evaluate"  # payload evaluation.EvaluationPlan -> evaluation.Outcome

JOBS: dict[str, Callable[..., Any]] = {EVALUATE: run_plan}
