"""The YOLO and Pascal VOC exports read by their own tools, and files those tools write read by our
importers: Ultralytics (``check_det_dataset``, ``YOLODataset``, one epoch of ``yolo train`` on the
CPU) in an environment of its own, torchvision's ``VOCDetection`` in the app's, supervision's
``as_yolo`` and ``as_pascal_voc`` in the consumers' environment."""
import subprocess
import xml.etree.ElementTree as ET

import pytest
from consumer_env import consumer_python, load_in_consumers, ultralytics_python

from exportkit import rotated_project

from grounding_desktop.io.export import ExportOptions, export_project
from grounding_desktop.io.voc_import import import_voc
from grounding_desktop.io.yolo_import import import_yolo
from grounding_desktop.project import open_project

TRAIN_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """``rotated_project`` (an EXIF-rotated photo, a rejected box, a proposal, two phrases on one
    box) exported as YOLO, with and without splits, and as VOC where torchvision looks for it."""
    root = tmp_path_factory.mktemp("yolo_voc")
    store, _ = rotated_project(root / "photos")
    with store:
        export_project(store, "yolo", root / "yolo")
        export_project(store, "yolo", root / "yolo_splits", ExportOptions(splits=(50, 50)))
        export_project(store, "voc", root / "VOCdevkit" / "VOC2012")
    return root


def _our_rows(export) -> dict[str, dict[str, list]]:
    """split -> image path -> sorted [class, cx, cy, w, h] rows, from our own label files."""
    out: dict[str, dict[str, list]] = {}
    for label in sorted((export / "labels").rglob("*.txt")):
        split, rel = label.relative_to(export / "labels").as_posix().split("/", 1)
        image = next((export / "images" / split).glob(rel[:-4] + ".*")).relative_to(export / "images" / split)
        out.setdefault(split, {})[image.as_posix()] = sorted(
            [int(v[0]), *(float(x) for x in v[1:])] for v in (line.split() for line in label.read_text().splitlines()))
    return out


@pytest.fixture
def ultralytics(tmp_path, monkeypatch):
    """The environment's python, Ultralytics' settings in a folder of the test's, and offline."""
    python = ultralytics_python()
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "ultralytics"))
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    return python


@pytest.mark.parametrize("name", ["yolo", "yolo_splits"])
def test_ultralytics_reads_our_yolo_export_and_gives_our_boxes_back(exported, ultralytics, name):
    seen = load_in_consumers(ultralytics, "ultralytics", str(exported / name / "data.yaml"))
    assert seen["names"] == {"0": "ball", "1": "block", "2": "horse", "3": "tree"} and seen["nc"] == 4
    ours = _our_rows(exported / name)
    assert {split: {path: image["rows"] for path, image in images.items()}
            for split, images in seen["splits"].items() if split in ours} == ours
    for images in seen["splits"].values():
        if "phone.jpg" in images:
            assert images["phone.jpg"]["shape"] == [60, 40]  # the EXIF-rotated photo, written upright


def test_one_epoch_of_yolo_train_runs_on_our_export(exported, ultralytics, tmp_path):
    """``yolo train`` on the CPU with a model built from yolov8n.yaml (no weights downloaded), images
    of 64 pixels: it trains an epoch and validates on our boxes."""
    yolo = ultralytics.parent / "yolo"
    r = subprocess.run([str(yolo), "train", "model=yolov8n.yaml", f"data={exported / 'yolo' / 'data.yaml'}", "epochs=1",
                        "imgsz=64", "batch=2", "workers=0", "device=cpu", "plots=False", "amp=False", "pretrained=False",
                        f"project={tmp_path / 'runs'}", "name=run", "exist_ok=True"],
                       capture_output=True, text=True, timeout=TRAIN_TIMEOUT_S)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "1 epochs completed" in r.stdout + r.stderr
    assert (tmp_path / "runs" / "run" / "weights" / "last.pt").exists()


def test_torchvision_voc_detection_reads_our_voc_export(exported):
    from torchvision.datasets import VOCDetection

    voc = exported / "VOCdevkit" / "VOC2012"
    ds = VOCDetection(str(exported), year="2012", image_set="train", download=False)
    assert len(ds) == 4
    for image, target in ds:
        ann = target["annotation"]
        assert [str(v) for v in image.size] == [ann["size"]["width"], ann["size"]["height"]]  # upright images
        ours = ET.parse(voc / "Annotations" / ann["filename"].replace(".jpg", ".xml")).getroot()
        assert [(o["name"], o["phrase"], o["bndbox"]) for o in ann.get("object", [])] == \
            [(o.findtext("name"), o.findtext("phrase"), {t: o.findtext(f"bndbox/{t}") for t in ("xmin", "ymin", "xmax", "ymax")})
             for o in ours.findall("object")]
    phone = next(t["annotation"] for _, t in ds if t["annotation"]["filename"] == "phone.jpg")
    assert phone["object"][0]["bndbox"] == {"xmin": "6", "ymin": "11", "xmax": "15", "ymax": "30"}  # (5, 10, 10, 20)


def _boxes(store) -> dict[str, dict[str, list]]:
    """image -> phrase -> sorted (x1, y1, x2, y2) corners."""
    return {img.path: {e.text: sorted((x, y, x + w, y + h) for x, y, w, h in (b.bbox for b in bs))
                       for e, bs in store.labels.annotations(img.id)} for img in store.images.all()}


def _close(a, b, tolerance: float) -> bool:
    return a.keys() == b.keys() and all(
        a[k].keys() == b[k].keys() and all(len(a[k][p]) == len(b[k][p]) and all(
            max(abs(x - y) for x, y in zip(u, v)) <= tolerance for u, v in zip(a[k][p], b[k][p])) for p in a[k])
        for k in a)


def test_our_importers_read_what_supervision_writes(exported, tmp_path):
    """supervision reads our YOLO export and writes it with ``as_yolo`` and ``as_pascal_voc``; our
    importers read both to the boxes our own export gives back (YOLO's corners within a hundredth
    of a pixel, VOC's rounded to whole pixels within half of one: its 1-based indices read right)."""
    python = consumer_python()
    seen = load_in_consumers(python, "supervision_rewrite", str(exported / "yolo"), str(tmp_path / "sv"))
    assert seen == {"classes": ["ball", "block", "horse", "tree"], "images": 4}
    projects = {name: open_project(exported / "photos", tmp_path / f"{name}.sqlite")[0] for name in ("ours", "yolo", "voc")}
    try:
        import_yolo(projects["ours"], exported / "yolo")
        import_yolo(projects["yolo"], tmp_path / "sv" / "yolo")
        import_voc(projects["voc"], tmp_path / "sv" / "voc")
        ours = _boxes(projects["ours"])
        assert sum(len(p) for p in ours.values()) == 5  # ball, block, horse (2 boxes), tree, horse on d.jpg
        assert _close(_boxes(projects["yolo"]), ours, 0.01)
        assert _close(_boxes(projects["voc"]), ours, 0.51)
    finally:
        for store in projects.values():
            store.close()
