"""Promises the application keeps when its input is hostile: odd file names, odd images, a full
disk, a second process, a damaged database, a closed pipe.

Read it as a list: each test is named as the promise it holds, and drives the real code (the CLI
through ``cli.main``, the store, the image decoder, the desktop window, the real model where a
promise is about what the model sees). Each section has a short heading; add new promises to the
section they belong to, or start a section of your own.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from exportkit import labelled_project
from support import REPO, SAMPLES, make_image
from grounding_desktop.cli import main
from grounding_desktop.core import Box, BoxState, ImageRecord, ImageState, iou_xywh
from grounding_desktop.io.coco_import import import_coco
from grounding_desktop.io.export import ExportOptions, export_project
from grounding_desktop.io.import_plan import ImportOptions
from grounding_desktop.project import open_project
from grounding_desktop.store import ProjectStore, default_db_path, schema
from grounding_desktop.store.images import Images

NON_UTF8_NAME = os.fsdecode(b"caf\xe9.jpg")  # Latin-1 "café.jpg" on a UTF-8 system


def _info(folder: Path, capsys) -> dict:
    assert main(["info", str(folder), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _one_line_error(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("grounding-desktop: error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


def _coco_file(path: Path, image_name: str, n_boxes: int) -> Path:
    """A plain COCO detection file with ``n_boxes`` different boxes on one image (an import skips
    a box the phrase already has, so they must differ to be written)."""
    path.write_text(json.dumps({
        "images": [{"id": 1, "file_name": image_name, "width": 64, "height": 48}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [{"id": i + 1, "image_id": 1, "category_id": 1, "bbox": [i % 50, 1 + (i // 50) * 0.5, 10, 10],
                         "area": 100,
                         "iscrowd": 0} for i in range(n_boxes)],
    }))
    return path


# -- Store and files ---------------------------------------------------------------------------

def test_a_non_utf8_file_name_does_not_hide_the_folder(tmp_path, capsys):
    folder = tmp_path / "photos"
    make_image(folder / NON_UTF8_NAME, color=(10, 200, 10))
    make_image(folder / "plain.jpg")
    counts = _info(folder, capsys)
    assert counts["images"] == 2 and counts["unreadable"] == 0
    store, report = open_project(folder)
    with store:
        assert report.unchanged == 2 and not report.added  # stored losslessly: found again by its path
        rec = store.images.by_path()[NON_UTF8_NAME]
        assert [r.path for r in store.images.all()] == [NON_UTF8_NAME, "plain.jpg"]
        store.labels.add_expression(rec.id, "a green square")
        assert Image.open(folder / rec.path).size == (64, 48)  # the stored path opens the file
    from grounding_desktop.core import display_path

    assert display_path(rec.path) == "caf\\xe9.jpg"  # shown readably
    assert _info(folder, capsys)["images_in_progress"] == 1


def test_a_folder_with_a_non_utf8_file_name_opens_in_the_app(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from grounding_desktop.ui.main_window import MainWindow
    from grounding_desktop.ui.model_start import ModelStart

    folder = tmp_path / "photos"
    make_image(folder / NON_UTF8_NAME, size=(80, 60), color=(10, 200, 10))
    make_image(folder / "plain.jpg")
    window = MainWindow(model=ModelStart(load=False),
                        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    assert window.open_folder(folder)
    qtbot.waitUntil(lambda: window.doc.labels.image is not None and window.last_painted_id == window.doc.labels.image.id,
                    timeout=15000)
    assert window.doc.labels.image.path == NON_UTF8_NAME and window.doc.labels.image.readable
    assert (window.doc.labels.image.width, window.doc.labels.image.height) == (80, 60)
    window.close()


def _gradient(mode: str) -> Image.Image:
    """A left-to-right ramp over the whole range of ``mode``: 16-bit grey or float 0..1."""
    if mode == "I;16":
        return Image.fromarray(np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (32, 1)))
    return Image.fromarray(np.tile(np.linspace(0.0, 1.0, 256).astype(np.float32), (32, 1)))


@pytest.mark.parametrize("mode,name", [("I;16", "grey16.png"), ("F", "float.tiff")])
def test_a_16_bit_or_float_image_shows_its_picture_not_a_white_or_black_frame(tmp_path, mode, name):
    from grounding_desktop.io.images import load_image

    _gradient(mode).save(tmp_path / name)
    shown = np.asarray(load_image(tmp_path / name))[:, :, 0].astype(int)
    ramp = shown[16]
    assert ramp[0] <= 2 and ramp[-1] >= 250 and abs(ramp[128] - 128) <= 3
    assert np.all(np.diff(ramp) >= 0)


@pytest.mark.model
def test_the_cup_is_found_on_the_coffee_photo_saved_as_16_bit_grey(tmp_path):
    from grounding_desktop.grounder_factory import make_grounder

    grey = np.asarray(Image.open(SAMPLES / "coffee.jpg").convert("L")).astype(np.uint16) * 257
    Image.fromarray(grey).save(tmp_path / "coffee16.png")
    assert Image.open(tmp_path / "coffee16.png").mode == "I;16"
    grounder = make_grounder("cpu", cache_size=2)
    colour, = grounder.propose(grounder.prepare(str(SAMPLES / "coffee.jpg")), "the cup", top_k=1)
    found, = grounder.propose(grounder.prepare(str(tmp_path / "coffee16.png")), "the cup", top_k=1)
    assert found.label == "cup" and iou_xywh(found.bbox, colour.bbox) > 0.7


# Peak RSS from /proc (VmHWM, in kB): ru_maxrss would start at the forking parent's size.
@pytest.mark.model
def test_ground_names_a_non_utf8_file_readably(tmp_path, capsys):
    photo = tmp_path / NON_UTF8_NAME
    photo.write_bytes((SAMPLES / "coffee.jpg").read_bytes())
    assert main(["ground", str(photo), "the cup", "--top-k", "1", "--device", "cpu"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"{tmp_path}/caf\\xe9.jpg  600x400")


_PEAK_MEMORY = textwrap.dedent("""
    import re, sys
    from grounding_desktop.io.images import decode_image
    peak = lambda: int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
    before = peak()
    image, full = decode_image(sys.argv[1], 1024)
    print((peak() - before) * 1024, *image.size, *full)
