"""One entry point for every export format, shared by the CLI and the GUI's File → Export….

The formats are declared in ``formats.py``, the options in ``export_options.py``, the selection
rules in ``selection.py``, each format's fields in its module, the file layout in
``export_layout.py``. The GUI calls :func:`export_project` from a worker thread with
``progress(done, total)`` and ``cancelled()`` callbacks; a cancel raises :class:`Cancelled` and
leaves existing files untouched.
"""
from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Optional

from ..core import PROJECT_DIRNAME, PhraseError, require_text
from .coco_common import categories_for
from .errors import Cancelled, ExportError
from .export_images import ImageCopies, layout_images, rotated_images, rotation_warning, stage_images
from .export_layout import ExportLayout
from .export_options import ExportOptions, export_options, load_label_map, normalise_label_map, parse_splits
from .export_summary import ExportSummary
from .formats import EXPORT_FORMAT, EXPORT_FORMATS
from .progress import CancelFn, ProgressFn, Ticker, gc_paused
from .selection import select, selection_steps, used_splits
from .staged_files import RefuseFn, StagedFiles
from .store_protocol import LabelStore

__all__ = ["EXPORT_FORMATS", "Cancelled", "ExportError", "ExportOptions", "ExportSummary",
           "export_options", "export_project", "load_label_map", "parse_splits"]


def export_project(
    store: LabelStore,
    fmt: str,
    out: os.PathLike | str,
    options: Optional[ExportOptions] = None,
    progress: Optional[ProgressFn] = None,
    cancelled: Optional[CancelFn] = None,
) -> ExportSummary:
    """Export the project of ``store`` as ``fmt`` to ``out``.

    ``out`` is a file for coco-grounding, coco and odvg (with splits: ``out_train.json`` etc.), a
    folder for refcoco, yolo and voc and for every format with ``options.with_images`` (yolo and
    voc always write their images: a format module with ``image_target`` says where). Raises
    :class:`ExportError` (bad options, a refused or unwritable target) or :class:`Cancelled`; in
    both cases no existing file was changed.
    """
    with gc_paused():
        return _export(store, fmt, Path(out), options or ExportOptions(), progress, cancelled)


def _export(store: LabelStore, fmt: str, out: Path, options: ExportOptions,
            progress: Optional[ProgressFn], cancelled: Optional[CancelFn]) -> ExportSummary:
    declared = EXPORT_FORMAT.get(fmt)
    if declared is None:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMAT)}")
    module = declared.writer
    image_target = getattr(module, "image_target", None)
    if image_target is not None:
        options = replace(options, with_images=True)
    if options.label_map is not None:
        options = replace(options, label_map=normalise_label_map(options.label_map))
    if options.dataset_name is not None:
        try:
            require_text(options.dataset_name)
        except PhraseError as exc:
            raise ExportError(f"--dataset-name {options.dataset_name!r}: {exc}") from None
    rules = module.rules(options)
    if not options.with_images and not declared.out_is_folder and out.is_dir():
        raise ExportError(f"--out must name a file for {fmt}, but {out} is a folder")
    why_folder = "with --with-images" if image_target is None else f"for {fmt}"
    if options.with_images and out.exists() and not out.is_dir():
        raise ExportError(f"{why_folder}, --out names a folder, but {out} is a file")
    root = Path(store.root)
    if options.with_images and _inside_scanned_folder(out, root):
        raise ExportError(f"{why_folder}, --out must be outside the project folder {root} "
                          f"(a rescan would take the copies for new images)")
    layout = ExportLayout(out, options.with_images, module.LAYOUT_NAME, module.SUFFIX,
                          split_images=getattr(module, "SPLIT_IMAGES", True))
    summary = ExportSummary(fmt)
    if options.splits:
        summary.splits = {name: {"images": 0, "phrases": 0, "boxes": 0} for name in used_splits(options.splits)}
    ticker = Ticker(progress, cancelled, selection_steps(store.counts()))
    ticker.check()
    selected = select(store, options, rules, summary, ticker)
    ticker.set_total(ticker.done + 2 * len(selected) + (len(selected) if options.with_images else 0))
    rotated = rotated_images(root, selected, ticker)
    if hasattr(module, "categories"):  # a format of classes (YOLO, VOC)
        categories = module.categories(selected, options)
        summary.classes = list(categories.ids)
        summary.classes_from = "the label map" if options.label_map is not None else module.CLASSES_FROM
    else:
        categories = categories_for(store, selected, options, module.PER_PHRASE_CATEGORIES)
    staged = StagedFiles(refuse=_project_files_guard(store))
    jpeg_only = getattr(module, "JPEG_IMAGES", False)
    try:
        module.write(selected, layout, options, staged, ticker, categories)
        n_annotation_files = len(staged)
        if options.with_images:
            target_of = (lambda si: image_target(layout, si)) if image_target is not None else layout_images(layout)
            copies = ImageCopies(root, target_of, frozenset(rotated), jpeg_only)
            summary.jpeg_encoded = stage_images(selected, copies, staged, ticker)
        ticker.check()  # last chance to cancel: nothing has been renamed yet
        files = staged.commit()
    finally:
        staged.discard()
    if hasattr(module, "SUMMARY_FILES"):  # a folder of many files: its parts
        summary.files = [str(out / name) for name in module.SUMMARY_FILES]
    else:
        summary.files = [str(p) for p in files[:n_annotation_files]]
        if options.with_images:
            summary.files.append(str(out / "images"))
    summary.through_links = {str(p): str(link) for p, link in staged.links.items()}
    if options.with_images:
        summary.upright = len(rotated)
    _warn(summary, selected, options, rotated, getattr(module, "EMPTY_SPLIT", "its file was written empty"))
    summary.warnings.extend(getattr(module, "warnings", lambda selected, options: [])(selected, options))
    summary.notes.extend(declared.notes(selected, options))
    ticker.finish()
    return summary


