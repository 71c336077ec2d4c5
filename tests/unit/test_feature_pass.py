"""The feature pass and where it keeps its results, driven by an engine that computes a record from
each file's bytes (no model): what is prepared, when again, and what survives a cancel or a kill.
The real model goes through the same pass in ``tests/cli/test_folder_cli.py``."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from support import REPO, make_image
from grounding_desktop.folder.feature_pass import run_feature_pass
from grounding_desktop.grounding.features import FeaturesFormatError, ImageFeatures
from grounding_desktop.project import open_project, rescan_project
from grounding_desktop.store.features import FeatureStore, features_path


class FileEngine:
    """An ``Engine`` whose record of an image is made from a digest of its file (``record_of``), and
    that remembers what it was asked to prepare. Paths in ``broken`` fail as an unreadable image would."""

    def __init__(self, version: str = "fake-1", broken: tuple[str, ...] = ()):
        self.features_version = version
        self.asked: list[str] = []
        self.broken = broken

    def features(self, items, batch_size):
        for start in range(0, len(items), batch_size):
            batch = []
            for key, path in items[start:start + batch_size]:
                self.asked.append(Path(path).name)
                if Path(path).name in self.broken:
                    batch.append((key, None, f"{path}: truncated image file"))
                else:
                    batch.append((key, record_of(path), None))
            yield batch

    def close(self):
        pass


def record_of(path) -> bytes:
    """An image features record (one region) whose colour shares are the file's SHA-256."""
    digest = np.frombuffer(hashlib.sha256(Path(path).read_bytes()).digest(), np.float16).reshape(1, 16)
    one = np.zeros(1, np.float16)
    return ImageFeatures(64, 48, 64, 48, np.zeros((1, 4), np.float32), np.zeros(1, np.int16), one, one, one,
                         np.zeros((1, 0), np.float16), digest).to_bytes()


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "photos"
    for i in range(7):
        make_image(root / f"img{i}.png", color=(30 * i, 90, 200 - 20 * i))
    return root


def _open(folder):
    store, _ = open_project(folder)
    return store, FeatureStore.of_project(store)


def _goes_on(store, features, folder, finished: int) -> None:
    """The next pass prepares exactly the images no ``finished`` batch holds, and then every image
    has its own record."""
    rest = FileEngine()
    report = run_feature_pass(store, features, rest)
    total = len(store.images.all())
    assert (report.prepared, report.kept, len(rest.asked)) == (total - finished, finished, total - finished)
    kept = dict(features.features("fake-1"))
    assert all(kept[r.content_hash] == record_of(folder / r.path) for r in store.images.all())
    store.close(), features.close()


def test_every_image_is_prepared_once_and_kept(folder):
    store, features = _open(folder)
    engine = FileEngine()
    report = run_feature_pass(store, features, engine, batch_size=3)
    assert (report.prepared, report.kept, report.failed, report.cancelled) == (7, 0, [], False)
    kept = dict(features.features("fake-1"))
    assert {kept[r.content_hash] for r in store.images.all()} == {record_of(folder / r.path) for r in store.images.all()}
    store.close(), features.close()

    store, features = _open(folder)  # reopened: nothing to compute
    again = FileEngine()
    report = run_feature_pass(store, features, again)
    assert (report.prepared, report.kept, again.asked) == (0, 7, [])
    assert features_path(store.db_path).name == "project.features.sqlite"
    store.close(), features.close()


def test_a_changed_file_is_prepared_again_a_renamed_one_is_not(folder):
    store, features = _open(folder)
    run_feature_pass(store, features, FileEngine())
    make_image(folder / "img2.png", color=(250, 250, 0))      # another picture under the same name
    os.rename(folder / "img3.png", folder / "moved.png")      # the same picture under another name
    rescan_project(store)
    engine = FileEngine()
    report = run_feature_pass(store, features, engine)
    assert engine.asked == ["img2.png"] and (report.prepared, report.kept) == (1, 6)
    kept = dict(features.features("fake-1"))
    assert kept[store.images.by_path()["img2.png"].content_hash] == record_of(folder / "img2.png")
    # The old picture's row went with it: seven pictures, seven rows.
    assert len(features.known("fake-1")) == 7
    store.close(), features.close()


