"""What a user's ONNX detector says about itself, checked before anything is allocated for it: the
sidecar ``FILE.yaml`` beside ``FILE.onnx`` (keys in ``onnx_detector``'s docstring and
``models/README.md``), the input size of the model and of its metadata, and its class names (the
sidecar's, the metadata's or a ``--detector-classes`` file's).

The sidecar is YAML read by PyYAML's safe loader with aliases refused (a ``&a [*b, *b, ...]``
chain is 9**9 names in a few lines) and nesting bounded (5000 ``[`` deep would exhaust Python's
recursion); each value is checked for its type and range (``pad_value: 300``, ``letterbox:
maybe``, ``stride: 1.5`` are refused, not coerced). Input sides and strides are bounded so that no
sidecar or model can ask for a 100,000-pixel-wide tensor. Every refusal is a ``ModelFileError``:
one line naming the file and the key.
"""
from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from ...core import shown
from .onnx_runtime import ModelFileError
from .yolo_layouts import BOX_FORMATS, LAYOUTS

MAX_INPUT_SIDE = 8192  # pixels a side of the model's input; 4x Ultralytics' largest usual imgsz (1280)
MAX_STRIDE = 256  # YOLO strides are 32 or 64
MAX_CLASSES = 100_000  # class ids run 0..MAX_CLASSES - 1 (ImageNet-21k has 21,841)
MAX_TEXT_BYTES = 8 << 20  # a sidecar, a class file or a metadata string: MAX_CLASSES names fit
MAX_NESTING = 8  # YAML collections within collections (``names`` is two deep)


def sidecar_path(model: Path) -> Optional[Path]:
    """``FILE.yaml`` (or ``.yml``) beside ``FILE.onnx``, if there is one."""
    for suffix in (".yaml", ".yml"):
        candidate = model.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


