"""Recursive folder scan that reads headers only, and skips files unchanged since the last scan."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional

from ..core import PROJECT_DIRNAME, ImageRecord, ScanEntry, display_path, natural_path_key
from .images import IMAGE_SUFFIXES, ImageReadError, read_header

_HASH_CHUNK = 64 * 1024


def quick_hash(path: os.PathLike | str, size: Optional[int] = None) -> str:
    """Content fingerprint from the size and the first and last 64 KiB: enough to recognise a
    renamed or moved file without reading whole photos during a scan."""
    h = hashlib.blake2b(digest_size=16)
    size = os.path.getsize(path) if size is None else size
    h.update(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(_HASH_CHUNK))
        if size > 2 * _HASH_CHUNK:
            f.seek(size - _HASH_CHUNK)
            h.update(f.read(_HASH_CHUNK))
        elif size > _HASH_CHUNK:
            h.update(f.read())
    return h.hexdigest()


def iter_image_files(root: os.PathLike | str) -> Iterator[tuple[str, os.stat_result, Optional[str]]]:
    """(relative '/'-separated path, stat, problem) of every image under ``root``.

    Hidden folders and the project's own ``.grounding`` are skipped; symlinked folders are
    followed once (a loop back to a folder already visited is ignored). What cannot be looked at
    is listed with ``problem`` saying why, instead of being skipped in silence: a subfolder that
    cannot be listed, and a link that leads nowhere (with ``lstat``), when it is named like an
    image or has no suffix (a link to a folder, most likely).
    """
    root = Path(root)
    visited: set[tuple[int, int]] = set()
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            st = folder.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in visited:
            continue
        visited.add((st.st_dev, st.st_ino))
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            if prefix:  # the root itself is the caller's to check
                yield prefix.rstrip("/"), st, f"folder cannot be read: {exc.strerror or exc}"
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            suffix = os.path.splitext(name)[1].lower()
            try:
                if entry.is_dir():
                    if name != PROJECT_DIRNAME:
                        stack.append((Path(entry.path), f"{prefix}{name}/"))
                elif entry.is_file():
                    if suffix in IMAGE_SUFFIXES:
                        yield prefix + name, entry.stat(), None
                elif entry.is_symlink() and (suffix in IMAGE_SUFFIXES or not suffix):  # an image or a folder, once
                    yield prefix + name, entry.stat(follow_symlinks=False), _broken_link(entry.path)
            except OSError:
                continue


def _broken_link(path: str) -> str:
    try:
        target = os.readlink(path)
    except OSError as exc:
        return f"broken link: {exc.strerror or exc}"
    try:
        os.stat(path)
    except OSError as exc:
        return f"broken link to {display_path(target)}: {exc.strerror or exc}"
    return f"link to {display_path(target)}, which is not a file"


def scan_folder(
    root: os.PathLike | str,
    known: Mapping[str, ImageRecord] | None = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> list[ScanEntry]:
    """Scan ``root``; files whose size and mtime match ``known`` are returned as ``unchanged``
    without being opened. Unreadable files, subfolders that cannot be listed and broken links get
    ``error`` set. Result is in natural path order."""
    known = known or {}
    files = sorted(iter_image_files(root), key=lambda item: natural_path_key(item[0]))
    out: list[ScanEntry] = []
    root = Path(root)
    for i, (rel, st, problem) in enumerate(files):
        prev = known.get(rel)
        unchanged = prev is not None and prev.size == st.st_size and prev.mtime == st.st_mtime
        if problem is not None:
            out.append(ScanEntry(rel, st.st_size, st.st_mtime, error=problem,
                                 unchanged=unchanged and prev.error == problem))
        elif unchanged:
            out.append(ScanEntry(rel, st.st_size, st.st_mtime, prev.width, prev.height, prev.content_hash,
                                 prev.error, unchanged=True))
        else:
            out.append(_read_entry(root / rel, rel, st))
        if progress is not None and (i % 256 == 0 or i == len(files) - 1):
            progress(i + 1, len(files))
    return out


def _read_entry(path: Path, rel: str, st: os.stat_result) -> ScanEntry:
    width = height = 0
    error = None
    digest = ""
    try:
        digest = quick_hash(path, st.st_size) if st.st_size else ""
        width, height = read_header(path)
    except ImageReadError as exc:
        error = str(exc)
    except OSError as exc:
        error = f"cannot read file: {exc.strerror or exc}"
    return ScanEntry(rel, st.st_size, st.st_mtime, width, height, digest, error)