def test_another_model_prepares_everything_under_its_own_version(folder):
    store, features = _open(folder)
    run_feature_pass(store, features, FileEngine("fake-1"))
    other = FileEngine("fake-2")
    assert run_feature_pass(store, features, other).prepared == 7 and len(other.asked) == 7
    back = FileEngine("fake-1")
    assert run_feature_pass(store, features, back).prepared == 0  # switching back finds its rows
    store.close(), features.close()


def test_a_cancelled_pass_keeps_its_batches_and_the_next_one_goes_on(folder):
    store, features = _open(folder)
    seen = []
    report = run_feature_pass(store, features, FileEngine(), batch_size=2,
                              progress=lambda done, total: seen.append((done, total)),
                              cancelled=lambda: len(seen) >= 2)
    assert report.cancelled and report.prepared == 2 and seen == [(0, 7), (2, 7)]
    assert len(features.known("fake-1")) == 2
    _goes_on(store, features, folder, finished=2)


def test_a_killed_pass_keeps_its_batches_and_the_next_one_goes_on(folder):
    """A process killed (SIGKILL) in the middle of a pass: the next pass prepares exactly what no
    finished batch holds."""
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO / 'tests')!r})
        from unit.test_feature_pass import FileEngine
        from grounding_desktop.folder.feature_pass import run_feature_pass
        from grounding_desktop.project import open_project
        from grounding_desktop.store.features import FeatureStore

        class Slow(FileEngine):
            def features(self, items, batch_size):
                for batch in super().features(items, batch_size):
                    yield batch
                    time.sleep(60)  # killed while waiting for the next batch

        store, _ = open_project({str(folder)!r})
        run_feature_pass(store, FeatureStore.of_project(store), Slow(), batch_size=3)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        path = folder / ".grounding" / "project.features.sqlite"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if path.exists() and len(FeatureStore(path).known("fake-1")) == 3:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the pass ended before it could be killed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _goes_on(*_open(folder), folder, finished=3)


def test_an_image_that_cannot_be_prepared_is_reported_not_kept_and_tried_again(folder):
    store, features = _open(folder)
    report = run_feature_pass(store, features, FileEngine(broken=("img4.png",)))
    assert report.prepared == 6 and report.failed == [("img4.png", "truncated image file")]
    engine = FileEngine()
    assert run_feature_pass(store, features, engine).prepared == 1 and engine.asked == ["img4.png"]
    store.close(), features.close()


def test_images_showing_the_same_picture_are_prepared_once(folder):
    (folder / "copy.png").write_bytes((folder / "img1.png").read_bytes())
    store, features = _open(folder)
    engine = FileEngine()
    report = run_feature_pass(store, features, engine)
    assert report.prepared == 8 and len(engine.asked) == 7
    store.close(), features.close()


# ------------------------------------------------------------------------------ the features file

def test_a_damaged_or_foreign_features_file_is_started_afresh(tmp_path):
    path = tmp_path / "p.features.sqlite"
    path.write_bytes(b"this is not a database, it only sits where one should" * 100)
    with FeatureStore(path) as fs:
        assert fs.known("m") == set()
        fs.put("m", [("h1", b"record")])
        assert dict(fs.features("m")) == {"h1": b"record"}
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with FeatureStore(path) as fs:
        assert fs.known("m") == set()


def test_features_of_given_contents_and_pruning(tmp_path):
    with FeatureStore(tmp_path / "f.sqlite") as fs:
        fs.put("m", [(f"h{i}", str(i).encode()) for i in range(1200)])
        fs.put("n", [("h1", b"other model")])
        wanted = [f"h{i}" for i in range(0, 1200, 2)]
        assert dict(fs.features("m", wanted)) == {h: h[1:].encode() for h in wanted}
        assert fs.prune(wanted) == 600 + 1  # h1 of both models
        assert fs.known("m") == set(wanted) and fs.known("n") == set()
        assert fs.size_bytes() > 0