""")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory from Linux's /proc")
@pytest.mark.model
def test_file_names_with_control_characters_are_printed_escaped(tmp_path, capsys):
    """A name holding ESC would colour the terminal, one holding a newline would split a line."""
    folder = tmp_path / "photos"
    make_image(folder / "red\x1b[31m.png", color=(220, 20, 20))
    make_image(folder / "two\nlines.png", color=(220, 30, 30))
    (folder / "bad\x1b[2J.jpg").write_bytes(b"not a picture")
    assert main(["info", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "  bad\\x1b[2J.jpg: " in out
    assert main(["search", str(folder), "a red square", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "red\\x1b[31m.png" in out and "two\\nlines.png" in out
    assert len(out.splitlines()) == 2  # one line per image found


def test_a_huge_image_is_decoded_without_full_size_copies(tmp_path):
    w, h = 4000, 3000
    ramp = np.tile(np.linspace(0, 255, w).astype(np.uint8), (h, 1))
    Image.fromarray(np.dstack([ramp, ramp[::-1], ramp])).save(tmp_path / "huge.png", compress_level=1)
    out = subprocess.run([sys.executable, "-c", _PEAK_MEMORY, str(tmp_path / "huge.png")], capture_output=True,
                         text=True, check=True).stdout.split()
    grown, size, full = int(out[0]), tuple(map(int, out[1:3])), tuple(map(int, out[3:5]))
    assert size == (1024, 768) and full == (w, h)
    frame = w * h * 4  # one full-size RGB frame as Pillow holds it
    assert grown < 2 * frame, f"decoding grew the process by {grown / frame:.1f} full-size frames"


def _full_disk(monkeypatch, db: Path) -> None:
    """From now on SQLite may not grow ``db`` by a single page: what a full disk looks like to it
    (SQLITE_FULL, and the transaction rolled back by SQLite itself)."""
    connect = sqlite3.connect

    def full(*args, **kwargs):
        conn = connect(*args, **kwargs)
        if Path(args[0]) == db:
            conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
        return conn

    monkeypatch.setattr(sqlite3, "connect", full)


def test_a_full_disk_during_an_import_says_disk_full_in_one_line_and_changes_nothing(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "photos"
    make_image(folder / "a.jpg")
    _info(folder, capsys)
    coco = _coco_file(tmp_path / "many.json", "a.jpg", 3000)
    _full_disk(monkeypatch, default_db_path(folder))
    assert main(["import", str(folder), "--coco", str(coco)]) == 2
    _one_line_error(capsys, "disk full", "nothing was changed")
    monkeypatch.undo()
    assert _info(folder, capsys)["boxes"] == 0


def _v2_database(db: Path, n_images: int) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    for version in (1, 2):
        for statement in schema.MIGRATIONS[version].split(";"):
            if statement.strip():
                conn.execute(statement)
    conn.executemany("INSERT INTO images(path, state) VALUES (?, 'proposed')", [(f"gone{i}.jpg",) for i in range(n_images)])
    conn.executemany("INSERT INTO expressions(image_id, text, created, updated) VALUES (?, 'a dog', 0, 0)",
                     [(i + 1,) for i in range(n_images)])
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()


def test_a_full_disk_during_a_migration_says_disk_full_and_keeps_the_old_database(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "photos"
    make_image(folder / "a.jpg")
    db = default_db_path(folder)
    _v2_database(db, 2000)  # rebuilding its tables (v3) needs new pages
    _full_disk(monkeypatch, db)
    assert main(["info", str(folder)]) == 2
    _one_line_error(capsys, "disk full")
    monkeypatch.undo()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT COUNT(*) FROM expressions").fetchone()[0] == 2000
    conn.close()
    assert _info(folder, capsys)["phrases"] == 2000  # with room again, it upgrades as usual


_ON_A_FULL_DISK = textwrap.dedent("""
    import contextlib, io, json, shutil, sqlite3, sys
    from pathlib import Path
    from grounding_desktop.cli import main
    disk, project = Path(sys.argv[1]), Path(sys.argv[2])
    shutil.copytree(project, disk / "photos")
    with open(disk / "filler", "wb") as f:  # leave 28 kB: too little for the WAL index file
        f.write(bytes(shutil.disk_usage(disk).free - 28 * 1024))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["info", str(disk / "photos")])
    (disk / "filler").unlink()
    db = sqlite3.connect(disk / "photos" / ".grounding" / "project.sqlite")
    print(json.dumps([status, err.getvalue(), db.execute("PRAGMA user_version").fetchone()[0]]))
""")


def test_a_really_full_disk_says_disk_full_too(tmp_path):
    """On a full filesystem SQLite may fail as an I/O error before it gets to SQLITE_FULL."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a private 1 MB tmpfs")
    folder = tmp_path / "photos"
    make_image(folder / "a.jpg")
    _v2_database(default_db_path(folder), 3000)
    disk = tmp_path / "disk"
    disk.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c",
                          'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@"', str(disk),
                          sys.executable, "-c", _ON_A_FULL_DISK, str(disk), str(folder)],
                         capture_output=True, text=True, env=env, timeout=120)
    if run.returncode != 0 and "mount" in run.stderr:
        pytest.skip(f"cannot mount a private tmpfs here: {run.stderr.strip()}")
    status, err, version = json.loads(run.stdout)
    assert status == 2 and err.count("\n") == 1 and "disk full" in err, err
    assert version == 2  # the migration did not start


def test_a_database_path_that_is_not_a_file_is_refused_in_one_line(tmp_path, capsys):
    folder = tmp_path / "photos"
    make_image(folder / "a.jpg")
    for db in (os.devnull, str(tmp_path)):
        assert main(["info", str(folder), "--db", db]) == 2
        _one_line_error(capsys, "not a regular file", db)


_HOLDER = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO meta(key, value) VALUES ('held', 'by another process')")
    print("holding", flush=True)
    time.sleep(120)
