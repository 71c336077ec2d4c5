import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from grounding_desktop.core import Box, BoxSource, BoxState, ImageState, PhraseStatus, ScanEntry, phrase_status
from grounding_desktop.store import SCHEMA_VERSION, ProjectStore, StoreError
from grounding_desktop.store import schema


@pytest.fixture
def store(tmp_path):
    s = ProjectStore(tmp_path / "p.sqlite", root=tmp_path)
    yield s
    s.close()


def _image(store, path="a.jpg", w=100, h=80):
    """The image a scan finds at ``path`` (the images already known stay as they are)."""
    known = [ScanEntry(r.path, r.size, r.mtime, unchanged=True) for r in store.images.by_path().values()]
    store.images.apply_scan(known + [ScanEntry(path, 10, 1.0, w, h, f"h-{path}")])
    return store.images.by_path()[path]


def _version(db) -> int:
    """The schema version the file says it has."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_new_database_has_schema_wal_and_foreign_keys(store):
    c = store._conn()
    assert _version(store.db_path) == SCHEMA_VERSION
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def _database_at(path, version: int, *rows: str):
    """A project database as the tool of schema ``version`` left it, holding ``rows`` (SQL inserts)."""
    conn = sqlite3.connect(path)
    for v in range(1, version + 1):
        for statement in schema.MIGRATIONS[v].split(";"):
            if statement.strip():
                conn.execute(statement)
    for row in rows:
        conn.execute(row)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()
    return path


def test_v1_database_is_upgraded_and_keeps_its_rows(tmp_path):
    db = _database_at(tmp_path / "v1.sqlite", 1,
                      "INSERT INTO images(id, path) VALUES (1, 'a.jpg')",
                      "INSERT INTO expressions(id, image_id, text, created, updated) VALUES (1, 1, 'a dog', 0, 0)",
                      "INSERT INTO boxes(id, expression_id, x, y, w, h, state, source) "
                      "VALUES (1, 1, 1, 2, 3, 4, 'accepted', 'manual')")
    with ProjectStore(db) as s:
        assert _version(db) == SCHEMA_VERSION >= 2
        (box,) = s.labels.boxes(1)
        assert box.bbox == (1.0, 2.0, 3.0, 4.0) and box.explanation is None
        e2 = s.labels.add_box(1, Box(0, 0, (0, 0, 5, 5), source=BoxSource.MODEL, score=0.8,
                                       explanation="dog 0.80 · left 0.9"))
        assert s.labels.box(e2.id).explanation == "dog 0.80 · left 0.9"


def test_v2_database_becomes_v3_with_states_ids_and_cascades_intact(tmp_path):
    db = _database_at(tmp_path / "v2.sqlite", 2,
                      "INSERT INTO images(id, path, state) VALUES (1, 'a.jpg', 'proposed'), (2, 'b.jpg', 'reviewed')",
                      "INSERT INTO expressions(id, image_id, text, created, updated) VALUES (7, 1, 'a dog', 0, 0)",
                      "INSERT INTO boxes(id, expression_id, x, y, w, h, state, source, explanation) "
                      "VALUES (9, 7, 1, 2, 3, 4, 'accepted', 'manual', 'why')")
    with ProjectStore(db) as s:
        assert _version(db) == SCHEMA_VERSION >= 3
        assert s.images.get(1).state == ImageState.IN_PROGRESS and s.images.get(2).state == ImageState.REVIEWED
        (box,) = s.labels.boxes(7)
        assert (box.id, box.bbox, box.explanation) == (9, (1.0, 2.0, 3.0, 4.0), "why")
        s.labels.delete_expression(7)  # the foreign keys still cascade after the rebuild
        assert s.labels.box(9) is None
        assert s.labels.add_expression(1, "a cat")[0].id == 8  # the sequence continues past the copied ids


def test_v3_database_becomes_v4_with_no_image_flagged(tmp_path):
    db = _database_at(tmp_path / "v3.sqlite", 3,
                      "INSERT INTO images(id, path, state, content_hash) VALUES (1, 'a.jpg', 'reviewed', 'h1')",
                      "INSERT INTO expressions(id, image_id, text, created, updated) VALUES (1, 1, 'a dog', 0, 0)")
    with ProjectStore(db) as s:
        assert _version(db) == SCHEMA_VERSION >= 4
        img = s.images.get(1)
        assert img.state == ImageState.REVIEWED and img.review_reason is None
        report = s.images.apply_scan([ScanEntry("a.jpg", 10, 2.0, 64, 48, "h2")])  # another picture, same name
        assert report.flagged == ["a.jpg"] and "replaced" in s.images.get(1).review_reason


def test_v4_database_becomes_v5_and_keeps_box_embeddings_per_box(tmp_path):
    db = _database_at(tmp_path / "v4.sqlite", 4,
                      "INSERT INTO images(id, path) VALUES (1, 'a.jpg')",
                      "INSERT INTO expressions(id, image_id, text, created, updated) VALUES (7, 1, 'the lid', 0, 0)",
                      "INSERT INTO boxes(id, expression_id, x, y, w, h, state, source) "
                      "VALUES (9, 7, 1, 2, 3, 4, 'accepted', 'manual'), (10, 7, 5, 5, 5, 5, 'rejected', 'model')")
    with ProjectStore(db) as s:
        assert _version(db) == SCHEMA_VERSION >= 5
        assert s.labels.boxes(7)[0].bbox == (1.0, 2.0, 3.0, 4.0)
        assert s.embeddings.read("net-1") == {}
        s.embeddings.write("net-1", [(9, (1, 2, 3, 4), b"\x01\x02"), (10, (5, 5, 5, 5), b"\x03"),
                                       (99, (0, 0, 1, 1), b"gone")])  # box 99 was never there
        s.embeddings.write("net-2", [(9, (1, 2, 3, 4), b"other")])  # another network's vector
        assert s.embeddings.read("net-1") == {10: ((5.0, 5.0, 5.0, 5.0), b"\x03")}
        assert s.embeddings.read("net-2") == {9: ((1.0, 2.0, 3.0, 4.0), b"other")}
        s.labels.delete_box(9)  # an embedding goes with its box
        assert s.embeddings.read("net-2") == {}


def test_v5_database_becomes_v6_where_only_phrases_without_boxes_are_no_target(tmp_path):
    """Before v6 a phrase whose boxes were all rejected counted as "not in the image"; it was only
    ever unfinished. Phrases stored with no box at all were said to be absent, and stay so."""
    db = _database_at(tmp_path / "v5.sqlite", 5,
                      "INSERT INTO images(id, path, state) VALUES (1, 'a.jpg', 'in_progress')",
                      "INSERT INTO expressions(id, image_id, text, created, updated) VALUES "
                      "(1, 1, 'a unicorn', 0, 0), (2, 1, 'the giraffe', 0, 0), (3, 1, 'the cup', 0, 0)",
                      "INSERT INTO boxes(expression_id, x, y, w, h, state, source) VALUES "
                      "(2, 1, 1, 5, 5, 'rejected', 'model'), (3, 1, 1, 5, 5, 'accepted', 'model')")
    with ProjectStore(db) as s:
        assert _version(db) == SCHEMA_VERSION >= 6
        assert [(e.text, phrase_status(e, bs)) for e, bs in s.labels.annotations(1)] == [
            ("a unicorn", PhraseStatus.NO_TARGET), ("the giraffe", PhraseStatus.NEEDS_BOX),
            ("the cup", PhraseStatus.LABELLED)]


def test_v6_database_becomes_v7_with_whole_phrase_spans(tmp_path):
    db = _database_at(tmp_path / "v6.sqlite", 6,
                      "INSERT INTO images(id, path, state) VALUES (1, 'a.jpg', 'in_progress')",
                      "INSERT INTO expressions(id, image_id, text, created, updated) VALUES (1, 1, 'the cup', 0, 0)")
    with ProjectStore(db) as s:
        assert _version(db) == SCHEMA_VERSION >= 7
        (expr, _), = s.labels.annotations(1)
        assert expr.spans == () and expr.positive_spans() == [[0, 7]]
        s.labels.set_expression_text(expr.id, "the red cup", [(8, 11)])
        assert s.labels.expression(expr.id).spans == ((8, 11),)


def test_v7_database_becomes_v8_where_no_phrase_remembers_an_answer_a_box_took_back(tmp_path):
    db = _database_at(tmp_path / "v7.sqlite", 7,
                      "INSERT INTO images(id, path, state) VALUES (1, 'a.jpg', 'in_progress')",
                      "INSERT INTO expressions(id, image_id, text, created, updated, no_target) VALUES "
                      "(1, 1, 'a unicorn', 0, 0, 1), (2, 1, 'the cup', 0, 0, 0)",
                      "INSERT INTO boxes(expression_id, x, y, w, h, state, source) VALUES (2, 1, 1, 5, 5, 'accepted', 'model')")
    with ProjectStore(db) as s:
        assert _version(db) == SCHEMA_VERSION >= 8
        assert [(e.text, e.no_target, e.absent_before) for e, _ in s.labels.annotations(1)] == [
            ("a unicorn", True, False), ("the cup", False, False)]
        taken = s.labels.take_back_no_target(1)  # a box came for it
        assert (taken.no_target, taken.absent_before) == (False, True)
        said = s.labels.set_no_target(1, True)  # the user's answer again: nothing earlier to remember
        assert (said.no_target, said.absent_before) == (True, False)
        s.labels.put_back_expression(taken)
        assert s.labels.expression(1) == taken


def test_a_box_moves_to_another_phrase_of_its_image_only(store):
    img, other = _image(store), _image(store, "b.jpg")
    cup, (box,) = store.labels.add_expression(img.id, "the cup", [Box(0, 0, (1, 1, 5, 5))])
    spoon, _ = store.labels.add_expression(img.id, "the spoon")
    elsewhere, _ = store.labels.add_expression(other.id, "the spoon")
    assert store.labels.move_box(box.id, spoon.id) == Box(box.id, spoon.id, (1.0, 1.0, 5.0, 5.0))
    with pytest.raises(StoreError, match="another image"):
        store.labels.move_box(box.id, elsewhere.id)
    assert store.labels.box(box.id).expression_id == spoon.id


def test_every_way_a_phrase_arrives_joins_the_phrase_of_the_same_key(store):
    """``phrase_joined`` is the one rule: an import and a proposal for "The  Dog" join "the dog"
    (the first phrase of its key), and an imported box takes back that phrase's "not in image"."""
    from grounding_desktop.core import phrase_joined

    img = _image(store)
    dog, _ = store.labels.add_expression(img.id, "the dog", no_target=True)
    store.labels.add_expression(img.id, "the cat")
    assert phrase_joined("The  DOG", store.labels.expressions(img.id)) == dog
    report = store.imports.merge_phrases([(img.id, "The  Dog", [Box(0, 0, (1, 1, 5, 5))], ())])
    assert report.phrases_added == 0 and report.boxes_added == 1
    store.proposals.add([(img.id, "THE DOG", [Box(0, 0, (20, 20, 5, 5))])])
    assert [(e.text, e.no_target, len(bs)) for e, bs in store.labels.annotations(img.id)] == [
        ("the dog", False, 2), ("the cat", False, 0)]


