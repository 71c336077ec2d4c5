"""The project database (SQLite, WAL). Imports ``core`` only."""
from .backup import backup_path
from .database import ProjectStore, default_db_path
from .import_merge import MergeReport
from .problems import StoreError, database_problem
from .proposals import ProposalBatch
from .schema import SCHEMA_VERSION

__all__ = ["MergeReport", "ProjectStore", "ProposalBatch", "StoreError", "backup_path", "database_problem", "default_db_path",
           "SCHEMA_VERSION"]
