"""The project database (SQLite, WAL). Imports ``core`` only."""
from .database import MergeReport, ProjectStore, StoreError, default_db_path
from .schema import SCHEMA_VERSION

__all__ = ["MergeReport", "ProjectStore", "StoreError", "default_db_path", "SCHEMA_VERSION"]
