"""The model process's to-do list: what it was asked and has not done yet, in the order it does it.

The model is the bottleneck, so the process's main loop does one request at a time (jobs run on
the job thread beside it, ``serve``) and reads every request that arrived meanwhile before it picks
the next: a proposal request supersedes any older one still
queued (typing fast asks once per pause, not once per key), an image the user moved away from is
not prepared any more, and lessons of a project's older epoch are dropped. Priorities: a new model
first, then lessons of an edit (the next proposal uses them), proposals, the image shown, then
prefetches and the slow part of a project's lessons, and the second CNN's maps only when idle.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Optional, Union

from .messages import Cancel, Learn, Load, Prepare, Propose

LOAD, URGENT, PROPOSE, PREPARE, LATER, IDLE = 30, 20, 10, 5, 0, -5


@dataclass(frozen=True)
class Features:
    """The second CNN's maps of a prepared image, so learning from a box on it costs no CNN pass
    (queued by the process itself once the image is prepared)."""

    path: str


Work = Union[Load, Prepare, Propose, Learn, Features]


class WorkQueue:
    def __init__(self) -> None:
        self._items: list[tuple[int, int, Work]] = []  # (priority, arrival, work)
        self._arrival = itertools.count()
        self.wanted: set[str] = set()  # images worth preparing: the one shown and the prefetched
        self.stale_rid = 0             # proposal requests up to this one are stale
        self.epoch = 0                 # the newest project lessons; older ones are dropped

    def __len__(self) -> int:
        return len(self._items)

    def put(self, work: Union[Work, Cancel]) -> None:
        if isinstance(work, Load):
            self._items.clear()
            self.wanted.clear()
            self._add(LOAD, work)
        elif isinstance(work, Propose):
            if work.rid > self.stale_rid:
                self._drop(lambda w: isinstance(w, Propose))
                self._add(PROPOSE, work)
        elif isinstance(work, Cancel):
            self.stale_rid = max(self.stale_rid, work.rid)
            self._drop(lambda w: isinstance(w, Propose) and w.rid <= work.rid)
        elif isinstance(work, Prepare):
            self._put_prepare(work)
        elif isinstance(work, Features):
            if work.path in self.wanted and not self._queued(work):
                self._add(IDLE, work)
        elif isinstance(work, Learn):
            if work.epoch >= self.epoch:
                if work.clear:
                    self.epoch = work.epoch
                    self._drop(lambda w: isinstance(w, Learn) and w.epoch < work.epoch)
                self._add(URGENT if work.urgent else LATER, work)
        else:
            raise TypeError(f"not a request: {work!r}")

    def _put_prepare(self, work: Prepare) -> None:
        if work.prefetch:
            self.wanted.add(work.path)
        else:
            self.wanted = {work.path}
            self._drop(lambda w: isinstance(w, (Prepare, Features)) and w.path not in self.wanted)
            self._drop(lambda w: w == Prepare(work.path, prefetch=True))  # now wanted sooner
        if not self._queued(work):
            self._add(LATER if work.prefetch else PREPARE, work)

    def pressing(self) -> bool:
        """Whether something the user waits for is queued: a model to load, an edit's lessons, a
        proposal, the image shown or the next one (jobs such as the feature pass wait for it)."""
        return any(priority >= PREPARE or isinstance(work, Prepare) for priority, _, work in self._items)

    def pop(self) -> Optional[Work]:
        """The next thing to do (highest priority, first come first), or None."""
        if not self._items:
            return None
        best = max(self._items, key=lambda item: (item[0], -item[1]))
        self._items.remove(best)
        return best[2]

    def _add(self, priority: int, work: Work) -> None:
        self._items.append((priority, next(self._arrival), work))

    def _drop(self, condition) -> None:
        self._items = [item for item in self._items if not condition(item[2])]

    def _queued(self, work: Work) -> bool:
        return any(isinstance(w, type(work)) and w.path == work.path for _, _, w in self._items)
