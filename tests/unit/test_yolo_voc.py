"""YOLO and Pascal VOC: what the exports write (classes from head nouns or the label map, background
images, no rejected or proposed box), what the importers read, and the round trips
YOLO -> import -> YOLO and VOC -> import -> VOC (the same files)."""
import xml.etree.ElementTree as ET

import pytest
import yaml
from PIL import Image

from grounding_desktop.core import ImageState
from grounding_desktop.io.errors import ExportError, ImportFileError
from grounding_desktop.io.export import ExportOptions, export_project
from grounding_desktop.io.voc_import import import_voc
from grounding_desktop.io.yolo_import import import_yolo

IMPORTS = {"yolo": import_yolo, "voc": import_voc}


@pytest.fixture
def project(source):
    """exportkit's project plus a background image (e.jpg, reviewed, no phrase) and an image whose
    only exported phrase is said not to be in it (sub/c.jpg: "the zebra")."""
    img = {r.path: r for r in source.images.all()}
    source.labels.add_expression(img["sub/c.jpg"].id, "the zebra", [], no_target=True)
    source.images.set_state(img["e.jpg"].id, ImageState.REVIEWED)
    return source


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_yolo_export_writes_the_ultralytics_layout_with_head_noun_classes(project, tmp_path):
    out = tmp_path / "yolo"
    summary = export_project(project, "yolo", out)
    assert summary.classes == ["ball", "horse", "tree"] and summary.classes_from == "the phrases' head nouns"
    assert "classes 3 from the phrases' head nouns: ball, horse, tree" in summary.lines()
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data == {"path": str(out.resolve()), "train": "images/train", "val": "images/train",
                    "names": {0: "ball", 1: "horse", 2: "tree"}}
    labels = {name: text.decode() for name, text in _files(out / "labels").items()}
    # "the horses": its two accepted boxes (not its proposal), normalised to the 64x48 image
    assert labels["train/a.txt"] == "1 0.097656 0.177083 0.156250 0.250000\n1 0.394531 0.231771 0.164062 0.255208\n"
    assert labels["train/b.txt"] == "0 0.625000 0.666667 0.250000 0.333333\n"  # not the rejected "blue ball" box
    assert labels["train/d.txt"].splitlines() == ["1 0.300000 0.433333 0.500000 0.666667",
                                                 "2 0.300000 0.433333 0.500000 0.666667"]
    assert labels["train/e.txt"] == "" and labels["train/sub/c.txt"] == ""  # background images
    assert (out / "images" / "train" / "b.png").read_bytes() == (project.root / "b.png").read_bytes()


def test_yolo_and_voc_classes_follow_a_label_map_and_refuse_rejected_boxes(project, tmp_path):
    options = ExportOptions(label_map={"the horses": "animal", "red ball": "toy", "the tree": "plant"})
    summary = export_project(project, "yolo", tmp_path / "y", options)
    assert summary.classes == ["animal", "toy", "plant"] and summary.classes_from == "the label map"
    assert yaml.safe_load((tmp_path / "y" / "data.yaml").read_text())["names"] == {0: "animal", 1: "toy", 2: "plant"}
    for fmt in ("yolo", "voc"):
        with pytest.raises(ExportError, match="cannot mark a box as rejected"):
            export_project(project, fmt, tmp_path / f"r{fmt}", ExportOptions(include_rejected=True))


