"""How the window starts its model (``MainWindow(store, ModelStart(...))``): which grounder, on
which device, and whether and when it loads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..core import GrounderFactory
from ..grounder_factory import loaded_grounder

# The model starts loading as soon as the event loop runs, beside the first image's decode. (Waiting
# for the first paint instead measured the same first-paint time and a later model; see
# benchmarks/gui_responsiveness.py.)
MODEL_START_DELAY_MS = 0


@dataclass(frozen=True)
class ModelStart:
    """``factory`` builds the grounder in the model process on ``device`` (tests pass a small
    deterministic one: it must pickle, ``grounder_factory``'s docstring); with ``load`` it starts
    loading ``delay_ms`` after the event loop runs (else only when asked: ``start_model``)."""

    factory: GrounderFactory = loaded_grounder
    device: Optional[str] = None
    load: bool = True
    delay_ms: int = MODEL_START_DELAY_MS
