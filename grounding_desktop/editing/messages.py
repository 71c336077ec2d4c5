"""What the document says to the person: the phrase bar's line (text and tone) and the status
bar's notices, for the labels document, the query session and the rules between them. A key is
named only through ``keys.key(action)``, so a rebound key is named right (no module of ``editing``
or ``ui`` writes a key's name: ``tests/unit/test_architecture.py`` checks)."""
from __future__ import annotations

from typing import Sequence

from .keys import key
from .state import Tone

Line = tuple[str, Tone]  # the phrase bar's line
STANDS_OUT = 2.0  # the best proposal stands out when it scores at least this many times the next

# -- the query: what happens to the phrase typed ------------------------------------------------
CLEARED: Line = ("", Tone.NORMAL)
HINT_SET: Line = ("Hint point set: now type what is there.", Tone.NORMAL)
UNREADABLE: Line = ("This image cannot be read, so the model cannot look at it.", Tone.ERROR)
MODEL_LOADING: Line = ("Model loading… proposals will follow.", Tone.BUSY)
WILL_ACCEPT: Line = ("Will accept when the proposals arrive…", Tone.BUSY)
ALL_STORED: Line = ("Every proposal is already stored for this phrase.", Tone.GOOD)


def phrase_error(exc: Exception) -> Line:
    text = str(exc)
    return f"{text[0].upper()}{text[1:]}.", Tone.ERROR


def model_unavailable() -> Line:
    return f"Model unavailable: draw boxes yourself ({key('draw_mode')}).", Tone.ERROR


def looking_for(phrase: str) -> Line:
    return f"Looking for “{phrase}”…", Tone.BUSY


def model_failed_on_image(error: str) -> Line:
    return f"The model failed on this image: {error}", Tone.ERROR


def no_highlight() -> Line:
    return f"No proposal is highlighted: {key('next_proposal')} picks one.", Tone.NORMAL


def answer(phrase: str, answered: int, scores: Sequence[float], threshold: float, plural: bool) -> Line:
    """The line an answer gets: ``answered`` proposals came for ``phrase``, ``scores`` are those of
    the ones shown (the others are stored already)."""
    n = len(scores)
    if not answered:
        return (f"No match for “{phrase}”: draw it ({key('draw_mode')}) or {key('accept_none')} for "
                "“not in image”."), Tone.NORMAL
    if n == 0:
        return ALL_STORED
    best, *others = sorted(scores, reverse=True)
    if best < threshold:
        # What the scores say, never a verdict: the model's numbers are relative, so a right
        # box may score under the threshold; whether it stands out of the others is known.
        if not others or best >= STANDS_OUT * others[0]:
            ahead = f", far ahead of the next ({others[0]:.2f})" if others else ""
            return f"Best match {best:.2f}{ahead} · {key('accept')} accepts · {key('next_proposal')} next", Tone.NORMAL
        return (f"The best matches score alike ({best:.2f}, {others[0]:.2f}): {key('next_proposal')} to "
                f"compare, {key('accept')} accepts, {key('accept_none')}: not in image."), Tone.NORMAL
    if plural:
        return f"{n} proposals · plural: {key('accept_all')} accepts all ≥ threshold", Tone.GOOD
    return f"{n} proposal{'s' if n != 1 else ''} · {key('accept')} accepts · {key('next_proposal')} next", Tone.GOOD


# -- taking proposals into the labels -------------------------------------------------------------
TYPE_FIRST: Line = ("Type the phrase first.", Tone.ERROR)


def not_accepted_unseen(best: float, threshold: float) -> Line:
    return (f"Nothing was accepted before you saw it (best {best:.2f}, under the {threshold:.2f} threshold): "
            f"{key('accept')} accepts it, {key('next_proposal')} shows the others."), Tone.NORMAL


def duplicate_box(phrase: str, overlap: float) -> Line:
    return (f"“{phrase}” already has this box (overlap {overlap:.2f}): {key('next_proposal')} to another "
            "proposal, or correct the box itself."), Tone.ERROR


def second_box(phrase: str, boxes: int) -> str:
    return f"“{phrase}” now has {boxes} boxes; a phrase for several things reads best in the plural (“the cups”)."


def nothing_confident(threshold: float) -> Line:
    return f"No proposal scores ≥ {threshold:.2f}; {key('accept')} accepts the highlighted one.", Tone.ERROR


def already_stored(phrase: str) -> Line:
    return f"“{phrase}” is already stored for this image.", Tone.ERROR


def rejected_needs_box(phrase: str) -> Line:
    return (f"Rejected: “{phrase}” still needs a box. {key('next_proposal')} to another, {key('draw_mode')} to "
            f"draw it, {key('accept_none')} if it is not in the image."), Tone.NORMAL


# -- the labels: the status bar's notices ---------------------------------------------------------
NOTHING_TO_DELETE = "Select a box or a phrase to delete"
ALL_REVIEWED = "Every image in the list is reviewed."


def history_cleared(what: str) -> str:
    return f"{what}; the undo history was cleared (the edits stay saved)"


def phrase_refused(exc: Exception) -> str:
    return f"Phrase refused: {exc}"


def not_merged(target: str, source: str) -> str:
    return (f"Not merged: “{target}” has a box here and “{source}” says it is not in the image; "
            "delete the one that is wrong.")


def merged(source: str, target: str) -> str:
    return f"“{source}” merged into “{target}”, which this image already has."