""")


@pytest.fixture
def held_project(tmp_path, capsys):
    """A labelled project whose write lock another process holds (and never gives back)."""
    folder = tmp_path / "photos"
    make_image(folder / "a.jpg")
    with open_project(folder)[0] as store:
        store.labels.add_expression(store.images.by_path()["a.jpg"].id, "a red square", no_target=True)
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(default_db_path(folder))], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "holding"
    yield folder
    holder.kill()
    holder.wait()


def test_a_reader_does_not_wait_for_another_processs_writer(held_project, tmp_path, capsys):
    assert _info(held_project, capsys)["phrases"] == 1
    assert main(["export", str(held_project), "--format", "coco", "--out", str(tmp_path / "out.json")]) == 0
    assert len(json.loads((tmp_path / "out.json").read_text())["images"]) == 1


def test_a_writer_says_the_project_is_busy_in_another_process_in_one_line(held_project, tmp_path, capsys):
    coco = _coco_file(tmp_path / "one.json", "a.jpg", 1)
    assert main(["import", str(held_project), "--coco", str(coco)]) == 2
    _one_line_error(capsys, "the project is busy in another process")


def _damage(db: Path) -> None:
    """Overwrite every page but the first (the header and the schema) with garbage."""
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    size = db.stat().st_size
    with open(db, "r+b") as f:
        f.seek(4096)
        f.write(b"\xa5" * (size - 4096))


def test_a_damaged_database_says_so_in_one_line_and_points_to_the_last_good_backup(tmp_path, capsys):
    folder = tmp_path / "photos"
    make_image(folder / "a.jpg")
    db = default_db_path(folder)
    with open_project(folder)[0] as store:
        store.labels.add_expression(store.images.by_path()["a.jpg"].id, "a red square")
    backup = folder / ".grounding" / "project.backup.sqlite"
    assert backup.exists()  # kept on the first open
    os.utime(backup, (backup.stat().st_mtime - 25 * 3600,) * 2)  # a day later, the next open refreshes it
    _info(folder, capsys)
    _damage(db)
    coco = _coco_file(tmp_path / "one.json", "a.jpg", 1)
    for command in (["info", str(folder)], ["export", str(folder), "--format", "coco", "--out", str(tmp_path / "o.json")],
                    ["import", str(folder), "--coco", str(coco)]):
        assert main(command) == 2
        _one_line_error(capsys, "is damaged", f"the last good backup is {backup}")
    with ProjectStore(backup, root=folder) as good:
        assert [e.text for e in good.labels.expressions(good.images.by_path()["a.jpg"].id)] == ["a red square"]


def _a_day_later(db: Path) -> None:
    """Age every backup of ``db`` by a day: the next open takes a new one."""
    for backup in db.parent.glob(f"{db.stem}.backup*{db.suffix}"):
        os.utime(backup, (backup.stat().st_mtime - 25 * 3600,) * 2)


def _boxes_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM boxes").fetchone()[0]


@pytest.mark.parametrize("loss", ["emptied", "deleted", "wiped"])
def test_an_emptied_database_is_never_taken_for_a_new_project_while_a_backup_is_kept(tmp_path, capsys, loss):
    folder = tmp_path / "photos"
    labelled_project(folder).close()
    db = default_db_path(folder)
    _a_day_later(db)
    boxes = _info(folder, capsys)["boxes"]  # the open takes the day's backup, with the boxes
    backup = folder / ".grounding" / "project.backup.sqlite"
    assert boxes and _boxes_in(backup) == boxes
    for side in ("", "-wal", "-shm"):
        Path(f"{db}{side}").unlink(missing_ok=True)
    if loss == "emptied":
        db.write_bytes(b"")
    elif loss == "wiped":  # a database file with no project in it (no tables)
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE t (x)").execute("DROP TABLE t")
    _a_day_later(db)
    for command in (["info", str(folder)], ["export", str(folder), "--format", "coco", "--out", str(tmp_path / "o.json")]):
        assert main(command) == 2
        _one_line_error(capsys, f"the last good backup is {backup}")
    assert _boxes_in(backup) == boxes and (not db.exists() if loss == "deleted" else db.stat().st_size < 10_000)


def test_a_backup_never_pushes_out_the_last_good_one(tmp_path, capsys):
    folder = tmp_path / "photos"
    labelled_project(folder).close()
    db = default_db_path(folder)
    _a_day_later(db)
    boxes = _info(folder, capsys)["boxes"]
    with ProjectStore.open_folder(folder) as store:  # a day of deleting every box
        for image in store.images.all():
            for expression in store.labels.expressions(image.id):
                store.labels.delete_expression(expression.id)
    for day in range(5):  # five more daily backups of the emptied project
        _a_day_later(db)
        assert _info(folder, capsys)["boxes"] == 0
    kept = sorted(db.parent.glob("project.backup*.sqlite"))
    assert len(kept) == 3 and max(_boxes_in(b) for b in kept) == boxes


def _features_file_with_records(folder: Path, n: int = 400) -> Path:
    """The project's features file holding ``n`` records of 4 KB (several hundred pages)."""
    from grounding_desktop.store.features import FeatureStore

    make_image(folder / "a.png")
    with open_project(folder)[0] as store, FeatureStore.of_project(store) as features:
        features.put("m", [(f"h{i}", bytes([i % 251]) * 4096) for i in range(n)])
        sqlite3.connect(features.path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        return features.path


def _damage_features(path: Path, kind: str) -> None:
    for side in ("-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)
    if kind == "mid-file damage":
        with open(path, "r+b") as f:
            f.seek(path.stat().st_size // 2)
            f.write(b"\xa5" * 40960)
        return
    path.unlink()
    if kind == "a folder in its place":
        path.mkdir()
        (path / "something").write_text("kept")
    elif kind == "a dangling symlink":
        path.symlink_to(path.parent / "gone" / "features.sqlite")
    else:
        conn = sqlite3.connect(path)
        conn.executescript({"a wrong schema": "CREATE TABLE features (model TEXT, content_hash TEXT)",
                            "a view": "CREATE TABLE t (model, content_hash, data); CREATE VIEW features AS SELECT * FROM t",
                            "another format": "CREATE TABLE x (y); PRAGMA user_version = 7"}[kind])
        conn.close()


@pytest.mark.parametrize("kind", ["mid-file damage", "a wrong schema", "a view", "another format",
                                  "a folder in its place", "a dangling symlink"])
def test_a_damaged_features_file_is_moved_aside_and_rebuilt_with_one_line(tmp_path, kind):
    from grounding_desktop.store.features import FeatureStore

    folder = tmp_path / "photos"
    path = _features_file_with_records(folder)
    _damage_features(path, kind)
    with ProjectStore.open_folder(folder) as store, FeatureStore.of_project(store) as features:
        rows = len(list(features.features("m"))) + len(features.known("m"))  # whatever survived is readable
        features.put("m", [("new", b"record")])
        assert dict(features.features("m", ["new"])) == {"new": b"record"}
        assert rows <= 800 and len(features.notes) == 1, features.notes
        assert "moved aside" in features.notes[0] and "\n" not in features.notes[0]
    assert len([p for p in path.parent.glob(f"{path.name}.damaged-*") if not p.name.endswith(("-wal", "-shm"))]) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


@pytest.mark.model
def test_damaged_features_records_are_dropped_and_prepared_again_with_one_line(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("astronaut.jpg", "coffee.jpg"):
        shutil.copy(SAMPLES / name, folder / name)
    assert main(["prepare", str(folder)]) == 0
    capsys.readouterr()
    path = folder / ".grounding" / "project.features.sqlite"
    with sqlite3.connect(path) as conn:
        (h1, data), (h2, _) = conn.execute("SELECT content_hash, data FROM features ORDER BY content_hash").fetchall()
        conn.execute("UPDATE features SET data=? WHERE content_hash=?", (data[:-7], h1))  # the wrong length
        conn.execute("UPDATE features SET data='text' WHERE content_hash=?", (h2,))  # the wrong type
    assert main(["search", str(folder), "an astronaut", "--top", "1"]) == 0
    out, err = capsys.readouterr()
    assert "astronaut.jpg" in out and "prepared 2 images" not in out
    warnings = [line for line in err.splitlines() if "damaged" in line]
    assert len(warnings) == 1 and "dropped, prepared again" in warnings[0] and "Traceback" not in err
    assert main(["prepare", str(folder)]) == 0
    assert "prepared 0 images (2 prepared before" in capsys.readouterr().out


def test_features_are_filed_under_the_hash_of_the_bytes_that_were_decoded(tmp_path):
    """A file replaced by another picture while the pass decodes it: its features must not go
    under the old content's hash, where an identical copy of the old file (and the file itself,
    once its old content is put back) would find them."""
    from onnx_models import yolo_model

    from grounding_desktop.core.detector_choice import DetectorChoice
    from grounding_desktop.folder.engine import LocalEngine
    from grounding_desktop.folder.feature_pass import run_feature_pass
    from grounding_desktop.grounding.features import ImageFeatures
    from grounding_desktop.grounding.grounder import Grounder
    from grounding_desktop.io.images import decode_image
    from grounding_desktop.project import rescan_project
    from grounding_desktop.store.features import FeatureStore

    folder = tmp_path / "photos"
    make_image(folder / "a.png", size=(64, 48))
    shutil.copy(folder / "a.png", folder / "b_copy_of_a.png")
    other = make_image(tmp_path / "other.png", size=(40, 90), color=(0, 0, 255)).read_bytes()

    def replaced_while_decoding(path, max_side):
        if Path(path).name == "a.png" and Path(path).read_bytes() != other:
            Path(path).write_bytes(other)  # another picture lands while the pass reads the file
        return decode_image(path, max_side)

    detector = DetectorChoice(onnx_file=str(yolo_model(tmp_path / "d.onnx", "yolov8", [30, 20, 10, 8], 0, ["widget"])))
    store, _ = open_project(folder)
    features = FeatureStore.of_project(store)
    old_hash = store.images.by_path()["a.png"].content_hash
    engine = LocalEngine(Grounder("cpu", detector=detector, image_loader=replaced_while_decoding))
    report = run_feature_pass(store, features, engine)
    assert [path for path, _ in report.failed] == ["a.png", "b_copy_of_a.png"]  # one content, not filed
    rescan_project(store)
    run_feature_pass(store, features, engine)
    kept = {h: ImageFeatures.from_bytes(data) for h, data in features.features(engine.features_version)}
    sizes = {r.path: (kept[r.content_hash].width, kept[r.content_hash].height) for r in store.images.all()}
    assert sizes == {"a.png": (40, 90), "b_copy_of_a.png": (64, 48)}
    assert store.images.by_path()["b_copy_of_a.png"].content_hash == old_hash
    store.close(), features.close()


def test_a_labelled_file_replaced_by_another_picture_is_flagged_for_review(tmp_path, capsys):
    folder = tmp_path / "photos"
    make_image(folder / "labelled.jpg", size=(64, 48), color=(200, 0, 0))
    make_image(folder / "untouched.jpg", size=(64, 48), color=(0, 0, 200))
    with open_project(folder)[0] as store:
        rec = store.images.by_path()["labelled.jpg"]
        store.labels.add_expression(rec.id, "the red square")
        store.images.set_state(rec.id, ImageState.REVIEWED)
    make_image(folder / "labelled.jpg", size=(80, 60), color=(0, 200, 0))
    make_image(folder / "untouched.jpg", size=(80, 60), color=(0, 200, 200))
    (flagged,) = _info(folder, capsys)["flagged_files"]
    assert flagged["path"] == "labelled.jpg" and "replaced by a different picture" in flagged["reason"]
    with ProjectStore.open_folder(folder) as store:
        rec = store.images.by_path()["labelled.jpg"]
        assert rec.state == ImageState.IN_PROGRESS and "was 64x48, now 80x60" in rec.review_reason
        assert store.images.by_path()["untouched.jpg"].review_reason is None  # nothing to check there
        store.images.set_state(rec.id, ImageState.REVIEWED)  # the person has looked at it again
        assert store.images.get(rec.id).review_reason is None
    assert main(["info", str(folder)]) == 0
    assert "flagged" not in capsys.readouterr().out


def test_broken_links_and_unreadable_subfolders_are_listed_as_unreadable(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "photos"
    make_image(folder / "a.jpg")
    make_image(folder / "private" / "b.jpg")
    os.symlink(tmp_path / "nowhere.jpg", folder / "gone.jpg")
    scandir = os.scandir

    def refusing(path="."):  # root may read any folder: the OS's refusal is played here
        if Path(path).name == "private":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    info = _info(folder, capsys)
    assert info["images"] == 3 and info["unreadable"] == 2
    reasons = {f["path"]: f["reason"] for f in info["unreadable_files"]}
    assert reasons["gone.jpg"].startswith(f"broken link to {tmp_path / 'nowhere.jpg'}")
    assert reasons["private"] == "folder cannot be read: Permission denied"
    assert main(["info", str(folder)]) == 0
    assert "  gone.jpg: broken link" in capsys.readouterr().out


# -- Command line ------------------------------------------------------------------------------

def test_a_reader_that_closes_the_pipe_early_gets_no_traceback(tmp_path):
    folder = tmp_path / "photos"
    make_image(folder / "a.jpg")
    with open_project(folder)[0] as store:
        store.labels.add_expression(store.images.by_path()["a.jpg"].id, "a red square")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    export = subprocess.Popen([sys.executable, "-m", "grounding_desktop.cli", "export", str(folder), "--format",
                               "coco", "--out", str(tmp_path / "out.json")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env)
    export.stdout.close()  # as `| head -0` would: nobody reads the summary
    err = export.stderr.read().decode()
    assert export.wait() == 141 and err == ""
    assert (tmp_path / "out.json").exists()


def test_help_shows_the_desktop_app_form_too(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    usage = capsys.readouterr().out.split("\n\n")[0]
    for part in ("[FOLDER]", "--phrase", "--screenshot", "--db", "--device", "COMMAND"):
        assert part in usage, usage


@pytest.mark.parametrize("command", [["ground", str(SAMPLES / "coffee.jpg"), "-p", "the cup"], ["doctor"]])
def test_the_opencv_backend_on_opencv_5_is_refused_in_one_line_naming_the_fix(monkeypatch, capsys, command):
    import cv2

    from grounding_desktop.grounding.detectors.backends import OPENCV_FIX, BackendUnavailable, make_detector
    from grounding_desktop.core.detector_choice import DetectorChoice

    monkeypatch.delattr(cv2.dnn, "readNetFromTensorflow")  # as in OpenCV 5, which has no TensorFlow importer
    assert main([*command, "--backend", "opencv"]) == 2
    _one_line_error(capsys, "OpenCV", OPENCV_FIX)
    with pytest.raises(BackendUnavailable, match="opencv-python-headless<5"):  # the app's model process
        make_detector(DetectorChoice("opencv"), "cpu")


def test_the_app_without_a_display_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    app = subprocess.run([sys.executable, "-m", "grounding_desktop.cli", str(SAMPLES)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert app.returncode == 2 and app.stderr.count("\n") == 1
    assert "no display" in app.stderr and "QT_QPA_PLATFORM=offscreen" in app.stderr


def test_an_x11_display_without_the_xcb_libraries_qt_needs_is_named_with_the_apt_get_line(monkeypatch, capsys):
    """Qt would abort saying "xcb-cursor0 is needed" whatever is missing; the app and doctor name
    what is missing, and the one line that installs it."""
    from grounding_desktop.commands import display

    monkeypatch.setattr(display, "loadable", lambda lib: lib not in ("libxcb-icccm.so.4", "libxcb-cursor.so.0"))
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    assert main([str(SAMPLES)]) == 2
    err = _one_line_error(capsys, "libxcb-cursor.so.0, libxcb-icccm.so.4",
                          "install with: sudo apt-get install libxcb-cursor0 libxcb-icccm4")
    facts = display.window_facts()  # what doctor prints
    assert facts["problem"] in err and facts["missing_libraries"] == ["libxcb-cursor.so.0", "libxcb-icccm.so.4"]
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # not xcb: nothing to say
    assert display.window_facts()["problem"] is None


@pytest.mark.parametrize("workers", ["100000", "99999999999999999999", "0", "\u0663", "1_0", "-3"])
def test_an_absurd_number_of_ray_workers_is_refused_in_one_line(tmp_path, capsys, workers):
    """Refused before any model loads or Ray starts (the address answers nowhere, so a run that
    went on would end on that instead)."""
    make_image(tmp_path / "photos" / "a.jpg")
    assert main(["prepare", str(tmp_path / "photos"), "--engine", "ray", "--address", "ray://127.0.0.1:9",
                 f"--workers={workers}"]) == 2
    _one_line_error(capsys, "--workers must be a whole number from 1 to")


# -- Export and import -------------------------------------------------------------------------
@pytest.fixture
def folder(tmp_path):
    f = tmp_path / "photos"
    labelled_project(f).close()
    return f


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("grounding-desktop: error: ") and len(err.strip().splitlines()) == 1, err
    return err


def _labels(folder):
    with ProjectStore.open_folder(folder) as s:
        return s.counts(), {k: [(e.text, [b.bbox for b in bs]) for e, bs in v] for k, v in s.labels.all_annotations().items()}


@pytest.mark.parametrize("target", [".grounding/project.sqlite", ".grounding/project.sqlite-wal",
                                    ".grounding/project.sqlite-shm", "a.jpg", "sub/c.jpg"])
def test_export_never_writes_over_the_project_database_or_its_images(folder, capsys, target):
    victim = folder / target
    photo = victim.read_bytes() if victim.suffix == ".jpg" else None
    labels = _labels(folder)
    assert main(["export", str(folder), "--format", "coco", "--out", str(victim)]) == 2
    assert "refusing to write" in _one_error_line(capsys)
    assert _labels(folder) == labels
    if photo is not None:
        assert victim.read_bytes() == photo


@pytest.mark.parametrize("target", [".grounding/project.backup.sqlite", ".grounding/project.features.sqlite",
                                    ".grounding/labels.json", "db/p.backup.sqlite", "db/p.features.sqlite-wal"])
def test_export_never_writes_over_the_projects_own_files_backups_and_features(folder, tmp_path, capsys, target):
    db = tmp_path / "db" / "p.sqlite"
    db.parent.mkdir()
    shutil.copy(default_db_path(folder), db)
    victim = folder / target if target.startswith(".grounding") else tmp_path / target
    victim.write_bytes(b"the only copy")
    for link in (False, True):  # named, and reached through a symlink elsewhere
        out = tmp_path / "out.json"
        if link:
            out.symlink_to(victim)
        assert main(["export", str(folder), "--db", str(db), "--format", "coco", "--out", str(out if link else victim)]) == 2
        assert "refusing to write" in _one_error_line(capsys)
        assert victim.read_bytes() == b"the only copy"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="makes a FIFO")
def test_export_refuses_a_device_or_a_fifo_as_out(folder, tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    targets = [fifo] + [Path("/dev/full")] * Path("/dev/full").exists() + [Path("/dev/null")] * Path("/dev/null").exists()
    for target in targets:
        assert main(["export", str(folder), "--format", "coco", "--out", str(target)]) == 2
        assert "not a regular file" in _one_error_line(capsys)
    assert fifo.is_fifo()


def test_export_to_a_symlink_writes_its_target_atomically_and_says_so(folder, tmp_path, capsys):
    real = tmp_path / "data" / "train.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    assert main(["export", str(folder), "--format", "coco", "--out", str(link)]) == 0
    assert f"wrote {real} (through the symlink {link})" in capsys.readouterr().out
    assert link.is_symlink() and link.resolve() == real
    assert json.loads(real.read_text())["annotations"]
    assert sorted(p.name for p in real.parent.iterdir()) == ["train.json"]  # no temp file left


def test_two_imports_of_one_file_at_once_add_its_labels_once(tmp_path, folder):
    """The second import starts after the first has checked the file but before it writes: the
    duplicate check must run inside the write transaction, or both find the labels new."""
    with ProjectStore.open_folder(folder) as source:
        export_project(source, "coco-grounding", tmp_path / "g.json")
    first, _ = open_project(folder, tmp_path / "p.sqlite")
    second = ProjectStore(tmp_path / "p.sqlite", root=folder)  # its own connection, as another process has
    checks = []
    import_coco(first, tmp_path / "g.json", ImportOptions(dry_run=True), cancelled=lambda: checks.append(1) and False)
    calls = []

    def cancelled():
        calls.append(1)
        if len(calls) == len(checks):  # the first import's last check before it writes
            import_coco(second, tmp_path / "g.json")
        return False

    import_coco(first, tmp_path / "g.json", cancelled=cancelled)
    assert first.counts()["boxes"] == 5 and first.counts()["phrases"] == 6
    first.close()
    second.close()


def test_an_imported_label_equal_to_a_proposal_promotes_it(tmp_path, folder):
    with ProjectStore.open_folder(folder) as s:
        img = s.images.by_path()["e.jpg"]
        s.labels.add_expression(img.id, "the lamp", [Box(0, 0, (2.0, 2.0, 8.0, 8.0), BoxState.PROPOSED)])
    f = tmp_path / "labels.json"
    f.write_text(json.dumps({"images": [{"id": 1, "file_name": "e.jpg", "caption": "the lamp"}],
                             "annotations": [{"id": 1, "image_id": 1, "bbox": [2, 2, 8, 8], "category_id": 1}],
                             "categories": [{"id": 1, "name": "object"}]}))
    with ProjectStore.open_folder(folder) as s:
        summary = import_coco(s, f)
        (expr, boxes), = s.labels.annotations(s.images.by_path()["e.jpg"].id)
        assert [(b.bbox, b.state) for b in boxes] == [((2.0, 2.0, 8.0, 8.0), BoxState.ACCEPTED)]
        assert summary.proposals_promoted == 1 and summary.duplicates == 0
        assert export_project(s, "coco", tmp_path / "c.json").boxes == 6  # the label is exported


_GOOD = {"id": 1, "file_name": "e.jpg", "width": 32, "height": 32}


@pytest.mark.parametrize("content", [
    {"images": [_GOOD], "annotations": [{"id": 1, "image_id": 1, "bbox": [1, 1, 2, 2], "category_id": [1]}],
     "categories": [{"id": 1, "name": "cat"}]},
    {"images": [_GOOD], "annotations": [{"id": 1, "image_id": 1, "bbox": [1, 1, 2, 2], "category_id": {"a": 1}}],
     "categories": [{"id": 1, "name": "cat"}]},
    {"images": [_GOOD], "annotations": [], "categories": [{"id": [1], "name": "cat"}]},
    {"images": [_GOOD], "annotations": [], "categories": [{"id": {"x": 1}, "name": "cat"}]},
    {"images": [_GOOD], "annotations": [{"id": 1, "image_id": 1, "bbox": [10 ** 400, 1, 2, 2], "category_id": 1}],
     "categories": [{"id": 1, "name": "cat"}]},
    {"images": [_GOOD], "annotations": [{"id": 10 ** 400, "image_id": 1, "bbox": [1, 1, 2, 2], "category_id": 1}],
     "categories": [{"id": 1, "name": "c\ud800t"}]},
    {"images": [dict(_GOOD, caption="a \ud800 cat")], "annotations": []},
], ids=["list category_id", "dict category_id", "list category id", "dict category id", "400-digit bbox",
        "lone surrogate in a category name", "lone surrogate in a caption"])
def test_hostile_values_in_an_import_give_one_line_and_write_nothing(folder, tmp_path, capsys, content):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(content))
    labels = _labels(folder)
    assert main(["import", str(folder), "--coco", str(f)]) == 2
    _one_error_line(capsys)
    assert _labels(folder) == labels


def test_a_5000_digit_number_in_an_import_gives_one_line(folder, tmp_path, capsys):
    f = tmp_path / "bad.json"
    f.write_text('{"images": [{"id": 1, "file_name": "e.jpg"}], "annotations": [{"id": ' + "9" * 5000 + "}]}")
    assert main(["import", str(folder), "--coco", str(f)]) == 2
    assert "bad.json" in _one_error_line(capsys)


def test_a_lone_surrogate_in_a_label_map_gives_one_line(folder, tmp_path, capsys):
    lm = tmp_path / "lm.json"
    lm.write_text('{"the horses": "ho\\ud800rse"}')
    assert main(["export", str(folder), "--format", "coco", "--out", str(tmp_path / "c.json"), "--label-map", str(lm)]) == 2
    assert "not valid Unicode" in _one_error_line(capsys) and not (tmp_path / "c.json").exists()


def test_an_endless_or_oversized_import_file_is_refused_without_reading_it_all(folder, tmp_path, capsys):
    assert main(["import", str(folder), "--coco", "/dev/zero"]) == 2
    assert "not a JSON file" in _one_error_line(capsys)
    big = tmp_path / "big.json"
    images = [{"id": i, "file_name": "e.jpg", "caption": f"thing {i}", "padding": "x" * 1000} for i in range(1500)]
    big.write_text(json.dumps({"images": images}))
    assert main(["import", str(folder), "--coco", str(big), "--max-size-mb", "1"]) == 2
    err = _one_error_line(capsys)
    assert "over the import limit" in err and "--max-size-mb" in err
    assert main(["import", str(folder), "--coco", str(big), "--max-size-mb", "5", "--dry-run"]) == 0


def test_control_characters_in_imported_captions_are_removed_and_reported(folder, tmp_path, capsys):
    f = tmp_path / "g.json"
    f.write_text(json.dumps({"images": [{"id": 1, "file_name": "e.jpg", "caption": "the\u0000 lamp\u001b[31m"}]}))
    assert main(["import", str(folder), "--coco", str(f)]) == 0
    assert "removed control characters from 1 caption" in capsys.readouterr().out
    with ProjectStore.open_folder(folder) as s:
        assert [e.text for e, _ in s.labels.annotations(s.images.by_path()["e.jpg"].id)] == ["the lamp [31m"]


def test_an_odvg_phrase_holding_a_raw_line_separator_is_imported(folder, tmp_path):
    """U+2028 is valid inside a JSON string, and ``ensure_ascii=False`` writes it raw."""
    f = tmp_path / "g.jsonl"
    records = [{"filename": "e.jpg", "height": 32, "width": 32,
                "grounding": {"caption": f"the {sep}lamp",
                              "regions": [{"bbox": [1, 1, 9, 9], "phrase": f"the {sep}lamp"}]}}
               for sep in ("\u2028", "\u0085")]
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    assert main(["import", str(folder), "--odvg", str(f)]) == 0
    with ProjectStore.open_folder(folder) as s:
        assert [(e.text, [b.bbox for b in bs]) for e, bs in s.labels.annotations(s.images.by_path()["e.jpg"].id)] == [
            ("the lamp", [(1.0, 1.0, 8.0, 8.0)])]


def test_a_phrase_is_cleaned_by_one_rule_however_it_enters(folder, tmp_path, capsys):
    """A leading BOM, zero-width spaces and ESC are dropped whether the phrase is imported, typed in
    the app or given to ``propose`` (``-p`` or ``--phrases-file``); a phrase made only of words like
    "the" and "of" is refused where it is typed or given, and skipped (counted) by an import."""
    from grounding_desktop.editing.document import ImageDocument

    f = tmp_path / "g.json"
    f.write_text(json.dumps({"images": [
        {"id": 1, "file_name": "a.jpg", "caption": "\ufeffthe\u200b horses\x1b", "width": 64, "height": 48},
        {"id": 2, "file_name": "e.jpg", "caption": "\u2060the lamp", "width": 32, "height": 32}],
        "annotations": [{"id": 1, "image_id": 1, "bbox": [1.25, 2.5, 10.0, 12.0], "category_id": 1}]}))
    assert main(["import", str(folder), "--coco", str(f)]) == 0
    assert "removed control characters from 2 captions" in capsys.readouterr().out
    with ProjectStore.open_folder(folder) as s:
        assert [e.text for e, _ in s.labels.annotations(s.images.by_path()["a.jpg"].id)] == ["the horses", "the cat"]
        assert [e.text for e, _ in s.labels.annotations(s.images.by_path()["e.jpg"].id)] == ["the lamp"]

    doc = ImageDocument()
    doc.query.set_text("\ufeffthe\u200b cat\x1b")
    assert doc.query.phrase == "the cat"

    f.write_text(json.dumps({"images": [{"id": 1, "file_name": "e.jpg", "caption": "a of"},
                                        {"id": 2, "file_name": "d.jpg", "caption": "\ufeffthe"}]}))
    assert main(["import", str(folder), "--coco", str(f)]) == 0  # a dataset's stray "the" is skipped, counted
    assert "skipped 2: caption of only words like 'the' and 'of'" in capsys.readouterr().out
    with ProjectStore.open_folder(folder) as s:
        assert [e.text for e, _ in s.labels.annotations(s.images.by_path()["e.jpg"].id)] == ["the lamp"]
    doc.query.set_text("The  Of")
    assert doc.query.phrase is None
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("the cup\n\ufeffa of\n", encoding="utf-8")
    for how in (["-p", "the"], ["-p", "the cup", "--phrases-file", str(phrases)]):
        assert main(["propose", str(folder), *how]) == 2
        assert "names nothing" in _one_error_line(capsys)


def test_an_image_size_off_by_a_rounding_error_matches_and_a_real_mismatch_shows_both_numbers(folder, tmp_path,
                                                                                                  capsys):
    f = tmp_path / "c.json"

    def coco(width):
        f.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": width, "height": 48,
                                             "caption": "the horses"}]}))
        return main(["import", str(folder), "--coco", str(f)])

    assert coco(64.0000001) == 0
    assert coco(64.25) == 2
    assert "is 64.25x48 in the file but 64x48 in the project" in _one_error_line(capsys)
    assert coco(64.02) == 2
    assert "is 64.02x48 in the file" in _one_error_line(capsys)


def test_duplicate_category_ids_in_an_import_are_refused(folder, tmp_path, capsys):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "e.jpg", "width": 32, "height": 32}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 1, "name": "dog"}],
        "annotations": [{"id": 1, "image_id": 1, "bbox": [1, 1, 5, 5], "category_id": 1}]}))
    labels = _labels(folder)
    assert main(["import", str(folder), "--coco", str(f)]) == 2
    assert "categories[1] (id 1): id 1 appears twice in 'categories'" in _one_error_line(capsys)
    assert _labels(folder) == labels


