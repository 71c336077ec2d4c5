"""Domain model and rules. Pure Python: never imports Qt, torch, or other layers of this package."""
from .geometry import (
    area_xywh,
    clamp_point,
    clamp_xywh,
    iou_xywh,
    keep_inside,
    normalize_xywh,
    denormalize_xywh,
    xywh_to_xyxy,
    xyxy_to_xywh,
)
from .model import (Box, BoxSource, BoxState, Expression, ImageReadError, ImageRecord, ImageState, PhraseStatus,
                    ScanEntry, phrase_status)
from .proposal import Proposal
from .errors import short_error
from .grounder import Grounder, GrounderFactory
from .phrase import (MAX_PHRASE_CHARS, NamesNothing, PhraseError, clean_phrase, has_control_chars, phrase_joined,
                     phrase_key, require_text)
from .phrase_parse import GENERIC_CLASS, head_noun
from .paths import DB_FILENAME, PROJECT_DIRNAME, display_path, natural_path_key
from .shown import shown

__all__ = [
    "area_xywh", "clamp_point", "clamp_xywh", "iou_xywh", "keep_inside", "normalize_xywh", "denormalize_xywh",
    "xywh_to_xyxy", "xyxy_to_xywh",
    "Box", "BoxSource", "BoxState", "Expression", "ImageReadError", "ImageRecord", "ImageState", "PhraseStatus",
    "ScanEntry", "phrase_status",
    "MAX_PHRASE_CHARS", "NamesNothing", "PhraseError", "clean_phrase", "has_control_chars", "phrase_joined", "phrase_key",
    "require_text", "GENERIC_CLASS", "head_noun", "Proposal",
    "Grounder", "GrounderFactory",
    "DB_FILENAME", "PROJECT_DIRNAME", "display_path", "natural_path_key", "short_error", "shown",
]
