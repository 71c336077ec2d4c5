"""``grounding-desktop import --labelme DIR`` and ``--label-studio FILE``: the same boxes, labelled in
labelme (files written by labelme's own ``LabelFile.save`` where labelme installs) or exported from
Label Studio, import to the same project; checked all or nothing, with one-line errors."""
from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from exportkit import SIZES, make_photos

from grounding_desktop.cli import main
from grounding_desktop.project import open_project

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "consumers"))
from consumer_env import LABEL_STUDIO_PINS, LABELME_PINS, consumer_python  # noqa: E402

# image -> phrase -> (shape type, points): what a user drew in labelme. The cup is a polygon, its
# box the polygon's bounding box; the horses are two rectangles, one drawn from its bottom right.
DRAWN = {
    "a.jpg": [("the horses", "rectangle", [[1.25, 2.5], [11.25, 14.5]]),
              ("the horses", "rectangle", [[30.5, 17.25], [20.0, 5.0]]),
              ("a cup", "polygon", [[40.0, 20.0], [50.0, 25.0], [45.0, 30.0]])],
    "sub/c.jpg": [("a dog", "rectangle", [[1.0, 1.0], [10.0, 10.0]])],
    "b.png": [("red ball", "rectangle", [[40.0, 30.0], [60.0, 50.0]])],
}
EXPECTED = {
    ("a.jpg", "the horses"): [(1.25, 2.5, 10.0, 12.0), (20.0, 5.0, 10.5, 12.25)],
    ("a.jpg", "a cup"): [(40.0, 20.0, 10.0, 10.0)],
    ("sub/c.jpg", "a dog"): [(1.0, 1.0, 9.0, 9.0)],
    ("b.png", "red ball"): [(40.0, 30.0, 20.0, 20.0)],
}

WRITE_WITH_LABELME = """
import json, sys
from labelme import LabelFile
for path, image_path, (w, h), shapes in json.loads(sys.stdin.read()):
    LabelFile().save(path, shapes, image_path, h, w)
"""


def _labelme_files(folder: Path, out: Path) -> list:
    """One labelme JSON per image, beside the image for sub/c.jpg and in ``out`` for the others
    (labelme's imagePath is relative to the JSON file)."""
    files = []
    for name, shapes in DRAWN.items():
        json_path = (out / Path(name).with_suffix(".json").name) if name != "sub/c.jpg" else out / "sub" / "c.json"
        json_path.parent.mkdir(parents=True, exist_ok=True)
        image_path = Path("..") / ".." / folder.name / name if name == "sub/c.jpg" else Path("..") / folder.name / name
        files.append([str(json_path), str(image_path), SIZES[name],
                      [{"label": label, "points": [list(p) for p in points], "group_id": None, "description": "",
                        "shape_type": kind, "flags": {}, "mask": None} for label, kind, points in shapes]])
    return files


def _write_by_hand(files: list) -> None:
    for path, image_path, (w, h), shapes in files:
        Path(path).write_text(json.dumps({"version": "5.5.0", "flags": {}, "shapes": shapes, "imagePath": image_path,
                                          "imageData": None, "imageHeight": h, "imageWidth": w}))