def test_an_import_keeps_the_files_category_ids_where_the_project_has_neither(store):
    store.categories.ids(["the dog"])  # id 1
    img = _image(store)
    dry = store.imports.merge_phrases([(img.id, "x", [], ())], categories={"the cat": 5, "the bird": 1}, dry_run=True)
    assert dry.categories_adopted == 1 and store.categories.ids(["the dog"]) == {"the dog": 1}
    store.imports.merge_phrases([(img.id, "x", [], ())], categories={"the cat": 5, "the bird": 1, "the dog": 9})
    assert store.categories.ids(["the dog", "the cat", "the bird"]) == {"the dog": 1, "the cat": 5, "the bird": 6}


def test_a_transaction_around_calls_to_several_parts_is_one_transaction(store):
    img = _image(store)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.labels.add_expression(img.id, "the cup")
            store.images.set_state(img.id, ImageState.REVIEWED)
            store.categories.ids(["the cup"])
            raise RuntimeError("the edit failed half-way")
    assert store.labels.annotations(img.id) == [] and store.images.get(img.id).state == ImageState.NEW
    assert store.categories.ids(["the spoon"]) == {"the spoon": 1}  # the cup's id was never kept


def test_ids_are_never_reused_so_undo_can_restore_after_other_writes(store):
    """An undo puts a deleted row back under its old id; an import in between must not take it."""
    img = _image(store)
    expr, (b1, b2) = store.labels.add_expression(img.id, "the cup", [Box(0, 0, (1, 1, 5, 5)), Box(0, 0, (9, 9, 5, 5))])
    deleted = store.labels.delete_box(b2.id)
    store.imports.merge_phrases([(img.id, "the spoon", [Box(0, 0, (2, 2, 3, 3))], ())])
    (imported,) = [b for e, bs in store.labels.annotations(img.id) if e.text == "the spoon" for b in bs]
    assert imported.id > b2.id
    store.labels.restore_box(deleted)  # the undo of the delete
    assert store.labels.box(b2.id).bbox == (9.0, 9.0, 5.0, 5.0)
    removed, _ = store.labels.delete_expression(expr.id)
    assert store.labels.add_expression(img.id, "the cup")[0].id > removed.id


