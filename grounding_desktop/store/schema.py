"""Schema and migrations. Each migration takes the database from version N-1 to N in one transaction."""
from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 8

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

# v3: ids are never reused (AUTOINCREMENT), so an undo step that restores a deleted row by its id
# can never collide with a row written meanwhile (an import, a batch); the image state 'proposed'
# becomes 'in_progress' (an image with labels, not yet reviewed); and the project's categories keep
# the id they were given on first use, so exports number classes the same way every time.
# SQLite cannot add AUTOINCREMENT or change a CHECK in place: the three tables are rebuilt
# (foreign keys are off during migrations, see migrate()).
_V3 = """
CREATE TABLE images_v3 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'in_progress', 'reviewed')),
    content_hash TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    mtime REAL NOT NULL DEFAULT 0,
    error TEXT,
    missing INTEGER NOT NULL DEFAULT 0
);
INSERT INTO images_v3(id, path, width, height, state, content_hash, size, mtime, error, missing)
    SELECT id, path, width, height, CASE state WHEN 'proposed' THEN 'in_progress' ELSE state END,
           content_hash, size, mtime, error, missing FROM images;
CREATE TABLE expressions_v3 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
INSERT INTO expressions_v3(id, image_id, text, created, updated)
    SELECT id, image_id, text, created, updated FROM expressions;
CREATE TABLE boxes_v3 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    expression_id INTEGER NOT NULL REFERENCES expressions(id) ON DELETE CASCADE,
    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('proposed', 'accepted', 'rejected')),
    source TEXT NOT NULL CHECK (source IN ('model', 'manual', 'model+edited')),
    score REAL,
    model_version TEXT,
    explanation TEXT
);
INSERT INTO boxes_v3(id, expression_id, x, y, w, h, state, source, score, model_version, explanation)
    SELECT id, expression_id, x, y, w, h, state, source, score, model_version, explanation FROM boxes;
DROP TABLE boxes;
DROP TABLE expressions;
DROP TABLE images;
ALTER TABLE images_v3 RENAME TO images;
ALTER TABLE expressions_v3 RENAME TO expressions;
ALTER TABLE boxes_v3 RENAME TO boxes;
CREATE INDEX images_hash ON images(content_hash);
CREATE INDEX expressions_image ON expressions(image_id);
CREATE INDEX boxes_expression ON boxes(expression_id);
CREATE TABLE categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL
);
"""

# v4: why an image needs another look (its labelled file was replaced by a different picture);
# cleared when the image is marked reviewed.
_V4 = "ALTER TABLE images ADD COLUMN review_reason TEXT"

# v5: what the grounding model learned from the user's boxes: a region embedding per labelled box
# (the concepts of grounding.scoring.concepts are made of them), so a reopened project knows its concepts
# without looking at its images again. ``model`` names the network that made the vector and
# x, y, w, h the box it was made for: a vector of another model or of a box since moved is stale.
# The vector is opaque bytes to the store.
_V5 = """
CREATE TABLE box_embeddings (
    box_id INTEGER PRIMARY KEY REFERENCES boxes(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
    vector BLOB NOT NULL
)
"""

# v6: "not in this image" is the user's statement, kept on the phrase: before, a phrase counted as
# no-target whenever it had no box left that was not rejected, so rejecting the proposals of a
# phrase (Ctrl+R: "this box is wrong") made it a negative example. Phrases stored with no box at
# all were said to be absent (Shift+Enter, an import) and keep that meaning; a phrase whose boxes
# are all rejected becomes what it is, unfinished ("needs a box").
_V6 = """
ALTER TABLE expressions ADD COLUMN no_target INTEGER NOT NULL DEFAULT 0;
UPDATE expressions SET no_target = 1 WHERE NOT EXISTS (SELECT 1 FROM boxes WHERE boxes.expression_id = expressions.id)
"""

# MIGRATIONS[n] upgrades a database at version n-1 to version n.
# v7: the character spans of a phrase that name its boxes, as an imported file gave them (JSON
# [[start, end], ...]; NULL: the whole phrase), so an MDETR-style file round-trips exactly.
_V7 = "ALTER TABLE expressions ADD COLUMN spans TEXT"

# v8: a phrase remembers that it was "not in this image" before a box took that answer back, so
# deleting its last box brings the answer back in a later session too (before, only the session
# that saw the box come knew). Earlier databases cannot know it: no phrase starts with it.
_V8 = "ALTER TABLE expressions ADD COLUMN absent_before INTEGER NOT NULL DEFAULT 0"

MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3, 4: _V4, 5: _V5, 6: _V6, 7: _V7, 8: _V8}


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _newer_than_us(version: int) -> RuntimeError:
    return RuntimeError(
        f"the project database has schema version {version}, newer than this tool's "
        f"{SCHEMA_VERSION}; upgrade grounding-desktop to open it"
    )


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database up to SCHEMA_VERSION; refuse one written by a newer version of the tool.

    Each step reads the version inside its own write transaction (BEGIN IMMEDIATE), so several
    processes opening a new project at once take turns: the first migrates, the others find the
    work done. Foreign keys are off meanwhile (a table rebuild must not cascade deletes); SQLite
    only lets that pragma change outside a transaction.
    """
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise _newer_than_us(version)
    if version == SCHEMA_VERSION:
        return SCHEMA_VERSION
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        while True:
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = current_version(conn)
                if version > SCHEMA_VERSION:
                    raise _newer_than_us(version)
                if version == SCHEMA_VERSION:
                    conn.execute("COMMIT")
                    break
                target = version + 1
                # executescript() would commit implicitly, so run the statements one by one.
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                    raise RuntimeError(f"schema migration to version {target} broke a foreign key")
                conn.execute(f"PRAGMA user_version = {target}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
    finally:
        conn.execute("PRAGMA foreign_keys=ON")
    return SCHEMA_VERSION
