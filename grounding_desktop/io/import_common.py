"""What every import shares, whatever the file format: reading the file within a size cap,
collecting problems, matching file names to project images, checking values and boxes, the plan of
what to add, and applying it in one store transaction.

Every import is all-or-nothing: the whole file is checked before anything is written; problems are
reported naming the file and the entry (``images[3] (id 17)``, ``line 40``) and nothing is written;
then everything lands in one transaction (``store.merge_phrases``), which also skips what the
project already has and promotes a proposal that an imported label confirms.
"""
from __future__ import annotations

import json
import math
import os
import stat
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..core import Box, BoxSource, BoxState, ImageRecord, PhraseError, clamp_xywh, clean_phrase, has_control_chars
from .coco_common import OWN_KEY
from .errors import ImportFileError
from .progress import CancelFn, ProgressFn, Ticker, gc_paused
from .store_protocol import LabelStore

BOX_TOLERANCE_PX = 1.0  # a box may stick out of its image this much (rounding in other tools); it is clipped
MAX_REPORTED_PROBLEMS = 20
MAX_FILE_BYTES = 1 << 30  # 1 GiB: COCO's own instances_train2017.json is 450 MB; --max-size-mb raises it
_READ_CHUNK = 1 << 20


# -- reading ------------------------------------------------------------------------------------
def read_bytes(path: os.PathLike | str, max_bytes: int = MAX_FILE_BYTES, what: str = "JSON file",
               starts: bytes = b"{[") -> bytes:
    """The file's bytes, refusing folders, files that do not start like ``what`` (one of the
    bytes in ``starts``, after a BOM and whitespace) and anything over ``max_bytes``: checked
    before reading for a regular file, while reading for a device or a pipe (``/dev/zero``)."""
    path = Path(path)
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise ImportFileError([f"{path} is a folder, not a {what}"])
        if st.st_size > max_bytes:
            raise ImportFileError([f"{path}: the file is {st.st_size / 2**20:.0f} MB, over the import limit of "
                                   f"{max_bytes / 2**20:.0f} MB (raise it with --max-size-mb)"])
        chunks: list[bytes] = []
        size = 0
        with open(path, "rb") as f:
            while True:
                chunk = f.read(_READ_CHUNK)
                if not chunk:
                    break
                if not chunks:
                    first = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
                    if first and first not in starts:
                        raise ImportFileError([f"{path}: not a {what} (it starts with byte {first!r})"])
                size += len(chunk)
                if size > max_bytes:
                    raise ImportFileError([f"{path}: more than {max_bytes / 2**20:.0f} MB, over the import limit "
                                           f"(raise it with --max-size-mb)"])
                chunks.append(chunk)
    except FileNotFoundError:
        raise ImportFileError([f"file not found: {path}"]) from None
    except IsADirectoryError:
        raise ImportFileError([f"{path} is a folder, not a {what}"]) from None
    except OSError as exc:
        raise ImportFileError([f"cannot read {path}: {exc.strerror or exc}"]) from None
    return b"".join(chunks)


def read_text(path: os.PathLike | str, max_bytes: int = MAX_FILE_BYTES, what: str = "JSON file") -> str:
    data = read_bytes(path, max_bytes, what)
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


def read_json(path: os.PathLike | str, max_bytes: int = MAX_FILE_BYTES) -> Any:
    return parse_json(read_text(path, max_bytes), str(path))


# -- problems -----------------------------------------------------------------------------------
class Problems:
    """Collects what is wrong with a file (the first :data:`MAX_REPORTED_PROBLEMS`, then a count)."""

    def __init__(self, path: str):
        self.path = path
        self.found: list[str] = []
        self.more = 0

    def __call__(self, msg: str) -> None:
        if len(self.found) < MAX_REPORTED_PROBLEMS:
            self.found.append(f"{self.path}: {msg}")
        else:
            self.more += 1

    def fatal(self, msg: str) -> ImportFileError:
        return ImportFileError([f"{self.path}: {msg}"])

    def raise_if_any(self) -> None:
        if self.found:
            raise ImportFileError(self.found, self.more)


