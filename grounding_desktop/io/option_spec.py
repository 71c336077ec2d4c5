"""An option of an export or an import, declared once: the CLI makes its argument from it and the
File → Export…/Import… dialogs make their widget from it, so the app offers what the CLI does."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Mapping, Optional, Sequence


class OptionKind(Enum):
    FLAG = "flag"  # a switch: a CLI flag, a check box
    TEXT = "text"  # a value typed: a CLI argument, a line edit
    FILE = "file"  # a file to read: a line edit with Browse…


@dataclass(frozen=True)
class OptionSpec:
    """``field``: the name the value goes by (a keyword of the export's or import's options);
    ``flag``: the CLI's; ``label``: the dialog's; ``help``: the CLI's help and the dialog's
    tooltip; ``parse``: text to value (raising the io layer's one-line error)."""

    field: str
    flag: str
    label: str
    help: str
    kind: OptionKind = OptionKind.FLAG
    metavar: str = ""
    placeholder: str = ""
    parse: Optional[Callable[[str], Any]] = None


def parsed_values(specs: Sequence[OptionSpec], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The values of ``specs`` from ``raw`` (by field: a flag's truth, an option's text as typed or
    None), parsed; an option left empty is left out (its default holds)."""
    out: dict[str, Any] = {}
    for spec in specs:
        value = raw.get(spec.field)
        if spec.kind == OptionKind.FLAG:
            out[spec.field] = bool(value)
        elif value is not None and str(value).strip():
            out[spec.field] = spec.parse(str(value)) if spec.parse is not None else str(value)
    return out
