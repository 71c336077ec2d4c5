"""A small deterministic grounder for GUI tests and benchmarks: no torch, instant, predictable.

Five candidate boxes at fixed fractions of the image; the phrase picks their order (so different
phrases give different answers), a hint point moves the box holding it to the front, and a plural
phrase (``grounding.phrase_parse``'s rule, as the real model) returns all of them. ``delay`` simulates model time (sleeping releases the GIL like torch
does); ``burn`` simulates Python-heavy scoring that holds the GIL.
"""
from __future__ import annotations

import threading
import time
from typing import Optional

from grounding_desktop.core import Proposal, clean_phrase
from grounding_desktop.grounding.phrase_parse import parse_phrase
from grounding_desktop.io.images import read_header

FRACTIONS = ((0.10, 0.10, 0.30, 0.40), (0.50, 0.20, 0.35, 0.50), (0.05, 0.60, 0.40, 0.30),
             (0.60, 0.65, 0.30, 0.30), (0.30, 0.30, 0.25, 0.25))
SCORES = (0.9, 0.75, 0.6, 0.45, 0.3)
LABELS = ("cup", "spoon", "table", "plate", "person")  # what the detector "sees" in each region


class FakeGrounder:
    device = "fake"
    runtime = "fake"
    model_version = "fake-1"

    def __init__(self, device: Optional[str] = None, delay: float = 0.0, burn: float = 0.0,
                 load_delay: float = 0.0):
        if load_delay:
            time.sleep(load_delay)
        self.delay = delay
        self.burn = burn
        self._sizes: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self.calls: list[tuple[str, str, Optional[tuple[float, float]]]] = []
        self.prepared: list[str] = []

    def prepare(self, image, key: Optional[str] = None) -> str:
        k = str(key if key is not None else image)
        with self._lock:
            if k in self._sizes:
                return k
        size = read_header(image)
        with self._lock:
            self._sizes[k] = size
            self.prepared.append(k)
        return k

    def load(self) -> "FakeGrounder":
        return self

    def expected(self, size: tuple[int, int], phrase: str, hint=None, top_k: int = 5) -> list[Proposal]:
        """The answer for an image of ``size`` (tests compare against it)."""
        text = clean_phrase(phrase)
        w, h = size
        shift = sum(map(ord, text)) % len(FRACTIONS)
        order = [(i + shift) % len(FRACTIONS) for i in range(len(FRACTIONS))]
        regions = [(tuple(round(v, 2) for v in (fx * w, fy * h, fw * w, fh * h)), LABELS[i])
                   for i, (fx, fy, fw, fh) in ((i, FRACTIONS[i]) for i in order)]
        if hint is not None:
            hx, hy = hint
            holding = [r for r in regions if r[0][0] <= hx <= r[0][0] + r[0][2] and r[0][1] <= hy <= r[0][1] + r[0][3]]
            if holding:
                best = min(holding, key=lambda r: r[0][2] * r[0][3])
                regions.remove(best)
                regions.insert(0, best)
        n = len(regions) if parse_phrase(text).plural else min(top_k, len(regions))
        return [Proposal(bbox=b, score=SCORES[i], label=label,
                         explanation=f"fake: rank {i + 1} for '{text}'", modules={"subject": SCORES[i]},
                         model_version=self.model_version) for i, (b, label) in enumerate(regions[:n])]

    def propose(self, image_or_key, phrase: str, hint=None, top_k: int = 5) -> list[Proposal]:
        key = self.prepare(image_or_key)
        with self._lock:
            self.calls.append((key, phrase, hint))
            size = self._sizes[key]
        if self.delay:
            time.sleep(self.delay)
        if self.burn:
            end = time.perf_counter() + self.burn
            while time.perf_counter() < end:  # pure-Python work holds the GIL between switches
                sum(range(200))
        return self.expected(size, phrase, hint, top_k)


class FailingGrounder:
    def __init__(self, device: Optional[str] = None):
        raise RuntimeError("weights not found: the detector package is not installed")


def slow_grounder(device: Optional[str] = None) -> FakeGrounder:
    """A model that takes an hour to load (``--grounder fakes:slow_grounder``)."""
    time.sleep(3600)
    return FakeGrounder(device)