def test_voc_export_keeps_the_phrase_in_each_object_and_the_absent_ones(project, tmp_path):
    out = tmp_path / "voc"
    summary = export_project(project, "voc", out, ExportOptions(splits=(50, 50)))
    assert summary.jpeg_encoded == 1  # b.png
    a = ET.parse(out / "Annotations" / "a.xml").getroot()
    assert [(o.findtext("name"), o.findtext("phrase"), [int(o.find("bndbox").findtext(t)) for t in
             ("xmin", "ymin", "xmax", "ymax")]) for o in a.findall("object")] == \
        [("horse", "the horses", [2, 4, 11, 14]), ("horse", "the horses", [21, 6, 30, 17])]  # 1-based, as VOC
    assert [e.text for e in a.findall("not_in_image")] == ["the cat"]
    b = ET.parse(out / "Annotations" / "b.xml").getroot()
    assert (b.findtext("filename"), b.findtext("path"), b.findtext("size/width")) == ("b.jpg", "b.png", "80")
    with Image.open(out / "JPEGImages" / "b.jpg") as im:
        assert (im.format, im.size) == ("JPEG", (80, 60))
    ids = {split: (out / "ImageSets" / "Main" / f"{split}.txt").read_text().split() for split in ("train", "val")}
    assert sorted(ids["train"] + ids["val"]) == ["a", "b", "d", "e", "sub/c"]


@pytest.mark.parametrize("fmt", ["yolo", "voc"])
def test_round_trip_through_an_import_gives_the_same_files(project, fresh, tmp_path, fmt):
    first, second = tmp_path / "first", tmp_path / "second"
    export_project(project, fmt, first, ExportOptions(splits=(50, 50)))
    summary = IMPORTS[fmt](fresh, first)
    assert summary.applied and summary.boxes_added == 5 and summary.reviewed == (2 if fmt == "yolo" else 1)
    export_project(fresh, fmt, second, ExportOptions(splits=(50, 50)))
    a, b = _files(first), _files(second)
    if fmt == "yolo":  # data.yaml's path names its own folder
        for files, folder in ((a, first), (b, second)):
            files["data.yaml"] = files["data.yaml"].replace(str(folder.resolve()).encode(), b"OUT")
    assert a == b


def test_an_import_with_a_bad_line_names_it_and_adds_nothing(project, fresh, tmp_path):
    out = tmp_path / "yolo"
    export_project(project, "yolo", out)
    (out / "labels" / "train" / "b.txt").write_text("0 0.5 0.5 0.2\n7 0.5 0.5 0.2 0.2\n")
    with pytest.raises(ImportFileError) as err:
        import_yolo(fresh, out)
    assert [p.split(": ", 1)[1] for p in err.value.problems] == [
        "labels of b.png, line 1: 4 values; a detection label is 5: class cx cy w h",
        "labels of b.png, line 2: class 7 is not in 'names' (0..2)"]
    assert fresh.counts()["phrases"] == 0


def test_a_data_yaml_naming_folders_outside_its_dataset_is_refused(fresh, tmp_path):
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "data.yaml").write_text("path: /\ntrain: /\nval: ../photos\nnames: [dog]\n")  # path: / is not followed
    with pytest.raises(ImportFileError) as err:
        import_yolo(fresh, dataset)
    assert [p.split(": ", 1)[1] for p in err.value.problems] == [
        f"'train': / lies outside the dataset folder {dataset}", f"'val': ../photos lies outside the dataset folder {dataset}"]


def test_voc_from_elsewhere_matches_by_file_name_and_reads_name_as_the_phrase(fresh, tmp_path):
    ann = tmp_path / "ann"
    ann.mkdir()
    (ann / "x.xml").write_text("<annotation><folder>VOC</folder><filename>d.jpg</filename>"
                               "<path>C:\\Users\\me\\pics\\d.jpg</path><size><width>40</width><height>30</height>"
                               "<depth>3</depth></size><object><name>tree</name><difficult>0</difficult>"
                               "<bndbox><xmin>3</xmin><ymin>4</ymin><xmax>22</xmax><ymax>23</ymax></bndbox>"
                               "</object></annotation>")
    summary = import_voc(fresh, ann)
    assert (summary.phrases_added, summary.boxes_added) == (1, 1)
    d = fresh.images.by_path()["d.jpg"]
    assert [(e.text, [b.bbox for b in bs]) for e, bs in fresh.labels.annotations(d.id)] == [("tree", [(2.0, 3.0, 20.0, 20.0)])]
