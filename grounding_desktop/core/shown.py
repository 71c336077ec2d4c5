"""How a value read from a file is shown in a message: bounded, whatever the file holds."""
from __future__ import annotations

from typing import Any

_SCALARS = (type(None), bool, int, float, str)


def shown(v: Any, limit: int = 40) -> str:
    """A value read from a file as a problem line shows it, bounded whatever it holds: a number or
    a string (cut to ``limit`` characters), a short flat list of those; anything else by its type
    and length only. A pickle can hold a list of 2**40 leaves in a few hundred bytes, or one
    nested 100,000 deep, and Python refuses to print an integer of over 4300 digits: none of them
    is ever turned into text."""
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 64:
        return f"a {v.bit_length()}-bit integer"
    if isinstance(v, str):
        return repr(v[:limit]) + ("..." if len(v) > limit else "")
    if isinstance(v, _SCALARS):
        return repr(v)
    if isinstance(v, (list, tuple)) and len(v) <= 8 and all(isinstance(x, _SCALARS) for x in v):
        return "[" + ", ".join(shown(x, 20) for x in v) + "]"
    if isinstance(v, (list, tuple, dict)):
        return f"a {type(v).__name__} of {len(v)} item{'' if len(v) == 1 else 's'}"
    return f"a {type(v).__name__}"
