"""Each export format: loads in pycocotools, spans cut exactly the phrase, the selection rules hold."""
import json

import pytest
from pycocotools.coco import COCO

from exportkit import labelled_project, load, rotated_project

from grounding_desktop.core import Box, BoxSource, BoxState
from grounding_desktop.io import odvg
from grounding_desktop.io.coco_import import import_coco
from grounding_desktop.project import open_project
from grounding_desktop.io.export import ExportError, ExportOptions, export_project


@pytest.fixture
def store(tmp_path):
    s = labelled_project(tmp_path / "photos")
    yield s
    s.close()


def _coco(path) -> COCO:
    return COCO(str(path))


def test_coco_grounding_fields_spans_and_no_target(store, tmp_path):
    out = tmp_path / "out" / "g.json"
    summary = export_project(store, "coco-grounding", out)
    assert summary.files == [str(out)]
    api = _coco(out)
    data = load(out)
    by_caption = {}
    for im in data["images"]:
        by_caption.setdefault((im["file_name"], im["caption"]), []).append(im)
        expr = store.labels.expression(im["id"])
        assert expr is not None and expr.text == im["caption"]
        assert im["original_id"] == store.images.by_path()[im["file_name"]].id
        assert (im["width"], im["height"]) == (store.images.get(im["original_id"]).width, store.images.get(im["original_id"]).height)
    # one images entry per exported expression; the proposal-only "a dog" is not one of them
    assert sorted(by_caption) == sorted([("a.jpg", "the horses"), ("a.jpg", "the cat"), ("b.png", "red ball"),
                                         ("b.png", "blue ball"), ("d.jpg", "the tree"), ("d.jpg", "the horses")])
    for im in data["images"]:
        anns = api.loadAnns(api.getAnnIds(imgIds=[im["id"]]))
        for ann in anns:
            assert [im["caption"][s:e] for s, e in ann["tokens_positive"]] == [im["caption"]]
            assert ann["area"] == pytest.approx(ann["bbox"][2] * ann["bbox"][3])
        if im["caption"] in ("the cat", "blue ball"):  # no-target: no annotations, phrase in tokens_negative
            assert anns == []
            assert [im["caption"][s:e] for s, e in im["tokens_negative"]] == [im["caption"]]
        else:
            assert anns and im["tokens_negative"] == []
    horses = by_caption[("a.jpg", "the horses")][0]
    boxes = sorted(a["bbox"] for a in api.loadAnns(api.getAnnIds(imgIds=[horses["id"]])))
    assert boxes == [[1.25, 2.5, 10.0, 12.0], [20.0, 5.0, 10.5, 12.25]]  # plural keeps both; proposal left out
    assert data["categories"] == [{"id": 1, "name": "object", "supercategory": "object"}]
    assert summary.images == 3 and summary.phrases == 6 and summary.no_target == 2 and summary.boxes == 5
    assert summary.skipped["phrases"]["only unreviewed proposals"] == 1
    assert summary.skipped["boxes"]["rejected"] == 1
    assert summary.skipped["boxes"]["proposal, not a label"] == 2
    assert summary.skipped["images"]["no labels"] == 2  # sub/c.jpg (only a proposal) and e.jpg


def test_a_phrase_whose_proposals_were_all_rejected_is_not_a_negative(store, tmp_path):
    """Ctrl+R says "this box is wrong", not "the thing is absent": the phrase is unfinished, so it is
    left out (counted), and written only with --include-rejected, with its rejected boxes tagged."""
    b = store.images.by_path()["b.png"]
    expr, (box,) = store.labels.add_expression(b.id, "the giraffe lying in the bottom left",
                                        [Box(0, 0, (1.0, 1.0, 8.0, 8.0), BoxState.REJECTED, BoxSource.MODEL, 0.4)])
    out = tmp_path / "g.json"
    summary = export_project(store, "coco-grounding", out)
    assert "the giraffe lying in the bottom left" not in [im["caption"] for im in load(out)["images"]]
    assert summary.skipped["phrases"]["needs a box (none accepted, not said to be absent)"] == 1
    assert summary.no_target == 2  # "the cat" and "blue ball", which the user said are not there
    imported, _ = open_project(tmp_path / "photos", db=tmp_path / "other.sqlite")
    import_coco(imported, out)
    assert "the giraffe lying in the bottom left" not in [
        e.text for e, _ in imported.labels.annotations(imported.images.by_path()["b.png"].id)]
    imported.close()
    export_project(store, "coco-grounding", out, ExportOptions(include_rejected=True))
    entry, = [im for im in load(out)["images"] if im["caption"] == expr.text]
    anns = [a for a in load(out)["annotations"] if a["image_id"] == entry["id"]]
    assert [(a["id"], a["grounding_desktop"]["state"]) for a in anns] == [(box.id, "rejected")]
    assert entry["tokens_negative"] == []  # not written as "not in this image"


