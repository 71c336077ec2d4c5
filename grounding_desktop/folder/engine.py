"""Where the model's work on a folder runs: the ``Engine`` protocol and ``LocalEngine``.

An engine computes and answers; it never writes. ``features`` turns images into feature records
(``grounding.features.ImageFeatures`` as bytes), ``propose`` turns kept records into the model's
best boxes for phrases. Both yield their results batch by batch as they are done, so the caller
shows progress, writes each batch in one transaction, and stops early by closing the iterator.
"""
from __future__ import annotations

import os
from typing import Callable, Iterator, Optional, Protocol, Sequence

from ..core import ImageReadError, Proposal
from ..core.grounder import FolderGrounder, PreparedEntry
from ..io.scan import quick_hash

class EngineError(RuntimeError):
    """The engine cannot do the work (Ray missing, a cluster out of reach, its workers failing):
    a message for the user."""


# (key, record bytes or None, error or None): one image's outcome of the feature pass.
FeatureResult = tuple[str, Optional[bytes], Optional[str]]
# (key, [(phrase, the model's best proposals for it)]): one image's outcome of ``propose``.
ProposeResult = tuple[str, list[tuple[str, list[Proposal]]]]


class Engine(Protocol):
    @property
    def features_version(self) -> str:
        """What makes the records (``Grounder.features_version`` of the engine's model)."""
        ...

    def features(self, items: Sequence[tuple[str, str]], batch_size: int) -> Iterator[list[FeatureResult]]:
        """Feature records of ``(key, image path)`` items, a batch at a time."""
        ...

    def propose(self, items: Sequence[tuple[str, str, bytes]], phrases: Sequence[str], min_score: float,
                batch_size: int) -> Iterator[list[ProposeResult]]:
        """The model's best boxes (``best_proposals``) for each phrase on ``(key, image path,
        record)`` items, a batch at a time."""
        ...

    def close(self) -> None: ...


def best_proposals(grounder: FolderGrounder, entry: PreparedEntry, phrases: Sequence[str], min_score: float) -> list[tuple[str, list[Proposal]]]:
    """What propose-for-every-image stores of one prepared image: per phrase, its best proposal
    (every match of a plural phrase: "the horses"), those scoring at least ``min_score`` as a
    phrase asked of a picture that may not hold its thing is scored (``FusedWeights.folder``). A
    phrase that needs the image's pixels (the second CNN) when its file is gone or changed gets
    none: the next rescan and pass see to that image."""
    out = []
    for phrase in phrases:
        try:
            found = [p for p in grounder.propose_prepared(entry, phrase, top_k=1, folder=True)
                     if p.score >= min_score]
        except ImageReadError:
            found = []
        out.append((phrase, found))
    return out


CHANGED_WHILE_PREPARED = "changed while it was being prepared; prepared again after the next scan"


def feature_results(grounder: FolderGrounder, items: Sequence[tuple[str, object]],
                    pause: Optional[Callable[[], None]] = None) -> list[FeatureResult]:
    """``grounder.compute_features`` of items ``(content hash, image path)`` as results (one
    batch); ``pause`` as ``compute_features`` takes it.

    A record is filed under the hash of the bytes that were decoded: a file whose content hash is
    no longer its key when the batch starts, or that was written or replaced while it was decoded
    (its inode, size, modification or change time moved), gives no record but an error, so
    another picture's features never go under the old content's hash."""
    before = [_file_state(image) for _, image in items]
    computed = grounder.compute_features([image for _, image in items], pause=pause)
    out: list[FeatureResult] = []
    for (key, image), f, state in zip(items, computed, before):
        if isinstance(f, Exception):
            out.append((key, None, str(f)))
        elif state is not None and (state[1] != key or _file_state(image, hashed=False) != state[0]):
            out.append((key, None, f"{image}: {CHANGED_WHILE_PREPARED}"))
        else:
            out.append((key, f.to_bytes(), None))
    return out


def _file_state(image, hashed: bool = True):
    """The stamp of an image file (device, inode, size, modification and change times) and, with
    ``hashed``, its content hash read after it: (stamp, hash). None for what is not a path."""
    if not isinstance(image, (str, os.PathLike)):
        return None
    try:
        st = os.stat(image)
        stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        return (stamp, quick_hash(image, st.st_size)) if hashed else stamp
    except OSError:
        return (None, None) if hashed else None  # gone: decoding says so


def propose_results(grounder: FolderGrounder, items: Sequence[tuple[str, str, bytes]], phrases: Sequence[str],
                    min_score: float) -> list[ProposeResult]:
    """``best_proposals`` on items ``(key, image path, record)`` (one batch)."""
    from ..grounding.features import ImageFeatures

    return [(key, best_proposals(grounder, grounder.prepared_from(path, ImageFeatures.from_bytes(data)),
                                 phrases, min_score))
            for key, path, data in items]


class LocalEngine:
    """The model in this process, on its device (the GPU when there is one)."""

    def __init__(self, grounder: FolderGrounder) -> None:
        self.grounder = grounder

    @property
    def features_version(self) -> str:
        return self.grounder.features_version

    def features(self, items: Sequence[tuple[str, str]], batch_size: int) -> Iterator[list[FeatureResult]]:
        for start in range(0, len(items), batch_size):
            yield feature_results(self.grounder, items[start:start + batch_size])

    def propose(self, items: Sequence[tuple[str, str, bytes]], phrases: Sequence[str], min_score: float,
                batch_size: int) -> Iterator[list[ProposeResult]]:
        for start in range(0, len(items), batch_size):
            yield propose_results(self.grounder, items[start:start + batch_size], phrases, min_score)

    def close(self) -> None:
        pass
