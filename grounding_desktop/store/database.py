"""The project database: ``ProjectStore``, the labels of one image folder in one SQLite file.
Every public method is one transaction, so a crash at any point leaves the last committed state
intact (WAL journal, synchronous=FULL); a full disk, a busy or a damaged database surface as
one-line ``StoreError``s.

``ProjectStore`` is the file (``project_file.ProjectFile``: connections, ``transaction()``, reads,
its problems, ``meta``) with its parts composed in, each an object of a module named for what it
holds, all writing through the store's one file (a ``transaction()`` around calls to several
parts is one transaction):

- ``store.images`` (``images``): the images, synced with a folder scan (``scan_sync``: the plan
  and its ``ScanReport``), their state, and the rule that ties it to their phrases;
- ``store.labels`` (``labels``): the phrases and their boxes, read and edited (and put back by undo);
- ``store.proposals`` (``proposals``): the model's proposals for many images at once
  (``ProposalBatch``), review by doubt;
- ``store.imports`` (``import_merge``): an import merged in (``MergeReport``);
- ``store.embeddings`` (``embeddings``): what the model learned from the boxes;
- ``store.categories`` (``categories``): the export class ids;

and ``counts()``, the summary of them all. The column lists and row conversions the parts share
are in ``rows``, and the row writes several parts make are functions of the module that owns the
table (``images.sync_image_state``, ``phrases.insert_expression``, ``boxes.insert_box``).
"""
from __future__ import annotations

import os
from pathlib import Path

from ..core import DB_FILENAME, PROJECT_DIRNAME, BoxState, ImageState
from .backup import keep_daily_backup
from .categories import Categories
from .embeddings import BoxEmbeddings
from .images import Images
from .import_merge import Imports
from .labels import Labels
from .problems import StoreError
from .project_file import ProjectFile
from .proposals import Proposals


def default_db_path(folder: os.PathLike | str) -> Path:
    return Path(folder) / PROJECT_DIRNAME / DB_FILENAME


class ProjectStore(ProjectFile):
    """The labels of one image folder. Paths are relative to ``root`` with '/' separators."""

    def __init__(self, db_path: os.PathLike | str, root: os.PathLike | str | None = None):
        self.root = Path(root) if root is not None else Path(db_path).parent.parent
        super().__init__(db_path)
        self.images = Images(self)
        self.labels = Labels(self)
        self.proposals = Proposals(self)
        self.imports = Imports(self)
        self.embeddings = BoxEmbeddings(self)
        self.categories = Categories(self)

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
            with store.reading() as c:
                keep_daily_backup(c, db_path)
        except BaseException:
            store.close()
            raise
        return store

    def counts(self) -> dict[str, int]:
        """How many images, phrases and boxes the project has, by state (``info``, the size of an export)."""
        def one(sql: str) -> int:
            return self.read(sql)[0][0]

        out = {
            "images": one("SELECT COUNT(*) FROM images WHERE missing=0"),
            "unreadable": one("SELECT COUNT(*) FROM images WHERE missing=0 AND error IS NOT NULL"),
            "missing": one("SELECT COUNT(*) FROM images WHERE missing=1"),
            "flagged": one("SELECT COUNT(*) FROM images WHERE missing=0 AND review_reason IS NOT NULL"),
            "phrases": one("SELECT COUNT(*) FROM expressions"),
            "boxes": one("SELECT COUNT(*) FROM boxes"),
        }
        for s in ImageState:
            out[f"images_{s.value}"] = 0
        for state, n in self.read("SELECT state, COUNT(*) FROM images WHERE missing=0 GROUP BY state"):
            out[f"images_{state}"] = n
        for s in BoxState:
            out[f"boxes_{s.value}"] = 0
        for state, n in self.read("SELECT state, COUNT(*) FROM boxes GROUP BY state"):
            out[f"boxes_{state}"] = n
        return out

    def __enter__(self) -> "ProjectStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
