"""Atomic output files: every file of an export is written to a hidden temp file beside its target
and renamed over it only once all of them are written, so a failed, cancelled or killed export
never leaves a half-written file, and an earlier export stays byte-for-byte as it was.

A target that is a symlink is written through: the file it points to is replaced (atomically, by a
temp file beside it) and the link kept; ``links`` says which target was reached through which link.
A target that exists and is not a regular file (a device node such as ``/dev/full``, a FIFO, a
socket, a folder) is refused.

Temp files are named ``.NAME.PID.XXXXXXXX.tmp``. A killed export leaves its temps behind; the next
export into the same folder removes those whose process is gone (a live export's temps are kept).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Optional

from .errors import ExportError
from .progress import Ticker

# Why a target may not be written (None: fine); see export.py's guard for the project's own files.
RefuseFn = Callable[[Path], Optional[str]]

_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]{8}\.tmp$")


def dump_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), check_circular=False)


def json_chunks(obj: Any, ticker: Optional[Ticker] = None, items: int = 10_000) -> Iterator[str]:
    """The text of ``dump_json(obj)`` in pieces, checking ``ticker`` for a cancel between them: a
    COCO file's long lists (300k annotations) go ``items`` at a time, since one ``json.dumps`` of
    them holds the worker for a second or more. Other values are written whole."""
    if isinstance(obj, dict):
        yield "{"
        for i, (key, value) in enumerate(obj.items()):
            yield ("," if i else "") + dump_json(key) + ":"
            yield from json_chunks(value, ticker, items)
        yield "}"
    elif isinstance(obj, list) and len(obj) > items:
        yield "["
        for start in range(0, len(obj), items):
            if ticker is not None:
                ticker.check()
            yield ("," if start else "") + dump_json(obj[start:start + items])[1:-1]
        yield "]"
    else:
        yield dump_json(obj)


def iter_lines(records: Iterable[Any], ticker: Optional[Ticker] = None) -> Iterator[str]:
    """JSON lines, ticking once per record so a long jsonl write can be cancelled."""
    for rec in records:
        if ticker is not None:
            ticker.step()
        yield dump_json(rec) + "\n"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # someone else's live process, or a platform without it
        return True
    return True


def remove_stale_temps(folder: Path) -> int:
    """Delete the temp files that exports killed mid-way left in ``folder``; returns how many."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m is None:
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or _process_alive(pid):
            continue
        try:
            os.unlink(entry.path)
            removed += 1
        except OSError:
            pass
    return removed


class StagedFiles:
    """All outputs of one export, each written to a temp file beside its target. ``commit`` renames
    them into place only once all are written; ``discard`` removes leftover temps (call it in a
    ``finally``), so an error or a cancel never touches an existing target.

    ``refuse`` names targets that must never be written (the project's database, its images)."""

    def __init__(self, refuse: Optional[RefuseFn] = None) -> None:
        self._staged: list[tuple[str, Path]] = []
        self._refuse = refuse
        self._cleaned: set[Path] = set()
        self.links: dict[Path, Path] = {}  # file written -> the symlink it was named by

    def __len__(self) -> int:
        return len(self._staged)

    def write(self, target: Path, text: str | Iterable[str]) -> None:
        """Stage a UTF-8 text file (fsynced: annotation files are what a crash must not lose)."""
        chunks = [text] if isinstance(text, str) else text

        def fill(f: IO[bytes]) -> None:
            for chunk in chunks:
                f.write(chunk.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())

        self._stage(Path(target), fill)

    def write_bytes(self, target: Path, data: bytes) -> None:
        self._stage(Path(target), lambda f: f.write(data))

    def copy(self, source: Path, target: Path) -> None:
        """Stage a copy of ``source`` (an image of a ``--with-images`` export)."""
        def fill(f: IO[bytes]) -> None:
            with open(source, "rb") as src:
                shutil.copyfileobj(src, f, 1 << 20)

        self._stage(Path(target), fill)

    def _stage(self, target: Path, fill: Callable[[IO[bytes]], Any]) -> None:
        if target.is_symlink():
            real = Path(os.path.realpath(target))
            self.links[real] = target
            target = real
        why = (self._refuse(target) if self._refuse is not None else None) or _not_a_plain_file(target)
        if why:
            raise ExportError(f"refusing to write {self.links.get(target, target)}: {why}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.parent not in self._cleaned:
                self._cleaned.add(target.parent)
                remove_stale_temps(target.parent)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
        self._staged.append((tmp, target))
        try:
            with os.fdopen(fd, "wb") as f:
                fill(f)
        except OSError as exc:
            raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc

    def commit(self) -> list[Path]:
        done: list[Path] = []
        staged, self._staged = self._staged, []
        for i, (tmp, target) in enumerate(staged):
            try:
                _keep_mode(target, tmp)
                os.replace(tmp, target)
            except OSError as exc:
                self._staged = staged[i:]
                raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
            done.append(target)
        return done

    def discard(self) -> None:
        staged, self._staged = self._staged, []
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except OSError:  # already gone, or an odd file system: best effort
                pass


def _not_a_plain_file(target: Path) -> Optional[str]:
    """Why ``target`` cannot be replaced by a file: it is a folder, a device, a FIFO or a socket."""
    try:
        mode = os.stat(target).st_mode
    except OSError:  # nothing there yet (or unreadable: the write says why)
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "it is a folder"
    kind = ("a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
            "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")
    return f"it is {kind}, not a regular file"


def atomic_write_text(target: os.PathLike | str, text: str | Iterable[str]) -> None:
    """Write ``target`` through a temp file in the same folder and an ``os.replace``: readers see
    the old file or the new one, never half of one."""
    staged = StagedFiles()
    try:
        staged.write(Path(target), text)
        staged.commit()
    finally:
        staged.discard()


def _keep_mode(target: Path, tmp: str) -> None:
    """mkstemp makes 0600 files; give the export the permissions a plain ``open`` would."""
    try:
        mode = os.stat(target).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_UMASK
    os.chmod(tmp, mode)


def _read_umask() -> int:
    # os.umask can only be read by setting it; do that once at import, not per write from threads.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()