def entry_name(kind: str, index: int, obj: Any) -> str:
    if isinstance(obj, dict) and is_id(obj.get("id")):
        return f"{kind}[{index}] (id {obj['id']!r})"
    return f"{kind}[{index}]"


# -- values -------------------------------------------------------------------------------------
def is_number(v: Any) -> bool:
    """A finite JSON number a float can hold (a 400-digit integer cannot)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def is_id(v: Any) -> bool:
    """An id COCO files use: an integer or a string (never a list, an object or a boolean)."""
    return isinstance(v, (int, str)) and not isinstance(v, bool)


def clean_text(text: Any, what: str, where: str, problem: Problems, summary: "ImportSummary") -> Optional[str]:
    """A caption, phrase or category name checked as typed phrases are (``core.clean_phrase``);
    control characters are removed and counted in the summary."""
    if not isinstance(text, str):
        problem(f"{where}: '{what}' must be a string")
        return None
    try:
        cleaned = clean_phrase(text)
    except PhraseError as exc:
        problem(f"{where}: {what} {text[:60]!r}: {exc}")
        return None
    if has_control_chars(text):
        summary.cleaned += 1
    return cleaned


def image_size_matches(obj: dict, img: ImageRecord, file_name: str, where: str, problem: Problems) -> bool:
    """The entry's width/height (when given) must be the project image's upright size."""
    w, h = obj.get("width"), obj.get("height")
    if w is None and h is None:
        return True
    if not (is_number(w) and is_number(h)):
        problem(f"{where}: 'width' and 'height' must be numbers")
        return False
    if (w, h) != (img.width, img.height):
        hint = " (EXIF orientation not applied?)" if (w, h) == (img.height, img.width) else ""
        problem(f"{where}: {file_name!r} is {w:g}x{h:g} in the file but {img.width}x{img.height} in the project{hint}")
        return False
    return True


def checked_box(bbox: Any, img: ImageRecord, where: str, problem: Problems, xyxy: bool = False) -> Optional[tuple]:
    """An ``[x, y, w, h]`` (or ``[x1, y1, x2, y2]``) box inside ``img`` as pixel ``(x, y, w, h)``,
    clipped when it sticks out by at most :data:`BOX_TOLERANCE_PX`; else a problem and None."""
    shape = "[x1, y1, x2, y2]" if xyxy else "[x, y, width, height]"
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(is_number(v) for v in bbox)):
        problem(f"{where}: 'bbox' must be four numbers {shape}, got {str(bbox)[:80]}")
        return None
    x, y, a, b = (float(v) for v in bbox)
    bw, bh = (a - x, b - y) if xyxy else (a, b)
    if bw <= 0 or bh <= 0:
        problem(f"{where}: box {bbox!r} has no area (width and height must be positive)")
        return None
    tol = BOX_TOLERANCE_PX
    if x < -tol or y < -tol or x + bw > img.width + tol or y + bh > img.height + tol:
        problem(f"{where}: box {bbox!r} lies outside its image {img.path} ({img.width}x{img.height})")
        return None
    if 0 <= x and 0 <= y and x + bw <= img.width and y + bh <= img.height:
        return (x, y, bw, bh)
    return clamp_xywh((x, y, bw, bh), img.width, img.height)


def own_fields(obj: dict) -> dict:
    """Our own fields of an entry: under ``"grounding_desktop"``, or at the top level as exports
    before that key wrote them."""
    own = obj.get(OWN_KEY)
    return own if isinstance(own, dict) else obj


def box_from(obj: dict, bbox: tuple, as_proposals: bool, where: str, problem: Problems) -> Optional[Box]:
    """A box with the state, source, score and model version the entry recorded (accepted and
    manual by default); all proposals with ``as_proposals``."""
    own = own_fields(obj)
    state_name, source_name = own.get("state", "accepted"), own.get("source")
    score, model_version = own.get("score"), own.get("model_version")
    try:
        state = BoxState(state_name) if isinstance(state_name, str) else None
    except ValueError:
        state = None
    if state is None:
        problem(f"{where}: unknown box state {str(state_name)[:40]!r} (accepted, rejected or proposed)")
        return None
    try:
        source = BoxSource(source_name) if isinstance(source_name, str) else None
    except ValueError:
        source = None
    if source is None and source_name is not None:
        problem(f"{where}: unknown box source {str(source_name)[:40]!r} (model, manual or model+edited)")
        return None
    if score is not None and not is_number(score):
        problem(f"{where}: 'score' must be a number, got {str(score)[:40]}")
        return None
    if model_version is not None and not isinstance(model_version, str):
        model_version = str(model_version)[:200]
    if as_proposals:
        state, source = BoxState.PROPOSED, source or BoxSource.MODEL
    else:
        source = source or BoxSource.MANUAL
    return Box(0, 0, bbox, state, source, None if score is None else float(score), model_version)


class ImageMatcher:
    """Finds the project image a file name means: the exact project-relative path first, then the
    longest trailing part of the name that is a project path (``photos/sub/a.jpg`` -> ``sub/a.jpg``),
    then the bare file name when exactly one project image has it."""

    def __init__(self, images: list[ImageRecord]):
        self.by_path = {img.path: img for img in images}
        self.by_name: dict[str, list[ImageRecord]] = defaultdict(list)
        for img in images:
            self.by_name[img.file_name].append(img)

    def match(self, file_name: str) -> tuple[Optional[ImageRecord], str]:
        """(image, "") or (None, why not)."""
        name = file_name.replace("\\", "/")
        while name.startswith("./"):
            name = name[2:]
        parts = [p for p in name.split("/") if p]
        for k in range(len(parts)):
            hit = self.by_path.get("/".join(parts[k:]))
            if hit is not None:
                return hit, ""
        if not parts:
            return None, "is empty"
        same = self.by_name.get(parts[-1], [])
        if len(same) == 1:
            return same[0], ""
        if same:
            listed = ", ".join(sorted(i.path for i in same)[:3])
            return None, f"matches several project images ({listed}); use a path relative to the project folder"
        return None, "matches no image of the project"

    def usable(self, file_name: Any, where: str, problem: Problems) -> Optional[ImageRecord]:
        """The readable project image ``file_name`` means, or a problem and None."""
        if not isinstance(file_name, str):
            problem(f"{where}: the file name must be a string")
            return None
        img, why = self.match(file_name)
        if img is None:
            problem(f"{where}: file_name {file_name[:200]!r} {why}")
            return None
        if not img.readable or img.width <= 0 or img.height <= 0:
            problem(f"{where}: file_name {file_name!r} is unreadable in the project ({img.error or 'no size'})")
            return None
        return img


# -- the plan and its summary -------------------------------------------------------------------
@dataclass
class ImportSummary:
    file: str
    flavour: str = ""  # "coco-grounding", "coco", "odvg", "odvg-detection", "refcoco"
    images: int = 0  # project images the file has labels for
    phrases: int = 0  # phrases read from the file (after the skips below)
    no_target: int = 0
    boxes: int = 0
    phrases_added: int = 0
    boxes_added: int = 0
    proposals_promoted: int = 0
    duplicates: int = 0  # phrases the project already had with these boxes
    reviewed: int = 0
    cleaned: int = 0  # captions, phrases or names whose control characters were removed
    as_proposals: bool = False
    applied: bool = False
    skipped: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "flavour": self.flavour, "images": self.images, "phrases": self.phrases,
                "no_target": self.no_target, "boxes": self.boxes, "phrases_added": self.phrases_added,
                "boxes_added": self.boxes_added, "proposals_promoted": self.proposals_promoted,
                "duplicates": self.duplicates, "reviewed": self.reviewed, "cleaned": self.cleaned,
                "as_proposals": self.as_proposals, "applied": self.applied,
                "skipped": dict(sorted(self.skipped.items()))}

    def lines(self) -> list[str]:
        verb = "imported" if self.applied else "would import"
        kind = "proposed" if self.as_proposals else "labelled"
        out = [f"{verb} {self.flavour} file {self.file}",
               f"read images {self.images}, phrases {self.phrases} (no-target {self.no_target}), boxes {self.boxes}",
               f"{'added' if self.applied else 'would add'} phrases {self.phrases_added}, {kind} boxes {self.boxes_added}"]
        if self.proposals_promoted:
            out.append(f"proposals confirmed by the file {self.proposals_promoted}")
        if self.reviewed:
            out.append(f"marked reviewed {self.reviewed}")
        if self.duplicates:
            out.append(f"skipped {self.duplicates} phrase{'s' if self.duplicates != 1 else ''} already in the project")
        if self.cleaned:
            out.append(f"removed control characters from {self.cleaned} caption{'s' if self.cleaned != 1 else ''} or names")
        for reason, n in sorted(self.skipped.items()):
            out.append(f"skipped {n}: {reason}")
        return out


@dataclass
class PlannedPhrase:
    image_id: int
    text: str
    boxes: list[Box] = field(default_factory=list)


@dataclass
class ImportPlan:
    """What an import will hand to the store: phrases in file order and images to mark reviewed."""

    phrases: list[PlannedPhrase]
    reviewed: set[int]
    summary: ImportSummary


@dataclass(frozen=True)
class ImportRequest:
    """What a format's planner gets besides the parsed file."""

    store: LabelStore
    path: str
    as_proposals: bool
    ticker: Ticker
    max_bytes: int