class _SidecarLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses aliases and collections nested over :data:`MAX_NESTING`."""

    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a sidecar",
                                              self.peek_event().start_mark)
        if self.depth >= MAX_NESTING:
            raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_NESTING} deep",
                                              self.peek_event().start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _whole(lo: int, hi: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"a whole number from {lo} to {hi}")
        return value
    return check


def _number(positive: bool = False, at_most: Optional[float] = None) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("a number")
        try:
            v = float(value)
        except OverflowError:
            v = math.inf
        if not math.isfinite(v) or (positive and v <= 0) or (at_most is not None and v > at_most):
            raise ValueError("a finite number" + (" above 0" if positive else "")
                             + (f" and at most {at_most:g}" if at_most is not None else ""))
        return v
    return check


def _one_of(*choices: Any) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, str):
            value = value.lower()
        if not any(value is c or (isinstance(c, str) and value == c) for c in choices):
            raise ValueError("one of " + ", ".join(str(c).lower() for c in choices))
        return value
    return check


def _channels(positive: bool) -> Callable[[Any], list[float]]:
    number = _number(positive)

    def check(value: Any) -> list[float]:
        values = value if isinstance(value, list) else [value]
        if len(values) not in (1, 3):
            raise ValueError("a number or a list of 1 or 3 numbers")
        return [number(v) for v in values]
    return check


def checked_input_size(value: Any) -> tuple[int, int]:
    """``640`` or ``[480, 640]`` (H, W) -> (H, W), each side 1..:data:`MAX_INPUT_SIDE`."""
    side = _whole(1, MAX_INPUT_SIDE)
    pair = value if isinstance(value, (list, tuple)) else [value, value]
    if len(pair) != 2:
        raise ValueError(f"[height, width], each a whole number from 1 to {MAX_INPUT_SIDE}")
    try:
        return side(pair[0]), side(pair[1])
    except ValueError:
        raise ValueError(f"[height, width], each a whole number from 1 to {MAX_INPUT_SIDE}") from None


def class_names(value: Any) -> dict[int, str]:
    """``names`` as a list or ``{id: name}`` mapping -> {id: name}, ids 0..:data:`MAX_CLASSES` - 1,
    each name a string or a number; ValueError saying what it must be."""
    if isinstance(value, (list, tuple)):
        value = dict(enumerate(value))
    if not isinstance(value, dict) or not value:
        raise ValueError("a list of class names or an {id: name} mapping")
    names = {}
    for k, v in value.items():
        if isinstance(k, str) and k.isascii() and k.isdigit() and len(k) <= 6:  # {"0": person}
            k = int(k)
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < MAX_CLASSES:
            raise ValueError(f"a mapping of class ids from 0 to {MAX_CLASSES - 1} to names (not id {shown(k)})")
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise ValueError(f"a list of class names, each a string (not {shown(v)} for class {k})")
        names[k] = str(v).strip()
    return names


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "input_size": checked_input_size,
    "letterbox": _one_of(True, False),
    "pad_value": _whole(0, 255),
    "channel_order": _one_of("rgb", "bgr"),
    "scale": _number(positive=True),
    "mean": _channels(positive=False),
    "std": _channels(positive=True),
    "layout": _one_of(*LAYOUTS),
    "box_format": _one_of(*BOX_FORMATS),
    "normalized": _one_of("auto", True, False),
    "nms_iou": _number(positive=True, at_most=1.0),
    "names": class_names,
    "stride": _whole(1, MAX_STRIDE),
}
SIDECAR_KEYS = tuple(_CHECKS)


def _read_text(path: Path, what: str) -> str:
    """The file as UTF-8 text, refused over :data:`MAX_TEXT_BYTES` (``/dev/zero`` included)."""
    with open(path, "rb") as f:
        raw = f.read(MAX_TEXT_BYTES + 1)
    if len(raw) > MAX_TEXT_BYTES:
        raise ModelFileError(f"{path}: a {what} is a few lines, this one is over {MAX_TEXT_BYTES >> 20} MB")
    return raw.decode("utf-8")


def read_class_file(path: Path) -> dict[int, str]:
    """Class names, one a line (line k names label k; split on newlines only); trailing blank lines
    are ignored."""
    try:
        lines = _read_text(path, "class file").split("\n")
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such class file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: unreadable class file ({exc})") from None
    names = [line.strip() for line in lines]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise ModelFileError(f"{path}: the class file is empty (one class name a line)")
    if "" in names:
        raise ModelFileError(f"{path}: line {names.index('') + 1} is empty (line k names label k)")
    if len(names) > MAX_CLASSES:
        raise ModelFileError(f"{path}: {len(names)} class names, over the {MAX_CLASSES} a detector may have")
    return dict(enumerate(names))


def read_sidecar(path: Optional[Path]) -> dict[str, Any]:
    """The sidecar's settings, each checked (``input_size`` as (H, W), ``names`` as {id: name},
    ``mean``/``std`` as lists); {} without a sidecar."""
    if path is None:
        return {}
    try:
        data = yaml.load(_read_text(path, "sidecar"), Loader=_SidecarLoader) or {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ModelFileError(f"{path}: unreadable sidecar ({exc.problem or exc.context}{at})") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelFileError(f"{path}: unreadable sidecar ({' '.join(str(exc).split())[:200]})") from None
    except ValueError:  # an integer over Python's 4300 digits
        raise ModelFileError(f"{path}: unreadable sidecar (a number of thousands of digits)") from None
    if not isinstance(data, dict):
        raise ModelFileError(f"{path}: a sidecar holds 'key: value' lines")
    unknown = sorted(str(k)[:40] for k in data if k not in _CHECKS)
    if unknown:
        raise ModelFileError(f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(SIDECAR_KEYS)})")
    checked = {}
    for key, value in data.items():
        try:
            checked[key] = _CHECKS[key](value)
        except ValueError as exc:
            seen = "" if isinstance(value, (list, dict)) else f", not {shown(value)}"
            raise ModelFileError(f"{path}: '{key}' must be {exc}{seen}") from None
    return checked


def metadata_setting(meta: dict[str, str], key: str, setting: str, where: str) -> Any:
    """The model metadata's ``key`` (a Python literal, as Ultralytics writes ``names``, ``imgsz``
    and ``stride``), checked as the sidecar's ``setting`` is."""
    text = meta[key]
    if len(text) > MAX_TEXT_BYTES:
        raise ModelFileError(f"{where}: metadata '{key}' is over {MAX_TEXT_BYTES >> 20} MB")
    try:
        return _CHECKS[setting](ast.literal_eval(text))
    except (SyntaxError, RecursionError, MemoryError, TypeError):
        raise ModelFileError(f"{where}: metadata '{key}' is not a Python literal") from None
    except ValueError as exc:
        raise ModelFileError(f"{where}: metadata '{key}' must be {exc}") from None
