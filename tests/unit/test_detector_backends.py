"""The detector backends, declared once (``grounding.detectors.backends.BACKENDS``): the CLI, the
Model dialog's setting, ``doctor`` and the README read the same declarations."""
import subprocess
import sys
from pathlib import Path

import pytest

from grounding_desktop.core.detector_choice import DetectorChoice, DetectorChoiceError
from grounding_desktop.grounding.detectors import backends

REPO = Path(__file__).resolve().parents[2]


def test_readme_lists_the_declared_backends():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert backends.markdown_table() in readme, \
        "paste `python -m grounding_desktop.grounding.detectors.backends` into the README"


def test_the_registry_imports_no_model_library():
    """The Model dialog reads the registry in the app's own process: it must not load torch,
    OpenCV or onnxruntime there."""
    code = ("import sys, grounding_desktop.grounding.detectors.backends; "
            "print(sorted(m for m in ('torch', 'cv2', 'onnxruntime') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_the_cli_offers_exactly_the_declared_backends(capsys):
    from grounding_desktop.cli import main

    with pytest.raises(SystemExit) as done:
        main(["ground", "x.jpg", "-p", "a cup", "--backend", "no-such-backend"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    for b in backends.BACKENDS:
        assert f"'{b.name}'" in err, err


def test_a_name_no_backend_declares_is_refused_in_one_line():
    with pytest.raises(DetectorChoiceError, match="unknown backend 'gpu-magic'.*onnxruntime-int8"):
        backends.check_backend(DetectorChoice(backend="gpu-magic"))
    with pytest.raises(DetectorChoiceError, match="unknown backend"):
        backends.make_detector(DetectorChoice(backend="gpu-magic"), "cpu")


def test_each_backend_runs_on_its_declared_device():
    assert backends.backend_device(DetectorChoice("opencv"), "cuda", "cuda") == "cpu"
    assert backends.backend_device(DetectorChoice("torch"), "mps", "mps") == "mps"
    assert backends.backend_device(DetectorChoice("auto"), "cuda", "cuda") == "cuda"  # torch on a GPU
    # onnxruntime on a machine without its CUDA provider (this one): the CPU
    assert backends.backend_device(DetectorChoice("onnxruntime"), "cpu", "cpu") == "cpu"
