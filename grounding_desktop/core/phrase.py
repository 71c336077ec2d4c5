"""Rules for what counts as a usable phrase, shared by the GUI, the CLI and the importers."""
from __future__ import annotations

import re

MAX_PHRASE_CHARS = 500
# Control characters that are not whitespace (NUL, ESC, DEL, C1): drawn as boxes, never meant.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f]")
# A lone surrogate (JSON "\ud800") is a Python str no file or database can encode as UTF-8.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class PhraseError(ValueError):
    """A phrase the tool refuses, with a message meant for the user."""


def phrase_key(text: str) -> str:
    """What makes two phrases the same label: case and spacing ignored ("The  cat" == "the cat").

    Exports group phrases into categories by it, label maps are looked up by it, and the project's
    category ids are kept by it."""
    return " ".join(str(text).lower().split())


def has_control_chars(text: str) -> bool:
    """Whether :func:`clean_phrase` would remove control characters from ``text``."""
    return _CONTROL.search(text) is not None


def require_text(text: str) -> str:
    """``text`` unchanged if UTF-8 can hold it and it has no control characters; else PhraseError."""
    if _SURROGATE.search(text):
        raise PhraseError("not valid Unicode text (it holds a lone surrogate such as \\ud800)")
    if _CONTROL.search(text):
        raise PhraseError("it holds control characters")
    return text


def clean_phrase(text: str) -> str:
    """Collapse whitespace, drop control characters, and refuse empty, absurdly long or invalid
    (lone surrogate) phrases."""
    if text is None:
        raise PhraseError("the phrase is empty")
    text = str(text)
    if _SURROGATE.search(text):
        raise PhraseError("the phrase is not valid Unicode text (it holds a lone surrogate such as \\ud800)")
    cleaned = " ".join(_CONTROL.sub(" ", text).split())
    if not cleaned:
        raise PhraseError("the phrase is empty")
    if len(cleaned) > MAX_PHRASE_CHARS:
        raise PhraseError(
            f"the phrase is {len(cleaned)} characters long; at most {MAX_PHRASE_CHARS} are allowed"
        )
    if not any(ch.isalnum() for ch in cleaned):
        raise PhraseError("the phrase has no letters or digits")
    return cleaned
