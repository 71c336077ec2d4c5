"""A small deterministic grounder for GUI tests and benchmarks: no torch, instant, predictable.
It runs in the app's model process like the real one (the window is given ``FakeGrounder``, or a
``functools.partial`` of it, as its factory); tests compute what it answers with ``expected``.

Five candidate boxes at fixed fractions of the image; the phrase picks their order (so different
phrases give different answers), a hint point moves the box holding it to the front, and a plural
phrase (``core.phrase_parse``'s rule, as the real model) returns all of them. ``delay`` simulates model time (sleeping releases the GIL like torch
does); ``burn`` simulates Python-heavy scoring that holds the GIL; ``prepared_delay`` is the model time of scoring a kept record
(``propose_prepared``: a slow search).

It is a ``core.grounder.FolderGrounder``, not a ``LearningGrounder``: it learns nothing from boxes.
It runs a folder's feature pass (``compute_features``: a real ``ImageFeatures`` record of the
five regions and the image's colour; ``feature_delay`` seconds an image) and scores kept records
(``propose_prepared``: search and propose for every image) as ``expected`` does, every score
scaled by ``colour_fit``: how much of the image's colour a colour word of the phrase names, so
"the red square" ranks a red picture first.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional

import numpy as np

from grounding_desktop.core import ImageReadError, Proposal, clean_phrase
from grounding_desktop.grounding.features import ImageFeatures
from grounding_desktop.core.phrase_parse import parse_phrase
from grounding_desktop.io.images import load_image, read_header

FRACTIONS = ((0.10, 0.10, 0.30, 0.40), (0.50, 0.20, 0.35, 0.50), (0.05, 0.60, 0.40, 0.30),
             (0.60, 0.65, 0.30, 0.30), (0.30, 0.30, 0.25, 0.25))
SCORES = (0.9, 0.75, 0.6, 0.45, 0.3)
LABELS = ("cup", "spoon", "table", "plate", "person")  # what the detector "sees" in each region
MODEL_PID_ENV = "GROUNDING_TEST_MODEL_PID"


def expected(size: tuple[int, int], phrase: str, hint=None, top_k: int = 5) -> list[Proposal]:
    """What the fake answers for an image of ``size``."""
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
                     model_version=FakeGrounder.model_version) for i, (b, label) in enumerate(regions[:n])]


RGB_WORDS = ("red", "green", "blue")


def colour_fit(rgb_share, phrase: str) -> float:
    """How well a phrase's colour words (red, green, blue) fit an image's share of each channel:
    1 for a phrase without one."""
    words = [w for w in RGB_WORDS if w in parse_phrase(clean_phrase(phrase)).subject.colours]
    return float(np.mean([rgb_share[RGB_WORDS.index(w)] for w in words])) if words else 1.0


def image_features(path) -> ImageFeatures:
    """The fake's record of an image: its size, the five regions, and its colour (as shares of red,
    green and blue in every region's colour columns)."""
    w, h = read_header(path)
    rgb = np.asarray(load_image(path, max_side=64), np.float64).reshape(-1, 3).mean(0)
    share = (rgb / max(rgb.sum(), 1e-9)).astype(np.float16)
    boxes = np.array([(fx * w, fy * h, (fx + fw) * w, (fy + fh) * h) for fx, fy, fw, fh in FRACTIONS], np.float32)
    n = len(FRACTIONS)
    return ImageFeatures(w, h, w, h, boxes, np.arange(n, dtype=np.int16), np.array(SCORES, np.float16),
                         np.ones(n, np.float16), np.full(n, 0.5, np.float16), np.ones((n, 1), np.float16),
                         np.tile(share, (n, 1)))