def test_spans_exclude_surrounding_whitespace(tmp_path):
    s = labelled_project(tmp_path / "photos")
    e = s.images.by_path()["e.jpg"]
    s.labels.add_expression(e.id, "  the  small\tbird ", [Box(0, 0, (1, 1, 4, 4))])
    out = tmp_path / "g.json"
    export_project(s, "coco-grounding", out)
    data = load(out)
    im = next(i for i in data["images"] if i["file_name"] == "e.jpg")
    ann = next(a for a in data["annotations"] if a["image_id"] == im["id"])
    (start, end), = ann["tokens_positive"]
    assert im["caption"][start:end] == "the  small\tbird"
    assert im["caption"][start:end].split() == ["the", "small", "bird"]
    s.close()


def test_plain_coco_one_image_each_and_category_per_phrase(store, tmp_path):
    e = store.images.by_path()["e.jpg"]
    store.labels.add_expression(e.id, "Red  Ball", [Box(0, 0, (1, 1, 4, 4))])
    out = tmp_path / "c.json"
    export_project(store, "coco", out)
    api = _coco(out)
    data = load(out)
    assert sorted(im["file_name"] for im in data["images"]) == ["a.jpg", "b.png", "d.jpg", "e.jpg"]
    assert len({im["id"] for im in data["images"]}) == 4
    names = {c["id"]: c["name"] for c in data["categories"]}
    assert sorted(names.values()) == ["blue ball", "red ball", "the cat", "the horses", "the tree"]
    red = api.getCatIds(catNms=["red ball"])
    assert len(api.getAnnIds(catIds=red)) == 2  # "red ball" and "Red  Ball" are one category
    assert len(api.getAnnIds(imgIds=[store.images.by_path()["a.jpg"].id])) == 2


def test_label_map_categories_and_skips(store, tmp_path):
    label_map = {"The Horses": "horse", "red ball": "ball", "blue  ball": "ball"}  # keys are normalised
    out = tmp_path / "c.json"
    summary = export_project(store, "coco", out, ExportOptions(label_map=label_map))
    data = load(out)
    assert [(c["id"], c["name"]) for c in data["categories"]] == [(1, "horse"), (2, "ball")]  # the map's order
    api = _coco(out)
    assert len(api.getAnnIds(catIds=api.getCatIds(catNms=["horse"]))) == 3
    assert summary.skipped["phrases"]["phrase not in the label map"] == 3  # the cat, the tree, a dog


def test_odvg_grounding_records(store, tmp_path):
    out = tmp_path / "o.jsonl"
    export_project(store, "odvg", out)
    records = {r["filename"]: r for r in odvg.read_records(out)}
    assert sorted(records) == ["a.jpg", "b.png", "d.jpg"]
    a = records["a.jpg"]
    assert (a["width"], a["height"]) == (64, 48)
    caption = a["grounding"]["caption"]
    assert caption == "the horses . the cat ."
    regions = a["grounding"]["regions"]
    assert len(regions) == 2 and all(r["phrase"] == "the horses" for r in regions)
    for rec in records.values():
        cap = rec["grounding"]["caption"]
        for r in rec["grounding"]["regions"]:
            assert [cap[s:e] for s, e in r["tokens_positive"]] == [r["phrase"]]
    assert sorted(r["bbox"] for r in regions) == [[1.25, 2.5, 11.25, 14.5], [20.0, 5.0, 30.5, 17.25]]
    d = records["d.jpg"]["grounding"]
    assert [d["caption"][s:e] for r in d["regions"] for s, e in r["tokens_positive"]] == ["the tree", "the horses"]


def test_odvg_detection_with_label_map(store, tmp_path):
    out = tmp_path / "det.jsonl"
    summary = export_project(store, "odvg", out, ExportOptions(label_map={"the horses": "horse", "red ball": "ball"}))
    label_map = load(tmp_path / "det_label_map.json")
    assert label_map == {"0": "horse", "1": "ball"}  # the map's order
    assert str(tmp_path / "det_label_map.json") in summary.files
    records = list(odvg.read_records(out))
    instances = [i for r in records for i in r["detection"]["instances"]]
    assert sorted((i["label"], i["category"]) for i in instances) == [(0, "horse"), (0, "horse"), (0, "horse"), (1, "ball")]
    assert all("grounding" not in r for r in records)


