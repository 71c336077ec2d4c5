"""Promises the application keeps when its input is hostile: odd file names, odd images, a full
disk, a second process, a damaged database, a closed pipe.

Read it as a list: each test is named as the promise it holds, and drives the real code (the CLI
through ``cli.main``, the store, the image decoder, the desktop window, the real model where a
promise is about what the model sees). Each section has a short heading; add new promises to the
section they belong to, or start a section of your own.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import make_image
from grounding_desktop.cli import main


# ----------------------------------------------------------------------------------------- Model

@pytest.mark.model
def test_a_blank_frame_is_an_image_with_nothing_in_it_not_an_error(tmp_path: Path, capsys):
    frames = [make_image(tmp_path / f"{name}.png", size=(320, 240), color=colour)
              for name, colour in (("black", (0, 0, 0)), ("white", (255, 255, 255)),
                                   ("grey", (128, 128, 128)))]
    assert main(["ground", *map(str, frames), "--phrase", "the cat", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    answers = [json.loads(line) for line in captured.out.splitlines()]
    assert [a["image"] for a in answers] == [str(f) for f in frames]
    assert all(a["results"][0]["boxes"] == [] for a in answers)
