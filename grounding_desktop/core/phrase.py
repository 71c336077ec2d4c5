"""Rules for what counts as a usable phrase, shared by the GUI, the CLI and the importers."""
from __future__ import annotations

MAX_PHRASE_CHARS = 500


class PhraseError(ValueError):
    """A phrase the tool refuses, with a message meant for the user."""


def phrase_key(text: str) -> str:
    """What makes two phrases the same label: case and spacing ignored ("The  cat" == "the cat").

    Exports group phrases into categories by it, label maps are looked up by it, and the project's
    category ids are kept by it."""
    return " ".join(str(text).lower().split())


def clean_phrase(text: str) -> str:
    """Collapse whitespace and refuse empty or absurdly long phrases."""
    if text is None:
        raise PhraseError("the phrase is empty")
    cleaned = " ".join(str(text).split())
    if not cleaned:
        raise PhraseError("the phrase is empty")
    if len(cleaned) > MAX_PHRASE_CHARS:
        raise PhraseError(
            f"the phrase is {len(cleaned)} characters long; at most {MAX_PHRASE_CHARS} are allowed"
        )
    if not any(ch.isalnum() for ch in cleaned):
        raise PhraseError("the phrase has no letters or digits")
    return cleaned
