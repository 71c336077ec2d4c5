"""Shared export machinery: splits, atomic writes, cancel and progress, options parsing."""
import gc
import json
import os
import subprocess
import sys

import pytest
from pycocotools.coco import COCO

from exportkit import labelled_project, load

from grounding_desktop.core import Box, ScanEntry
from grounding_desktop.io import coco_common
from grounding_desktop.io.export import Cancelled, ExportError, ExportOptions, export_project
from grounding_desktop.io.export_options import load_label_map, parse_splits
from grounding_desktop.io.progress import Ticker
from grounding_desktop.io.selection import split_of, split_path
from grounding_desktop.io.staged_files import atomic_write_text
from grounding_desktop.store import ProjectStore
from grounding_desktop.store.labels import Labels


@pytest.fixture
def store(tmp_path):
    s = labelled_project(tmp_path / "photos")
    yield s
    s.close()


def test_split_of_is_stable_across_processes_and_follows_weights():
    paths = [f"set{i % 7}/img{i}.jpg" for i in range(3000)]
    here = [split_of(p, (80, 10, 10)) for p in paths]
    code = ("import json, sys; from grounding_desktop.io.selection import split_of; "
            "print(json.dumps([split_of(p, (80, 10, 10)) for p in json.load(sys.stdin)]))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    other = subprocess.run([sys.executable, "-c", code], input=json.dumps(paths), capture_output=True, text=True,
                           env=env, check=True)
    assert json.loads(other.stdout) == here  # not Python's salted hash()
    share = {name: here.count(name) / len(here) for name in ("train", "val", "test")}
    assert share["train"] == pytest.approx(0.8, abs=0.04)
    assert share["val"] == pytest.approx(0.1, abs=0.03) and share["test"] == pytest.approx(0.1, abs=0.03)
    assert {split_of(p, (90, 0, 10)) for p in paths} == {"train", "test"}  # a zero weight is never chosen
    assert {split_of(p, (0, 1)) for p in paths} == {"val"}


def test_parse_splits():
    assert parse_splits("80,10,10") == (80, 10, 10)
    assert parse_splits(" 9, 1 ") == (9, 1)
    for bad in ("80", "80,10,10,0", "a,b", "-1,5", "0,0,0", "nan,1"):
        with pytest.raises(ExportError):
            parse_splits(bad)


def test_split_path_suffixes(tmp_path):
    assert split_path(tmp_path / "out.json", "train").name == "out_train.json"
    assert split_path(tmp_path / "out.jsonl", "test").name == "out_test.jsonl"
    assert split_path(tmp_path / "out.json", None).name == "out.json"


def _many_images_store(tmp_path, n=60) -> ProjectStore:
    s = ProjectStore(tmp_path / "p.sqlite", root=tmp_path)
    s.images.apply_scan([ScanEntry(f"dir{i % 3}/im{i}.jpg", 1, 1.0, 100, 80, f"h{i}") for i in range(n)])
    with s.transaction():
        for img in s.images.all():
            s.labels.add_expression(img.id, f"thing {img.id}", [Box(0, 0, (1.0, 2.0, 30.0, 20.0))])
    return s


@pytest.mark.parametrize("fmt,ext", [("coco-grounding", ".json"), ("coco", ".json"), ("odvg", ".jsonl")])
def test_splits_write_suffixed_files_and_never_share_an_image(tmp_path, fmt, ext):
    s = _many_images_store(tmp_path)
    out = tmp_path / "out" / f"data{ext}"
    summary = export_project(s, fmt, out, ExportOptions(splits=(80, 10, 10)))
    names = sorted(os.path.basename(f) for f in summary.files)
    assert names == sorted(f"data_{n}{ext}" for n in ("train", "val", "test"))
    assert not out.exists()
    seen: dict[str, str] = {}
    for split in ("train", "val", "test"):
        path = out.with_name(f"data_{split}{ext}")
        if fmt == "odvg":
            files = [json.loads(line)["filename"] for line in path.read_text().splitlines()]
        else:
            COCO(str(path))
            files = [im["file_name"] for im in load(path)["images"]]
        for f in set(files):
            assert f not in seen, f"{f} in {seen[f]} and {split}"
            seen[f] = split
            assert split_of(f, (80, 10, 10)) == split
        assert summary.splits[split]["images"] == len(set(files))
    assert len(seen) == 60
    s.close()