def test_a_killed_exports_temp_files_are_removed_by_the_next_export(folder, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = out / f".c.json.{int(dead.stdout)}.abcd1234.tmp"  # what a killed export leaves
    stale.write_bytes(b"x" * 1000)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        running = out / f".c.json.{alive.pid}.efgh5678.tmp"  # another export still writing
        running.write_bytes(b"y")
        with ProjectStore.open_folder(folder) as s:
            export_project(s, "coco", out / "c.json")
        assert not stale.exists() and running.exists()
    finally:
        alive.kill()
        alive.wait()


def _capped(argv: list[str], timeout_s: int = 120) -> subprocess.CompletedProcess:
    """``python ARGV`` in a process of its own, its memory capped at 4 GiB: a hang or a runaway
    allocation (112 GiB, a billion laughs) ends there (killed or ``MemoryError``), not in the test run."""
    import resource

    cap = partial(resource.setrlimit, resource.RLIMIT_AS, (4 << 30, 4 << 30))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, timeout=timeout_s,
                          preexec_fn=cap)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return _capped(["-m", "grounding_desktop.cli", *args])


def _one_line(proc: subprocess.CompletedProcess, *words: str) -> str:
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr[-2000:]
    assert proc.stderr.startswith("grounding-desktop: error: ") and "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr
    return proc.stderr