def _write_with_labelme(files: list) -> None:
    python = consumer_python(LABELME_PINS)
    r = subprocess.run([str(python), "-c", WRITE_WITH_LABELME], input=json.dumps(files), capture_output=True,
                       text=True, timeout=300, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr[-2000:]


def _label_studio_export(path: Path) -> Path:
    """The same drawings as Label Studio exports them (Export → JSON): an uploaded a.jpg and b.png,
    sub/c.jpg served from local storage, boxes in percent of the image; a cancelled annotation, a
    choices result and a prediction, which are not boxes of the project."""
    ids = itertools.count()

    def result(name, label, kind, points):
        w, h = SIZES[name]
        common = {"id": f"r{next(ids)}", "from_name": "outline" if kind == "polygon" else "label", "to_name": "image",
                  "original_width": w, "original_height": h, "image_rotation": 0, "origin": "manual"}
        if kind == "polygon":
            return {**common, "type": "polygonlabels",
                    "value": {"points": [[x / w * 100, y / h * 100] for x, y in points], "closed": True,
                              "polygonlabels": [label]}}
        (x1, y1), (x2, y2) = points
        return {**common, "type": "rectanglelabels",
                "value": {"x": min(x1, x2) / w * 100, "y": min(y1, y2) / h * 100, "width": abs(x2 - x1) / w * 100,
                          "height": abs(y2 - y1) / h * 100, "rotation": 0, "rectanglelabels": [label]}}

    urls = {"a.jpg": "/data/upload/7/3f2a9c1e-a.jpg", "b.png": "/data/upload/7/0b1c2d3e-b.png",
            "sub/c.jpg": "/data/local-files/?d=photos%2Fsub%2Fc.jpg"}
    tasks = []
    for n, (name, shapes) in enumerate(DRAWN.items(), 1):
        results = [result(name, *shape) for shape in shapes]
        annotations = [{"id": n, "completed_by": 1, "result": results, "was_cancelled": False, "ground_truth": False}]
        if name == "a.jpg":
            annotations.append({"id": 99, "completed_by": 2, "was_cancelled": True,
                                "result": [result(name, "a cat", "rectangle", [[0, 0], [5, 5]])]})
            results.append({"id": "c1", "type": "choices", "from_name": "weather", "to_name": "image",
                            "value": {"choices": ["sunny"]}})
        tasks.append({"id": n, "annotations": annotations, "data": {"image": urls[name]}, "meta": {},
                      "predictions": [{"id": 5, "result": [], "score": 0.5}] if name == "b.png" else [],
                      "project": 7, "file_upload": urls[name].rsplit("/", 1)[-1]})
    path.write_text(json.dumps(tasks))
    return path


READ_WITH_LABEL_STUDIO = """
import json, sys, tempfile
from pathlib import Path
from label_studio_converter import Converter
export, labels = sys.argv[1], json.loads(sys.argv[2])
names = "".join(f'<Label value="{label}"/>' for label in labels)
config = (f'<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image">{names}'
          f'</RectangleLabels><PolygonLabels name="outline" toName="image">{names}</PolygonLabels></View>')
out = Path(tempfile.mkdtemp())
Converter(config, project_dir=str(out), download_resources=False).convert_to_coco(export, str(out), is_dir=False)
coco = json.loads((out / "result.json").read_text())
names = {c["id"]: c["name"] for c in coco["categories"]}
files = {im["id"]: Path(im["file_name"]).name for im in coco["images"]}
print(json.dumps([[files[a["image_id"]], names[a["category_id"]], a["bbox"]] for a in coco["annotations"]]))
"""


def test_label_studio_s_own_converter_reads_our_export_as_we_do(tmp_path):
    """The export the tests build is read by Label Studio's converter (label-studio-converter,
    its COCO export) to the boxes our import gives: the layout and the percentages are Label Studio's."""
    python = consumer_python(LABEL_STUDIO_PINS)
    export = _label_studio_export(tmp_path / "export.json")
    labels = sorted({label for shapes in DRAWN.values() for label, _, _ in shapes} | {"a cat"})
    r = subprocess.run([str(python), "-c", READ_WITH_LABEL_STUDIO, str(export), json.dumps(labels)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    seen: dict = {}
    for file_name, label, bbox in json.loads(r.stdout.strip().splitlines()[-1]):
        name = file_name.split("-", 1)[1] if file_name[8:9] == "-" else file_name  # an upload's prefix off
        name = Path(unquote(name.removeprefix("?d="))).name  # a local file, not looked up: its URL's query
        seen.setdefault((name, label), []).append(tuple(round(v, 3) for v in bbox))
    assert {key: sorted(boxes) for key, boxes in seen.items()} == \
        {(Path(name).name, label): boxes for (name, label), boxes in EXPECTED.items()}


def _view(folder: Path, db: Path) -> dict:
    store, _ = open_project(folder, db)
    with store:
        paths = {r.id: r.path for r in store.images.all()}
        return {(paths[i], e.text): sorted(tuple(b.bbox) for b in boxes)
                for i, pairs in store.labels.all_annotations().items() for e, boxes in pairs}


@pytest.fixture
def photos(tmp_path) -> Path:
    return make_photos(tmp_path / "photos")


@pytest.mark.parametrize("writer", [_write_by_hand, _write_with_labelme], ids=["by-hand", "labelme"])
def test_labelme_folder_and_label_studio_export_import_to_the_same_project(photos, tmp_path, capsys, writer):
    writer(_labelme_files(photos, tmp_path / "labelme"))
    assert main(["import", str(photos), "--db", str(tmp_path / "lm.sqlite"), "--labelme", str(tmp_path / "labelme"),
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["flavour"], summary["images"], summary["boxes_added"], summary["boxes_from_outlines"]) == \
        ("labelme", 3, 5, 1)

    export = _label_studio_export(tmp_path / "project-7-at-2026.json")
    assert main(["import", str(photos), "--db", str(tmp_path / "ls.sqlite"), "--label-studio", str(export)]) == 0
    text = capsys.readouterr().out
    assert "imported label-studio file" in text and "labelled boxes 5" in text
    assert "boxes around polygons or rotated boxes 1" in text
    assert "skipped 1: cancelled annotation" in text and "skipped 1: prediction (not an annotation)" in text

    assert _view(photos, tmp_path / "lm.sqlite") == _view(photos, tmp_path / "ls.sqlite") == EXPECTED


def test_a_dry_run_writes_nothing_and_a_second_import_adds_nothing(photos, tmp_path, capsys):
    files = _labelme_files(photos, tmp_path / "labelme")
    shapes = [{"label": "a kite", "points": [[10, 0], [20, 10], [10, 20], [0, 10]], "shape_type": "oriented_rectangle"},
              {"label": "a ball", "points": [[5, 5], [8, 5]], "shape_type": "circle"}]
    files.append([str(tmp_path / "labelme" / "d.json"), "../photos/d.jpg", SIZES["d.jpg"], shapes])
    _write_by_hand(files)
    args = ["import", str(photos), "--labelme", str(tmp_path / "labelme"), "--json"]
    assert main(args + ["--dry-run"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["boxes_added"], summary["boxes_from_outlines"], summary["skipped"]) == \
        (6, 2, {"labelme circle shape (not a box)": 1})
    assert _view(photos, photos / ".grounding" / "project.sqlite") == {}
    assert main(args) == 0 and json.loads(capsys.readouterr().out)["boxes_added"] == 6
    assert _view(photos, photos / ".grounding" / "project.sqlite")[("d.jpg", "a kite")] == [(0.0, 0.0, 20.0, 20.0)]
    assert main(args) == 0 and json.loads(capsys.readouterr().out)["duplicates"] == 5


def test_a_broken_labelme_folder_is_one_line_and_nothing_is_imported(photos, tmp_path, capsys):
    files = _labelme_files(photos, tmp_path / "labelme")
    files[0][3][0]["points"].append([3, 3])  # a rectangle of three points
    files[2][2] = (60, 80)  # b.png is 80x60
    _write_by_hand(files)
    (tmp_path / "labelme" / "notes.json").write_text("[1, 2]")
    (tmp_path / "labelme" / "broken.json").write_text('{"shapes": [')
    assert main(["import", str(photos), "--labelme", str(tmp_path / "labelme")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "a rectangle has two points, got 3" in err
    assert "(and 3 more problems)" in err
    assert _view(photos, photos / ".grounding" / "project.sqlite") == {}


def test_label_studio_rotated_boxes_bare_rectangles_and_unknown_images(photos, tmp_path, capsys):
    export = json.loads(_label_studio_export(tmp_path / "ls.json").read_text())
    box = export[2]["annotations"][0]["result"][0]  # b.png's ball, 20x20 at (40, 30) of 80x60
    box["value"].update(x=75.0, y=0.0, width=25.0, height=100 / 3, rotation=90)  # turned around (60, 0)
    dog = export[1]["annotations"][0]["result"]  # a <Rectangle> beside <Labels>: two results, one id
    labels = dog[0]["value"].pop("rectanglelabels")
    dog[0]["type"] = "rectangle"
    dog.append({**dog[0], "type": "labels", "value": {**dog[0]["value"], "labels": labels}})
    (tmp_path / "rotated.json").write_text(json.dumps(export))
    assert main(["import", str(photos), "--label-studio", str(tmp_path / "rotated.json"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["boxes_from_outlines"], summary["boxes_added"], summary["skipped"]) == \
        (2, 5, {"Label Studio choices result (not a box)": 1, "cancelled annotation": 1,
                "prediction (not an annotation)": 1})
    view = _view(photos, photos / ".grounding" / "project.sqlite")
    assert view[("b.png", "red ball")] == [(40.0, 0.0, 20.0, 20.0)]
    assert view[("sub/c.jpg", "a dog")] == EXPECTED[("sub/c.jpg", "a dog")]

    export[0]["data"]["image"] = "/data/upload/7/3f2a9c1e-nowhere.jpg"
    (tmp_path / "unknown.json").write_text(json.dumps(export))
    assert main(["import", str(photos), "--label-studio", str(tmp_path / "unknown.json")]) == 2
    assert "tasks[0] (id 1): image: file_name 'nowhere.jpg' matches no image of the project" in capsys.readouterr().err
