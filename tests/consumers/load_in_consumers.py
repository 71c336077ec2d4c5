"""Runs inside the consumers' own environment (see consumer_env.py): loads an export with a real
consumer library and prints what it saw as one JSON line. Not a test module (no test_ prefix).

    python load_in_consumers.py supervision IMAGES_DIR ANNOTATIONS_JSON
    python load_in_consumers.py datumaro EXPORT_FOLDER
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


if __name__ == "__main__":
    tool, *rest = sys.argv[1:]
    print(json.dumps({"supervision": supervision, "datumaro": datumaro}[tool](*rest)))