def _shared_lists(levels: int) -> list:
    """A list of 2**levels leaves built from ``levels`` lists (each holds the one below twice)."""
    node: list = [1]
    for _ in range(levels):
        node = [node, node]
    return node


def _deep_refs_pickle(depth: int) -> bytes:
    """``[{"ann_id": [[[...]]]}]`` nested ``depth`` lists deep, written opcode by opcode (the
    pickler itself would recurse)."""
    key = b"ann_id"
    return (b"\x80\x02]}X" + len(key).to_bytes(4, "little") + key + b"]" * depth + b"a" * (depth - 1)
            + b"sa.")


@pytest.mark.parametrize("ann_id", ["shared lists", "100,000 deep", "5000 digits"])
def test_a_hostile_id_in_a_refcoco_pickle_gives_one_line_fast(folder, tmp_path, ann_id):
    import pickle

    refs = tmp_path / "refcoco"
    refs.mkdir()
    (refs / "instances.json").write_text(json.dumps({"images": [], "annotations": []}))
    if ann_id == "100,000 deep":
        data = _deep_refs_pickle(100_000)
    else:
        bad = _shared_lists(40) if ann_id == "shared lists" else 10 ** 5000 - 1
        data = pickle.dumps([{"ann_id": bad, "sentences": [{"raw": "the cat"}]}], protocol=2)
    (refs / "refs(unc).p").write_bytes(data)
    assert len(data) < 1_000_000
    err = _one_line(_cli("import", str(folder), "--refcoco", str(refs)), "refs[0]", "ann_id")
    assert len(err) < 400