def test_refcoco_folder(store, tmp_path):
    out = tmp_path / "refcoco"
    summary = export_project(store, "refcoco", out)
    api = _coco(out / "instances.json")
    refs = load(out / "refs.json")
    keys = {"ref_id", "ann_id", "image_id", "category_id", "file_name", "split", "sent_ids", "sentences"}
    assert all(set(r) == keys for r in refs)
    assert all(r["split"] == "train" for r in refs)
    assert len({r["ref_id"] for r in refs}) == len(refs)
    sent_ids = [s["sent_id"] for r in refs for s in r["sentences"]]
    assert len(set(sent_ids)) == len(sent_ids) and sent_ids == [i for r in refs for i in r["sent_ids"]]
    for r in refs:
        ann = api.loadAnns([r["ann_id"]])[0]
        image_file = api.loadImgs([r["image_id"]])[0]["file_name"]
        assert ann["image_id"] == r["image_id"]
        stem, ext = image_file.rsplit(".", 1)
        assert r["file_name"] == f"{stem}_{r['ann_id']}.{ext}"  # RefCOCO's <stem>_<ann_id>.<ext>
        for sent in r["sentences"]:
            assert sent["tokens"] == sent["raw"].lower().split() and sent["sent"] == " ".join(sent["tokens"])
    raws = sorted(tuple(sorted(s["raw"] for s in r["sentences"])) for r in refs)
    # the box shared by "the tree" and "the horses" on d.jpg is one ref; the plural "the horses" of a.jpg is left out
    assert raws == [("red ball",), ("the horses", "the tree")]
    assert len(api.getAnnIds()) == 2
    assert summary.skipped["phrases"]["no-target phrase (RefCOCO cannot represent it)"] == 2
    assert summary.skipped["phrases"]["plural phrase (a RefCOCO ref is one object)"] == 1


def test_include_rejected_and_reviewed_only(store, tmp_path):
    out = tmp_path / "g.json"
    export_project(store, "coco-grounding", out, ExportOptions(include_rejected=True))
    data = load(out)
    rejected = [a for a in data["annotations"] if a["grounding_desktop"]["state"] == "rejected"]
    assert len(rejected) == 1 and rejected[0]["bbox"] == [5.0, 5.0, 5.0, 5.0]
    assert all(a["grounding_desktop"]["state"] in ("accepted", "rejected") for a in data["annotations"])
    summary = export_project(store, "coco-grounding", out, ExportOptions(reviewed_only=True))
    assert {im["file_name"] for im in load(out)["images"]} == {"d.jpg"}
    assert summary.skipped["images"]["not reviewed"] == 4


def test_boxes_clipped_to_image_and_outside_ones_skipped(store, tmp_path):
    e = store.images.by_path()["e.jpg"]  # 32x32
    store.labels.add_expression(e.id, "edge", [Box(0, 0, (-2.0, 20.0, 10.0, 20.0))])
    store.labels.add_expression(e.id, "gone", [Box(0, 0, (40.0, 40.0, 5.0, 5.0))])
    out = tmp_path / "g.json"
    summary = export_project(store, "coco-grounding", out)
    data = load(out)
    cap = {im["id"]: im["caption"] for im in data["images"]}
    edge = [a["bbox"] for a in data["annotations"] if cap[a["image_id"]] == "edge"]
    assert edge == [[0.0, 20.0, 8.0, 12.0]]
    assert "gone" not in cap.values()
    assert summary.skipped["boxes"]["no area inside the image"] == 1
    assert summary.skipped["phrases"]["all boxes outside the image"] == 1


def test_unreadable_and_missing_images_are_skipped(tmp_path):
    s = labelled_project(tmp_path / "photos")
    (tmp_path / "photos" / "d.jpg").unlink()
    (tmp_path / "photos" / "bad.jpg").write_bytes(b"not an image")
    from grounding_desktop.project import rescan_project

    rescan_project(s)
    bad = s.images.by_path()["bad.jpg"]
    s.labels.add_expression(bad.id, "ghost", [])
    summary = export_project(s, "coco", tmp_path / "c.json")
    assert {im["file_name"] for im in load(tmp_path / "c.json")["images"]} == {"a.jpg", "b.png"}
    assert summary.skipped["images"]["file missing on disk"] == 1
    assert summary.skipped["images"]["unreadable image"] == 1
    s.close()


