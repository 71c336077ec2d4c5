"""What the app and the CLI need of a grounding model, as ``typing.Protocol``s split by use.

- ``Grounder``: the interactive model (load it, prepare an image, propose boxes for a phrase), what
  every model offers, a stand-in included.
- ``FolderGrounder``: whole folders (the feature pass, search and propose over kept feature
  records).
- ``LearningGrounder``: learns from the user's boxes (concepts), forgets them, evaluates with an
  image's own boxes left out, and has its fused scorer fitted again on a project's boxes.

``grounding.grounder.Grounder`` (the CNN model) is all three (``tests/unit/test_grounder_protocols.py``
checks it). A stand-in a developer passes with ``--grounder MODULE:CALLABLE`` (the tests'
deterministic fake, ``tests/gui/fakes.py``) is a ``Grounder`` and may be a ``FolderGrounder``; what
it is, is asked once, with ``isinstance`` (the two capabilities are ``runtime_checkable``), where
the model is loaded (``model_worker.serve``). Living in ``core``, they let every layer name the
model's interface without importing torch; records only the model reads (its feature records,
prepared images, learned examples) are named here by what a caller does with them.
"""
from __future__ import annotations

import os
from typing import Callable, Optional, Protocol, Sequence, Union, runtime_checkable

from .geometry import XYWH
from .phrase_parse import ParsedPhrase
from .proposal import Proposal

ImageSource = Union[str, os.PathLike]

# What ``FolderGrounder.prepared_from`` returns and ``propose_prepared`` takes back: an image
# prepared from a kept record, opaque to callers.
PreparedEntry = object


class FeatureRecord(Protocol):
    """An image's regions as the feature pass keeps them (``grounding.features.ImageFeatures``)."""

    def to_bytes(self) -> bytes: ...


class TaughtBox(Protocol):
    """A labelled box the model learns from (``grounding.scoring.concepts.LabelledBox``)."""

    @property
    def example_id(self) -> int: ...

    @property
    def phrase(self) -> str: ...

    @property
    def bbox(self) -> XYWH: ...

    @property
    def accepted(self) -> bool: ...


class Example(Protocol):
    """A box the model embedded while learning (``grounding.scoring.concepts.ConceptExample``): what the
    project database keeps (``concepts.embedding_bytes(embedding, context)``)."""

    @property
    def example_id(self) -> int: ...

    @property
    def bbox(self) -> XYWH: ...

    @property
    def embedding(self) -> object: ...

    @property
    def context(self) -> object: ...


class PreparedImage(Protocol):
    """An image the model prepared (``grounding.grounder.PreparedImage``): its regions are in
    inference pixels, ``scale_x``/``scale_y`` original pixels each."""

    @property
    def scale_x(self) -> float: ...

    @property
    def scale_y(self) -> float: ...


class ScoredScene(Protocol):
    """The regions of a prepared image (``grounding.scoring.scorer.Scene``): ``boxes`` x1, y1, x2, y2 in
    inference pixels."""

    @property
    def boxes(self) -> object: ...

    def __len__(self) -> int: ...


class ScoredTerms(Protocol):
    """Every region's score for a phrase (``grounding.scoring.scorer.ScoreResult``) with its evidence
    terms, what ``fit_scorer`` fits the fused weights on."""

    @property
    def terms(self) -> object: ...


class Grounder(Protocol):
    """Phrase -> boxes on one device, with a per-image feature cache. Methods are thread-safe."""

    @property
    def device(self) -> str:
        """The device in use ('cpu', 'cuda', 'cuda:N', 'mps')."""
        ...

    @property
    def runtime(self) -> str:
        """What runs the detector's network ('torch 2.x cpu', 'onnxruntime 1.x CUDA'); may load it."""
        ...

    @property
    def model_version(self) -> str:
        """Stored with every box the model proposed, so labels say which model made them."""
        ...

    def load(self) -> object:
        """Load every model now (the GUI calls it on a worker thread, not on the first keystroke)."""
        ...

    def prepare(self, image: ImageSource, key: Optional[str] = None) -> str:
        """Run the CNN on ``image`` unless cached; returns the cache key."""
        ...

    def propose(self, image_or_key: ImageSource, phrase: str,
                hint: Optional[tuple[float, float]] = None, top_k: int = 5) -> Sequence[Proposal]:
        """Boxes for ``phrase``, best first, in original image pixels."""
        ...


