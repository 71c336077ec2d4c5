"""Reading an import file: within a size cap (a 20 GB file or ``/dev/zero`` must not take the
machine's memory), as UTF-8 text or bytes, and JSON parsed with every failure as one line."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from .errors import ImportFileError

MAX_FILE_BYTES = 1 << 30  # 1 GiB: COCO's own instances_train2017.json is 450 MB; --max-size-mb raises it
_READ_CHUNK = 1 << 20


def read_bytes(path: os.PathLike | str, max_bytes: int = MAX_FILE_BYTES, what: str = "JSON file",
               starts: bytes = b"{[", raise_it: str = " (raise it with --max-size-mb)") -> bytes:
    """The file's bytes, refusing folders, files that do not start like ``what`` (one of the
    bytes in ``starts``, after a BOM and whitespace; any with ``starts`` empty) and anything over
    ``max_bytes`` (the message ends with ``raise_it``): checked before reading for a regular file,
    while reading for a device or a pipe (``/dev/zero``). Every file a command reads goes through
    here: imports, label maps, phrases files."""
    path = Path(path)
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise ImportFileError([f"{path} is a folder, not a {what}"])
        if st.st_size > max_bytes:
            raise ImportFileError([f"{path}: the file is {st.st_size / 2**20:.0f} MB, over the import limit of "
                                   f"{max_bytes / 2**20:.0f} MB{raise_it}"])
        chunks: list[bytes] = []
        size = 0
        with open(path, "rb") as f:
            while True:
                chunk = f.read(_READ_CHUNK)
                if not chunk:
                    break
                if not chunks:
                    first = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
                    if starts and first and first not in starts:
                        raise ImportFileError([f"{path}: not a {what} (it starts with byte {first!r})"])
                size += len(chunk)
                if size > max_bytes:
                    raise ImportFileError([f"{path}: more than {max_bytes / 2**20:.0f} MB, over the import limit{raise_it}"])
                chunks.append(chunk)
    except FileNotFoundError:
        raise ImportFileError([f"file not found: {path}"]) from None
    except IsADirectoryError:
        raise ImportFileError([f"{path} is a folder, not a {what}"]) from None
    except OSError as exc:
        raise ImportFileError([f"cannot read {path}: {exc.strerror or exc}"]) from None
    return b"".join(chunks)


def read_text(path: os.PathLike | str, max_bytes: int = MAX_FILE_BYTES, what: str = "JSON file",
              starts: bytes = b"{[", raise_it: str = " (raise it with --max-size-mb)") -> str:
    data = read_bytes(path, max_bytes, what, starts, raise_it)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError([f"{path}: not UTF-8 text (byte {exc.start}); is it a {what}?"]) from None


def parse_json(text: str, where: str) -> Any:
    """``json.loads`` with every way it fails as one problem line naming ``where``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError([f"{where}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]) from None
    except RecursionError:
        raise ImportFileError([f"{where}: JSON nested too deeply"]) from None
    except ValueError as exc:  # an integer over Python's digit limit (4300 digits)
        raise ImportFileError([f"{where}: unusable JSON: {exc}"]) from None


def json_lines(text: str) -> list[str]:
    """The lines of a JSON-lines file: split on ``"\n"`` only. JSON text may hold a raw U+2028,
    U+2029 or U+0085 in a string (``ensure_ascii=False`` writes them so), where ``str.splitlines``
    would cut the record in two; a ``"\r"`` before the ``"\n"`` is JSON whitespace."""
    return text.split("\n")


def read_json(path: os.PathLike | str, max_bytes: int = MAX_FILE_BYTES) -> Any:
    return parse_json(read_text(path, max_bytes), str(path))
