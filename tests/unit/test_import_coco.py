"""COCO import: round trip of the project's own grounding export, plain COCO detection files, and
bad input that must be refused with a clear message while the project stays exactly as it was."""
import json

import pytest

from support import make_image
from exportkit import grounding_view, load, make_photos

from grounding_desktop.core import Box, BoxState, ImageState
from grounding_desktop.io.coco_import import import_coco
from grounding_desktop.io.errors import ImportFileError
from grounding_desktop.io.import_checks import BOX_TOLERANCE_PX
from grounding_desktop.io.import_plan import ImportOptions
from grounding_desktop.io.export import Cancelled, ExportOptions, export_project
from grounding_desktop.project import open_project
from grounding_desktop.store import StoreError


def _state(store):
    return store.counts(), {k: [(e.text, [(b.bbox, b.state, b.source, b.score) for b in bs]) for e, bs in v]
                            for k, v in store.labels.all_annotations().items()}, [(i.path, i.state) for i in store.images.all()]


def test_round_trip_of_grounding_export(source, fresh, tmp_path):
    first = tmp_path / "first.json"
    export_project(source, "coco-grounding", first)
    summary = import_coco(fresh, first)
    assert summary.applied and summary.flavour == "coco-grounding"
    assert summary.phrases_added == 6 and summary.no_target == 2 and summary.boxes_added == 5 and summary.reviewed == 1
    second = tmp_path / "second.json"
    export_project(fresh, "coco-grounding", second)
    a, b = load(first), load(second)
    assert grounding_view(a) == grounding_view(b)  # captions, boxes exactly, no-target entries
    horses = grounding_view(b)[("a.jpg", "the horses")]
    assert horses == [[(1.25, 2.5, 10.0, 12.0), (20.0, 5.0, 10.5, 12.25)]]  # plural keeps all its boxes
    assert grounding_view(b)[("a.jpg", "the cat")] == [[]]
    strip = lambda anns: sorted((a["bbox"], a["grounding_desktop"]["state"], a["grounding_desktop"]["source"],
                                 a["grounding_desktop"].get("score"), a["grounding_desktop"].get("model_version"))
                                for a in anns)
    assert strip(a["annotations"]) == strip(b["annotations"])
    assert fresh.images.by_path()["d.jpg"].state == ImageState.REVIEWED
    assert fresh.images.by_path()["a.jpg"].state == ImageState.IN_PROGRESS


def test_round_trip_with_rejected_boxes_and_splits(source, fresh, tmp_path):
    export_project(source, "coco-grounding", tmp_path / "g.json", ExportOptions(include_rejected=True, splits=(50, 50)))
    for split in ("train", "val"):
        import_coco(fresh, tmp_path / f"g_{split}.json")
    blue = next(bs for e, bs in fresh.labels.annotations(fresh.images.by_path()["b.png"].id) if e.text == "blue ball")
    assert [(b.bbox, b.state) for b in blue] == [((5.0, 5.0, 5.0, 5.0), BoxState.REJECTED)]


def test_importing_twice_does_not_double(source, fresh, tmp_path):
    out = tmp_path / "g.json"
    export_project(source, "coco-grounding", out)
    import_coco(fresh, out)
    before = _state(fresh)
    again = import_coco(fresh, out)
    assert again.duplicates == 6 and again.phrases_added == 0 and again.boxes_added == 0
    assert _state(fresh) == before


def test_as_proposals(source, fresh, tmp_path):
    out = tmp_path / "g.json"
    export_project(source, "coco-grounding", out)
    summary = import_coco(fresh, out, ImportOptions(as_proposals=True))
    assert summary.boxes_added == 5 and summary.reviewed == 0
    boxes = [b for v in fresh.labels.all_annotations().values() for _, bs in v for b in bs]
    assert len(boxes) == 5 and all(b.state == BoxState.PROPOSED for b in boxes)
    assert fresh.images.by_path()["d.jpg"].state != ImageState.REVIEWED


def test_dry_run_writes_nothing(source, fresh, tmp_path):
    out = tmp_path / "g.json"
    export_project(source, "coco-grounding", out)
    before = _state(fresh)
    summary = import_coco(fresh, out, ImportOptions(dry_run=True))
    assert not summary.applied and summary.phrases_added == 6
    assert _state(fresh) == before