Planner = Callable[[ImportRequest], ImportPlan]


def finish_plan(phrases: list[PlannedPhrase], reviewed: set[int], summary: ImportSummary) -> ImportPlan:
    summary.images = len({p.image_id for p in phrases} | reviewed)
    summary.phrases = len(phrases)
    summary.no_target = sum(1 for p in phrases if not p.boxes)
    summary.boxes = sum(len(p.boxes) for p in phrases)
    return ImportPlan(phrases, reviewed, summary)


def importer(planner: Planner, what: str) -> Callable[..., ImportSummary]:
    """The public import function of a format: ``(store, path, as_proposals, dry_run, progress,
    cancelled, max_bytes) -> ImportSummary``, running ``planner`` through :func:`run_import`."""

    def import_file(store: LabelStore, path: os.PathLike | str, as_proposals: bool = False, dry_run: bool = False,
                    progress: Optional[ProgressFn] = None, cancelled: Optional[CancelFn] = None,
                    max_bytes: int = MAX_FILE_BYTES) -> ImportSummary:
        return run_import(store, path, planner, as_proposals, dry_run, progress, cancelled, max_bytes)

    import_file.__doc__ = f"Check the {what} ``path`` against the project of ``store`` and add it in one transaction."
    return import_file


def run_import(store: LabelStore, path: os.PathLike | str, planner: Planner, as_proposals: bool = False,
               dry_run: bool = False, progress: Optional[ProgressFn] = None, cancelled: Optional[CancelFn] = None,
               max_bytes: int = MAX_FILE_BYTES) -> ImportSummary:
    """Plan the import of ``path`` with ``planner`` (all checks; nothing written), then hand it to
    the store in one transaction. Raises :class:`ImportFileError` or :class:`Cancelled`, in both
    cases with nothing written. With ``dry_run`` the summary says what would be added."""
    ticker = Ticker(progress, cancelled, 1, what="import")
    ticker.check()
    with gc_paused():
        plan = planner(ImportRequest(store, str(path), as_proposals, ticker, max_bytes))
    ticker.check()  # the last chance to cancel: nothing has been written
    outcome = store.merge_phrases([(p.image_id, p.text, p.boxes) for p in plan.phrases], plan.reviewed,
                                  dry_run=dry_run)
    summary = plan.summary
    summary.phrases_added, summary.boxes_added = outcome.phrases_added, outcome.boxes_added
    summary.proposals_promoted, summary.duplicates = outcome.proposals_promoted, outcome.duplicates
    summary.reviewed = outcome.reviewed
    summary.applied = not dry_run
    ticker.finish()
    return summary
