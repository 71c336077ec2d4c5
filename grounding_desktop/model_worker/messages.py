"""What the app and its model process say to each other: requests one way, answers the other.

Plain picklable values (the pipe pickles them): images travel as paths, never pixels, and what the
model should learn travels as ``project_concepts.Lesson``s read from the project database in the
app, which stays its one writer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from ..core import GrounderFactory
from ..core.detector_choice import DetectorChoice
from ..editing.state import Answer, ProposalQuery
from ..project_concepts import Lesson, StoredEmbedding

if TYPE_CHECKING:
    from .jobs import Job


# -- requests ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Load:
    """Build the model (again, for another detector): ``factory(device)``, or
    ``factory(device, detector=detector)`` for a project that chose one. Drops every request
    queued before it, which were for the model it replaces."""

    generation: int
    factory: GrounderFactory
    device: Optional[str] = None
    detector: Optional[DetectorChoice] = None


@dataclass(frozen=True)
class Prepare:
    """Run the CNN on an image file now, so the first keystroke of a phrase is fast. The image
    shown replaces every image wanted before; a ``prefetch`` (the next one) joins them."""

    path: str
    prefetch: bool = False


@dataclass(frozen=True)
class Propose:
    """Proposals for a query. Request numbers only grow: a newer request makes an older one stale."""

    rid: int
    query: ProposalQuery
    top_k: int


@dataclass(frozen=True)
class Cancel:
    """Every proposal request up to ``rid`` is stale (the phrase was cleared)."""

    rid: int


@dataclass(frozen=True)
class Learn:
    """Teach the model what these images' boxes are now. ``clear``: forget everything learned
    first (a project's lessons; older epochs' lessons still queued are dropped). ``urgent``: ahead
    of proposals (an edit is used by the very next one); otherwise when nothing else waits."""

    epoch: int
    lessons: tuple[Lesson, ...]
    clear: bool = False
    urgent: bool = True


@dataclass(frozen=True)
class IndexFeatures:
    """Prepared images of the open project, for search (``folder_index.FolderIndex``): rows of
    (content hash, image path, feature record), after dropping every one sent before with
    ``clear`` (another project, or another model)."""

    rows: tuple
    clear: bool = False


@dataclass(frozen=True)
class StartJob:
    """Long work with progress and cancel, run on the job thread beside the proposals (``jobs.Job``)."""

    job_id: int
    job: "Job"


@dataclass(frozen=True)
class CancelJob:
    job_id: int


# -- answers -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelInfo:
    """What the app shows and stores about the model it talks to."""

    device: str
    runtime: str
    model_version: str
    embedding_model: str = ""  # what made the region embeddings it returns; "" if it does not learn
    features_version: str = ""  # what makes its feature records (a folder's pass); "" if it makes none

    @property
    def learns(self) -> bool:
        return bool(self.embedding_model)


@dataclass(frozen=True)
class Loaded:
    """The answer to ``Load``: ``info``, or the one-line ``error`` (a bug's traceback is in the
    model process's log)."""

    generation: int
    info: Optional[ModelInfo] = None
    error: str = ""


@dataclass(frozen=True)
class Prepared:
    path: str


@dataclass(frozen=True)
class Proposed:
    rid: int
    answer: Answer


@dataclass(frozen=True)
class Learned:
    """Region embeddings the model made while learning, for the project database, and the model's
    version after the lesson (a project's refit of the scorer changes it; "" when it did not)."""

    epoch: int
    made: tuple[StoredEmbedding, ...] = ()
    error: str = ""
    model_version: str = ""


@dataclass(frozen=True)
class JobProgress:
    job_id: int
    done: int
    total: int


@dataclass(frozen=True)
class JobDone:
    job_id: int
    result: Any = None
    error: str = ""
    cancelled: bool = False
