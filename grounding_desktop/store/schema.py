"""Schema and migrations. Each migration takes the database from version N-1 to N in one transaction."""
from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 2

_V1 = """
CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'proposed', 'reviewed')),
    content_hash TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    mtime REAL NOT NULL DEFAULT 0,
    error TEXT,
    missing INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX images_hash ON images(content_hash);
CREATE TABLE expressions (
    id INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX expressions_image ON expressions(image_id);
CREATE TABLE boxes (
    id INTEGER PRIMARY KEY,
    expression_id INTEGER NOT NULL REFERENCES expressions(id) ON DELETE CASCADE,
    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('proposed', 'accepted', 'rejected')),
    source TEXT NOT NULL CHECK (source IN ('model', 'manual', 'model+edited')),
    score REAL,
    model_version TEXT
);
CREATE INDEX boxes_expression ON boxes(expression_id);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# v2: the model's explanation of a box (its module scores), shown as the box's tooltip in later
# sessions too.
_V2 = "ALTER TABLE boxes ADD COLUMN explanation TEXT"

# MIGRATIONS[n] upgrades a database at version n-1 to version n.
MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2}


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database up to SCHEMA_VERSION; refuse one written by a newer version of the tool."""
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"the project database has schema version {version}, newer than this tool's "
            f"{SCHEMA_VERSION}; upgrade grounding-desktop to open it"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # executescript() would commit implicitly, so run the statements one by one.
            for statement in MIGRATIONS[target].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION
