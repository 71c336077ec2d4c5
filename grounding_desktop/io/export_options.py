"""What an export is asked to do: ``ExportOptions``, the options declared once (``EXPORT_OPTIONS``:
the CLI's arguments and the Export dialog's widgets are made from them) and the parsing of those
the CLI and the GUI take as text."""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from ..core import PhraseError, phrase_key, require_text
from .errors import ExportError, ImportFileError
from .import_files import MAX_FILE_BYTES, parse_json, read_text
from .option_spec import OptionKind, OptionSpec, parsed_values


@dataclass(frozen=True)
class ExportOptions:
    """What to export.

    ``splits``: relative weights for train, val (and test), e.g. (80, 10, 10).
    ``label_map``: normalised phrase (see :func:`core.phrase_key`) -> category name; its category
    ids follow the order in which categories first appear in it.
    ``with_images``: write a self-contained folder (annotations/ and upright copies in images/).
    ``dataset_name``: the ``dataset_name`` of COCO grounding entries (MDETR's refexp evaluator
    scores per name: ``refcoco``, ``refcoco+``, ``refcocog``).
    """

    reviewed_only: bool = False
    include_rejected: bool = False
    splits: Optional[tuple[float, ...]] = None
    label_map: Optional[Mapping[str, str]] = None
    with_images: bool = False
    dataset_name: Optional[str] = None


_WEIGHT = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")  # plain ASCII decimals: no sign, exponent, "_" or other digits


def parse_splits(text: str) -> tuple[float, ...]:
    """``"80,10,10"`` -> (80.0, 10.0, 10.0); two or three plain decimal weights (ASCII digits and
    one point: no ``1e308``, ``1_0``, ``inf`` or Arabic-Indic digits), with a finite sum above 0."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) not in (2, 3):
        raise ExportError(f"--splits takes two or three weights (train,val[,test]), got {len(parts)}: {text!r}")
    if not all(_WEIGHT.fullmatch(p) for p in parts):
        raise ExportError(f"--splits weights are plain numbers like 80,10,10, got {text!r}")
    weights = tuple(float(p) for p in parts)
    if not 0 < sum(weights) < math.inf:
        raise ExportError(f"--splits weights must not be all zero and must add up to a finite number, got {text!r}")
    return weights


def normalise_label_map(raw: Mapping, source: str = "the label map") -> dict[str, str]:
    """Keys by :func:`phrase_key` (lookups ignore case and spacing), values stripped; every key and
    value must be text a file can hold (no lone surrogates, no control characters)."""
    if not isinstance(raw, Mapping) or not raw:
        raise ExportError(f"{source}: a label map must be a non-empty JSON object mapping phrase to category name")
    out: dict[str, str] = {}
    for key, value in raw.items():
        try:
            if not isinstance(value, str):
                raise PhraseError(f"the category must be a non-empty string, got {value!r}")
            require_text(key)
            category = require_text(value).strip()
            if not category or not phrase_key(key):
                raise PhraseError(f"the category must be a non-empty string, got {value!r}")
        except PhraseError as exc:
            raise ExportError(f"{source}: entry {key!r}: {exc}") from None
        out[phrase_key(key)] = category
    return out


def load_label_map(value: os.PathLike | str, max_bytes: int = MAX_FILE_BYTES) -> dict[str, str]:
    """A JSON object ``{"phrase": "category", ...}`` (see :func:`normalise_label_map`): given
    inline when the text starts with ``{``, else the JSON file it names, read as imports read
    theirs (within ``max_bytes``; ``/dev/zero`` is refused at its first byte)."""
    inline = isinstance(value, str) and value.lstrip().startswith("{")
    source = "--label-map" if inline else str(value)
    try:
        raw = parse_json(value if inline else read_text(value, max_bytes, raise_it=""), source)
    except ImportFileError as exc:
        raise ExportError(f"label map: {exc}") from None
    return normalise_label_map(raw, source)


EXPORT_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("with_images", "--with-images", "Self-contained folder: annotations/ and upright image copies",
               "write a self-contained folder: OUT/annotations/<name>_<split>.json and the images in "
               "OUT/images/<split>/, EXIF-rotated ones turned upright (trainers ignore EXIF)"),
    OptionSpec("reviewed_only", "--reviewed-only", "Only images marked reviewed", "only images marked reviewed"),
    OptionSpec("include_rejected", "--include-rejected", "Include rejected boxes (tagged \"state\": \"rejected\")",
               "also write rejected boxes, tagged \"grounding_desktop\": {\"state\": \"rejected\"} (for hard "
               "negatives or a full backup; trainers that ignore the tag read them as positives; not odvg)"),
    OptionSpec("splits", "--splits", "Splits",
               "split images by a hash of their path, e.g. 80,10,10 (refcoco: the refs' split field)",
               OptionKind.TEXT, "TRAIN,VAL[,TEST]", "e.g. 80,10,10 for train/val/test; empty for one file",
               parse_splits),
    OptionSpec("label_map", "--label-map", "Label map",
               "JSON object phrase -> category name, inline ('{\"the cup\": \"cup\"}') or a file; phrases not in "
               "it are skipped; category ids follow "
               "the map's order. For odvg it switches to detection records and writes <out>_label_map.json",
               OptionKind.FILE, "JSON", "optional JSON {\"phrase\": \"category\"}", load_label_map),
    OptionSpec("dataset_name", "--dataset-name", "Dataset name",
               "coco-grounding: the images' dataset_name (default grounding-desktop; refcoco, refcoco+ or "
               "refcocog for MDETR's refexp evaluator, which scores only those names and then needs one box "
               "per phrase: no-target and plural phrases are skipped)",
               OptionKind.TEXT, "NAME", "grounding-desktop; refcoco, refcoco+, refcocog for MDETR's refexp evaluator"),
)


def export_options(raw: Mapping[str, Any]) -> ExportOptions:
    """``ExportOptions`` from the values of ``EXPORT_OPTIONS`` by field (``option_spec.parsed_values``):
    the CLI's parsed arguments or the Export dialog's widgets. Raises :class:`ExportError`."""
    return ExportOptions(**parsed_values(EXPORT_OPTIONS, raw))
