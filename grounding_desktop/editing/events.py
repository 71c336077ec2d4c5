"""A Qt-free signal: the document model emits these and the Qt views subscribe (napari's evented
models work the same way), so the editing rules run and are tested without Qt."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator


class Signal:
    """``connect(slot)``, ``disconnect(slot)``, ``emit(*args)``: slots run at once, in order."""

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> None:
        self._slots.append(slot)

    def disconnect(self, slot: Callable[..., Any]) -> None:
        self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)


class Batch:
    """Coalesces argument-less signals: inside ``with batch():`` each ``notify(signal)`` is held
    and every held signal is emitted once when the outermost block ends (in first-notified order).
    One user action that changes the annotations, the proposals and the selection then makes each
    view update once."""

    def __init__(self) -> None:
        self._depth = 0
        self._held: dict[int, Signal] = {}

    def notify(self, signal: Signal) -> None:
        if self._depth:
            self._held.setdefault(id(signal), signal)
        else:
            signal.emit()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth:
                held, self._held = self._held, {}
                for signal in held.values():
                    signal.emit()
