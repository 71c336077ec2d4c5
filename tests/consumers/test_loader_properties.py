"""What the trainers whose code cannot run here (it needs CUDA builds, model downloads or Python 2)
rely on in our files, each test citing the loader it was read from. Images are opened as those
loaders open them: ``PIL.Image.open(...).convert("RGB")``, no EXIF handling."""
import pickle
import random

import pytest
from consumer_exports import export_everything
from PIL import Image

from exportkit import load
from grounding_desktop.io import odvg


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export_everything(tmp_path_factory.mktemp("loaders"))


def _pil_size(path) -> tuple[int, int]:
    with Image.open(path) as img:
        return img.convert("RGB").size


def test_open_groundingdino_odvg_dataset(exported):
    """IDEA-Research/Open-GroundingDino ``datasets/odvg.py`` ``ODVGDataset.__getitem__``: VG mode
    shuffles ``zip(boxes, phrases)`` and unpacks it (``boxes[:], caption_list[:] = zip(*c)``: an
    empty ``regions`` raises "not enough values to unpack"); OD mode looks every instance's
    ``str(label)`` up in the label map and builds the caption from the map's values."""
    folder = exported["odvg"]
    for rec in odvg.read_records(folder / "annotations" / "odvg_default.jsonl"):
        regions = rec["grounding"]["regions"]
        boxes, caption_list = [r["bbox"] for r in regions], [r["phrase"] for r in regions]
        c = list(zip(boxes, caption_list))
        random.shuffle(c)
        boxes[:], caption_list[:] = zip(*c)
        w, h = _pil_size(folder / "images" / "default" / rec["filename"])
        assert (w, h) == (rec["width"], rec["height"])
        assert all(0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h for x1, y1, x2, y2 in boxes)
    det = exported["odvg-detection"]
    label_map = load(det / "annotations" / "odvg_label_map.json")
    for rec in odvg.read_records(det / "annotations" / "odvg_default.jsonl"):
        for obj in rec["detection"]["instances"]:
            assert label_map[str(obj["label"])] == obj["category"]


def test_mm_grounding_dino_odvg_dataset(exported):
    """open-mmlab/mmdetection ``mmdet/datasets/odvg.py`` ``ODVGDataset.load_data_list``: a box is
    dropped when its intersection with (``width``, ``height``) is empty or a side is under 1 px;
    ``tokens_positive`` of a region are character spans of the caption the text encoder reads."""
    for rec in odvg.read_records(exported["odvg"] / "annotations" / "odvg_default.jsonl"):
        caption = rec["grounding"]["caption"]
        for region in rec["grounding"]["regions"]:
            x1, y1, x2, y2 = region["bbox"]
            inter_w = max(0, min(x2, rec["width"]) - max(x1, 0))
            inter_h = max(0, min(y2, rec["height"]) - max(y1, 0))
            assert inter_w * inter_h > 0 and x2 - x1 >= 1 and y2 - y1 >= 1
            assert [caption[s:e] for s, e in region["tokens_positive"]] == [region["phrase"]]


def _clip_to_image_keeps(boxes_xyxy, size) -> int:
    """maskrcnn_benchmark ``BoxList.clip_to_image(remove_empty=True)`` as GLIP runs it (TO_REMOVE = 1)."""
    w, h = size
    kept = 0
    for x1, y1, x2, y2 in boxes_xyxy:
        x1, x2 = min(max(x1, 0), w - 1), min(max(x2, 0), w - 1)
        y1, y2 = min(max(y1, 0), h - 1), min(max(y2, 0), h - 1)
        kept += x2 > x1 and y2 > y1
    return kept


def test_mdetr_and_glip_modulated_and_mixed_datasets(exported):
    """ashkamath/mdetr ``datasets/coco.py`` (ModulatedDetection, ConvertCocoPolysToMask) and
    ``datasets/mixed.py`` (MixedDetection); microsoft/GLIP ``maskrcnn_benchmark/data/datasets/
    modulated_coco.py`` (ModulatedDataset) and ``mixed.py`` (MixedDataset): every entry has a
    ``caption``; the image root is ``root_coco if data_source == "coco"``; each annotation has
    ``tokens_positive``; GLIP asserts that clipping to the PIL image size removes no box."""
    folder = exported["coco-grounding"]
    data = load(folder / "annotations" / "grounding_default.json")
    anns: dict[int, list] = {}
    for a in data["annotations"]:
        anns.setdefault(a["image_id"], []).append(a)
    for im in data["images"]:
        assert isinstance(im["caption"], str) and im["data_source"] == "coco"
        size = _pil_size(folder / "images" / "default" / im["file_name"])
        assert size == (im["width"], im["height"])
        boxes = [(x, y, x + w, y + h) for x, y, w, h in (a["bbox"] for a in anns.get(im["id"], []))]
        assert _clip_to_image_keeps(boxes, size) == len(boxes)
        for a in anns.get(im["id"], []):
            assert a["iscrowd"] == 0 and [im["caption"][s:e] for s, e in a["tokens_positive"]]


def test_mdetr_refexp_evaluator(exported):
    """ashkamath/mdetr ``datasets/refexp.py`` ``RefExpEvaluator.summarize``: scores by
    ``img_info["dataset_name"]`` in refcoco/refcoco+/refcocog and asserts one annotation per entry."""
    data = load(exported["refexp"] / "annotations" / "grounding_default.json")
    per_image = {im["id"]: 0 for im in data["images"]}
    for a in data["annotations"]:
        per_image[a["image_id"]] += 1
    assert data["images"] and set(per_image.values()) == {1}
    assert {im["dataset_name"] for im in data["images"]} == {"refcoco"}


def test_refer_api_and_mdetr_refexp_converter(exported):
    """lichengunc/refer ``refer.py``: ``REFER(data_root, 'refcoco', 'unc')`` unpickles
    ``refcoco/refs(unc).p`` (Python 2 cPickle), indexes ``Anns[ref['ann_id']]`` and
    ``Cats[ref['category_id']]``; ``getMask`` decodes ``segmentation`` when ``type(seg[0]) == list``.
    ashkamath/mdetr ``scripts/fine-tuning/refexp_coco_format.py`` finds a ref's image as
    ``"_".join(file_name.split("_")[:-1]) + ".jpg"``."""
    from pycocotools import mask

    folder = exported["refcoco"]
    raw = (folder / "refs(unc).p").read_bytes()
    assert raw[:2] == b"\x80\x02"
    refs = pickle.loads(raw)
    instances = load(folder / "instances.json")
    anns = {a["id"]: a for a in instances["annotations"]}
    cats = {c["id"]: c["name"] for c in instances["categories"]}
    images = {im["id"]: im for im in instances["images"]}
    assert refs
    for ref in refs:
        ann, image = anns[ref["ann_id"]], images[ref["image_id"]]
        assert ref["category_id"] in cats and ref["split"] in ("train", "val", "test")
        assert type(ann["segmentation"][0]) is list
        area = mask.area(mask.frPyObjects(ann["segmentation"], image["height"], image["width"])).sum()
        assert area == pytest.approx(ann["area"], rel=0.25, abs=4)
        if image["file_name"].endswith(".jpg"):
            assert "_".join(ref["file_name"].split("_")[:-1]) + ".jpg" == image["file_name"]
