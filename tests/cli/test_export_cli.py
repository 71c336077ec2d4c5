"""``grounding-desktop export`` and ``grounding-desktop import``: open the folder's project as the
GUI does (creating and scanning it), write the formats, and fail with exit 2 and one stderr line."""
import json
import subprocess
import sys

import pytest
from pycocotools.coco import COCO

from exportkit import grounding_view, labelled_project, load, make_photos

from grounding_desktop.cli import main
from grounding_desktop.store import ProjectStore


@pytest.fixture
def folder(tmp_path):
    f = tmp_path / "photos"
    labelled_project(f).close()
    return f


@pytest.mark.parametrize("fmt,out,check,images", [
    ("coco-grounding", "g.json", "g.json", 3),
    ("coco", "c.json", "c.json", 3),
    ("odvg", "o.jsonl", None, 3),
    ("refcoco", "ref", "ref/instances.json", 2),  # a.jpg has only a plural and a no-target phrase
])
def test_export_each_format(folder, tmp_path, capsys, fmt, out, check, images):
    assert main(["export", str(folder), "--format", fmt, "--out", str(tmp_path / out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == fmt and summary["images"] == images
    if check:
        COCO(str(tmp_path / check))
    else:
        lines = (tmp_path / out).read_text().splitlines()
        assert len(lines) == 3 and all("grounding" in json.loads(line) for line in lines)


def test_export_creates_and_scans_a_new_project(tmp_path, capsys):
    folder = make_photos(tmp_path / "photos")
    assert not (folder / ".grounding").exists()
    assert main(["export", str(folder), "--format", "coco", "--out", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    assert "images 0" in out and "skipped 5 images: no labels" in out
    assert (folder / ".grounding" / "project.sqlite").exists()
    COCO(str(tmp_path / "c.json"))


def test_export_options(folder, tmp_path, capsys):
    lm = tmp_path / "lm.json"
    lm.write_text(json.dumps({"the horses": "horse", "red ball": "ball"}))
    assert main(["export", str(folder), "--format", "odvg", "--out", str(tmp_path / "d.jsonl"), "--label-map", str(lm),
                 "--splits", "50,50", "--reviewed-only"]) == 0
    out = capsys.readouterr().out
    assert "d_train.jsonl" in out and "d_val.jsonl" in out and "skipped 4 images: not reviewed" in out
    assert load(tmp_path / "d_label_map.json") == {"0": "horse", "1": "ball"}
    records = [json.loads(line) for split in ("train", "val")
               for line in (tmp_path / f"d_{split}.jsonl").read_text().splitlines()]
    assert [r["filename"] for r in records] == ["d.jpg"]
    assert [i["category"] for i in records[0]["detection"]["instances"]] == ["horse"]


def test_import_then_export_round_trip_via_cli(folder, tmp_path, capsys):
    first = tmp_path / "first.json"
    assert main(["export", str(folder), "--format", "coco-grounding", "--out", str(first)]) == 0
    other_db = tmp_path / "other.sqlite"
    assert main(["import", str(folder), "--db", str(other_db), "--coco", str(first), "--json"]) == 0
    capsys.readouterr()
    second = tmp_path / "second.json"
    assert main(["export", str(folder), "--db", str(other_db), "--format", "coco-grounding", "--out", str(second)]) == 0
    assert grounding_view(load(first)) == grounding_view(load(second))


def test_import_as_proposals_and_dry_run(folder, tmp_path, capsys):
    first = tmp_path / "first.json"
    assert main(["export", str(folder), "--format", "coco", "--out", str(first)]) == 0
    db = tmp_path / "other.sqlite"
    assert main(["import", str(folder), "--db", str(db), "--coco", str(first), "--dry-run"]) == 0
    assert "would import" in capsys.readouterr().out
    with ProjectStore(db, root=folder) as s:
        assert s.counts()["boxes"] == 0
    assert main(["import", str(folder), "--db", str(db), "--coco", str(first), "--as-proposals"]) == 0
    assert "proposed boxes 5" in capsys.readouterr().out
    with ProjectStore(db, root=folder) as s:
        assert s.counts()["boxes_proposed"] == 5


@pytest.mark.parametrize("argv_tail,words", [
    (["import", "--coco", "{bad}"], ["bad.json", "line 1"]),
    (["import", "--coco", "{missing}"], ["file not found"]),
    (["export", "--format", "coco", "--out", "{tmp}", "--splits", "80,x"], ["--splits"]),
    (["export", "--format", "coco", "--out", "{tmp}"], ["must name a file"]),
    (["export", "--format", "coco", "--out", "{tmp}/c.json", "--label-map", "{bad}"], ["bad.json", "malformed JSON"]),
])
def test_bad_input_exit_2_one_line(folder, tmp_path, capsys, argv_tail, words):
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [')
    subs = {"{bad}": str(bad), "{missing}": str(tmp_path / "missing.json"), "{tmp}": str(tmp_path)}
    argv = [argv_tail[0], str(folder)] + [subs.get(a, a.replace("{tmp}", str(tmp_path))) for a in argv_tail[1:]]
    with ProjectStore.open_folder(folder) as s:
        before = s.counts()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("grounding-desktop: error: ")
    for w in words:
        assert w in err
    with ProjectStore.open_folder(folder) as s:
        assert s.counts() == before


def test_import_error_from_a_real_process(folder, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"images": [{"id": 3, "file_name": "nothere.jpg", "caption": "a thing"}]}))
    r = subprocess.run([sys.executable, "-m", "grounding_desktop.cli", "import", str(folder), "--coco", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"grounding-desktop: error: {bad}: images[0] (id 3): file_name 'nothere.jpg' matches no image of the project"]


def test_missing_folder_is_exit_2(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope"), "--format", "coco", "--out", str(tmp_path / "c.json")]) == 2
    assert "folder not found" in capsys.readouterr().err


@pytest.mark.parametrize("fmt,out,flag", [("odvg", "o.jsonl", "--odvg"), ("refcoco", "ref", "--refcoco")])
def test_import_odvg_and_refcoco_via_cli(folder, tmp_path, capsys, fmt, out, flag):
    assert main(["export", str(folder), "--format", fmt, "--out", str(tmp_path / out)]) == 0
    db = tmp_path / "other.sqlite"
    assert main(["import", str(folder), "--db", str(db), flag, str(tmp_path / out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["applied"] and summary["phrases_added"] > 0 and summary["flavour"] == fmt
    with ProjectStore(db, root=folder) as s:
        assert s.counts()["boxes"] == summary["boxes_added"]


@pytest.mark.parametrize("fmt,files", [("yolo", ["data.yaml", "labels", "images"]),
                                       ("voc", ["Annotations", "ImageSets/Main", "JPEGImages"])])
def test_yolo_and_voc_export_and_import_via_cli(folder, tmp_path, capsys, fmt, files):
    out = tmp_path / fmt
    assert main(["export", str(folder), "--format", fmt, "--out", str(out), "--splits", "50,50"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert [line for line in printed if line.startswith("wrote ")][:3] == [f"wrote {out / f}" for f in files]
    assert "classes 3 from the phrases' head nouns: ball, horse, tree" in printed
    db = tmp_path / "other.sqlite"
    assert main(["import", str(folder), "--db", str(db), f"--{fmt}", str(out), "--dry-run"]) == 0
    assert f"would import {fmt} file {out}" in capsys.readouterr().out
    with ProjectStore(db, root=folder) as s:
        assert s.counts()["boxes"] == 0
    assert main(["import", str(folder), "--db", str(db), f"--{fmt}", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["applied"] and summary["flavour"] == fmt and summary["boxes_added"] == 5
    broken = next(out.rglob("d.txt" if fmt == "yolo" else "d.xml"))
    broken.write_text("9 x\n" if fmt == "yolo" else "<annotation>")
    assert main(["import", str(folder), "--db", str(tmp_path / "third.sqlite"), f"--{fmt}", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("grounding-desktop: error: ") and "d." in err


def test_export_names_exif_rotated_images_on_stderr(tmp_path, capsys):
    from exportkit import rotated_project

    rotated_project(tmp_path / "photos")[0].close()
    assert main(["export", str(tmp_path / "photos"), "--format", "coco", "--out", str(tmp_path / "c.json")]) == 0
    captured = capsys.readouterr()
    assert "phone.jpg" in captured.err and "--with-images" in captured.err and "warning" not in captured.out
