"""onnxruntime sessions for the detectors that run from ONNX files: provider choice and clear errors.

CUDA's execution provider is used when this onnxruntime build has it and the device asked for
is ``auto`` or ``cuda``; otherwise the CPU's. Whatever the session ends up on is what
``session_device``/``provider_label`` report (``doctor`` and the app's status bar say it).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"


class ModelFileError(ValueError):
    """A model file that cannot be used: missing, unreadable, or with outputs no layout matches.
    The message is one line for the user and names the file."""


def available_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def providers_for(device: Optional[str]) -> list[str]:
    """Execution providers to try, best first, for a device request (auto, cpu, cuda, cuda:N, mps)."""
    name = (device or "auto").strip().lower()
    if name in ("auto", "cuda") or name.startswith("cuda:"):
        if CUDA_PROVIDER in available_providers():
            return [CUDA_PROVIDER, CPU_PROVIDER]
    return [CPU_PROVIDER]


def open_session(path: str | os.PathLike, device: Optional[str] = None, threads: Optional[int] = None):
    """An ``onnxruntime.InferenceSession`` on ``path`` (``threads``: its intra-op threads, by default
    onnxruntime's choice); ``ModelFileError`` when it cannot be read."""
    import onnxruntime as ort

    p = Path(path)
    if not p.is_file():
        raise ModelFileError(f"{p}: no such model file" if not p.exists() else f"{p}: not a file")
    options = ort.SessionOptions()
    # Like torch's OMP_WAIT_POLICY=PASSIVE (grounding/__init__.py): workers that spin while they
    # wait starve the GUI thread and each other on a 2-core machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: the user sees our one line, not ORT's log
    if threads is not None:
        options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(str(p), options, providers=providers_for(device))
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
        raise ModelFileError(f"{p}: not a readable ONNX model ({_reason(exc)})") from exc


def run_session(session, feeds: dict, path: str | os.PathLike) -> list:
    """``session.run`` on all outputs; a model that fails on its input is a ``ModelFileError``."""
    try:
        return session.run(None, feeds)
    except Exception as exc:  # onnxruntime's own error types
        raise ModelFileError(f"{path}: the model failed to run ({_reason(exc)})") from exc


def _reason(exc: BaseException) -> str:
    """onnxruntime's message on one line, shortened."""
    text = " ".join(str(exc).split())
    return (text or type(exc).__name__)[:240]


def session_device(session) -> str:
    """'cuda' when the session runs on CUDA's provider, else 'cpu'."""
    return "cuda" if session.get_providers()[0] == CUDA_PROVIDER else "cpu"


def provider_label(session) -> str:
    """What runs the network, for people: 'onnxruntime 1.x CPU' or '... CUDA'."""
    import onnxruntime as ort

    return f"onnxruntime {ort.__version__} {session.get_providers()[0].removesuffix('ExecutionProvider')}"


def metadata(session) -> dict[str, str]:
    """The model's ``metadata_props`` (Ultralytics writes ``names``, ``imgsz``, ``stride`` there)."""
    return dict(session.get_modelmeta().custom_metadata_map)
