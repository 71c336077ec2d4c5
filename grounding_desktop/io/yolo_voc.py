"""What the YOLO and Pascal VOC exports share: they name classes, not phrases.

A phrase's class is the label map's category, or without one the phrase's head noun
(``core.head_noun``: "the horses on the left" -> "horse"). Each (image, class, box) is written
once, so two phrases for one object are one ground-truth box. Neither format can mark a box
rejected, so ``--include-rejected`` is refused; proposals never go out (``selection.py``). An
image whose phrases all say "not in the image", or a reviewed image with no phrase, is written
with no box: a background image, for every class.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..core import head_noun
from .coco_common import Categories
from .errors import ExportError
from .export_options import ExportOptions
from .selection import SelectedImage, SelectionRules

CLASSES_FROM = "the phrases' head nouns"
UNSPLIT = "train"  # the split of every image without --splits


def rules(fmt: str, options: ExportOptions) -> SelectionRules:
    if options.include_rejected:
        raise ExportError(f"{fmt} cannot mark a box as rejected (trainers would read it as an object); "
                          f"leave out --include-rejected, or use coco")
    return SelectionRules(one_box_per_category=True, category_of=head_noun, reviewed_background=True)


def categories(selected: Sequence[SelectedImage], options: ExportOptions) -> Categories:
    """The label map's categories in its order, else the head nouns of the phrases with a box, in
    alphabetical order (a class needs a box to be learnt; the round trip through an import, which
    reads classes from boxes, gives the same names back)."""
    if options.label_map is not None:
        names = list(dict.fromkeys(options.label_map.values()))
    else:
        names = sorted({sp.category for si in selected for sp in si.phrases if sp.boxes})
    return Categories({name: i for i, name in enumerate(names, 1)})


def split_of(si: SelectedImage) -> str:
    return si.split or UNSPLIT


def without_suffix(path: str) -> str:
    """``sub/a.jpg`` -> ``sub/a``: the name an image's annotation file takes."""
    return str(Path(path).with_suffix(""))


def refuse_shared(owner: dict[Path, str], target: Path, path: str) -> None:
    """Two images whose annotations would go to one file (``a.jpg`` and ``a.png``): refuse, naming them."""
    other = owner.setdefault(target, path)
    if other != path:
        raise ExportError(f"images {other} and {path} would share the annotation file {target.name}; "
                          f"rename one of them")
