"""Tiny ONNX detectors built with ``onnx.helper`` for the tests: each outputs known predictions
(a constant, plus zero times the input's mean so the graph really reads the image)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np


def _save(path: Path, outputs: dict[str, np.ndarray], input_shape=(1, 3, 320, 320),
          metadata: Optional[dict[str, str]] = None, input_type=None) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    elem = input_type if input_type is not None else TensorProto.FLOAT
    nodes = [helper.make_node("Cast", ["images"], ["as_float"], to=TensorProto.FLOAT),
             helper.make_node("ReduceMean", ["as_float"], ["mean"], keepdims=0),
             helper.make_node("Mul", ["mean", "zero"], ["nothing"])]
    inits = [numpy_helper.from_array(np.zeros((), np.float32), "zero")]
    outs = []
    for name, value in outputs.items():
        value = np.asarray(value)
        inits.append(numpy_helper.from_array(value, f"{name}_value"))
        if value.dtype == np.float32:
            nodes.append(helper.make_node("Add", [f"{name}_value", "nothing"], [name]))
        else:
            nodes.append(helper.make_node("Identity", [f"{name}_value"], [name]))
        outs.append(helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(value.dtype), list(value.shape)))
    graph = helper.make_graph(nodes, "test_detector",
                              [helper.make_tensor_value_info("images", elem, list(input_shape))],
                              outs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def yolo_predictions(layout: str, box_cxcywh, class_id: int, num_classes: int, n: int = 16,
                     score: float = 0.9, also=()) -> np.ndarray:
    """One confident box among ``n`` candidates, the rest scoring nothing but the ``also`` ones
    ((cxcywh, class id, score) each)."""
    cols = (4 if layout == "yolov8" else 5) + num_classes
    pred = np.zeros((n, cols), np.float32)
    pred[:, :4] = [10, 10, 4, 4]
    first_class = 4 if layout == "yolov8" else 5
    for row, (box, cid, s) in enumerate([(box_cxcywh, class_id, score), *also]):
        pred[row, :4] = box
        if layout == "yolov5":
            pred[row, 4] = 1.0  # objectness
        pred[row, first_class + cid] = s
    return (pred.T if layout == "yolov8" else pred)[None]


def yolo_model(path: Path, layout: str, box_cxcywh, class_id: int, names: list[str],
               input_hw=(320, 320), names_in_metadata: bool = True, also=()) -> Path:
    meta = {"names": str(dict(enumerate(names))), "stride": "32"} if names_in_metadata else None
    return _save(path, {"output0": yolo_predictions(layout, box_cxcywh, class_id, len(names),
                                                    also=also)},
                 (1, 3, *input_hw), meta)


def triple_model(path: Path, boxes, scores, labels, names: list[str], input_hw=(320, 320)) -> Path:
    return _save(path, {"boxes": np.asarray(boxes, np.float32)[None],
                        "scores": np.asarray(scores, np.float32)[None],
                        "labels": np.asarray(labels, np.int64)[None]},
                 (1, 3, *input_hw), {"names": str(names)})


def odd_model(path: Path, names: list[str]) -> Path:
    """Outputs that match no detector layout: [1, 7, 9] for a 2-class model."""
    return _save(path, {"output0": np.zeros((1, 7, 9), np.float32)}, (1, 3, 64, 64),
                 {"names": str(dict(enumerate(names)))})


def raw_yolo_model(path: Path, output: np.ndarray, names: list[str], input_shape=(1, 3, 320, 320)) -> Path:
    """A YOLOv8-shaped model whose output is ``output`` as given (NaN, inf, no candidates...)."""
    return _save(path, {"output0": np.asarray(output, np.float32)}, input_shape, {"names": str(dict(enumerate(names)))})