class FakeGrounder:
    device = "fake"
    model_version = "fake-1"
    features_version = "fake-features-1"

    def __init__(self, device: Optional[str] = None, detector=None, delay: float = 0.0, burn: float = 0.0,
                 load_delay: float = 0.0, feature_delay: float = 0.0, prepared_delay: float = 0.0,
                 scores: Optional[tuple] = None):
        if load_delay:
            time.sleep(load_delay)
        # Says which detector the project chose, as the real model's runtime does.
        self.runtime = "fake" if detector is None else f"fake ({detector.describe()})"
        self.delay = delay
        self.burn = burn
        self.feature_delay = feature_delay
        self.prepared_delay = prepared_delay
        self.scores = scores  # instead of SCORES (``propose``)
        self._sizes: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def prepare(self, image, key: Optional[str] = None) -> str:
        k = str(key if key is not None else image)
        with self._lock:
            if k in self._sizes:
                return k
        size = read_header(image)
        with self._lock:
            self._sizes[k] = size
        return k

    def load(self) -> "FakeGrounder":
        return self

    def propose(self, image_or_key, phrase: str, hint=None, top_k: int = 5) -> list[Proposal]:
        key = self.prepare(image_or_key)
        with self._lock:
            size = self._sizes[key]
        if self.delay:
            time.sleep(self.delay)
        if self.burn:
            end = time.perf_counter() + self.burn
            while time.perf_counter() < end:  # pure-Python work holds the GIL between switches
                sum(range(200))
        found = expected(size, phrase, hint, top_k)
        return [replace(p, score=s) for p, s in zip(found, self.scores)] if self.scores else found

    # -- a folder: the feature pass, search and propose for every image ------------------------------
    def compute_features(self, images, pause=None) -> list:
        out = []
        for image in images:
            if pause is not None:
                pause()
            if self.feature_delay:
                time.sleep(self.feature_delay)
            try:
                out.append(image_features(image))
            except ImageReadError as exc:
                out.append(exc)
        return out

    def bounded_subject(self, phrase: str) -> tuple:
        return False, None, None  # no bound: search scores every image

    def prepared_from(self, key: str, features: ImageFeatures, image=None) -> tuple:
        return key, features

    def propose_prepared(self, entry: tuple, phrase: str, hint=None, top_k: int = 5,
                         folder: bool = False) -> list[Proposal]:
        _, features = entry
        if self.prepared_delay:
            time.sleep(self.prepared_delay)
        fit = colour_fit(features.colour_frac[0].astype(np.float64), phrase)
        return [replace(p, score=round(p.score * fit, 4))
                for p in expected((features.width, features.height), phrase, hint, top_k)]


LESSON_CUT_SHORT = "a phrase whose lesson fails once learned"


class RefittingGrounder(FakeGrounder):
    """A fake that learns (embedding nothing) and whose version names the boxes it was taught, as
    the real model's names the fit a project's refit chose (``Grounder.model_version``)."""

    embedding_model = "fake-embeddings-1"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._taught: dict[str, int] = {}

    @property
    def model_version(self) -> str:
        n = sum(self._taught.values())
        return FakeGrounder.model_version + (f"+fit-{n}" if n else "")

    def learn(self, image, boxes, size=None) -> list:
        self._taught[str(image)] = len(boxes)
        if any(b.phrase == LESSON_CUT_SHORT for b in boxes):
            raise RuntimeError("the lesson was cut short")
        return []

    def forget_concepts(self) -> None:
        self._taught.clear()

    def prepare_features(self, image, key: Optional[str] = None) -> str:
        return self.prepare(image, key)

    def prepared(self, key: str):
        return None

    def scored(self, entry, parsed, hint=None, held_out: bool = False):
        raise NotImplementedError("a refit needs the real model")

    def set_fused(self, fused) -> None:
        pass


def noisy_at_teardown(device: Optional[str] = None, detector=None) -> FakeGrounder:
    """A model whose process says so on stderr if Python tears it down (as native threads of the
    real model do, noisily: "terminate called without an active exception"). With
    ``$GROUNDING_TEST_MODEL_PID`` set, it writes its process id to that file once loaded."""
    import atexit

    atexit.register(lambda: os.write(2, b"teardown of the model process\n"))
    if os.environ.get(MODEL_PID_ENV):
        Path(os.environ[MODEL_PID_ENV]).write_text(str(os.getpid()))
    return FakeGrounder(device, detector)


class FailingGrounder:
    def __init__(self, device: Optional[str] = None, detector=None):
        raise RuntimeError("weights not found: the detector package is not installed")


def slow_grounder(device: Optional[str] = None, detector=None) -> FakeGrounder:
    """A model that takes an hour to load (``--grounder fakes:slow_grounder``). With
    ``$GROUNDING_TEST_MODEL_PID`` set, it first writes its process id to that file."""
    if os.environ.get(MODEL_PID_ENV):
        Path(os.environ[MODEL_PID_ENV]).write_text(str(os.getpid()))
    time.sleep(3600)
    return FakeGrounder(device)


class BuggyGrounder(FakeGrounder):
    """A model with a bug: proposing and searching raise what a bug raises."""

    def propose(self, image_or_key, phrase: str, hint=None, top_k: int = 5) -> list[Proposal]:
        raise AttributeError("'NoneType' object has no attribute 'shapes'")

    def propose_prepared(self, entry: tuple, phrase: str, hint=None, top_k: int = 5,
                         folder: bool = False) -> list[Proposal]:
        raise AttributeError("'NoneType' object has no attribute 'shapes'")
