"""``folder.engine.Engine`` on the app's model process: the feature pass and propose-for-every-image
run a batch at a time as jobs there (``ModelProcess.features``, ``ModelProcess.propose_images``),
and the caller, in the app's process, writes each batch as it comes (``folder.feature_pass``,
``folder.propose``). ``model`` is a ``ModelProcess`` or the window's ``GrounderHost``."""
from __future__ import annotations

from typing import Iterator, Protocol, Sequence

from ..folder.engine import FeatureResult, ProposeResult


class BatchModel(Protocol):
    def features(self, items: Sequence[tuple[str, str]]) -> list[FeatureResult]: ...

    def propose_images(self, items: Sequence[tuple[str, str, bytes]], phrases: Sequence[str],
                       min_score: float) -> list[ProposeResult]: ...


class ProcessEngine:
    def __init__(self, model: BatchModel, features_version: str) -> None:
        self._model = model
        self.features_version = features_version  # the process's model's (``ModelInfo``)

    def features(self, items: Sequence[tuple[str, str]], batch_size: int) -> Iterator[list[FeatureResult]]:
        for start in range(0, len(items), batch_size):
            yield self._model.features(items[start:start + batch_size])

    def propose(self, items: Sequence[tuple[str, str, bytes]], phrases: Sequence[str], min_score: float,
                batch_size: int) -> Iterator[list[ProposeResult]]:
        for start in range(0, len(items), batch_size):
            yield self._model.propose_images(items[start:start + batch_size], phrases, min_score)

    def close(self) -> None:
        pass  # the process is the window's (or the caller's) to end
