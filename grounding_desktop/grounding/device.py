"""Which torch device the grounding model runs on, and the fall-back to the CPU when CUDA fails.

``auto`` picks CUDA when a usable GPU is there, else Apple's MPS, else the CPU. An explicit
device is honoured; when it turns out unusable (no driver, out of memory) the model falls back
to the CPU and says so once through ``warnings`` and ``logging``, rather than failing the user's
work: a slower answer beats no answer in an annotation tool.
"""
from __future__ import annotations

import logging
import threading
import warnings
from typing import Optional

log = logging.getLogger(__name__)

_warned: set[str] = set()
_warned_lock = threading.Lock()


class DeviceFallbackWarning(RuntimeWarning):
    """Emitted once per reason when the grounding model moves to the CPU."""


def _torch():
    import torch

    return torch


def cuda_usable() -> bool:
    torch = _torch()
    try:
        return bool(torch.cuda.is_available()) and torch.cuda.device_count() > 0
    except Exception:  # a broken driver can raise instead of returning False
        return False


def mps_usable() -> bool:
    torch = _torch()
    backend = getattr(torch.backends, "mps", None)
    try:
        return bool(backend is not None and backend.is_available())
    except Exception:
        return False


def resolve_device(requested: Optional[str] = None) -> str:
    """'auto'/None -> the best available device; 'cuda', 'cuda:1', 'mps', 'cpu' as asked.

    Raises ValueError for a name torch does not know. A device that is known but absent
    (``cuda`` on a machine without a GPU) resolves to 'cpu' with a one-time warning.
    """
    name = (requested or "auto").strip().lower()
    if name == "auto":
        if cuda_usable():
            return "cuda"
        if mps_usable():
            return "mps"
        return "cpu"
    torch = _torch()
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(f"unknown device '{requested}': use auto, cpu, cuda, cuda:N or mps") from exc
    if dev.type == "cuda":
        if not cuda_usable():
            warn_fallback(f"CUDA was requested but is not available ({cuda_reason()})")
            return "cpu"
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            warn_fallback(f"{name} was requested but only {torch.cuda.device_count()} GPU(s) exist")
            return "cpu"
        return str(dev)
    if dev.type == "mps":
        if not mps_usable():
            warn_fallback("MPS was requested but is not available")
            return "cpu"
        return "mps"
    if dev.type == "cpu":
        return "cpu"
    raise ValueError(f"unsupported device '{requested}': use auto, cpu, cuda, cuda:N or mps")


def cuda_reason() -> str:
    """Why CUDA is not usable, in words (for ``doctor`` and the fall-back warning)."""
    torch = _torch()
    if torch.version.cuda is None:
        return "this torch build has no CUDA support"
    try:
        if torch.cuda.device_count() == 0:
            return "no NVIDIA GPU or driver found"
    except Exception as exc:
        return f"CUDA driver error: {exc}"
    return "CUDA is available"


def is_device_failure(exc: BaseException) -> bool:
    """True for errors that mean 'this accelerator cannot run the model' (not a bug of ours)."""
    torch = _torch()
    oom = getattr(torch.cuda, "OutOfMemoryError", ())
    if oom and isinstance(exc, oom):
        return True
    if isinstance(exc, (RuntimeError, AssertionError, NotImplementedError)):
        text = str(exc).lower()
        return any(k in text for k in ("cuda", "cudnn", "cublas", "out of memory", "mps",
                                       "driver", "device-side", "not compiled with"))
    return False


def warn_fallback(reason: str) -> None:
    """Say once per reason that the model runs on the CPU instead."""
    with _warned_lock:
        if reason in _warned:
            return
        _warned.add(reason)
    message = f"{reason}; the grounding model runs on the CPU instead"
    # One user-facing channel (warnings: the CLI prints it as one line, the GUI can catch it);
    # the log keeps a record for applications that configure logging.
    log.info(message)
    warnings.warn(message, DeviceFallbackWarning, stacklevel=3)
