"""Rules for what counts as a usable phrase, shared by the GUI, the CLI and the importers."""
from __future__ import annotations

import re
from typing import Callable, Iterable, Optional, TypeVar

MAX_PHRASE_CHARS = 500
# Control characters that are not whitespace (NUL, ESC, DEL, C1): drawn as boxes, never meant.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f]")
# Invisible format characters that change nothing a person reads but make "\ufeffthe cup" a
# second phrase beside "the cup": a byte-order mark (often leading a pasted or imported line),
# zero-width space, word joiner, soft hyphen, and the bidirectional marks and overrides.
# Zero-width (non-)joiners stay: Persian, Indic scripts and emoji sequences need them.
_INVISIBLE = re.compile(r"[\ufeff\u200b\u2060\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A lone surrogate (JSON "\ud800") is a Python str no file or database can encode as UTF-8.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Words that name nothing on their own: a phrase made only of them ("the", "a of") is refused.
STOP_WORDS = frozenset("""
    a an the this that these those some any of in on at to for with by from into onto
    over under and or but nor not as is are was were be
""".split())
_WORD = re.compile(r"\w+")


class PhraseError(ValueError):
    """A phrase the tool refuses, with a message meant for the user."""


class NamesNothing(PhraseError):
    """A phrase made only of :data:`STOP_WORDS` ("the", "a of"): refused when typed or given to a
    command; skipped and counted by an import (datasets hold a stray "the" among good captions)."""


def phrase_key(text: str) -> str:
    """What makes two phrases the same label: case and spacing ignored ("The  cat" == "the cat").

    Exports group phrases into categories by it, label maps are looked up by it, and the project's
    category ids are kept by it."""
    return " ".join(str(text).lower().split())


T = TypeVar("T")


def phrase_joined(text: str, phrases: Iterable[T], text_of: Callable[[T], str] = lambda e: e.text) -> Optional[T]:
    """THE rule of which phrase of an image ``text`` joins: the first (oldest) of the image's
    ``phrases`` (given in creation order) with the same :func:`phrase_key` (case and spacing
    ignored: "The  Dog" joins "the dog"); None: the text makes a new phrase. A box typed, drawn,
    accepted, relabelled, proposed or imported for ``text`` goes there, and a phrase renamed onto
    it merges into it. ``store.phrases.phrases_with_boxes`` indexes an image's phrases by the same rule."""
    key = phrase_key(text)
    return next((p for p in phrases if phrase_key(text_of(p)) == key), None)


def has_control_chars(text: str) -> bool:
    """Whether :func:`clean_phrase` would remove control or invisible characters from ``text``."""
    return _CONTROL.search(text) is not None or _INVISIBLE.search(text) is not None


def require_text(text: str) -> str:
    """``text`` unchanged if UTF-8 can hold it and it has no control characters; else PhraseError."""
    if _SURROGATE.search(text):
        raise PhraseError("not valid Unicode text (it holds a lone surrogate such as \\ud800)")
    if _CONTROL.search(text):
        raise PhraseError("it holds control characters")
    return text


def clean_phrase(text: str) -> str:
    """The one rule for every way a phrase enters (typed in the app, ``-p``, a phrases file, an
    import): control characters become spaces, invisible ones (:data:`_INVISIBLE`: a BOM, a
    zero-width space) are dropped, whitespace is collapsed; empty, absurdly long, invalid (lone
    surrogate) phrases and phrases made only of :data:`STOP_WORDS` are refused."""
    if text is None:
        raise PhraseError("the phrase is empty")
    text = str(text)
    if _SURROGATE.search(text):
        raise PhraseError("the phrase is not valid Unicode text (it holds a lone surrogate such as \\ud800)")
    cleaned = " ".join(_CONTROL.sub(" ", _INVISIBLE.sub("", text)).split())
    if not cleaned:
        raise PhraseError("the phrase is empty")
    if len(cleaned) > MAX_PHRASE_CHARS:
        raise PhraseError(
            f"the phrase is {len(cleaned)} characters long; at most {MAX_PHRASE_CHARS} are allowed"
        )
    if not any(ch.isalnum() for ch in cleaned):
        raise PhraseError("the phrase has no letters or digits")
    if all(w in STOP_WORDS for w in _WORD.findall(cleaned.lower())):
        raise NamesNothing(f"the phrase {cleaned[:40]!r} names nothing: it has only words like 'the' and 'of'")
    return cleaned
