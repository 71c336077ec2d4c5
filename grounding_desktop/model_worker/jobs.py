"""Long work the model process runs on its job thread, beside the proposals, with progress and
cancel: one typed request each (``EvaluateJob``, ``SearchJob``, ``FeaturesJob``,
``ProposeImagesJob``), which ``run(model, progress, cancelled)`` returns the result of. A request
holds what the app read from the project; the result goes back to it, which writes what is kept
(the project database and the features file have one writer). The app builds them only through
``client.ModelProcess``'s typed methods; the window never names one (an import-linter contract).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

from ..core import Proposal
from ..core.grounder import FolderGrounder, Grounder, LearningGrounder
from ..evaluation import EvaluationPlan, Outcome, run_plan
from ..folder.engine import FeatureResult, ProposeResult, feature_results, propose_results
from .folder_index import FolderIndex, IndexRow

Progress = Callable[[int, int], None]
IsCancelled = Callable[[], bool]


class ModelCannot(RuntimeError):
    """The loaded model lacks what a job needs (a stand-in model that does not learn)."""


@dataclass(frozen=True)
class JobModel:
    """What a job may use of the process: the loaded model as each use sees it (None where it
    cannot: decided once, when it loads), the open project's searchable images, and
    ``wait_turn(cancelled)``, which returns once nothing the user waits for (proposals, the image
    shown) is queued, or raises ``Cancelled``."""

    grounder: Grounder
    folder: Optional[FolderGrounder]
    learning: Optional[LearningGrounder]
    index: FolderIndex
    wait_turn: Callable[[IsCancelled], None]

    def folder_work(self) -> FolderGrounder:
        if self.folder is None:
            raise ModelCannot("this model does no folder work (feature records, search)")
        return self.folder

    def learner(self) -> LearningGrounder:
        if self.learning is None:
            raise ModelCannot("this model does not learn from boxes")
        return self.learning


@dataclass(frozen=True)
class EvaluateJob:
    """``evaluation.run_plan``: the plan's lessons taught, every phrase grounded held out."""

    plan: EvaluationPlan

    def run(self, model: JobModel, progress: Progress, cancelled: IsCancelled) -> Outcome:
        return run_plan(model.learner(), self.plan, progress, cancelled)


@dataclass(frozen=True)
class SearchJob:
    """The ``top`` searchable images (by content hash) that match ``phrase`` best, each with its
    best proposal, best first."""

    phrase: str
    top: int

    def run(self, model: JobModel, _progress: Progress, cancelled: IsCancelled) -> list[tuple[str, Proposal]]:
        return model.index.search(model.folder_work(), self.phrase, self.top, cancelled)


@dataclass(frozen=True)
class FeaturesJob:
    """A batch of the feature pass: the records of (content hash, image path) items. It waits for
    its turn before each network batch: the image the user looks at comes first."""

    items: tuple[tuple[str, str], ...]

    def run(self, model: JobModel, _progress: Progress, cancelled: IsCancelled) -> list[FeatureResult]:
        return feature_results(model.folder_work(), self.items, pause=lambda: model.wait_turn(cancelled))


@dataclass(frozen=True)
class ProposeImagesJob:
    """A batch of propose-for-every-image: each phrase's best boxes scoring at least ``min_score``
    on (key, image path, features record) items."""

    items: tuple[IndexRow, ...]
    phrases: tuple[str, ...]
    min_score: float

    def run(self, model: JobModel, _progress: Progress, _cancelled: IsCancelled) -> list[ProposeResult]:
        return propose_results(model.folder_work(), self.items, self.phrases, self.min_score)


Job = Union[EvaluateJob, SearchJob, FeaturesJob, ProposeImagesJob]
