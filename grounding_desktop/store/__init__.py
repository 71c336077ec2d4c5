"""The project database (SQLite, WAL). Imports ``core`` only."""
from .backup import backup_path
from .database import ProjectStore, default_db_path
from .problems import StoreError, database_problem
from .schema import SCHEMA_VERSION

__all__ = ["ProjectStore", "StoreError", "backup_path", "database_problem", "default_db_path", "SCHEMA_VERSION"]