def test_summary_is_json_serialisable(store, tmp_path):
    summary = export_project(store, "odvg", tmp_path / "o.jsonl", ExportOptions(splits=(50, 50)))
    d = json.loads(json.dumps(summary.to_dict()))
    assert d["format"] == "odvg" and set(d["splits"]) == {"train", "val"}
    assert any(line.startswith("skipped") for line in summary.lines())


# -- what trainers and tools rely on (issue 9) ----------------------------------------------------
@pytest.mark.parametrize("fmt", ["coco-grounding", "coco"])
def test_with_images_writes_upright_copies_a_loader_without_exif_reads_right(tmp_path, fmt):
    """torchvision's CocoDetection, MDETR and GLIP open images with PIL and never apply EXIF: the
    copied image must have the json's width/height and show the object inside the box."""
    from PIL import Image

    s, (x, y, w, h) = rotated_project(tmp_path / "photos")
    out = tmp_path / "export"
    summary = export_project(s, fmt, out, ExportOptions(with_images=True, splits=(100, 0)))
    name = "grounding" if fmt == "coco-grounding" else "instances"  # see io/export_layout.py
    ann_file = out / "annotations" / f"{name}_train.json"
    assert summary.files == [str(ann_file), str(out / "images")] and summary.upright == 1
    data = load(ann_file)
    entry = next(im for im in data["images"] if im["file_name"] == "phone.jpg")
    with Image.open(out / "images" / "train" / "phone.jpg") as copy:  # no exif_transpose: as trainers do
        assert copy.size == (entry["width"], entry["height"]) == (40, 60)
        assert copy.getexif().get(0x0112, 1) == 1
        red, green, _ = copy.convert("RGB").crop((x + 2, y + 2, x + w - 2, y + h - 2)).resize((1, 1)).getpixel((0, 0))
        assert red > 150 and green < 80
    with Image.open(out / "images" / "train" / "a.jpg") as other, Image.open(tmp_path / "photos" / "a.jpg") as src:
        assert other.tobytes() == src.tobytes()  # unrotated images are copied as they are
    s.close()


def test_without_images_the_rotated_images_are_named_in_a_warning(tmp_path):
    s, _ = rotated_project(tmp_path / "photos")
    summary = export_project(s, "coco", tmp_path / "c.json")
    assert summary.rotated == ["phone.jpg"]
    assert any("phone.jpg" in w and "--with-images" in w for w in summary.warnings)
    s.close()


def test_label_map_writes_each_image_category_box_once(store, tmp_path):
    """Paraphrases of one object mapped to one category must be one ground-truth box, else a
    perfect detector loses AP (pycocotools counts the twin as a missed object)."""
    d = store.images.by_path()["d.jpg"]  # "the tree" and "the horses" share the box (2, 3, 20, 20)
    store.labels.add_expression(d.id, "a tall tree", [Box(0, 0, (2.0, 3.0, 20.0, 20.0))])
    label_map = {"the tree": "tree", "a tall tree": "tree", "the horses": "horse"}
    summary = export_project(store, "coco", tmp_path / "c.json", ExportOptions(label_map=label_map))
    anns = load(tmp_path / "c.json")["annotations"]
    keys = [(a["image_id"], a["category_id"], tuple(a["bbox"])) for a in anns]
    assert len(keys) == len(set(keys)) and len([k for k in keys if k[0] == d.id]) == 2  # one tree, one horse
    assert summary.skipped["boxes"]["same box as another phrase of its category"] == 1
    export_project(store, "odvg", tmp_path / "o.jsonl", ExportOptions(label_map=label_map))
    for rec in odvg.read_records(tmp_path / "o.jsonl"):
        keys = [(i["label"], tuple(i["bbox"])) for i in rec["detection"]["instances"]]
        assert len(keys) == len(set(keys))


def test_category_ids_survive_adding_a_phrase(store, tmp_path):
    export_project(store, "coco", tmp_path / "before.json")
    before = {c["name"]: c["id"] for c in load(tmp_path / "before.json")["categories"]}
    store.labels.add_expression(store.images.by_path()["e.jpg"].id, "a aardvark", [Box(0, 0, (1, 1, 4, 4))])  # sorts first
    export_project(store, "coco", tmp_path / "after.json")
    after = {c["name"]: c["id"] for c in load(tmp_path / "after.json")["categories"]}
    assert {n: after[n] for n in before} == before and after["a aardvark"] not in before.values()