def _detection_file(path, images, annotations, categories=({"id": 1, "name": "person"}, {"id": 7, "name": "Dog"})):
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": list(categories)}))
    return path


def test_plain_coco_detection_import_groups_by_category(fresh, tmp_path):
    f = _detection_file(tmp_path / "det.json", [
        {"id": 10, "file_name": "data/photos/a.jpg", "width": 64, "height": 48},  # longer path: trailing match
        {"id": 11, "file_name": "c.jpg"},  # bare name, unique in the project: sub/c.jpg
    ], [
        {"id": 1, "image_id": 10, "bbox": [1, 1, 10, 10], "category_id": 1, "area": 100, "iscrowd": 0},
        {"id": 2, "image_id": 10, "bbox": [20, 5, 10, 10], "category_id": 1, "area": 100, "iscrowd": 0},
        {"id": 3, "image_id": 10, "bbox": [30, 5, 10, 10], "category_id": 7, "score": 0.8},
        {"id": 4, "image_id": 11, "bbox": [0, 0, 50, 50], "category_id": 1, "iscrowd": 1},
        {"id": 5, "image_id": 11, "bbox": [5, 5, 10, 10], "category_id": 7},
    ])
    summary = import_coco(fresh, f, ImportOptions(as_proposals=True))
    assert summary.flavour == "coco" and summary.skipped["crowd annotation (not one object)"] == 1
    a = {e.text: bs for e, bs in fresh.labels.annotations(fresh.images.by_path()["a.jpg"].id)}
    assert sorted(a) == ["Dog", "person"]
    assert [b.bbox for b in a["person"]] == [(1.0, 1.0, 10.0, 10.0), (20.0, 5.0, 10.0, 10.0)]
    assert a["Dog"][0].score == 0.8 and a["Dog"][0].state == BoxState.PROPOSED
    c = fresh.labels.annotations(fresh.images.by_path()["sub/c.jpg"].id)
    assert [(e.text, [b.bbox for b in bs]) for e, bs in c] == [("Dog", [(5.0, 5.0, 10.0, 10.0)])]


def test_plain_coco_export_imports_back(source, fresh, tmp_path):
    export_project(source, "coco", tmp_path / "c.json")
    import_coco(fresh, tmp_path / "c.json")
    export_project(fresh, "coco", tmp_path / "c2.json")
    view = lambda d: sorted((a["grounding_desktop"]["phrase"], a["bbox"]) for a in d["annotations"])
    assert view(load(tmp_path / "c.json")) == view(load(tmp_path / "c2.json"))


def test_plain_coco_round_trip_keeps_categories_their_ids_and_phrase_case(source, fresh, tmp_path):
    """export -> import into a new project -> export: the same categories under the same ids (the
    no-target phrases' empty categories too: "the cat", "blue ball") and "A Dog" as typed."""
    source.labels.add_expression(source.images.by_path()["e.jpg"].id, "A Dog", [Box(0, 0, (4.0, 4.0, 8.0, 8.0))])
    export_project(source, "coco", tmp_path / "c.json")
    import_coco(fresh, tmp_path / "c.json")
    export_project(fresh, "coco", tmp_path / "c2.json")
    first, second = load(tmp_path / "c.json"), load(tmp_path / "c2.json")
    assert {"the cat", "blue ball", "a dog"} <= {c["name"] for c in first["categories"]}
    assert second["categories"] == first["categories"]
    phrases = lambda d: sorted((a["grounding_desktop"]["phrase"], a["category_id"], a["bbox"]) for a in d["annotations"])
    assert phrases(second) == phrases(first)
    assert "A Dog" in [e.text for e, _ in fresh.labels.annotations(fresh.images.by_path()["e.jpg"].id)]
    absent = lambda d: sorted((i["file_name"], t) for i in d["images"] for t in i.get("grounding_desktop", {}).get("no_target", []))
    assert absent(second) == absent(first) == [("a.jpg", "the cat"), ("b.png", "blue ball")]


