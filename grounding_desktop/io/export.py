"""One entry point for every export format, shared by the CLI and the GUI's File → Export….

The GUI calls :func:`export_project` from a worker thread with ``progress(done, total)`` and
``cancelled()`` callbacks; a cancel raises :class:`Cancelled` and leaves existing files untouched.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

from . import coco_detection, coco_grounding, odvg, refcoco
from ..core import phrase_key
from .export_common import (
    CancelFn,
    Cancelled,
    ExportError,
    ExportOptions,
    ExportSummary,
    gc_paused,
    ProgressFn,
    StagedFiles,
    Ticker,
    select,
    split_names,
)

FORMATS: dict[str, ModuleType] = {
    "coco-grounding": coco_grounding,
    "coco": coco_detection,
    "odvg": odvg,
    "refcoco": refcoco,
}
# What --out names for each format: a file, except RefCOCO's folder.
OUT_IS_FOLDER = {"refcoco"}

__all__ = ["FORMATS", "OUT_IS_FOLDER", "Cancelled", "ExportError", "ExportOptions", "ExportSummary",
           "export_project"]


def export_project(
    store: Any,
    fmt: str,
    out: os.PathLike | str,
    options: Optional[ExportOptions] = None,
    progress: Optional[ProgressFn] = None,
    cancelled: Optional[CancelFn] = None,
) -> ExportSummary:
    """Export the project of ``store`` (a ``store.ProjectStore``) as ``fmt`` to ``out``.

    ``out`` is a file for coco-grounding, coco and odvg (with splits: ``out_train.json`` etc.), a
    folder for refcoco. Raises :class:`ExportError` (bad options, unwritable target) or
    :class:`Cancelled`; in both cases no existing file was changed.
    """
    with gc_paused():
        return _export(store, fmt, out, options, progress, cancelled)


def _export(store: Any, fmt: str, out: os.PathLike | str, options: Optional[ExportOptions],
            progress: Optional[ProgressFn], cancelled: Optional[CancelFn]) -> ExportSummary:
    module = FORMATS.get(fmt)
    if module is None:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    options = options or ExportOptions()
    if options.label_map is not None:
        options = replace(options, label_map={phrase_key(k): str(v).strip() for k, v in options.label_map.items()})
        if not options.label_map:
            raise ExportError("the label map is empty")
    out = Path(out)
    if fmt not in OUT_IS_FOLDER and out.is_dir():
        raise ExportError(f"--out must name a file for {fmt}, but {out} is a folder")
    summary = ExportSummary(fmt)
    if options.splits:
        summary.splits = {name: {"images": 0, "expressions": 0, "boxes": 0}
                          for name, w in zip(split_names(options.splits), options.splits) if w > 0}
    n_images = store.counts()
    ticker = Ticker(progress, cancelled, n_images["images"] + n_images["missing"])
    ticker.check()
    selected = select(store, options, summary, ticker, allow_no_target=module.ALLOWS_NO_TARGET,
                      no_target_reason=getattr(module, "NO_TARGET_REASON", ""))
    summary.count(selected)
    ticker.set_total(ticker.done + len(selected))
    staged = StagedFiles()
    try:
        module.write(selected, out, options, staged, ticker)
        ticker.check()  # last chance to cancel: nothing has been renamed yet
        summary.files = [str(p) for p in staged.commit()]
    finally:
        staged.discard()
    ticker.finish()
    return summary