def _warn(summary: ExportSummary, selected, options: ExportOptions, rotated: list[str], empty_split: str) -> None:
    if rotated and not options.with_images:
        summary.rotated = rotated
        summary.warnings.append(rotation_warning(rotated))
    if options.splits:
        for name, counts in summary.splits.items():
            if not counts["images"]:
                summary.warnings.append(f"split {name!r} has no image: {empty_split}")
    if not selected:
        summary.warnings.append("nothing was exported; see the skipped counts")


def _inside_scanned_folder(out: Path, root: Path) -> bool:
    """Whether ``out`` lies in the project folder where a scan looks (hidden folders it skips)."""
    try:
        rel = out.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return not any(part.startswith(".") for part in rel.parts)


def _project_files_guard(store: LabelStore) -> RefuseFn:
    """Refuse to write over the project's own files or its images: its database (with its
    WAL/SHM/journal files), backups and features file, anything in its ``.grounding`` folder, and
    the images it labels. An export over them would lose every label, the last good backup or a
    photo."""
    db = Path(store.db_path).resolve()
    # The store's files beside the database: NAME.EXT, NAME.backup….EXT, NAME.features.EXT, each
    # with its side files.
    own_file = re.compile(rf"{re.escape(db.stem)}(\..*)?{re.escape(db.suffix)}(-wal|-shm|-journal)?")
    root = Path(store.root).resolve()
    own_folders = [root / PROJECT_DIRNAME] + ([db.parent] if db.parent.name == PROJECT_DIRNAME else [])
    images: set[str] = set()  # read when a target first lies in the project folder (rarely)

    def refuse(target: Path) -> Optional[str]:
        resolved = target.resolve()
        if resolved.parent == db.parent and own_file.fullmatch(resolved.name):
            return "it is one of the project's own files (its database, a backup or its features)"
        if any(resolved.is_relative_to(folder) for folder in own_folders):
            return f"it is inside the project's own folder {PROJECT_DIRNAME} (its database, backups and features)"
        try:
            rel = resolved.relative_to(root).as_posix()
        except ValueError:
            return None
        if not images:
            images.update(img.path for img in store.images.all(include_missing=True))
        return "it is an image of the project" if rel in images else None

    return refuse
