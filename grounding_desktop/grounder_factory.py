"""Building the Grounder the application uses: the model (``grounding``) reading image files
through ``io`` (EXIF orientation, the decompression-bomb guard, clear errors), wired here because
the ``grounding`` layer does not import ``io``. Shared by the GUI, the CLI and the benchmarks."""
from __future__ import annotations

from typing import Any, Optional


def make_grounder(device: Optional[str] = None, **kwargs: Any):
    """A ``grounding.grounder.Grounder`` (imported here, lazily: it pulls in torch)."""
    from .grounding.grounder import Grounder
    from .io.images import decode_image

    return Grounder(device=device, image_loader=decode_image, **kwargs)