def test_refcoco_split_field(tmp_path):
    s = _many_images_store(tmp_path)
    export_project(s, "refcoco", tmp_path / "ref", ExportOptions(splits=(50, 50)))
    refs = load(tmp_path / "ref" / "refs.json")
    assert {r["split"] for r in refs} == {"train", "val"}
    files = {im["id"]: im["file_name"] for im in load(tmp_path / "ref" / "instances.json")["images"]}
    assert all(r["split"] == split_of(files[r["image_id"]], (50, 50)) for r in refs)
    assert sorted(p.name for p in (tmp_path / "ref").iterdir()) == ["instances.json", "refs(unc).p", "refs.json"]
    s.close()


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("fmt", ["coco-grounding", "odvg", "refcoco"])
def test_cancel_leaves_earlier_files_byte_identical(store, tmp_path, fmt):
    out_dir = tmp_path / "out"
    out = out_dir / ("ref" if fmt == "refcoco" else "data.json")
    export_project(store, fmt, out, ExportOptions(splits=(70, 30)))
    folder = out if fmt == "refcoco" else out_dir
    before = _snapshot(folder)
    # new labels, so a completed export would change the files
    e = store.images.by_path()["e.jpg"]
    store.labels.add_expression(e.id, "a new thing", [Box(0, 0, (1, 1, 5, 5))])
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 3  # cancel part-way through

    with pytest.raises(Cancelled):
        export_project(store, fmt, out, ExportOptions(splits=(70, 30)), cancelled=cancelled)
    assert _snapshot(folder) == before  # same names (no temp files left) and same bytes
    # and a cancel at the very last check, after every file was written to its temp file
    checks = []
    export_project(store, fmt, tmp_path / "probe" / out.name, ExportOptions(splits=(70, 30)),
                   cancelled=lambda: checks.append(1) and False)
    last = []
    with pytest.raises(Cancelled):
        export_project(store, fmt, out, ExportOptions(splits=(70, 30)),
                       cancelled=lambda: len(last.append(1) or last) >= len(checks))
    assert _snapshot(folder) == before


def test_failure_mid_export_leaves_earlier_file_and_no_temp(store, tmp_path, monkeypatch):
    out = tmp_path / "g.json"
    export_project(store, "coco-grounding", out)
    store.labels.add_expression(store.images.by_path()["e.jpg"].id, "a new thing", [])
    before = _snapshot(tmp_path)

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(coco_common, "json_chunks", boom)  # the COCO writers serialise through it
    with pytest.raises(RuntimeError):
        export_project(store, "coco-grounding", out)
    assert _snapshot(tmp_path) == before


def test_failure_while_renaming_splits_keeps_remaining_targets(store, tmp_path, monkeypatch):
    """If the second rename fails, the first file is new and the rest untouched; no temp is left."""
    out = tmp_path / "g.json"
    export_project(store, "coco-grounding", out, ExportOptions(splits=(50, 50)))
    val_before = (tmp_path / "g_val.json").read_bytes()
    real_replace = os.replace
    n = []

    def flaky_replace(src, dst):
        n.append(dst)
        if len(n) == 2:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(ExportError, match="g_val.json: No space left"):
        export_project(store, "coco-grounding", out, ExportOptions(splits=(50, 50)))
    assert (tmp_path / "g_val.json").read_bytes() == val_before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_atomic_write_text_keeps_old_content_on_error(tmp_path):
    target = tmp_path / "x.json"
    target.write_text("old")

    def chunks():
        yield "new part"
        raise ValueError("broken generator")

    with pytest.raises(ValueError):
        atomic_write_text(target, chunks())
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["x.json"]
    atomic_write_text(target, "new")
    assert target.read_text() == "new"


