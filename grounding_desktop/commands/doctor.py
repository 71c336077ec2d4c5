"""``grounding-desktop doctor``: is the grounding model usable here, on which device, how fast?

Prints torch / CUDA / MPS facts, the device the model would use and why, whether the window can
open here (the xcb libraries Qt needs, and the apt-get line for those missing), where every weight
comes from (installed packages, converted cache), and one timed inference on a 640x480 image.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings

from . import CliError, add_detector_arguments, detector_choice
from .display import window_facts


def add_parser(sub) -> None:
    p = sub.add_parser("doctor", help="check torch/CUDA, the model weights, and time one inference")
    p.add_argument("--device", default="auto", help="device to check (default auto)")
    add_detector_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _test_image():
    """A 640x480 photo: a bundled sample if the checkout has one, else a drawn scene."""
    from PIL import Image, ImageDraw

    from ..core.paths import SAMPLE_PHOTOS_DIR

    sample = SAMPLE_PHOTOS_DIR / "coffee.jpg"
    if sample.is_file():
        with Image.open(sample) as im:
            return im.convert("RGB").resize((640, 480), Image.Resampling.BILINEAR), sample.name
    img = Image.new("RGB", (640, 480), (120, 170, 220))
    draw = ImageDraw.Draw(img)
    draw.ellipse([80, 200, 260, 400], fill=(200, 40, 40))
    draw.rectangle([350, 120, 560, 380], fill=(240, 230, 90))
    return img, "synthetic 640x480"


def _facts(device_arg: str) -> dict:
    t = time.perf_counter()
    import torch

    import_torch_s = time.perf_counter() - t

    from ..grounding import device as dev

    facts: dict = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torch_cuda_build": torch.version.cuda,
        "cuda_available": dev.cuda_usable(),
        "cuda_reason": dev.cuda_reason(),
        "mps_available": dev.mps_usable(),
        "cpu_threads": torch.get_num_threads(),
        "import_torch_s": round(import_torch_s, 3),
    }
    if facts["cuda_available"]:
        facts["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    try:
        import cv2

        facts["opencv"] = cv2.__version__
    except ImportError:
        facts["opencv"] = None
    from ..grounding.detectors.backends import BACKENDS

    facts["backend_problems"] = {b.name: problem for b in BACKENDS if (problem := b.problem())}
    try:
        import onnxruntime

        from ..grounding.detectors.onnx_runtime import CUDA_PROVIDER

        facts["onnxruntime"] = onnxruntime.__version__
        facts["onnxruntime_providers"] = onnxruntime.get_available_providers()
        facts["onnxruntime_cuda"] = CUDA_PROVIDER in facts["onnxruntime_providers"]
    except ImportError:
        facts["onnxruntime"] = None
    return facts


def run(args: argparse.Namespace) -> int:
    from ..grounding.device import DeviceFallbackWarning

    choice = detector_choice(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeviceFallbackWarning)
        report = _diagnose(args.device, choice)
    report["warnings"] = sorted({str(w.message) for w in caught
                                 if issubclass(w.category, DeviceFallbackWarning)})
    report["window"] = window_facts()
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0 if report.get("ok") else 1
    _print(report)
    return 0 if report.get("ok") else 1


def _diagnose(device_arg: str, choice) -> dict:
    report: dict = {"ok": False}
    try:
        report["facts"] = _facts(device_arg)
    except ImportError as exc:
        raise CliError(f"torch is not installed ({exc}); install with: pip install torch") from exc

    from ..grounding.device import resolve_device
    from ..grounding.text.encoder import EncoderNotFoundError, model_path
    from ..grounder_factory import make_grounder
    from ..grounding.detectors.onnx_runtime import ModelFileError
    from ..grounding.detectors.ssd_weights import SSDWeightsNotFoundError, cache_dir, find_graph_files

    try:
        report["device"] = resolve_device(device_arg)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    weights: dict = {"cache_dir": str(cache_dir())}
    if choice.bundled:
        try:
            files = find_graph_files()
            weights["detector_graph"] = str(files.pb)
            weights["detector_pbtxt"] = str(files.pbtxt)
        except SSDWeightsNotFoundError as exc:
            report["error"] = str(exc)
    try:
        weights["phrase_encoder"] = str(model_path())
    except EncoderNotFoundError as exc:
        report["error"] = str(exc)
    report["weights"] = weights
    if "error" in report:
        return report

    image, image_name = _test_image()
    # The load of each part, in the order the app's model process loads them.
    timings: dict = {"image": image_name, "import_torch_s": report["facts"]["import_torch_s"]}
    t = time.perf_counter()
    g = make_grounder(device_arg, cache_size=2, detector=choice)
    timings["import_model_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    try:
        g.load_detector()
    except ModelFileError as exc:  # the user's file: bad input, like a missing image for ground
        raise CliError(str(exc)) from exc
    timings["load_detector_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    g.load_scorer()
    timings["load_class_words_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    g.load()  # the phrase encoder's network (the rest is loaded)
    timings["load_encoder_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    g.load_recognizer()
    timings["load_second_cnn_s"] = round(time.perf_counter() - t, 3)
    weights["detector_converted" if choice.bundled else "detector_file"] = g.detector_weights_path
    # One inference to warm up (first CUDA call compiles kernels), then one timed.
    g.prepare(image, key="warm-up")
    t = time.perf_counter()
    key = g.prepare(image.transpose(0), key="timed")  # a new image: no cache hit
    timings["prepare_ms"] = round(1000 * (time.perf_counter() - t), 1)
    t = time.perf_counter()
    props = g.propose(key, "the cup on the left", top_k=3)
    timings["propose_ms"] = round(1000 * (time.perf_counter() - t), 1)
    report.update({
        "device": g.device, "runtime": g.runtime, "detector": choice.describe(),
        "model": g.model_version, "timings": timings,
        "sample_result": [{"bbox": list(p.bbox), "score": p.score, "label": p.label}
                          for p in props],
        "ok": True,
    })
    return report


def _print(report: dict) -> None:
    facts = report.get("facts", {})
    print(f"python        {facts.get('python')}  ({facts.get('platform')})")
    print(f"torch         {facts.get('torch')}  (CUDA build: {facts.get('torch_cuda_build')})")
    cuda = "yes " + ", ".join(facts.get("gpus", [])) if facts.get("cuda_available") else \
        f"no ({facts.get('cuda_reason')})"
    print(f"CUDA          {cuda}")
    print(f"MPS           {'yes' if facts.get('mps_available') else 'no'}")
    print(f"CPU threads   {facts.get('cpu_threads')}")
    print(f"OpenCV        {facts.get('opencv')}")
    for problem in facts.get("backend_problems", {}).values():
        print(f"warning       {problem}")
    if facts.get("onnxruntime"):
        cuda_ep = "CUDA provider: yes" if facts.get("onnxruntime_cuda") else "CUDA provider: no (CPU only)"
        print(f"onnxruntime   {facts['onnxruntime']}  ({cuda_ep})")
    else:
        print("onnxruntime   not installed")
    print(f"device        {report.get('device')}")
    window = report.get("window", {})
    can_open = f"can open ({window.get('platform') or 'default platform'})"
    print(f"window        {window.get('problem') or can_open}")
    for w in report.get("warnings", []):
        print(f"warning       {w}")
    for name, path in report.get("weights", {}).items():
        print(f"{name:<13} {path}")
    if "error" in report:
        print(f"ERROR         {report['error']}", file=sys.stderr)
        return
    t = report["timings"]
    print(f"detector      {report['detector']}")
    print(f"runs on       {report['runtime']}")
    print(f"model         {report['model']}")
    print(f"load          torch {t['import_torch_s']:.2f} s, model code {t['import_model_s']:.2f} s, "
          f"detector {t['load_detector_s']:.2f} s, class words {t['load_class_words_s']:.2f} s, "
          f"phrase encoder {t['load_encoder_s']:.2f} s, second CNN {t['load_second_cnn_s']:.2f} s")
    print(f"inference     prepare {t['prepare_ms']:.1f} ms, propose {t['propose_ms']:.1f} ms "
          f"({t['image']})")
    print("status        OK")
