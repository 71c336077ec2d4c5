"""``folder.engine.Engine`` on the app's model process: the feature pass and propose-for-every-image
run a batch at a time as jobs there (``jobs.FEATURES``, ``jobs.PROPOSE_IMAGES``), and the caller,
in the app's process, writes each batch as it comes (``folder.feature_pass``, ``folder.propose``).
``run_job`` is ``ModelProcess.run_job`` or the window's ``GrounderHost.run_job``."""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

from ..folder.engine import FeatureResult, ProposeResult
from .jobs import FEATURES, PROPOSE_IMAGES


class ProcessEngine:
    def __init__(self, run_job: Callable[[str, Any], Any], features_version: str) -> None:
        self._run_job = run_job
        self.features_version = features_version  # the process's model's (``ModelInfo``)

    def features(self, items: Sequence[tuple[str, str]], batch_size: int) -> Iterator[list[FeatureResult]]:
        for start in range(0, len(items), batch_size):
            yield self._run_job(FEATURES, list(items[start:start + batch_size]))

    def propose(self, items: Sequence[tuple[str, str, bytes]], phrases: Sequence[str], min_score: float,
                batch_size: int) -> Iterator[list[ProposeResult]]:
        for start in range(0, len(items), batch_size):
            yield self._run_job(PROPOSE_IMAGES, (list(items[start:start + batch_size]), list(phrases), min_score))

    def close(self) -> None:
        pass  # the process is the window's (or the caller's) to end