def test_box_within_tolerance_is_clipped(fresh, tmp_path):
    f = _detection_file(tmp_path / "det.json", [{"id": 1, "file_name": "e.jpg"}], [
        {"id": 1, "image_id": 1, "bbox": [-0.4, 2, 32.5, 10], "category_id": 1}])
    import_coco(fresh, f)
    (_, boxes), = fresh.labels.annotations(fresh.images.by_path()["e.jpg"].id)
    assert boxes[0].bbox == (0.0, 2.0, 32.0, 10.0)
    assert BOX_TOLERANCE_PX >= 0.5


def _grounding_file(path, images, annotations):
    path.write_text(json.dumps({"images": images, "annotations": annotations,
                                "categories": [{"id": 1, "name": "object"}]}))
    return path


def test_sentence_captions_become_one_expression_per_span(fresh, tmp_path):
    caption = "a man walks a brown dog"
    f = _grounding_file(tmp_path / "g.json", [{"id": 1, "file_name": "b.png", "caption": caption}], [
        {"id": 1, "image_id": 1, "bbox": [1, 1, 5, 5], "category_id": 1, "tokens_positive": [[0, 5]]},
        {"id": 2, "image_id": 1, "bbox": [10, 10, 5, 5], "category_id": 1, "tokens_positive": [[12, 23]]},
        {"id": 3, "image_id": 1, "bbox": [20, 10, 5, 5], "category_id": 1, "tokens_positive": [[12, 23]]},
    ])
    import_coco(fresh, f)
    got = {e.text: len(bs) for e, bs in fresh.labels.annotations(fresh.images.by_path()["b.png"].id)}
    assert got == {"a man": 1, "a brown dog": 2}


def _with_good_entry(grounding: bool, images: list, annotations: list) -> dict:
    """A file whose first image and annotation are valid, so a half-applied import would show."""
    good_img = {"id": 999, "file_name": "d.jpg", **({"caption": "new phrase"} if grounding else {})}
    good_ann = {"id": 998, "image_id": 999, "bbox": [1, 1, 3, 3], "category_id": 1}
    return {"images": [good_img] + images, "annotations": [good_ann] + annotations,
            "categories": [{"id": 1, "name": "cat"}]}


G, D = True, False
BAD_FILES = [
    # (grounding?, bad images, bad annotations, words the one-line message must contain)
    (G, [{"id": 1, "file_name": "zzz.jpg", "caption": "x"}], [], ["images[1] (id 1)", "zzz.jpg", "matches no image"]),
    (G, [{"id": 1, "file_name": "a.jpg", "caption": "x"}],
     [{"id": 5, "image_id": 2, "bbox": [1, 1, 2, 2], "category_id": 1}],
     ["annotations[1] (id 5)", "image_id 2 does not exist"]),
    (G, [{"id": 1, "file_name": "a.jpg", "caption": "x"}],
     [{"id": 5, "image_id": 1, "bbox": [60, 1, 20, 2], "category_id": 1}],
     ["annotations[1] (id 5)", "outside its image a.jpg (64x48)"]),
    (G, [{"id": 1, "file_name": "a.jpg", "caption": "x"}],
     [{"id": 5, "image_id": 1, "bbox": [1, 1, 0, 2], "category_id": 1}], ["annotations[1] (id 5)", "no area"]),
    (G, [{"id": 1, "file_name": "a.jpg", "caption": "x"}],
     [{"id": 5, "image_id": 1, "bbox": [1, 1, "w", 2], "category_id": 1}], ["four numbers"]),
    (G, [{"id": 1, "file_name": "a.jpg", "caption": "x"}],
     [{"id": 5, "image_id": 1, "bbox": [1, 1, 2, 2], "tokens_positive": [[0, 9]]}], ["tokens_positive"]),
    (G, [{"id": 1, "file_name": "a.jpg", "caption": "   "}], [], ["images[1] (id 1)", "empty"]),
    (G, [{"id": 1, "file_name": "a.jpg", "caption": "x"}],
     [{"id": 5, "image_id": 1, "bbox": [1, 1, 2, 2], "state": "maybe"}], ["unknown box state"]),
    (G, [{"id": 1, "file_name": "a.jpg"}], [], ["1 of 2 images entries have a 'caption'"]),
    (D, [{"id": 1, "file_name": "a.jpg", "width": 48, "height": 64}], [], ["images[1] (id 1)", "48x64", "EXIF"]),
    (D, [{"id": 1, "file_name": "a.jpg"}], [{"id": 5, "image_id": 1, "bbox": [1, 1, 2, 2], "category_id": 3}],
     ["annotations[1] (id 5)", "category_id 3 does not exist"]),
    (D, [{"id": 999, "file_name": "b.png"}], [], ["images[1] (id 999)", "appears twice"]),
    (D, [{"id": 1, "file_name": "a.jpg"}], [{"id": 998, "image_id": 1, "bbox": [1, 1, 2, 2], "category_id": 1}],
     ["annotations[1] (id 998)", "appears twice"]),
]


