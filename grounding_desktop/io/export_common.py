"""What every export shares: which images, expressions and boxes go out, the train/val/test split,
atomic file writes, the summary of what was written and skipped, and the progress/cancel protocol.

Qt-free on purpose: the CLI calls this directly, and the GUI runs the same call in a worker thread,
passing ``progress(done, total)`` to drive a progress bar and ``cancelled()`` to stop early.
A cancelled or failed export raises and leaves every earlier output file byte-for-byte untouched,
because nothing is renamed over a target until every output of the export has been written.

Selection rules (documented for users in ``commands/export.py``):

- images: readable and present on disk; with ``reviewed_only`` only images marked reviewed;
  an image with no exported expression is left out ("no labels").
- boxes: ``accepted`` ones. ``rejected`` boxes only with ``include_rejected`` (they carry
  ``"state": "rejected"``; meant for hard-negative mining and full backups, since trainers that
  ignore the field read them as positives). ``proposed`` boxes are model guesses, not labels, and
  never go out. Boxes are clipped to their image; one with no area left is skipped.
- expressions: one with exported boxes goes out with them. One with none goes out as a no-target
  expression when the user rejected every proposal or drew nothing (where the format allows); one
  that still has only unreviewed proposals is skipped, because exporting it as "nothing here"
  would be a wrong label.
"""
from __future__ import annotations

import gc
import hashlib
import json
import os
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from ..core import Box, BoxState, Expression, ImageRecord, ImageState, clamp_xywh, phrase_key

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]

SPLIT_NAMES = ("train", "val", "test")


class ExportError(Exception):
    """An export that cannot be done, with a message meant for the user."""


class Cancelled(Exception):
    """The user cancelled; nothing was written over any existing file."""


# -- options ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportOptions:
    """What to export. ``splits`` are relative weights for train, val (and test), e.g. (80, 10, 10);
    ``label_map`` maps a normalised phrase (see :func:`phrase_key`) to a category name."""

    reviewed_only: bool = False
    include_rejected: bool = False
    splits: Optional[tuple[float, ...]] = None
    label_map: Optional[Mapping[str, str]] = None


def parse_splits(text: str) -> tuple[float, ...]:
    """``"80,10,10"`` -> (80.0, 10.0, 10.0); two or three non-negative weights, not all zero."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        weights = tuple(float(p) for p in parts)
    except ValueError:
        raise ExportError(f"--splits must be two or three numbers like 80,10,10, got {text!r}") from None
    if len(weights) not in (2, 3):
        raise ExportError(f"--splits takes two or three weights (train,val[,test]), got {len(weights)}: {text!r}")
    if any(w < 0 or w != w or w == float("inf") for w in weights) or sum(weights) <= 0:
        raise ExportError(f"--splits weights must be non-negative and not all zero, got {text!r}")
    return weights


def load_label_map(path: os.PathLike | str) -> dict[str, str]:
    """Read a JSON object ``{"phrase": "category", ...}``; keys are normalised so lookups ignore
    case and spacing."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"label map not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ExportError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"cannot read label map {path}: {exc}") from None
    if not isinstance(raw, dict) or not raw:
        raise ExportError(f"{path}: a label map must be a non-empty JSON object mapping phrase to category name")
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str) or not value.strip() or not phrase_key(key):
            raise ExportError(f"{path}: entry {key!r}: the category must be a non-empty string, got {value!r}")
        out[phrase_key(key)] = value.strip()
    return out


# -- splits -------------------------------------------------------------------------------------
def split_names(weights: Sequence[float]) -> tuple[str, ...]:
    return SPLIT_NAMES[: len(weights)]


