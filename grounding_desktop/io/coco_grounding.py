"""COCO, grounding flavour (MDETR / GLIP ``mixed``/refexp style annotation files).

One ``images`` entry per (image, expression): ``id`` is the expression id (unique and stable across
exports), ``original_id`` the project image id, ``caption`` the phrase exactly as typed,
``file_name`` relative to the project root. Every box of the expression is one annotation whose
``tokens_positive`` is ``[[start, end]]``, the span of the whole phrase (surrounding whitespace
excluded), so ``caption[start:end]`` is exactly the phrase. MDETR narrows refexp spans to the head
noun phrase with a parser; with no parser at hand the whole expression is the exact, honest span
(the expression as a whole is what refers to the boxes).

No-target expressions ("the cat" where there is no cat) are an ``images`` entry with no
annotations, and their phrase span in ``tokens_negative`` (Flickr30k-entities/MDETR use
``tokens_negative`` for phrases with no box); expressions with boxes have ``tokens_negative: []``.

Extra fields trainers ignore but the importer reads back for a lossless round trip: on images
``image_state``; on annotations ``state``, ``source``, ``score``, ``model_version``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from .export_common import (
    ExportOptions,
    SelectedExpression,
    SelectedImage,
    StagedFiles,
    Ticker,
    box_extras,
    coco_annotation,
    info_block,
    phrase_span,
    write_coco_splits,
)

FORMAT = "coco-grounding"
DATASET_NAME = "grounding-desktop"


ALLOWS_NO_TARGET = True


def write(selected: Sequence[SelectedImage], out: Path, options: ExportOptions, staged: StagedFiles,
          ticker: Ticker) -> None:
    write_coco_splits(selected, out, options, staged, ticker, build, per_phrase=False)


def build(selected: Sequence[SelectedImage], categories: list[dict],
          category_id: Callable[[SelectedExpression], int], ticker: Ticker) -> dict[str, Any]:
    images: list[dict] = []
    annotations: list[dict] = []
    for si in selected:
        ticker.step()
        img = si.image
        for se in si.expressions:
            caption = se.text
            span = phrase_span(caption)
            expr_id = se.expression.id
            images.append({
                "id": expr_id, "file_name": img.path, "height": img.height, "width": img.width,
                "caption": caption, "original_id": img.id, "dataset_name": DATASET_NAME,
                "tokens_negative": [] if se.boxes else [span], "image_state": img.state.value,
            })
            cat = category_id(se)
            annotations.extend(coco_annotation(b, expr_id, cat, tokens_positive=[span], **box_extras(b))
                               for b in se.boxes)
    return {"info": info_block(FORMAT), "licenses": [], "images": images, "annotations": annotations,
            "categories": categories}