@runtime_checkable
class FolderGrounder(Grounder, Protocol):
    """Whole folders: feature records made a batch at a time, and proposals scored on them without
    the image (``folder``, search in ``grounding.image_search``)."""

    @property
    def features_version(self) -> str:
        """Names what makes the records (detector, settings, format): kept ones of another are stale."""
        ...

    def compute_features(self, images: Sequence[ImageSource], pause: Optional[Callable[[], None]] = None
                         ) -> Sequence[Union[FeatureRecord, Exception]]:
        """Each image's record, or the error that kept it out; ``pause()`` before each network batch."""
        ...

    def prepared_from(self, key: str, features: FeatureRecord, image: Optional[ImageSource] = None
                      ) -> PreparedEntry:
        """The image ``key`` prepared from its kept record (its pixels read only if needed)."""
        ...

    def propose_prepared(self, entry: PreparedEntry, phrase: str, hint: Optional[tuple[float, float]] = None,
                         top_k: int = 5, folder: bool = False) -> Sequence[Proposal]:
        """``propose`` on a prepared entry; ``folder``: asked of every picture of a folder, where
        the thing may not be (scored with the calibration for that)."""
        ...

    def bounded_subject(self, phrase: str) -> tuple[bool, object, object]:
        """(whether the phrase's score is bounded from the kept records, the learned concept whose
        head adds evidence or None, the ImageNet kinds that add theirs or None): how search orders
        its work."""
        ...


@runtime_checkable
class LearningGrounder(Grounder, Protocol):
    """Learns from the user's boxes (``project_concepts``), is judged on them (``evaluation``), and
    fuses its evidence with weights a project's boxes may fit again (``fit_scorer``)."""

    @property
    def embedding_model(self) -> str:
        """What made the embeddings ``learn`` returns (stored with them)."""
        ...

    def propose(self, image_or_key: ImageSource, phrase: str, hint: Optional[tuple[float, float]] = None,
                top_k: int = 5, held_out: bool = False) -> Sequence[Proposal]:
        """``Grounder.propose``; ``held_out``: learned concepts leave the image's own boxes out."""
        ...

    def prepare_features(self, image: ImageSource, key: Optional[str] = None) -> str:
        """``prepare`` plus what learning from a box on the image needs (done while it is shown)."""
        ...

    def learn(self, image: ImageSource, boxes: Sequence[TaughtBox],
              size: Optional[tuple[int, int]] = None) -> Sequence[Example]:
        """Make ``boxes`` the image's labelled boxes; returns the ones it had to embed now."""
        ...

    def forget_concepts(self) -> None:
        """Forget every box it learned from."""
        ...

    def prepared(self, key: str) -> Optional[PreparedImage]:
        """The cached prepared image ``key``, if any."""
        ...

    def scored(self, entry: PreparedImage, parsed: ParsedPhrase, hint: Optional[tuple[float, float]] = None,
               held_out: bool = False) -> tuple[ScoredScene, ScoredTerms]:
        """Every region of a prepared image scored for a parsed phrase, with its evidence terms."""
        ...

    def set_fused(self, fused: Optional[object]) -> None:
        """Fuse the evidence with these weights (``priors.FusedWeights``) from now on; None: the shipped fit."""
        ...


# factory(device) builds a Grounder for a device name (None: the best available) and may take
# seconds (it loads torch); a project that chose a detector (Grounding → Model…) makes the GUI call
# factory(device, detector=DetectorChoice) instead.
GrounderFactory = Callable[..., Grounder]
