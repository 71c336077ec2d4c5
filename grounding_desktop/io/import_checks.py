"""The checks every importer makes of an entry, whatever the format: problems collected with the
file and the entry named, ids and numbers, captions cleaned as typed phrases are, image sizes,
boxes inside their image, our own fields (state, source, score), and file names matched to the
project's images."""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Optional

from ..core import (Box, BoxSource, BoxState, ImageRecord, NamesNothing, PhraseError, clamp_xywh, clean_phrase,
                    has_control_chars, shown)
from .coco_common import OWN_KEY
from .errors import ImportFileError
from .import_summary import ImportSummary

BOX_TOLERANCE_PX = 1.0  # a box may stick out of its image this much (rounding in other tools); it is clipped
SIZE_TOLERANCE_PX = 0.01  # an image's width or height in a file may differ from the project's this much
MAX_ID_CHARS = 200  # a string id longer than this is not an id
MAX_REPORTED_PROBLEMS = 20


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
        return f"{kind}[{index}] (id {shown(obj['id'])})"
    return f"{kind}[{index}]"


def is_number(v: Any) -> bool:
    """A finite JSON number a float can hold (a 400-digit integer cannot)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def is_id(v: Any) -> bool:
    """An id COCO files use: an integer a 64-bit column holds or a string of at most
    :data:`MAX_ID_CHARS` (never a list, an object, a boolean or a 5000-digit number)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return -(1 << 63) <= v < 1 << 63
    return isinstance(v, str) and len(v) <= MAX_ID_CHARS


def clean_text(text: Any, what: str, where: str, problem: Problems, summary: ImportSummary) -> Optional[str]:
    """A caption, phrase or category name checked as typed phrases are (``core.clean_phrase``);
    control characters are removed and counted in the summary, and one that names nothing ("the")
    is skipped and counted (None, no problem)."""
    if not isinstance(text, str):
        problem(f"{where}: '{what}' must be a string")
        return None
    try:
        cleaned = clean_phrase(text)
    except NamesNothing:
        summary.skipped[f"{what} of only words like 'the' and 'of'"] += 1
        return None
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
    if not _same_size((w, h), (img.width, img.height)):
        hint = " (EXIF orientation not applied?)" if _same_size((w, h), (img.height, img.width)) else ""
        problem(f"{where}: {shown(file_name, 200)} is {_size(w)}x{_size(h)} in the file but {img.width}x{img.height} "
                f"in the project{hint}")
        return False
    return True


def _same_size(a: tuple, b: tuple) -> bool:
    """Sizes within :data:`SIZE_TOLERANCE_PX` of each other (``600.0000001`` is 600)."""
    return all(abs(float(x) - float(y)) <= SIZE_TOLERANCE_PX for x, y in zip(a, b))


def _size(v: Any) -> str:
    """A width or height as the file has it, every digit that differs shown (``600.0000001``)."""
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def checked_box(bbox: Any, img: ImageRecord, where: str, problem: Problems, xyxy: bool = False) -> Optional[tuple]:
    """An ``[x, y, w, h]`` (or ``[x1, y1, x2, y2]``) box inside ``img`` as pixel ``(x, y, w, h)``,
    clipped when it sticks out by at most :data:`BOX_TOLERANCE_PX`; else a problem and None."""
    shape = "[x1, y1, x2, y2]" if xyxy else "[x, y, width, height]"
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(is_number(v) for v in bbox)):
        problem(f"{where}: 'bbox' must be four numbers {shape}, got {shown(bbox)}")
        return None
    x, y, a, b = (float(v) for v in bbox)
    bw, bh = (a - x, b - y) if xyxy else (a, b)
    if bw <= 0 or bh <= 0:
        problem(f"{where}: box {shown(bbox)} has no area (width and height must be positive)")
        return None
    tol = BOX_TOLERANCE_PX
    if x < -tol or y < -tol or x + bw > img.width + tol or y + bh > img.height + tol:
        problem(f"{where}: box {shown(bbox)} lies outside its image {img.path} ({img.width}x{img.height})")
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
        problem(f"{where}: unknown box state {shown(state_name)} (accepted, rejected or proposed)")
        return None
    try:
        source = BoxSource(source_name) if isinstance(source_name, str) else None
    except ValueError:
        source = None
    if source is None and source_name is not None:
        problem(f"{where}: unknown box source {shown(source_name)} (model, manual or model+edited)")
        return None
    if score is not None and not is_number(score):
        problem(f"{where}: 'score' must be a number, got {shown(score)}")
        return None
    if model_version is not None and not isinstance(model_version, str):  # kept as text when it is a number
        model_version = str(model_version)[:200] if is_number(model_version) else None
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
            problem(f"{where}: file_name {shown(file_name, 200)} {why}")
            return None
        if not img.readable or img.width <= 0 or img.height <= 0:
            problem(f"{where}: file_name {shown(file_name, 200)} is unreadable in the project ({img.error or 'no size'})")
            return None
        return img
