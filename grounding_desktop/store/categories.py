"""The project's export categories (``store.categories``): each name keeps the id it was first
given, or the id the file it was imported from gave it (``adopt_categories``)."""
from __future__ import annotations

import sqlite3
import time
from typing import Iterable, Mapping

from .problems import StoreBusyError
from .project_file import Part


def adopt_categories(c: sqlite3.Connection, ids: Mapping[str, int], now: float) -> int:
    """Take the categories of an imported file into the project's table: each name the project
    does not know yet keeps the file's id when no other name has it (a re-export then writes the
    same categories under the same ids). Returns how many were taken."""
    known = dict(c.execute("SELECT name, id FROM categories"))
    used = set(known.values())
    taken = 0
    for name, category_id in ids.items():
        if name in known or category_id in used:
            continue
        c.execute("INSERT INTO categories(id, name, created) VALUES (?, ?, ?)", (category_id, name, now))
        known[name] = category_id
        used.add(category_id)
        taken += 1
    return taken


class Categories(Part):
    """``store.categories``: the categories table."""

    def ids(self, names: Iterable[str]) -> dict[str, int]:
        """The project's id of each category name, giving new names the next free id (in the order
        given) in one transaction. A name keeps its id for the life of the project, so adding a
        phrase never renumbers the classes of the next export. Names are used as given: callers
        pass ``core.phrase_key`` forms or label-map category names.

        An export is a reader and never waits for another process's writer: known names only read,
        and when new names meet a write lock held elsewhere they get the ids they would be given
        next (after the highest id ever used), without keeping them this time."""
        wanted = list(dict.fromkeys(names))
        known = dict(self._file.read("SELECT name, id FROM categories"))
        if all(name in known for name in wanted):
            return {name: known[name] for name in wanted}
        try:
            with self._file.no_wait(), self._file.transaction() as c:
                known = dict(c.execute("SELECT name, id FROM categories"))
                now = time.time()
                for name in wanted:
                    if name not in known:
                        known[name] = c.execute("INSERT INTO categories(name, created) VALUES (?, ?)",
                                                (name, now)).lastrowid
        except StoreBusyError:
            used = self._file.read("SELECT seq FROM sqlite_sequence WHERE name='categories'")
            next_id = max([used[0][0] if used else 0, *known.values()]) + 1
            for name in wanted:
                if name not in known:
                    known[name], next_id = next_id, next_id + 1
        return {name: known[name] for name in wanted}