# ------------------------------------------------------------------------------ the record

def _record(n: int, classes: int = 91) -> ImageFeatures:
    rng = np.random.default_rng(n)
    boxes = np.sort(rng.uniform(0, 300, (n, 4)).astype(np.float32).reshape(n, 2, 2), axis=1).reshape(n, 4)
    return ImageFeatures(
        width=1200, height=900, frame_width=400, frame_height=300, boxes=boxes,
        labels=rng.integers(-1, 90, n).astype(np.int16), scores=rng.random(n).astype(np.float16),
        objectness=rng.random(n).astype(np.float16), lightness=rng.random(n).astype(np.float16),
        class_scores=rng.random((n, classes)).astype(np.float16),
        colour_frac=rng.random((n, 11)).astype(np.float16))


@pytest.mark.parametrize("n", [0, 1, 65])
def test_a_record_comes_back_from_its_bytes_as_it_was(n):
    f = _record(n)
    back = ImageFeatures.from_bytes(f.to_bytes())
    for name in ("boxes", "labels", "scores", "objectness", "lightness", "class_scores", "colour_frac"):
        a, b = getattr(f, name), getattr(back, name)
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), name
    assert (back.width, back.height, back.frame_width, back.frame_height) == (1200, 900, 400, 300)
    scene = back.scene()
    assert (scene.width, scene.height, len(scene)) == (400.0, 300.0, n)


def test_a_record_keeps_region_embeddings_compactly_and_faithfully():
    f = _record(40)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(16, 2288)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    regions = np.arange(16) * 2
    data = f.with_embeddings(regions, vectors).to_bytes()
    assert len(data) - len(f.to_bytes()) < 16 * (2288 + 8)  # one byte a value
    back = ImageFeatures.from_bytes(data)
    kept, codes, scale = back.kept_embeddings()
    assert np.array_equal(kept, regions)
    again = codes * scale[:, None]
    cosine = np.einsum("nd,nd->n", again, vectors) / np.linalg.norm(again, axis=1)
    assert cosine.min() > 0.9999
    assert np.array_equal(back.boxes, f.boxes)


def test_a_record_keeps_the_crops_imagenet_kinds_as_an_image_classified_now_has_them():
    from grounding_desktop.grounding.recognition import imagenet

    f = _record(40)
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.full(1000, 0.05), 12).astype(np.float32)
    ids, kept = imagenet.kept(probs)
    assert ids.shape == kept.shape == (12, imagenet.KEPT_KINDS)
    assert np.array_equal(kept, np.take_along_axis(probs, ids.astype(np.int64), 1).astype(np.float16))
    assert (np.diff(kept.astype(np.float32), axis=1) <= 0).all()  # most probable first
    regions = np.arange(12) * 3
    data = f.with_kinds(regions, ids, kept).to_bytes()
    assert len(data) - len(f.to_bytes()) == 12 * (2 + 4 * imagenet.KEPT_KINDS)
    back = ImageFeatures.from_bytes(data)
    got_regions, got_ids, got_probs = back.kept_kinds()
    assert np.array_equal(got_regions, regions) and np.array_equal(got_ids, ids) and np.array_equal(got_probs, kept)
    assert f.kept_kinds() is None and ImageFeatures.from_bytes(f.to_bytes()).kept_kinds() is None


def test_bytes_of_another_kind_are_refused():
    data = _record(3).with_embeddings(np.arange(2), np.ones((2, 8))).to_bytes()
    for bad in (b"", b"GDF", data[:-1], b"XYZ" + data[3:], data[:3] + bytes([99]) + data[4:]):
        with pytest.raises(FeaturesFormatError):
            ImageFeatures.from_bytes(bad)
