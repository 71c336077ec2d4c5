"""The project database: ``ProjectStore``, the labels of one image folder in one SQLite file.
Every public method is one transaction, so a crash at any point leaves the last committed state
intact (WAL journal, synchronous=FULL); a full disk, a busy or a damaged database surface as
one-line ``StoreError``s.

``ProjectStore`` is the sum of its parts, each a class in a module named for what it holds, all
over ``project_file.ProjectFile`` (the file: connections, transactions, reads, its problems, meta):

- ``images``: the images, their state, and the rule that ties it to their phrases;
- ``scan_sync``: a folder scan synced with the images table (``ScanReport``);
- ``phrases`` and ``boxes``: the labels, read and edited (and put back by undo);
- ``import_merge``: an import merged in (``MergeReport``);
- ``proposals``: the model's proposals for many images at once (``ProposalBatch``), review by doubt;
- ``embeddings``: what the model learned from the boxes; ``categories``: the export class ids;
  ``counts``: the summary.

Parts the class inherits, not objects it delegates to: each method is written once, beside its
SQL, and the store's API is the union of the parts' methods, with no forwarding layer to keep in
step. The parts share no state but the file's; the column lists and row conversions they all use
are in ``rows``, and the row writes several parts make are functions of the module that owns the
table (``images.sync_image_state``, ``phrases.insert_expression``, ``boxes.insert_box``).
"""
from __future__ import annotations

import os
from pathlib import Path

from ..core import DB_FILENAME, PROJECT_DIRNAME
from .backup import keep_daily_backup
from .boxes import Boxes
from .categories import Categories
from .counts import Counts
from .embeddings import BoxEmbeddings
from .images import Images
from .import_merge import ImportMerge
from .phrases import Phrases
from .problems import StoreError
from .proposals import Proposals
from .scan_sync import ScanSync


def default_db_path(folder: os.PathLike | str) -> Path:
    return Path(folder) / PROJECT_DIRNAME / DB_FILENAME


class ProjectStore(Images, ScanSync, Phrases, Boxes, ImportMerge, Proposals, BoxEmbeddings, Categories, Counts):
    """The labels of one image folder. Paths are relative to ``root`` with '/' separators."""

    def __init__(self, db_path: os.PathLike | str, root: os.PathLike | str | None = None):
        self.root = Path(root) if root is not None else Path(db_path).parent.parent
        super().__init__(db_path)

    @classmethod
    def open_folder(cls, folder: os.PathLike | str, db: os.PathLike | str | None = None) -> "ProjectStore":
        """Open (creating if needed) the project of an image folder; ``db`` for read-only folders.
        Keeps the daily backup of the database (``store.backup``)."""
        folder = Path(folder)
        if not folder.exists():
            raise StoreError(f"folder not found: {folder}")
        if not folder.is_dir():
            raise StoreError(f"not a folder: {folder}")
        db_path = Path(db) if db is not None else default_db_path(folder)
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the project database in {db_path.parent} ({exc.strerror or exc}); "
                f"pass --db PATH to keep it elsewhere"
            ) from exc
        if db_path.exists() and not db_path.is_file():
            raise StoreError(f"cannot keep the project database in {db_path}: it is not a regular file "
                             f"(a folder or a device); pass --db with the path of a file")
        if not os.access(db_path.parent, os.W_OK) or (db_path.exists() and not os.access(db_path, os.W_OK)):
            raise StoreError(
                f"cannot write the project database at {db_path} (read-only location); "
                f"pass --db PATH to keep it elsewhere"
            )
        store = cls(db_path, root=folder)
        try:
            with store._problems():
                keep_daily_backup(store._conn(), db_path)
        except BaseException:
            store.close()
            raise
        return store

    def __enter__(self) -> "ProjectStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