@pytest.mark.parametrize("content,words", [
    ('{"images": [{"id": 1, "file_name": "a.jpg"', ["malformed JSON at line 1, column"]),
    ("[1, 2]", ["not a COCO file"]),
    ('{"annotations": []}', ["no 'images' list"]),
] + [(json.dumps(_with_good_entry(g, im, an)), w) for g, im, an, w in BAD_FILES])
def test_bad_input_is_refused_clearly_and_changes_nothing(source, tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content)
    before = _state(source)
    with pytest.raises(ImportFileError) as info:
        import_coco(source, path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for w in words:
        assert w in message, f"{w!r} not in {message!r}"
    assert _state(source) == before


def test_all_problems_are_listed(source, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"images": [{"id": i, "file_name": f"missing{i}.jpg"} for i in range(30)]}))
    with pytest.raises(ImportFileError) as info:
        import_coco(source, path)
    assert len(info.value.problems) == 20 and "(and 29 more problems)" in str(info.value)


def test_file_name_matching(tmp_path):
    folder = make_photos(tmp_path / "photos")
    make_image(folder / "x" / "q.jpg", color=(1, 2, 3))
    make_image(folder / "z" / "q.jpg", color=(200, 100, 3))
    s, _ = open_project(folder)
    path = tmp_path / "d.json"
    for name, expected in [("x/q.jpg", "x/q.jpg"), ("./z/q.jpg", "z/q.jpg"), ("C:\\data\\photos\\x\\q.jpg", "x/q.jpg"),
                           ("elsewhere/sub/c.jpg", "sub/c.jpg"), ("c.jpg", "sub/c.jpg")]:
        path.write_text(json.dumps({"images": [{"id": 1, "file_name": name, "caption": "it"}]}))
        import_coco(s, path)
        assert [e.text for e, _ in s.labels.annotations(s.images.by_path()[expected].id)][-1:] == ["it"], name
    path.write_text(json.dumps({"images": [{"id": 1, "file_name": "q.jpg", "caption": "it"}]}))
    with pytest.raises(ImportFileError, match=r"matches several project images \(x/q.jpg, z/q.jpg\)"):
        import_coco(s, path)
    s.close()


def test_missing_file_and_folder_errors(source, tmp_path):
    with pytest.raises(ImportFileError, match="file not found"):
        import_coco(source, tmp_path / "nope.json")
    with pytest.raises(ImportFileError, match="is a folder"):
        import_coco(source, tmp_path)


def test_cancel_writes_nothing(source, fresh, tmp_path):
    out = tmp_path / "g.json"
    export_project(source, "coco-grounding", out)
    before = _state(fresh)
    with pytest.raises(Cancelled):
        import_coco(fresh, out, cancelled=lambda: True)
    assert _state(fresh) == before


def test_store_failure_during_apply_rolls_back_everything(source, fresh, tmp_path, monkeypatch):
    """The apply step is one transaction: a failure on the last item leaves nothing of the others."""
    before = _state(fresh)
    img = fresh.images.by_path()["a.jpg"]
    with pytest.raises(StoreError):
        fresh.imports.merge_phrases([(img.id, "one", [Box(0, 0, (1, 1, 2, 2))], ()), (img.id, "two", [], ()),
                                     (10**6, "x", [], ())])
    assert _state(fresh) == before
