"""Import of every format the tool writes (ODVG, RefCOCO) and of grounding files from elsewhere
(MDETR referring expressions, files written before our fields moved under "grounding_desktop")."""
import json
import pickle

import pytest

from exportkit import load

from grounding_desktop.core import BoxState
from grounding_desktop.io.coco_import import import_coco
from grounding_desktop.io.errors import ImportFileError
from grounding_desktop.io.export import ExportOptions, export_project
from grounding_desktop.io.odvg_import import import_odvg
from grounding_desktop.io.refcoco_import import import_refcoco
from grounding_desktop.project import open_project


@pytest.mark.parametrize("options", [ExportOptions(), ExportOptions(label_map={"the horses": "horse", "red ball": "ball"})],
                         ids=["grounding", "detection"])
def test_odvg_import_round_trips_our_export_exactly(source, fresh, tmp_path, options):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    export_project(source, "odvg", first, options)
    summary = import_odvg(fresh, first)
    assert summary.applied and summary.phrases_added > 0
    if options.label_map:  # detection records: phrases are the categories; map them to themselves
        options = ExportOptions(label_map={"horse": "horse", "ball": "ball"})
    export_project(fresh, "odvg", second, options)
    assert second.read_bytes() == first.read_bytes()
    if not options.label_map:  # the no-target "the cat" came back from the caption
        a = {e.text: bs for e, bs in fresh.labels.annotations(fresh.images.by_path()["a.jpg"].id)}
        assert a["the cat"] == [] and len(a["the horses"]) == 2


def _refcoco_view(folder):
    instances = load(folder / "instances.json")
    files = {im["id"]: im["file_name"] for im in instances["images"]}
    boxes = {a["id"]: tuple(a["bbox"]) for a in instances["annotations"]}
    return sorted((files[r["image_id"]], boxes[r["ann_id"]], r["split"], tuple(s["raw"] for s in r["sentences"]))
                  for r in load(folder / "refs.json"))


@pytest.mark.parametrize("refs_file", ["refs.json", "refs(unc).p"])
def test_refcoco_import_round_trips_our_export(source, fresh, tmp_path, refs_file):
    export_project(source, "refcoco", tmp_path / "first", ExportOptions(include_rejected=True))
    if refs_file != "refs.json":
        (tmp_path / "first" / "refs.json").unlink()  # only the pickle left, as the refer API ships it
    summary = import_refcoco(fresh, tmp_path / "first")
    assert summary.flavour == "refcoco" and summary.boxes_added == 4  # d.jpg: one box, two phrases
    export_project(fresh, "refcoco", tmp_path / "second", ExportOptions(include_rejected=True))
    if refs_file != "refs.json":
        export_project(source, "refcoco", tmp_path / "first", ExportOptions(include_rejected=True))
    assert _refcoco_view(tmp_path / "second") == _refcoco_view(tmp_path / "first")
    blue = {e.text: bs for e, bs in fresh.labels.annotations(fresh.images.by_path()["b.png"].id)}["blue ball"]
    assert [b.state for b in blue] == [BoxState.REJECTED]  # our own fields came back


def test_a_refs_pickle_that_would_run_code_is_refused(fresh, tmp_path):
    folder = tmp_path / "evil"
    folder.mkdir()

    class Boom:
        def __reduce__(self):
            return (print, ("pwned",))

    (folder / "refs(unc).p").write_bytes(pickle.dumps([Boom()], protocol=2))
    (folder / "instances.json").write_text(json.dumps({"images": [], "annotations": []}))
    with pytest.raises(ImportFileError, match="not a readable refs pickle"):
        import_refcoco(fresh, folder)


def _mdetr_refexp(path, captions_and_heads, file_name="b.png"):
    """MDETR's finetune_refcoco_*.json: the caption is the whole expression, tokens_positive marks
    only its head noun (scripts/fine-tuning/refexp_coco_format.py, get_root_and_nouns)."""
    images, annotations = [], []
    for i, (caption, head, bbox) in enumerate(captions_and_heads):
        start = caption.index(head)
        images.append({"id": i, "file_name": file_name, "height": 60, "width": 80, "caption": caption,
                       "dataset_name": "refcoco", "original_id": 7, "tokens_negative": []})
        annotations.append({"id": i, "image_id": i, "bbox": bbox, "area": bbox[2] * bbox[3], "iscrowd": 0,
                            "category_id": 1, "tokens_positive": [[start, start + len(head)]]})
    path.write_text(json.dumps({"images": images, "annotations": annotations,
                                "categories": [{"id": 1, "name": "object"}]}))
    return path


