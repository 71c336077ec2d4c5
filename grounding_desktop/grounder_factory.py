"""Building the Grounder the application uses: the model (``grounding``) reading image files
through ``io`` (EXIF orientation, the decompression-bomb guard, clear errors), wired here because
the ``grounding`` layer does not import ``io``. Shared by the GUI, the CLI and the benchmarks.

The app builds its Grounder in its model process (``model_worker``), so the factories it is given
travel there pickled: a module-level function or class, a ``functools.partial`` of one, or a
``FactoryByName`` (``--grounder MODULE:CALLABLE``).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from .core.grounder import Grounder

if TYPE_CHECKING:
    from .grounding.grounder import Grounder as Model


def make_grounder(device: Optional[str] = None, **kwargs: Any) -> "Model":
    """A ``grounding.grounder.Grounder`` (imported here, lazily: it pulls in torch): every
    protocol of ``core.grounder`` at once."""
    from .grounding.grounder import Grounder as Model
    from .io.images import decode_image

    return Model(device=device, image_loader=decode_image, **kwargs)


def loaded_grounder(device: Optional[str] = None, detector=None) -> "Model":
    """The app's model, every part loaded now rather than at the first keystroke."""
    grounder = make_grounder(device, detector=detector)
    grounder.load()
    return grounder


@dataclass(frozen=True)
class FactoryByName:
    """``MODULE:CALLABLE`` (the developer option ``--grounder``): imported where it is called, in
    the model process, so the app's own process never imports the developer's module."""

    spec: str

    def __call__(self, device: Optional[str] = None, **options: Any) -> Grounder:
        module_name, _, attr = self.spec.partition(":")
        factory = getattr(importlib.import_module(module_name), attr or "Grounder")
        return factory(device=device, **options) if device else factory(**options)
