"""``grounding-desktop ground`` and ``doctor`` end to end, on pictures the tests compose."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from support import SAMPLES, make_image
from grounding_desktop.cli import main

CANVAS = (800, 300)


def compose(path, exif_orientation=None):
    """Two cats side by side (the bundled cat photo twice), optionally stored rotated."""
    canvas = Image.new("RGB", CANVAS, (90, 90, 90))
    with Image.open(SAMPLES / "chelsea.jpg") as cat:
        cat = cat.convert("RGB").resize((300, 200))
        canvas.paste(cat, (0, 40))
        canvas.paste(cat, (450, 40))
    kwargs = {}
    if exif_orientation == 6:
        canvas = canvas.transpose(Image.Transpose.ROTATE_90)
        exif = Image.Exif()
        exif[0x0112] = 6
        kwargs["exif"] = exif.tobytes()
    canvas.save(path, quality=95, **kwargs)
    return path


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    from grounding_desktop.grounding.detectors import ssd_weights

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ssd_weights.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.mark.model
def test_ground_json(tmp_path, capsys):
    img = compose(tmp_path / "cats.jpg", exif_orientation=6)
    rc = main(["ground", str(img), "--phrase", "the cat on the left", "--phrase", "the cats",
               "--top-k", "3", "--device", "cpu", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert (out["width"], out["height"]) == CANVAS      # EXIF orientation applied
    assert out["device"] == "cpu" and out["image"] == str(img) and out["model"]
    assert [r["phrase"] for r in out["results"]] == ["the cat on the left", "the cats"]
    left, cats = out["results"]
    assert 1 <= len(left["boxes"]) <= 3
    scores = [b["score"] for b in left["boxes"]]
    assert scores == sorted(scores, reverse=True)
    x, y, w, h = left["boxes"][0]["bbox"]
    assert x + w / 2 < CANVAS[0] / 2 and x >= 0 and y >= 0 and x + w <= CANVAS[0] and y + h <= CANVAS[1]
    assert left["boxes"][0]["label"] == "cat" and "left" in left["boxes"][0]["explanation"]
    assert cats["plural"] and len(cats["boxes"]) == 2


@pytest.mark.model
def test_ground_table(tmp_path, capsys):
    img = compose(tmp_path / "cats.png")
    assert main(["ground", str(img), "the cat on the right", "--top-k", "1"]) == 0
    out = capsys.readouterr().out
    assert '"the cat on the right"' in out and "score" in out and "800x300" in out


@pytest.mark.model
def test_ground_json_stdout_is_clean_in_a_subprocess(tmp_path):
    img = compose(tmp_path / "cats.png")
    r = subprocess.run([sys.executable, "-m", "grounding_desktop.cli", "ground", str(img), "-p",
                        "the kitten", "--json", "--top-k", "1"], capture_output=True, text=True,
                       env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)  # nothing but the JSON object on stdout
    assert out["results"][0]["boxes"][0]["label"] == "cat"


@pytest.mark.parametrize("argv,needle", [
    (["--phrase", ""], "phrase: the phrase is empty"),
    (["--phrase", "   "], "the phrase is empty"),
    (["--phrase", "x" * 501], "at most 500"),
    (["--phrase", "the cat", "--phrase", ""], "phrase 2: the phrase is empty"),
    ([], "give at least one phrase"),
    (["-p", "cat", "--top-k", "0"], "--top-k"),
    (["-p", "cat", "--device", "tpu"], "unknown device"),
])
def test_bad_phrases_and_options_exit_2_with_one_line(tmp_path, capsys, argv, needle):
    img = make_image(tmp_path / "a.png")
    assert main(["ground", str(img)] + argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and err.startswith("grounding-desktop: error:")


@pytest.mark.parametrize("content,needle", [
    (b"", "empty file"), (b"not an image at all", "not a readable image"), (None, "no such file"),
])
def test_unreadable_images_exit_2_with_one_line(tmp_path, capsys, content, needle):
    path = tmp_path / "bad.jpg"
    if content is not None:
        path.write_bytes(content)
    assert main(["ground", str(path), "-p", "the cat"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err


def test_truncated_image_exits_2(tmp_path, capsys):
    good = compose(tmp_path / "cats.jpg")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[:2000])
    assert main(["ground", str(cut), "-p", "the cat"]) == 2
    assert "truncated" in capsys.readouterr().err


@pytest.mark.model
def test_doctor(capsys):
    assert main(["doctor", "--device", "cpu", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["device"] == "cpu"
    assert report["facts"]["torch"] and "cuda_available" in report["facts"]
    assert report["weights"]["detector_graph"].endswith("frozen_inference_graph.pb")
    assert os.path.isdir(report["weights"]["phrase_encoder"])
    assert report["timings"]["prepare_ms"] > 0 and report["timings"]["propose_ms"] > 0
    parts = ("import_torch_s", "import_model_s", "load_detector_s", "load_class_words_s", "load_encoder_s",
             "load_second_cnn_s")
    assert all(report["timings"][part] >= 0 for part in parts)
    assert main(["doctor"]) == 0
    text = capsys.readouterr().out
    assert "CUDA" in text and "status        OK" in text and "inference" in text
    load = next(line for line in text.splitlines() if line.startswith("load "))
    assert all(f"{name} " in load for name in ("torch", "detector", "phrase encoder", "second CNN")), load
