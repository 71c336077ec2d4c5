"""What the GUI and the CLI need of a grounding model, as a ``typing.Protocol``.

``grounding.grounder.Grounder`` (the CNN model) satisfies it, and so does any stand-in a developer
passes with ``--grounder MODULE:CALLABLE`` (the tests' deterministic fake). Living in ``core``, it
lets ``ui`` and ``commands`` name the model's interface without importing torch.
"""
from __future__ import annotations

import os
from typing import Callable, Optional, Protocol, Sequence, Union

from .proposal import Proposal

ImageSource = Union[str, os.PathLike]


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


# factory(device) builds a Grounder for a device name (None: the best available) and may take
# seconds (it loads torch); a project that chose a detector (Grounding → Model…) makes the GUI call
# factory(device, detector=DetectorChoice) instead.
GrounderFactory = Callable[..., Grounder]