def test_mdetr_head_noun_file_keeps_the_whole_expression(fresh, tmp_path):
    f = _mdetr_refexp(tmp_path / "finetune_refcoco_train.json", [
        ("the red bicycle", "bicycle", [1, 1, 10, 10]),
        ("bicycle on the left", "bicycle", [20, 5, 10, 10]),
    ])
    import_coco(fresh, f)
    stored = [(e.text, e.spans) for e, _ in fresh.labels.annotations(fresh.images.by_path()["b.png"].id)]
    assert stored == [("the red bicycle", ((8, 15),)), ("bicycle on the left", ((0, 7),))]
    export_project(fresh, "coco-grounding", tmp_path / "back.json")
    back = load(tmp_path / "back.json")
    caption_of = {im["id"]: im["caption"] for im in back["images"]}
    assert sorted((caption_of[a["image_id"]], a["tokens_positive"]) for a in back["annotations"]) == \
        [("bicycle on the left", [[0, 7]]), ("the red bicycle", [[8, 15]])]  # the file's own spans


def test_head_noun_spans_survive_an_odvg_round_trip(fresh, tmp_path):
    """Spans travel through ODVG too (offset into the joined caption) and come back as they were."""
    import_coco(fresh, _mdetr_refexp(tmp_path / "refexp.json", [("the red bicycle", "bicycle", [1, 1, 10, 10])]))
    export_project(fresh, "odvg", tmp_path / "a.jsonl")
    (region,) = [r for line in (tmp_path / "a.jsonl").read_text().splitlines()
                 for r in json.loads(line)["grounding"]["regions"]]
    caption = next(json.loads(line)["grounding"]["caption"] for line in (tmp_path / "a.jsonl").read_text().splitlines())
    (start, end), = region["tokens_positive"]
    assert caption[start:end] == "bicycle"
    other, _ = open_project(tmp_path / "photos", tmp_path / "other.sqlite")
    with other:
        import_odvg(other, tmp_path / "a.jsonl")
        (expr, _), = [(e, bs) for e, bs in other.labels.annotations(other.images.by_path()["b.png"].id)]
        assert (expr.text, expr.spans) == ("the red bicycle", ((8, 15),))


def test_renaming_a_phrase_drops_its_spans_and_undo_brings_them_back(fresh, tmp_path):
    from grounding_desktop.editing.edits import RenamePhrase

    import_coco(fresh, _mdetr_refexp(tmp_path / "refexp.json", [("the red bicycle", "bicycle", [1, 1, 10, 10])]))
    image = fresh.images.by_path()["b.png"]
    (expr, _), = fresh.labels.annotations(image.id)
    rename = RenamePhrase(image, expr, "the bike")
    rename.do(fresh)
    assert fresh.labels.expression(expr.id).spans == ()
    rename.undo(fresh)
    assert (fresh.labels.expression(expr.id).text, fresh.labels.expression(expr.id).spans) == ("the red bicycle", ((8, 15),))


def test_files_written_before_the_grounding_desktop_key_still_import(fresh, tmp_path):
    f = tmp_path / "old.json"
    f.write_text(json.dumps({
        "images": [{"id": 5, "file_name": "b.png", "caption": "red ball", "image_state": "reviewed"}],
        "annotations": [{"id": 1, "image_id": 5, "bbox": [1, 1, 5, 5], "category_id": 1, "state": "rejected",
                         "source": "model", "score": 0.25, "model_version": "m0"}],
        "categories": [{"id": 1, "name": "object"}]}))
    import_coco(fresh, f)
    (expr, (box,)), = fresh.labels.annotations(fresh.images.by_path()["b.png"].id)
    assert (box.state, box.source.value, box.score, box.model_version) == (BoxState.REJECTED, "model", 0.25, "m0")
    assert fresh.images.by_path()["b.png"].state.value == "reviewed"
