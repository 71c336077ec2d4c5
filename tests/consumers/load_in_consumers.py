"""Runs inside the consumers' own environment (see consumer_env.py): loads an export with a real
consumer library and prints what it saw as one JSON line. Not a test module (no test_ prefix).

    python load_in_consumers.py supervision IMAGES_DIR ANNOTATIONS_JSON
    python load_in_consumers.py datumaro EXPORT_FOLDER
    python load_in_consumers.py supervision_rewrite YOLO_EXPORT OUT   (as_yolo and as_pascal_voc of it)
    python load_in_consumers.py ultralytics DATA_YAML                 (in the ultralytics environment)
"""
import json
import logging
import sys
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)


def supervision(images_dir: str, annotations: str) -> dict:
    import supervision as sv

    try:
        ds = sv.DetectionDataset.from_coco(images_directory_path=images_dir, annotations_path=annotations)
    except ValueError as exc:
        return {"refused": str(exc)}
    images = {}
    for path, image, det in ds:
        images[path.replace("\\", "/").split(images_dir.rstrip("/") + "/", 1)[-1]] = {
            "size": [int(image.shape[1]), int(image.shape[0])],
            "boxes": sorted([round(float(v), 3) for v in xyxy] + [ds.classes[int(c)]]
                            for xyxy, c in zip(det.xyxy, det.class_id)),
        }
    return {"classes": list(ds.classes), "images": images}


def datumaro(folder: str) -> dict:
    import datumaro as dm

    detected = dm.Dataset.detect(folder)
    ds = dm.Dataset.import_from(folder, "coco_instances")
    labels = ds.categories()[dm.AnnotationType.label]
    subsets = {}
    for item in ds:
        boxes = sorted([round(b.x, 3), round(b.y, 3), round(b.x + b.w, 3), round(b.y + b.h, 3), labels[b.label].name]
                       for b in item.annotations if b.type == dm.AnnotationType.bbox)
        size = list(item.media.size[::-1]) if item.media is not None and item.media.has_data else None
        subsets.setdefault(item.subset, {})[item.id] = {"boxes": boxes, "size": size}
    return {"detected": detected, "subsets": subsets}


def supervision_rewrite(yolo_export: str, out: str) -> dict:
    """Read our YOLO export with supervision and write it back with its own writers: ``OUT/yolo``
    (``as_yolo``) and ``OUT/voc`` (``as_pascal_voc``), for our importers to read."""
    import supervision as sv

    ds = sv.DetectionDataset.from_yolo(images_directory_path=f"{yolo_export}/images/train",
                                       annotations_directory_path=f"{yolo_export}/labels/train",
                                       data_yaml_path=f"{yolo_export}/data.yaml")
    ds.as_yolo(images_directory_path=f"{out}/yolo/images", annotations_directory_path=f"{out}/yolo/labels",
               data_yaml_path=f"{out}/yolo/data.yaml")
    ds.as_pascal_voc(images_directory_path=f"{out}/voc/JPEGImages", annotations_directory_path=f"{out}/voc/Annotations")
    return {"classes": list(ds.classes), "images": len(ds)}


def ultralytics(data_yaml: str) -> dict:
    """``check_det_dataset`` of the YAML, and the labels a ``YOLODataset`` over each split reads:
    image path under the split -> [height, width] and sorted [class, cx, cy, w, h] rows."""
    from pathlib import Path

    from ultralytics.data.dataset import YOLODataset
    from ultralytics.data.utils import check_det_dataset

    data = check_det_dataset(data_yaml)
    splits = {}
    for split in ("train", "val", "test"):
        if not data.get(split):
            continue
        ds = YOLODataset(img_path=data[split], data=data, task="detect", augment=False, imgsz=64)
        splits[split] = {
            Path(lb["im_file"]).relative_to(data[split]).as_posix(): {
                "shape": [int(v) for v in lb["shape"]],
                "rows": sorted([int(c), *(round(float(v), 6) for v in box)] for c, box in zip(lb["cls"].flatten(), lb["bboxes"])),
            } for lb in ds.labels}
    return {"names": {int(k): v for k, v in data["names"].items()}, "nc": data["nc"], "splits": splits}


if __name__ == "__main__":
    tool, *rest = sys.argv[1:]
    tools = {"supervision": supervision, "datumaro": datumaro, "supervision_rewrite": supervision_rewrite,
             "ultralytics": ultralytics}
    print(json.dumps(tools[tool](*rest)))