def split_of(path: str, weights: Sequence[float]) -> str:
    """The split of an image, from a SHA-1 of its project-relative path: the same on every run and
    machine (Python's ``hash`` is salted per process), so an image never changes or shares splits."""
    digest = hashlib.sha1(path.encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0**64
    total = float(sum(weights))
    edge = 0.0
    names = split_names(weights)
    for name, w in zip(names, weights):
        edge += w / total
        if u < edge and w > 0:
            return name
    return next(n for n, w in zip(reversed(names), reversed(weights)) if w > 0)


def split_path(out: Path, split: Optional[str]) -> Path:
    """``out.json`` -> ``out_train.json`` (``out.jsonl`` -> ``out_train.jsonl``)."""
    if split is None:
        return out
    return out.with_name(f"{out.stem}_{split}{out.suffix}")


# -- selection ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SelectedExpression:
    expression: Expression
    boxes: tuple[Box, ...]  # clipped to the image; empty for a no-target expression
    category: Optional[str] = None  # from the label map, when one is given

    @property
    def text(self) -> str:
        return self.expression.text

    @property
    def no_target(self) -> bool:
        return not self.boxes


@dataclass(frozen=True)
class SelectedImage:
    image: ImageRecord
    expressions: tuple[SelectedExpression, ...]
    split: Optional[str] = None


@dataclass
class ExportSummary:
    """What an export wrote and what it left out, and why (the CLI prints it, the GUI shows it)."""

    format: str
    files: list[str] = field(default_factory=list)
    images: int = 0
    expressions: int = 0
    no_target: int = 0
    boxes: int = 0
    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, Counter] = field(
        default_factory=lambda: {"images": Counter(), "expressions": Counter(), "boxes": Counter()}
    )

    def skip(self, kind: str, reason: str, n: int = 1) -> None:
        if n:
            self.skipped[kind][reason] += n

    def count(self, selected: Sequence[SelectedImage]) -> None:
        for si in selected:
            per = self.splits.setdefault(si.split, {"images": 0, "expressions": 0, "boxes": 0}) if si.split else None
            n_expr = len(si.expressions)
            n_box = sum(len(se.boxes) for se in si.expressions)
            self.images += 1
            self.expressions += n_expr
            self.no_target += sum(1 for se in si.expressions if se.no_target)
            self.boxes += n_box
            if per is not None:
                per["images"] += 1
                per["expressions"] += n_expr
                per["boxes"] += n_box

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "files": list(self.files), "images": self.images,
            "expressions": self.expressions, "no_target": self.no_target, "boxes": self.boxes,
            "splits": self.splits,
            "skipped": {k: dict(sorted(v.items())) for k, v in self.skipped.items()},
        }

    def lines(self) -> list[str]:
        out = [f"wrote {f}" for f in self.files]
        out.append(f"images {self.images}, expressions {self.expressions} (no-target {self.no_target}), "
                   f"boxes {self.boxes}")
        for name, c in self.splits.items():
            out.append(f"  {name}: images {c['images']}, expressions {c['expressions']}, boxes {c['boxes']}")
        for kind, reasons in self.skipped.items():
            for reason, n in sorted(reasons.items()):
                out.append(f"skipped {n} {kind if n != 1 else kind[:-1] if kind != 'boxes' else 'box'}: {reason}")
        return out