def test_odvg_has_no_line_without_regions_and_rounds_coordinates(store, tmp_path):
    e = store.images.by_path()["e.jpg"]
    store.labels.add_expression(e.id, "nothing here", no_target=True)  # e.jpg: only a no-target phrase
    store.labels.add_expression(store.images.by_path()["b.png"].id, "tiny", [Box(0, 0, (1.0 / 3, 2.0 / 3, 10.123456, 5.5))])
    summary = export_project(store, "odvg", tmp_path / "o.jsonl")
    records = list(odvg.read_records(tmp_path / "o.jsonl"))
    assert all(r["grounding"]["regions"] for r in records) and "e.jpg" not in {r["filename"] for r in records}
    assert summary.skipped["images"]["only no-target phrases (an ODVG grounding line needs a region)"] == 1
    coords = [v for r in records for reg in r["grounding"]["regions"] for v in reg["bbox"]]
    assert all(v == round(v, 2) for v in coords) and [0.33, 0.67, 10.46, 6.17] in \
        [reg["bbox"] for r in records for reg in r["grounding"]["regions"]]


def test_odvg_refuses_rejected_boxes(store, tmp_path):
    with pytest.raises(ExportError, match="odvg cannot mark a box as rejected"):
        export_project(store, "odvg", tmp_path / "o.jsonl", ExportOptions(include_rejected=True))
    assert not (tmp_path / "o.jsonl").exists()


def test_coco_grounding_data_source_and_dataset_name(store, tmp_path):
    export_project(store, "coco-grounding", tmp_path / "g.json")
    assert {(im["data_source"], im["dataset_name"]) for im in load(tmp_path / "g.json")["images"]} == \
        {("coco", "grounding-desktop")}
    summary = export_project(store, "coco-grounding", tmp_path / "r.json", ExportOptions(dataset_name="refcoco"))
    data = load(tmp_path / "r.json")
    assert {im["dataset_name"] for im in data["images"]} == {"refcoco"}
    per_entry = [len([a for a in data["annotations"] if a["image_id"] == im["id"]]) for im in data["images"]]
    assert per_entry and set(per_entry) == {1}  # MDETR's RefExpEvaluator asserts one box per entry
    assert sum(summary.skipped["phrases"].values()) >= 3  # two no-target, one plural


def test_coco_grounding_without_dataset_name_says_which_evaluator_needs_it(store, tmp_path):
    """MDETR's RefExpEvaluator keys its scores by refcoco/refcoco+/refcocog and KeyErrors on the
    default name: the summary says so, with what --dataset-name refcoco would leave out here."""
    summary = export_project(store, "coco-grounding", tmp_path / "g.json")
    [note] = summary.notes
    assert "'grounding-desktop'" in note and "RefExpEvaluator" in note and "--dataset-name refcoco" in note
    off = sum(1 for im in load(tmp_path / "g.json")["images"]
              if len([a for a in load(tmp_path / "g.json")["annotations"] if a["image_id"] == im["id"]]) != 1)
    assert off and f"{off} phrases here without exactly one box would be left out" in note
    assert f"note: {note}" in summary.lines() and summary.to_dict()["notes"] == [note]
    assert export_project(store, "coco-grounding", tmp_path / "r.json", ExportOptions(dataset_name="refcoco")).notes == []
    assert export_project(store, "coco", tmp_path / "c.json").notes == []


def test_refs_pickle_is_protocol_2_with_the_same_refs(store, tmp_path):
    import pickle

    export_project(store, "refcoco", tmp_path / "refcoco")
    raw = (tmp_path / "refcoco" / "refs(unc).p").read_bytes()
    assert raw[:2] == b"\x80\x02"  # protocol 2: Python 2's cPickle (the refer API) reads it
    assert pickle.loads(raw) == load(tmp_path / "refcoco" / "refs.json")


def test_empty_split_is_warned_about(store, tmp_path):
    summary = export_project(store, "coco", tmp_path / "c.json", ExportOptions(splits=(1, 0.0001, 1)))
    assert (tmp_path / "c_val.json").exists() and summary.splits["val"]["images"] == 0
    assert "split 'val' has no image: its file was written empty" in summary.warnings


@pytest.mark.parametrize("fmt", ["coco-grounding", "coco", "odvg", "refcoco"])
def test_identical_projects_export_byte_identical_files(tmp_path, fmt):
    first = labelled_project(tmp_path / "one")
    second = labelled_project(tmp_path / "two")
    a = export_project(first, fmt, tmp_path / "a" / "out", ExportOptions(splits=(50, 50)))
    b = export_project(second, fmt, tmp_path / "b" / "out", ExportOptions(splits=(50, 50)))
    assert [open(f, "rb").read() for f in a.files] == [open(f, "rb").read() for f in b.files]
    first.close()
    second.close()
