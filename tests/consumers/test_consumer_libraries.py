"""Our exports loaded by the real consumer libraries that install from PyPI and need no network:
pycocotools (tests/unit), faster-coco-eval and globox here in the app's environment, supervision
and datumaro in an environment of their own (consumer_env.py)."""
import pytest
from consumer_env import consumer_python, load_in_consumers
from consumer_exports import export_everything

from exportkit import load


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export_everything(tmp_path_factory.mktemp("consumers"))


def _ours(annotation_file) -> dict[str, dict]:
    """file name -> size and sorted [x1, y1, x2, y2, category] boxes, from our own COCO file."""
    data = load(annotation_file)
    names = {c["id"]: c["name"] for c in data["categories"]}
    out = {im["file_name"]: {"size": [im["width"], im["height"]], "boxes": []} for im in data["images"]}
    files = {im["id"]: im["file_name"] for im in data["images"]}
    for a in data["annotations"]:
        x, y, w, h = a["bbox"]
        out[files[a["image_id"]]]["boxes"].append([round(x, 3), round(y, 3), round(x + w, 3), round(y + h, 3),
                                                   names[a["category_id"]]])
    for v in out.values():
        v["boxes"].sort()
    return out


@pytest.mark.parametrize("name", ["coco", "coco-label-map"])
def test_faster_coco_eval_gives_a_perfect_detector_ap_1(exported, name):
    """A detector that predicts exactly the ground truth scores AP 1.0: no duplicate ground truth
    (paraphrases of one object mapped to one category are one box)."""
    from faster_coco_eval import COCO, COCOeval_faster

    gt = COCO(str(exported[name] / "annotations" / "instances_default.json"))
    predictions = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
                   for a in gt.dataset["annotations"]]
    evaluation = COCOeval_faster(gt, gt.loadRes(predictions), "bbox", print_function=lambda *a: None)
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    assert evaluation.stats[0] == pytest.approx(1.0)


def test_globox_reads_our_coco_files_as_ground_truth(exported):
    """globox takes a top-level "score" on an annotation for a prediction: our fields live under
    "grounding_desktop", so every box is ground truth. COCO grounding repeats an image per phrase,
    which globox refuses: detection tools take --format coco (README)."""
    from globox import AnnotationSet

    for path in (exported["coco"] / "annotations" / "instances_default.json", exported["refcoco"] / "instances.json"):
        annotations = AnnotationSet.from_coco(path)
        boxes = [b for ann in annotations for b in ann.boxes]
        assert boxes and all(b.is_ground_truth for b in boxes)
        assert len(boxes) == len(load(path)["annotations"])
    with pytest.raises(AssertionError, match="already present"):
        AnnotationSet.from_coco(exported["coco-grounding"] / "annotations" / "grounding_default.json")


@pytest.fixture(scope="module")
def consumers():
    return consumer_python()


def test_supervision_loads_coco_and_refcoco_upright(exported, consumers):
    for images, annotations in [
        (exported["coco"] / "images" / "default", exported["coco"] / "annotations" / "instances_default.json"),
        (exported["refcoco"] / "images", exported["refcoco"] / "instances.json"),
    ]:
        seen = load_in_consumers(consumers, "supervision", str(images), str(annotations))
        assert seen["images"] == _ours(annotations)  # boxes, classes, and images decoded at the json's size
        assert seen["images"]["phone.jpg"]["size"] == [40, 60]  # the EXIF-rotated photo, upright
    grounding = exported["coco-grounding"]
    refused = load_in_consumers(consumers, "supervision", str(grounding / "images" / "default"),
                                str(grounding / "annotations" / "grounding_default.json"))
    assert "duplicate entries for image" in refused["refused"]  # one entry per phrase: use --format coco


def test_datumaro_detects_and_loads_the_with_images_layout(exported, consumers):
    seen = load_in_consumers(consumers, "datumaro", str(exported["coco"]))
    assert seen["detected"] == "coco_instances"
    ours = {name.rsplit(".", 1)[0]: v for name, v in _ours(exported["coco"] / "annotations" / "instances_default.json").items()}
    assert seen["subsets"] == {"default": ours}  # sizes too: phone.jpg is read upright