class Ticker:
    """Calls ``progress`` now and then and raises :class:`Cancelled` once ``cancelled()`` says so.

    Throttled to about every 1% of the work so a GUI signal per call stays cheap."""

    def __init__(self, progress: Optional[ProgressFn], cancelled: Optional[CancelFn], total: int):
        self._progress, self._cancelled = progress, cancelled
        self.total = max(int(total), 1)
        self.done = 0
        self._every = max(self.total // 100, 1)
        self._next = 0

    def check(self) -> None:
        if self._cancelled is not None and self._cancelled():
            raise Cancelled("export cancelled")

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.done >= self._next:
            self._next = self.done + self._every
            self.check()
            if self._progress is not None:
                self._progress(min(self.done, self.total), self.total)

    def set_total(self, total: int) -> None:
        self.total = max(int(total), 1)
        self._every = max(self.total // 100, 1)

    def finish(self) -> None:
        """Report completion (no cancel check: the work is done and committed)."""
        if self._progress is not None:
            self._progress(self.total, self.total)


def select(store: Any, options: ExportOptions, summary: ExportSummary, ticker: Ticker,
           allow_no_target: bool = True, no_target_reason: str = "") -> list[SelectedImage]:
    """Apply the selection rules (module docstring) to the project; count what is left out.

    ``store`` is a ``store.ProjectStore`` (not imported: ``io`` depends on ``core`` only)."""
    images: list[ImageRecord] = store.images(include_missing=True)
    annotations: dict[int, list[tuple[Expression, list[Box]]]] = store.all_annotations()
    label_map = options.label_map
    weights = options.splits
    out: list[SelectedImage] = []
    for img in images:
        ticker.step()
        anns = annotations.get(img.id, ())
        if img.missing:
            summary.skip("images", "file missing on disk")
            continue
        if img.error is not None or img.width <= 0 or img.height <= 0:
            summary.skip("images", "unreadable image")
            continue
        if options.reviewed_only and img.state != ImageState.REVIEWED:
            summary.skip("images", "not reviewed")
            continue
        if not anns:
            summary.skip("images", "no labels")
            continue
        chosen: list[SelectedExpression] = []
        width, height = img.width, img.height
        for expr, boxes in anns:
            if not expr.text.strip():
                summary.skip("expressions", "empty phrase")
                continue
            category = None
            if label_map is not None:
                category = label_map.get(phrase_key(expr.text))
                if category is None:
                    summary.skip("expressions", "phrase not in the label map")
                    continue
            kept: list[Box] = []
            proposed = lost = 0
            for b in boxes:
                if b.state == BoxState.PROPOSED:
                    proposed += 1
                    continue
                if b.state == BoxState.REJECTED and not options.include_rejected:
                    summary.skip("boxes", "rejected")
                    continue
                x, y, w, h = b.bbox
                if 0 <= x and 0 <= y and 0 < w and 0 < h and x + w <= width and y + h <= height:
                    kept.append(b)  # the common case, checked inline: exports run over 100k boxes
                    continue
                bbox = clamp_xywh(b.bbox, width, height)
                if bbox[2] <= 0 or bbox[3] <= 0:
                    lost += 1
                    summary.skip("boxes", "no area inside the image")
                    continue
                kept.append(Box(b.id, b.expression_id, bbox, b.state, b.source, b.score, b.model_version))
            summary.skip("boxes", "proposal, not a label", proposed)
            if not kept:
                if proposed:
                    summary.skip("expressions", "only unreviewed proposals")
                    continue
                if lost:
                    summary.skip("expressions", "all boxes outside the image")
                    continue
                if not allow_no_target:
                    summary.skip("expressions", no_target_reason or "no-target expression")
                    continue
            chosen.append(SelectedExpression(expr, tuple(kept), category))
        if not chosen:
            summary.skip("images", "no labels")
            continue
        split = split_of(img.path, weights) if weights else None
        out.append(SelectedImage(img, tuple(chosen), split))
    return out


def group_by_split(selected: Sequence[SelectedImage], options: ExportOptions) -> dict[Optional[str], list[SelectedImage]]:
    """Images per output file, in project order; every named split gets a file, even an empty one,
    so a trainer config that lists train/val/test files finds them all."""
    if not options.splits:
        return {None: list(selected)}
    groups: dict[Optional[str], list[SelectedImage]] = {
        name: [] for name, w in zip(split_names(options.splits), options.splits) if w > 0
    }
    for si in selected:
        groups[si.split].append(si)
    return groups


def categories_of(selected: Iterable[SelectedImage], options: ExportOptions,
                  per_phrase: bool) -> tuple[list[dict], Callable[[SelectedExpression], int]]:
    """COCO ``categories`` and a function giving an expression's category id.

    With a label map: one category per distinct category name (sorted, ids from 1). Otherwise,
    with ``per_phrase``, one per distinct normalised phrase; else the single category "object"."""
    if options.label_map is not None:
        names = sorted(set(options.label_map.values()))
        ids = {n: i for i, n in enumerate(names, 1)}
        return ([{"id": ids[n], "name": n, "supercategory": "object"} for n in names],
                lambda se: ids[se.category])
    if per_phrase:
        names = sorted({phrase_key(se.text) for si in selected for se in si.expressions})
        ids = {n: i for i, n in enumerate(names, 1)}
        return ([{"id": ids[n], "name": n, "supercategory": "object"} for n in names],
                lambda se: ids[phrase_key(se.text)])
    return [{"id": 1, "name": "object", "supercategory": "object"}], lambda se: 1


def phrase_span(text: str, offset: int = 0) -> list[int]:
    """``[start, end)`` of the phrase words in ``text`` (surrounding whitespace excluded), shifted
    by ``offset``: ``caption[start:end]`` is exactly the phrase."""
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return [offset + start, offset + end]


def coco_annotation(b: Box, image_id: int, category_id: int, **fields: Any) -> dict[str, Any]:
    """One COCO ``annotations`` entry for a box (``id`` = box id), with ``fields`` added."""
    x, y, w, h = b.bbox
    return {"id": b.id, "image_id": image_id, "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0,
            "category_id": category_id, **fields}


def write_coco_splits(selected: Sequence["SelectedImage"], out: Path, options: ExportOptions, staged: "StagedFiles",
                      ticker: Ticker, build: Callable[..., dict[str, Any]], per_phrase: bool) -> None:
    """One COCO JSON file, or one per split (``out_train.json`` ...), all sharing one category list
    so train/val/test agree on category ids."""
    categories, category_id = categories_of(selected, options, per_phrase=per_phrase)
    for split, group in group_by_split(selected, options).items():
        staged.write(split_path(out, split), dump_json(build(group, categories, category_id, ticker)))


def box_extras(b: Box) -> dict[str, Any]:
    """Fields a trainer ignores but that make the project's own export round-trip losslessly."""
    extra: dict[str, Any] = {"state": b.state.value, "source": b.source.value}
    if b.score is not None:
        extra["score"] = b.score
    if b.model_version:
        extra["model_version"] = b.model_version
    return extra


def info_block(fmt: str) -> dict[str, Any]:
    from .. import __version__
    import datetime as _dt

    return {
        "description": f"grounding-desktop {fmt} export",
        "version": __version__,
        "date_created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    }


@contextmanager
def gc_paused():
    """Exports and imports allocate a few hundred thousand dicts and lists that all stay alive until the
    work is done; the cyclic collector would rescan them again and again (a third of the time
    on 100k boxes) without ever freeing one. Pause it for the call and restore it afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -- atomic writes ------------------------------------------------------------------------------
def dump_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _temp_beside(target: Path) -> tuple[int, str]:
    return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)


def _write_fd(fd: int, chunks: Iterable[str]) -> None:
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
        for chunk in chunks:
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_text(target: os.PathLike | str, text: str | Iterable[str]) -> None:
    """Write ``target`` through a temp file in the same folder and an ``os.replace``: readers see
    the old file or the new one, never half of one."""
    staged = StagedFiles()
    try:
        staged.write(Path(target), text)
        staged.commit()
    finally:
        staged.discard()


class StagedFiles:
    """All outputs of one export, each written to a temp file beside its target. ``commit`` renames
    them into place only once all are written; ``discard`` removes leftover temps (call it in a
    ``finally``), so an error or a cancel never touches an existing target."""

    def __init__(self) -> None:
        self._staged: list[tuple[str, Path]] = []

    def write(self, target: Path, text: str | Iterable[str]) -> None:
        target = Path(target)
        if target.is_dir():
            raise ExportError(f"cannot write {target}: it is a folder")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _temp_beside(target)
        except OSError as exc:
            raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
        self._staged.append((tmp, target))
        try:
            _write_fd(fd, [text] if isinstance(text, str) else text)
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
            except FileNotFoundError:
                pass
            except OSError:  # pragma: no cover - best effort on odd file systems
                pass


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


def iter_lines(records: Iterable[Any], ticker: Optional[Ticker] = None) -> Iterator[str]:
    """JSON lines, ticking once per record so a long jsonl write can be cancelled."""
    for rec in records:
        if ticker is not None:
            ticker.step()
        yield dump_json(rec) + "\n"