def test_an_endless_label_map_is_refused_without_reading_it_all(folder, tmp_path):
    out = tmp_path / "c.json"
    proc = _cli("export", str(folder), "--format", "coco", "--out", str(out), "--label-map", "/dev/zero")
    _one_line(proc, "/dev/zero", "not a JSON file")
    assert not out.exists()


def test_a_label_map_can_be_given_inline_as_json(folder, tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["export", str(folder), "--format", "coco", "--out", str(out),
                 "--label-map", '{"the horses": "horse", "Red Ball": "ball"}']) == 0
    assert [c["name"] for c in json.loads(out.read_text())["categories"]] == ["horse", "ball"]
    assert main(["export", str(folder), "--format", "coco", "--out", str(out), "--label-map", '{"the horses": 3}']) == 2
    assert "--label-map" in _one_error_line(capsys)


@pytest.mark.parametrize("splits", ["1e308,1e308,1e308", "\u0663,1,1", "1_0,1,1", "inf,1,1", "nan,1,1", "-1,1,1",
                                    "0,0,0", "0x10,1", "9" * 400 + ",1,1", "1,1,1,1", "80,,10"])
def test_splits_are_plain_numbers_or_refused_in_one_line(folder, tmp_path, capsys, splits):
    out = tmp_path / "c.json"
    assert main(["export", str(folder), "--format", "coco", "--out", str(out), f"--splits={splits}"]) == 2
    assert "--splits" in _one_error_line(capsys) and not list(tmp_path.glob("c*.json"))