def test_progress_reports_monotonic_to_total(store, tmp_path):
    seen = []
    export_project(store, "coco", tmp_path / "c.json", progress=lambda done, total: seen.append((done, total)))
    assert seen, "no progress reported"
    assert all(0 < d <= t for d, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1][0] == seen[-1][1]
    assert gc.isenabled()  # the collector paused for the export is back on


def test_progress_and_cancel_reach_into_the_selection_step(tmp_path):
    """Reading a large project's labels takes seconds: the bar moves while they are read, and a
    cancel then ends the export before the read does."""
    seen: list[int] = []

    reports_when_read: list[int] = []

    class Watched(Labels):
        def all_annotations(self, *args, **kwargs):
            out = super().all_annotations(*args, **kwargs)
            reports_when_read.append(len(seen))
            return out

    s = ProjectStore(tmp_path / "p.sqlite", root=tmp_path)
    s.labels = Watched(s)
    s.images.apply_scan([ScanEntry(f"im{i}.jpg", 1, 1.0, 100, 80, f"h{i}") for i in range(300)])
    with s.transaction():
        for img in s.images.all():
            s.labels.add_expression(img.id, "the things", [Box(0, 0, (1.0, 2.0, 3.0, 4.0))] * 50)
    export_project(s, "coco", tmp_path / "c.json", progress=lambda done, total: seen.append(done))
    assert reports_when_read[0] >= 3  # 15,300 rows read: reported while reading
    seen.clear()
    with pytest.raises(Cancelled):
        export_project(s, "coco", tmp_path / "c.json", progress=lambda done, total: seen.append(done),
                       cancelled=lambda: bool(seen))
    assert len(reports_when_read) == 1 and len(seen) == 1  # the second read never finished
    s.close()


def test_json_in_pieces_is_the_text_of_one_dump():
    from grounding_desktop.io.staged_files import dump_json, json_chunks

    data = {"info": {"a": "é"}, "images": [{"id": i, "caption": f"the “{i}”"} for i in range(25)], "empty": [],
            "annotations": list(range(7)), "nested": {"more": [[1, 2]] * 11}}
    for value in (data, data["images"], [], {}):
        assert "".join(json_chunks(value, items=4)) == dump_json(value)
    with pytest.raises(Cancelled):
        "".join(json_chunks(data, Ticker(None, lambda: True, 1), items=4))


def test_gc_comes_back_after_a_failed_export(store, tmp_path):
    with pytest.raises(Cancelled):
        export_project(store, "coco", tmp_path / "c.json", cancelled=lambda: True)
    assert gc.isenabled()


def test_out_must_be_a_file_except_refcoco(store, tmp_path):
    (tmp_path / "adir").mkdir()
    with pytest.raises(ExportError, match="must name a file"):
        export_project(store, "coco", tmp_path / "adir")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError, match="is a file"):
        export_project(store, "refcoco", tmp_path / "afile")
    with pytest.raises(ExportError, match="unknown export format"):
        export_project(store, "tfrecord", tmp_path / "y.tfrecord")


def test_label_map_file_errors(tmp_path):
    p = tmp_path / "lm.json"
    p.write_text('{"Red  Ball": " ball "}')
    assert load_label_map(p) == {"red ball": "ball"}
    for text, match in [('{"a": ', "malformed JSON at line 1"), ("[1, 2]", "JSON object"),
                        ('{"a": 3}', "entry 'a'"), ("{}", "non-empty")]:
        p.write_text(text)
        with pytest.raises(ExportError, match=match):
            load_label_map(p)
    with pytest.raises(ExportError, match="not found"):
        load_label_map(tmp_path / "nope.json")


def test_export_of_empty_project_writes_valid_empty_files(tmp_path):
    s = ProjectStore(tmp_path / "p.sqlite", root=tmp_path)
    summary = export_project(s, "coco-grounding", tmp_path / "g.json")
    assert summary.images == 0
    COCO(str(tmp_path / "g.json"))
    s.close()
