"""COCO, grounding flavour (MDETR / GLIP ``ModulatedDetection`` / ``MixedDetection`` files).

One ``images`` entry per (image, phrase): ``id`` is the phrase's id (unique and stable across
exports), ``original_id`` the project image id, ``caption`` the phrase exactly as typed,
``file_name`` relative to the project root (or to ``images/<split>`` with ``--with-images``),
``data_source: "coco"`` (MDETR's and GLIP's mixed loaders pick the image root by it) and
``dataset_name`` (``--dataset-name``; MDETR's refexp evaluator scores per ``refcoco``,
``refcoco+``, ``refcocog``, and then needs exactly one box per entry, so no-target and plural
phrases are skipped, counted). Without ``--dataset-name`` it is ``grounding-desktop``, chosen over
picking ``refcoco`` when every phrase has one box: the name says which benchmark's protocol the
entries follow, and one plural phrase added later would silently rename the whole dataset. MDETR's
``RefExpEvaluator`` fails on it (``KeyError: 'grounding-desktop'``), so the summary notes which
``--dataset-name`` it needs and how many phrases that would leave out (``notes``); MDETR's and
GLIP's training loaders read any name. Every box of the phrase is one annotation whose ``tokens_positive``
is ``[[start, end]]``, the span of the whole phrase, so ``caption[start:end]`` is exactly the
phrase; or, for a phrase imported from a file that marked only its head words (MDETR's referring
expressions: "the red bicycle" -> "bicycle"), those spans, as the file gave them.

No-target phrases ("the cat" where there is no cat) are an ``images`` entry with no annotations,
and their span in ``tokens_negative`` (Flickr30k-entities/MDETR use ``tokens_negative`` for phrases
with no box); phrases with boxes have ``tokens_negative: []``.

Our own fields, under ``"grounding_desktop"``: on images ``image_state``; on annotations
``state``, ``source``, ``score``, ``model_version``.
"""
from __future__ import annotations

from typing import Any, Sequence

from .coco_common import OWN_KEY, Categories, coco_annotation, coco_splits_writer, info_block, own_fields
from .export_options import ExportOptions
from .progress import Ticker
from .selection import SelectedImage, SelectionRules

FORMAT = "coco-grounding"
LAYOUT_NAME, SUFFIX = "grounding", ".json"
PER_PHRASE_CATEGORIES = False
DATASET_NAME = "grounding-desktop"
DATA_SOURCE = "coco"
REFEXP_DATASET_NAMES = ("refcoco", "refcoco+", "refcocog")
_ONE_BOX = "MDETR's refexp evaluator needs exactly one box per phrase"


def rules(options: ExportOptions) -> SelectionRules:
    if options.dataset_name in REFEXP_DATASET_NAMES:
        return SelectionRules(no_target=False, no_target_reason=f"no-target phrase ({_ONE_BOX})",
                              plural=False, plural_reason=f"plural phrase ({_ONE_BOX})")
    return SelectionRules()


def notes(selected: Sequence[SelectedImage], options: ExportOptions) -> list[str]:
    """Without ``--dataset-name``: which evaluator needs it, and what it would leave out here."""
    if options.dataset_name is not None:
        return []
    off = sum(1 for si in selected for sp in si.phrases if len(sp.boxes) != 1)
    fit = ("every phrase here has one box, so none would be left out" if not off else
           f"{off} phrase{'s' if off != 1 else ''} here without exactly one box would be left out")
    return [f"dataset_name is {DATASET_NAME!r}: MDETR's RefExpEvaluator scores only "
            f"{', '.join(REFEXP_DATASET_NAMES)} and fails (KeyError) on any other name; to evaluate with it, "
            f"export with --dataset-name refcoco ({fit}). MDETR's and GLIP's training loaders read any name."]


def build(selected: Sequence[SelectedImage], categories: Categories, options: ExportOptions,
          ticker: Ticker) -> dict[str, Any]:
    dataset_name = options.dataset_name or DATASET_NAME
    images: list[dict] = []
    annotations: list[dict] = []
    for si in selected:
        ticker.step()
        img = si.image
        own_image = {"image_state": img.state.value}
        for sp in si.phrases:
            phrase_id = sp.expression.id
            spans = sp.expression.positive_spans()  # the phrase's words that name its boxes
            images.append({
                "id": phrase_id, "file_name": img.path, "height": img.height, "width": img.width,
                "caption": sp.text, "original_id": img.id, "dataset_name": dataset_name,
                "data_source": DATA_SOURCE, "tokens_negative": [] if sp.boxes else spans, OWN_KEY: own_image,
            })
            cat = categories.id_of(sp)
            annotations.extend(coco_annotation(b, phrase_id, cat, tokens_positive=spans, **{OWN_KEY: own_fields(b)})
                               for b in sp.boxes)
    return {"info": info_block(FORMAT), "licenses": [], "images": images, "annotations": annotations,
            "categories": categories.coco()}


write = coco_splits_writer(build)
