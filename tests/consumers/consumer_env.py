"""Python environments of their own for the consumers that cannot share the app's: supervision and
datumaro pull OpenCV builds and Pillow/NumPy pins that clash with the app's (opencv-python-headless
5, PySide6), as they would in a trainer's own environment; labelme brings its own Qt (PyQt5) and
onnxruntime, and Label Studio's converter pandas and nltk, each in an environment apart. Each is built once from PyPI into
``~/.cache/grounding-desktop-tests/`` (keyed by the pins below, so a pin change builds afresh),
then reused: after the first run a check costs a few seconds.

Ultralytics needs torch, a download of gigabytes: its environment borrows the app's (a ``.pth``
file puts the app environment's site-packages after its own, so its own OpenCV comes first and pip
installs only what the app lacks)."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

PINS = ("supervision==0.31.2", "datumaro==1.13.12")
LABELME_PINS = ("labelme==6.3.1",)  # Qt and onnxruntime of its own: an environment apart from the others
LABEL_STUDIO_PINS = ("label-studio-converter==0.0.59",)  # Label Studio's own reader of its JSON export
ULTRALYTICS_PINS = ("ultralytics==8.4.190", "opencv-python>=4.6,<5")
CACHE = Path(os.environ.get("GROUNDING_DESKTOP_TEST_CACHE", Path.home() / ".cache" / "grounding-desktop-tests"))
SCRIPT = Path(__file__).with_name("load_in_consumers.py")
BUILD_TIMEOUT_S = 900


def consumer_python(pins: tuple[str, ...] = PINS, name: str = "consumers", borrow_torch: bool = False) -> Path:
    """The environment's python, building it on first use; skips the test when it cannot be built
    (no access to the package index), saying why. ``borrow_torch``: see the module docstring."""
    key = hashlib.sha1(json.dumps([pins, sys.version_info[:2], *(["borrow torch"] if borrow_torch else [])]).encode()).hexdigest()[:12]
    home = CACHE / f"{name}-{key}"
    python = home / "bin" / "python"
    ready = home / ".ready"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run building the same environment: wait for it
        if not ready.exists():
            venv.EnvBuilder(clear=True, with_pip=True).create(home)
            if borrow_torch:
                own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                     capture_output=True, text=True, check=True).stdout.strip()
                Path(own, "app_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
            r = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
                               capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
            if r.returncode != 0:
                pytest.skip(f"cannot build the environment for {' '.join(pins)}: {r.stderr.strip()[-300:]}")
            ready.write_text(" ".join(pins))
    return python


def ultralytics_python() -> Path:
    return consumer_python(ULTRALYTICS_PINS, "ultralytics", borrow_torch=True)


def load_in_consumers(python: Path, *args: str, timeout: float = 300) -> dict:
    """Run ``load_in_consumers.py`` there; its JSON answer, or the test fails with its stderr."""
    r = subprocess.run([str(python), str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])
