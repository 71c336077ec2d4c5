"""Opening a folder as a project: the store plus a scan. Every CLI command opens its project with
``open_project``; the GUI opens the store at once and runs ``rescan_project`` in the background, so
the window shows what the database knows before the scan is done."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional

from .io.scan import scan_folder
from .store import ProjectStore
from .store.scan_sync import ScanReport


def open_project(
    folder: os.PathLike | str,
    db: os.PathLike | str | None = None,
    rescan: bool = True,
    progress: Optional[Callable[[int, int], None]] = None,
) -> tuple[ProjectStore, Optional[ScanReport]]:
    """Open (creating if needed) the project of ``folder`` and sync it with the files on disk.

    Raises ``store.StoreError`` with a user-facing message for a missing folder, an unwritable
    database location, or a busy, full or damaged database (and then leaves nothing open).
    """
    store = ProjectStore.open_folder(folder, db)
    try:
        report = rescan_project(store, progress) if rescan else None
    except BaseException:
        store.close()
        raise
    return store, report


def rescan_project(store: ProjectStore, progress: Optional[Callable[[int, int], None]] = None) -> ScanReport:
    entries = scan_folder(Path(store.root), store.images.by_path(), progress)
    return store.images.apply_scan(entries)
