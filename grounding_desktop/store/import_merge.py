"""An import merged into what the project already has (``store.imports``), in one transaction,
with its report (the same work rolled back for a dry run)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

from ..core import Box, BoxState, phrase_key
from .categories import adopt_categories
from .images import sync_image_state
from .phrases import insert_expression, phrases_with_boxes
from .project_file import Part
from .rows import BOX_INSERT, box_values, enum_value, require


class _DryRun(Exception):
    """Raised at the end of a dry-run transaction so that it rolls back."""


@dataclass
class MergeReport:
    """What ``store.imports.merge_phrases`` did (or, in a dry run, would have done)."""

    phrases_added: int = 0
    boxes_added: int = 0
    proposals_promoted: int = 0
    duplicates: int = 0  # phrases that were already in the project with these boxes
    reviewed: int = 0  # images newly marked reviewed
    categories_adopted: int = 0  # the file's categories taken with their ids


class Imports(Part):
    """``store.imports``: an import merged in."""

    def merge_phrases(self, items: Iterable[tuple[int, str, Sequence[Box], Sequence[Sequence[int]]]],
                      reviewed: Iterable[int] = (), dry_run: bool = False,
                      categories: Optional[Mapping[str, int]] = None) -> MergeReport:
        """Add imported ``(image_id, text, boxes, spans)`` to what the project already has, in ONE write
        transaction that also does the duplicate check, so two imports of one file at once cannot
        both find it new. A phrase joins the image's phrase ``core.phrase_joined`` names
        (case and spacing ignored, as everywhere: "The Dog" joins "the dog"); its boxes are matched
        by coordinates:

        - a box the phrase already has in the same state is left alone;
        - a box equal to one of its proposals, imported as a label (accepted or rejected), promotes
          that proposal to the imported state (the project's own labels are never changed);
        - any other box is added to the phrase; a phrase the image does not have is added whole,
          with its ``spans`` (with no box: a no-target phrase, as import files write them);
        - a box added or promoted that is not rejected takes back the "not in this image" the
          phrase had (a phrase with such a box is never that);
        - a phrase with nothing to add or promote is a duplicate (a no-target phrase too).

        Then the images in ``reviewed`` are marked reviewed, and the file's ``categories`` (category
        key -> the file's id) become the project's where it has neither the name nor the id
        (``adopt_categories``). With ``dry_run`` the same work is done and rolled back, so the
        report says exactly what an import would do."""
        report = MergeReport()
        now = time.time()
        try:
            with self._file.transaction() as c:
                known: dict[int, dict[str, tuple[int, dict[tuple, tuple[int, str]]]]] = {}
                touched: set[int] = set()
                for image_id, text, boxes, spans in items:
                    phrases = known.get(image_id)
                    if phrases is None:
                        require(c, "images", image_id)
                        phrases = known[image_id] = phrases_with_boxes(c, image_id)
                    key = phrase_key(text)
                    match = phrases.get(key)
                    if match is None:
                        expr_id = insert_expression(c, image_id, text, now, no_target=not boxes, spans=spans)
                        match = phrases[key] = (expr_id, {})
                        report.phrases_added += 1
                        changed = True
                    else:
                        changed = False
                    expr_id, by_coords = match
                    for b in boxes:
                        coords = tuple(float(v) for v in b.bbox)
                        state = enum_value(b.state)
                        have = by_coords.get(coords)
                        if have is None:
                            box_id = c.execute(BOX_INSERT, box_values(expr_id, b)).lastrowid
                            by_coords[coords] = (box_id, state)
                            report.boxes_added += 1
                            changed = True
                        elif have[1] == BoxState.PROPOSED.value and state != BoxState.PROPOSED.value:
                            c.execute("UPDATE boxes SET state=? WHERE id=?", (state, have[0]))
                            by_coords[coords] = (have[0], state)
                            report.proposals_promoted += 1
                            changed = True
                        else:
                            continue
                        if state != BoxState.REJECTED.value:  # a phrase with a box is not "not in image"
                            c.execute("UPDATE expressions SET no_target=0, absent_before=1 "
                                      "WHERE id=? AND no_target=1", (expr_id,))
                    if changed:
                        touched.add(image_id)
                    else:
                        report.duplicates += 1
                for image_id in touched:
                    sync_image_state(c, image_id)
                for image_id in set(reviewed):
                    require(c, "images", image_id)
                    report.reviewed += c.execute("UPDATE images SET state='reviewed' WHERE id=? AND state!='reviewed'",
                                                 (image_id,)).rowcount
                report.categories_adopted = adopt_categories(c, categories or {}, now)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        return report