class _ImagesWithLatin1Name(Images):
    """The store's images as it returns a file named in Latin-1 (``café.jpg`` as bytes ``caf\\xe9``):
    a str with a surrogate escape, which JSON files cannot hold."""

    def all(self, state=None, include_missing=False):
        return [ImageRecord(**{**vars(img), "path": "caf\udce9.jpg"}) if img.path == "e.jpg" else img
                for img in super().all(state, include_missing)]


def test_an_image_whose_file_name_is_not_utf8_is_skipped_not_a_crash(folder, tmp_path):
    with ProjectStore.open_folder(folder) as s:
        s.labels.add_expression(s.images.by_path()["e.jpg"].id, "the lamp", [Box(0, 0, (1, 1, 5, 5))])
        s.images = _ImagesWithLatin1Name(s)
        for fmt in ("coco-grounding", "coco", "odvg", "refcoco", "yolo", "voc"):
            summary = export_project(s, fmt, tmp_path / fmt / "out.json", ExportOptions(splits=(50, 50)))
            assert summary.skipped["images"]["file name is not valid UTF-8"] == 1, fmt
            assert summary.images > 0


def test_a_dataset_name_that_is_not_valid_utf8_gives_one_line(folder, tmp_path, capsys):
    name = b"ref\xffcoco".decode("utf-8", "surrogateescape")  # as argv holds a Latin-1 byte
    assert main(["export", str(folder), "--format", "coco-grounding", "--out", str(tmp_path / "g.json"),
                 "--dataset-name", name]) == 2
    assert "not valid Unicode" in _one_error_line(capsys) and not (tmp_path / "g.json").exists()


@pytest.mark.parametrize("flag,name,content", [
    ("--yolo", "data.yaml", "names: !!python/object/apply:os.system ['touch {pwned}']\ntrain: images\n"),
    ("--voc", "a.xml", '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "x"><!ENTITY y "&x;&x;&x;&x;&x;&x;&x;&x;">]>'
                       "<annotation><filename>&y;</filename></annotation>"),
    ("--voc", "b.xml", '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                       "<annotation><filename>&x;</filename></annotation>"),
], ids=["yaml that runs code", "xml entity expansion", "xml external entity"])
def test_a_dataset_file_built_to_run_code_or_expand_entities_is_refused_in_one_line(folder, tmp_path, capsys,
                                                                                     flag, name, content):
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / name).write_text(content.replace("{pwned}", str(tmp_path / "pwned")))
    labels = _labels(folder)
    assert main(["import", str(folder), flag, str(dataset)]) == 2
    assert name in _one_error_line(capsys)
    assert _labels(folder) == labels and not (tmp_path / "pwned").exists()


# -- Model -------------------------------------------------------------------------------------