def test_category_ids_keep_their_first_number(store):
    assert store.categories.ids(["the dog", "the cat"]) == {"the dog": 1, "the cat": 2}
    assert store.categories.ids(["an apple", "the cat", "the dog"]) == {"an apple": 3, "the cat": 2, "the dog": 1}
    assert store.categories.ids([]) == {}


def test_category_ids_do_not_wait_for_another_writer(store, tmp_path):
    store.categories.ids(["the dog"])
    other = ProjectStore(store.db_path, root=tmp_path)
    with other.transaction():  # another writer holds the lock: the new name gets the id it will keep
        assert store.categories.ids(["the cat", "the dog"]) == {"the cat": 2, "the dog": 1}
    other.close()
    assert store.categories.ids(["the cat"]) == {"the cat": 2}


_OPENER = textwrap.dedent("""
    import sys, time
    from grounding_desktop.store import ProjectStore
    start = float(sys.argv[2])
    while time.time() < start:
        pass
    ProjectStore(sys.argv[1]).close()
    print("ok")
""")


def test_processes_opening_a_new_project_at_once_migrate_it_once(tmp_path):
    db = tmp_path / "race.sqlite"
    start = time.time() + 1.5  # all children past their imports, then go together
    children = [subprocess.Popen([sys.executable, "-c", _OPENER, str(db), str(start)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [c.communicate(timeout=120) for c in children]
    assert [c.returncode for c in children] == [0] * 4, [err for _, err in outs]
    assert _version(db) == SCHEMA_VERSION


def test_migration_runs_each_step_once_and_refuses_newer(tmp_path, monkeypatch):
    db = tmp_path / "m.sqlite"
    ProjectStore(db).close()
    # A hypothetical next version adds a column; opening the current file upgrades it in place.
    nxt = SCHEMA_VERSION + 1
    monkeypatch.setattr(schema, "SCHEMA_VERSION", nxt)
    monkeypatch.setitem(schema.MIGRATIONS, nxt, "ALTER TABLE images ADD COLUMN note TEXT")
    s = ProjectStore(db)
    assert _version(db) == nxt
    assert "note" in [r[1] for r in s._conn().execute("PRAGMA table_info(images)")]
    s.close()
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION)
    with pytest.raises(StoreError, match="newer"):
        ProjectStore(db)


def test_expression_with_boxes_and_image_state(store):
    img = _image(store)
    assert img.state == ImageState.NEW
    expr, boxes = store.labels.add_expression(img.id, "the horses", [
        Box(0, 0, (1, 2, 3, 4), BoxState.ACCEPTED, BoxSource.MODEL, 0.9, "m1"),
        Box(0, 0, (5, 6, 7, 8), BoxState.PROPOSED, BoxSource.MODEL, 0.4, "m1"),
    ])
    assert [b.bbox for b in store.labels.boxes(expr.id)] == [(1.0, 2.0, 3.0, 4.0), (5.0, 6.0, 7.0, 8.0)]
    assert store.labels.boxes(expr.id) == boxes
    assert store.images.get(img.id).state == ImageState.IN_PROGRESS
    store.images.set_state(img.id, ImageState.REVIEWED)
    snapshot = store.labels.delete_expression(expr.id)
    assert store.images.get(img.id).state == ImageState.REVIEWED  # reviewed is the user's call
    store.labels.restore_expression(*snapshot)
    assert store.labels.annotations(img.id) == [(expr, boxes)]


def test_box_update_delete_restore_keep_ids(store):
    img = _image(store)
    expr, _ = store.labels.add_expression(img.id, "a cup")
    box = store.labels.add_box(expr.id, Box(0, 0, (10, 10, 20, 20)))
    moved = store.labels.update_box(box.id, bbox=(12, 11, 20, 25), source=BoxSource.MODEL_EDITED)
    assert moved.id == box.id and moved.bbox == (12.0, 11.0, 20.0, 25.0) and moved.source == BoxSource.MODEL_EDITED
    gone = store.labels.delete_box(box.id)
    assert store.labels.boxes(expr.id) == []
    store.labels.restore_box(gone)
    assert store.labels.boxes(expr.id) == [moved]
    with pytest.raises(StoreError):
        store.labels.update_box(9999, bbox=(0, 0, 1, 1))
    with pytest.raises(StoreError):
        store.labels.add_box(9999, Box(0, 0, (0, 0, 1, 1)))


def test_last_expression_removed_sends_image_back_to_new(store):
    img = _image(store)
    expr, _ = store.labels.add_expression(img.id, "a cat")
    store.labels.delete_expression(expr.id)
    assert store.images.get(img.id).state == ImageState.NEW


def test_failed_transaction_changes_nothing(store):
    img = _image(store)
    with pytest.raises(sqlite3.IntegrityError):
        # the second box violates the state CHECK: the expression must not land either
        store.labels.add_expression(img.id, "half", [Box(0, 0, (0, 0, 1, 1)), Box(0, 0, (0, 0, 1, 1), state="bogus")])
    assert store.labels.expressions(img.id) == []
    assert store.images.get(img.id).state == ImageState.NEW


def test_reader_threads_see_writes_from_writer(store):
    img = _image(store)
    errors, seen = [], []

    def reader():
        try:
            for _ in range(50):
                seen.append(len(store.labels.expressions(img.id)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(20):
        store.labels.add_expression(img.id, f"phrase {i}")
    for t in threads:
        t.join()
    assert not errors
    assert len(store.labels.expressions(img.id)) == 20


def test_apply_scan_add_change_rename_remove(store):
    e = lambda p, h, **kw: ScanEntry(p, 10, 1.0, 64, 48, h, **kw)
    r = store.images.apply_scan([e("a.jpg", "ha"), e("b.jpg", "hb"), e("c.jpg", "hc")])
    assert sorted(r.added) == ["a.jpg", "b.jpg", "c.jpg"]
    b = store.images.by_path()["b.jpg"]
    store.labels.add_expression(b.id, "the dog")
    c = store.images.by_path()["c.jpg"]
    store.labels.add_expression(c.id, "the cat")
    # b renamed to sub/b2.jpg (same hash), c deleted, a unchanged, d added
    r = store.images.apply_scan([e("a.jpg", "ha", unchanged=True), e("sub/b2.jpg", "hb"), e("d.jpg", "hd")])
    assert r.renamed == [("b.jpg", "sub/b2.jpg")]
    assert r.added == ["d.jpg"] and r.removed == ["c.jpg"] and r.unchanged == 1
    moved = store.images.by_path()["sub/b2.jpg"]
    assert moved.id == b.id and [x.text for x in store.labels.expressions(moved.id)] == ["the dog"]
    assert [i.path for i in store.images.all()] == ["a.jpg", "d.jpg", "sub/b2.jpg"]
    assert store.images.get(c.id).missing  # labelled: kept, hidden
    # c comes back: its labels are there again
    store.images.apply_scan([e("a.jpg", "ha"), e("sub/b2.jpg", "hb"), e("d.jpg", "hd"), e("c.jpg", "hc")])
    assert not store.images.get(c.id).missing and store.labels.expressions(c.id)[0].text == "the cat"


def test_natural_order(store):
    for p in ["img10.jpg", "img2.jpg", "Img1.jpg", "a/img3.jpg"]:
        _image(store, p)
    assert [i.path for i in store.images.all()] == ["a/img3.jpg", "Img1.jpg", "img2.jpg", "img10.jpg"]


def test_open_folder_errors(tmp_path):
    with pytest.raises(StoreError, match="not found"):
        ProjectStore.open_folder(tmp_path / "nope")
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(StoreError, match="not a folder"):
        ProjectStore.open_folder(f)
    s = ProjectStore.open_folder(tmp_path)
    assert s.db_path == tmp_path / ".grounding" / "project.sqlite" and s.db_path.exists()
    s.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_folder_asks_for_db(tmp_path):  # pragma: no cover - CI runs as root
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="--db"):
            ProjectStore.open_folder(ro)
    finally:
        ro.chmod(0o755)


def test_unwritable_db_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(StoreError, match="--db"):
        ProjectStore.open_folder(tmp_path, db=blocker / "sub" / "p.sqlite")


def test_corrupt_database_is_a_clear_error(tmp_path):
    db = tmp_path / "bad.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="damaged"):
        ProjectStore(db)


_WRITER = textwrap.dedent("""
    import sys, time
    from grounding_desktop.core import Box
    from grounding_desktop.store import ProjectStore
    s = ProjectStore(sys.argv[1])
    img = s.images.by_path()["a.jpg"]
    mode = sys.argv[2]
    if mode == "loop":
        i = 0
        while True:
            s.labels.add_expression(img.id, f"phrase {i}", [Box(0, 0, (i, i, 5, 5)) for _ in range(3)])
            i += 1
            if i == 5:
                print("ready", flush=True)
    else:  # stop inside an open transaction and wait to be killed
        with s.transaction() as c:
            for i in range(200):
                c.execute("INSERT INTO expressions(image_id, text, created, updated) VALUES (?, 'uncommitted', 0, 0)", (img.id,))
            c.execute("UPDATE images SET width = 1 WHERE id = ?", (img.id,))
            print("ready", flush=True)
            time.sleep(60)
""")


@pytest.mark.parametrize("mode", ["loop", "in_transaction"])
def test_sigkill_mid_write_keeps_last_committed_state(tmp_path, mode):
    db = tmp_path / "p.sqlite"
    with ProjectStore(db) as s:
        img = _image(s)
        s.labels.add_expression(img.id, "committed before", [Box(0, 0, (1, 1, 2, 2))])
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(db), mode], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    if mode == "loop":
        time.sleep(0.3)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with ProjectStore(db) as s:
        assert s._conn().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        img = s.images.by_path()["a.jpg"]
        assert img.width == 100
        texts = [e.text for e in s.labels.expressions(img.id)]
        assert texts[0] == "committed before"
        assert "uncommitted" not in texts
        for expr in s.labels.expressions(img.id)[1:]:
            assert len(s.labels.boxes(expr.id)) == 3  # each write is all-or-nothing
        if mode == "loop":
            assert len(texts) > 5
