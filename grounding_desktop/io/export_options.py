"""What an export is asked to do, and the parsing of the options the CLI and the GUI take as text."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from ..core import PhraseError, phrase_key, require_text
from .errors import ExportError


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


def load_label_map(path: os.PathLike | str) -> dict[str, str]:
    """Read a JSON object ``{"phrase": "category", ...}`` (see :func:`normalise_label_map`)."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"label map not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ExportError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"cannot read label map {path}: {exc}") from None
    except (ValueError, RecursionError) as exc:  # a number over Python's digit limit, absurd nesting
        raise ExportError(f"{path}: not a usable JSON file: {exc}") from None
    return normalise_label_map(raw, str(path))