@pytest.mark.model
def test_a_blank_frame_is_an_image_with_nothing_in_it_not_an_error(tmp_path: Path, capsys):
    frames = [make_image(tmp_path / f"{name}.png", size=(320, 240), color=colour)
              for name, colour in (("black", (0, 0, 0)), ("white", (255, 255, 255)),
                                   ("grey", (128, 128, 128)))]
    assert main(["ground", *map(str, frames), "--phrase", "the cat", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    answers = [json.loads(line) for line in captured.out.splitlines()]
    assert [a["image"] for a in answers] == [str(f) for f in frames]
    assert all(a["results"][0]["boxes"] == [] for a in answers)


_LOAD_DETECTORS = textwrap.dedent("""
    import json, sys
    from grounding_desktop.grounding.detectors.onnx_detector import OnnxDetector
    from grounding_desktop.grounding.detectors.onnx_runtime import ModelFileError
    for model in sys.argv[1:]:
        try:
            OnnxDetector(model)
            print(json.dumps("loaded"), flush=True)
        except ModelFileError as exc:
            print(json.dumps(str(exc)), flush=True)
""")


def _refusals(*models: Path) -> list[str]:
    """What loading each of the user's detectors says (its memory capped, see :func:`_capped`)."""
    proc = _capped(["-c", _LOAD_DETECTORS, *map(str, models)], timeout_s=300)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _laughs(levels: int) -> str:
    """``names`` holding a billion-laughs chain: each list is nine aliases of the one before."""
    chain = ["&l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    chain += [f"&l{k} [" + ", ".join([f"*l{k - 1}"] * 9) + "]" for k in range(1, levels)]
    return "names: [" + ", ".join(chain) + "]\n"


def test_a_detector_whose_input_is_40000_pixels_a_side_is_refused_in_one_line(tmp_path):
    from onnx_models import yolo_model

    model = yolo_model(tmp_path / "huge.onnx", "yolov8", [10, 10, 4, 4], 0, ["thing"], input_hw=(40000, 40000))
    err, = _refusals(model)
    assert str(model) in err and "40000x40000" in err and "8192" in err and "\n" not in err


_HOSTILE_SIDECARS = {  # what the sidecar says -> words its one line must hold
    "input_size: [100000, 100000]": ["'input_size'", "8192"],
    "stride: 100000": ["'stride'", "100000"],
    "stride: 0": ["'stride'", "not 0"], "stride: -5": ["'stride'", "-5"], "stride: 1.5": ["'stride'", "1.5"],
    "pad_value: 300": ["'pad_value'", "0 to 255", "300"],
    "letterbox: maybe": ["'letterbox'", "'maybe'"],
    "names: " + "[" * 5000 + "]" * 5000: ["nested more than"],
    _laughs(9): ["aliases"],
    "names: {-1: a, 99999999999: b}": ["'names'", "class ids from 0", "-1"],
}


def test_a_hostile_detector_sidecar_is_refused_in_one_line_naming_the_key(tmp_path):
    """Billion laughs, 5000-deep nesting, sizes that would allocate 112 GiB, values of the wrong
    type or range: each sidecar is refused with one line naming it and what is wrong."""
    from onnx_models import yolo_model

    models = []
    for k, sidecar in enumerate(_HOSTILE_SIDECARS):
        models.append(yolo_model(tmp_path / str(k) / "det.onnx", "yolov8", [10, 10, 4, 4], 0, ["thing"],
                                 input_hw=(64, 64)))
        (tmp_path / str(k) / "det.yaml").write_text(sidecar + "\n")
    for (sidecar, words), err in zip(_HOSTILE_SIDECARS.items(), _refusals(*models)):
        assert err.startswith(str(models[0].parent.parent)) and "det.yaml" in err, (sidecar[:60], err)
        assert "\n" not in err and len(err) < 400 and all(w in err for w in words), (sidecar[:60], err)


@pytest.mark.model
def test_a_detector_that_finds_nothing_or_nan_gives_an_empty_answer_not_a_crash(tmp_path: Path, capsys):
    from onnx_models import raw_yolo_model, triple_model

    names = ["widget", "gadget"]
    models = [triple_model(tmp_path / "none.onnx", np.zeros((0, 4)), np.zeros(0), np.zeros(0), names),  # N = 0
              triple_model(tmp_path / "nan.onnx", [[np.nan] * 4, [np.nan, 0, np.inf, 9]], [np.nan, np.inf], [0, 1], names),
              raw_yolo_model(tmp_path / "allnan.onnx", np.full((1, 6, 16), np.nan), names),
              raw_yolo_model(tmp_path / "inf.onnx", np.full((1, 6, 16), np.inf), names),
              raw_yolo_model(tmp_path / "empty.onnx", np.zeros((1, 6, 0)), names)]
    for sidecar in ("input_size: [1, 1]",):  # a dynamic input, set by the sidecar (`scale: .nan` is refused)
        model = raw_yolo_model(tmp_path / f"side{len(models)}.onnx", np.zeros((1, 6, 16)), names, (1, 3, "h", "w"))
        model.with_suffix(".yaml").write_text(sidecar + "\n")
        models.append(model)
    image = make_image(tmp_path / "frame.png", size=(120, 90))
    for model in models:
        assert main(["ground", str(image), "--phrase", "the widget", "--json", "--detector", str(model)]) == 0, model
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err and "Error" not in captured.err, captured.err
        assert json.loads(captured.out)["results"][0]["boxes"] == [], (model, captured.out)


# == Desktop app ===================================================================================
GUI_TESTS = REPO / "tests" / "gui"


def _screenshot(folder: Path, tmp_path: Path, *args: str, timeout_s: int = 60) -> subprocess.CompletedProcess:
    """``grounding-desktop FOLDER --screenshot PNG ARGS`` with the tests' fake model, offscreen."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=os.pathsep.join([str(GUI_TESTS), str(REPO)]),
               GROUNDING_DESKTOP_SETTINGS=str(tmp_path / "s.ini"), GROUNDING_DESKTOP_SCREENSHOT_TIMEOUT=str(timeout_s))
    return subprocess.run([sys.executable, "-m", "grounding_desktop.cli", str(folder), "--screenshot",
                           str(tmp_path / "shot.png"), *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=REPO)


def test_a_model_that_finishes_loading_after_the_window_closed_is_ignored(qtbot, image_folder):
    """CI flake: the model's "loaded" arrived after closeEvent and hit a closed window. The window
    now ends the model process at close, load or not, and hears nothing from it after."""
    sys.path.insert(0, str(GUI_TESTS))
    from fakes import FakeGrounder
    from gui_helpers import make_window

    from grounding_desktop.editing.state import ModelState
    from grounding_desktop.project import open_project

    store, _ = open_project(image_folder)
    window = make_window(qtbot, store, partial(FakeGrounder, load_delay=0.5), rescan=False)
    qtbot.waitUntil(lambda: window.host.state == ModelState.LOADING)
    window.close()
    qtbot.wait(800)  # past the load: an answer delivered to a slot now would fail the test (pytest-qt)
    assert window.host.info is None and window.host.pid is None and window.doc.labels.store is None


def test_screenshot_with_an_absurd_phrase_does_not_wait_for_proposals(image_folder, tmp_path):
    """A 10,000-character phrase is refused; nothing can produce proposals, so nothing is awaited."""
    proc = _screenshot(image_folder, tmp_path, "--phrase", "a" * 10_000, "--grounder", "fakes:FakeGrounder")
    assert proc.returncode == 0, proc.stderr
    assert "screenshot saved" in proc.stdout


def test_screenshot_without_a_phrase_does_not_wait_for_the_model(image_folder, tmp_path):
    """It is taken once the window is painted, however long the model would take to load."""
    proc = _screenshot(image_folder, tmp_path, "--grounder", "fakes:slow_grounder")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "shot.png").stat().st_size > 0


def test_a_bug_reaches_the_window_as_a_sentence_never_as_python_text(qtbot, image_folder, capfd):
    """A bug in the model (here an AttributeError, as a concept forgotten mid-search once raised)
    reads as one sentence in the phrase bar and the search panel; its traceback is in the log."""
    sys.path.insert(0, str(GUI_TESTS))
    from fakes import BuggyGrounder
    from gui_helpers import make_window

    from grounding_desktop.core.errors import INTERNAL_ERROR
    from grounding_desktop.editing.state import ModelState

    store, _ = open_project(image_folder)
    window = make_window(qtbot, store, BuggyGrounder, rescan=False)
    qtbot.waitUntil(lambda: window.host.state == ModelState.READY and not window.folder.folder_pass.running)
    window.phrase_bar.set_text("the dog")
    qtbot.waitUntil(lambda: window.doc.query.answer is not None)
    window.folder.show_search()
    qtbot.keyClicks(window.folder.search.edit, "the dog")
    qtbot.waitUntil(lambda: "failed" in window.folder.search.status.text())
    shown = [window.phrase_bar.info.text(), window.folder.search.status.text()]
    window.close()
    for text in shown:
        assert INTERNAL_ERROR in text and "NoneType" not in text and "Error" not in text, text
    log = capfd.readouterr().err
    assert "AttributeError: 'NoneType' object has no attribute 'shapes'" in log and "Traceback" in log
