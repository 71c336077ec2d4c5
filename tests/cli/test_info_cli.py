import json
import subprocess
import sys

from grounding_desktop import __version__
from grounding_desktop.cli import main
from grounding_desktop.core import Box, BoxSource, BoxState
from grounding_desktop.store import ProjectStore


def test_info_counts(image_folder, capsys):
    (image_folder / "broken.jpg").write_bytes(b"")
    assert main(["info", str(image_folder), "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["images"] == 5 and counts["unreadable"] == 1 and counts["images_new"] == 5
    with ProjectStore.open_folder(image_folder) as s:
        img = s.images.by_path()["img1.jpg"]
        s.labels.add_expression(img.id, "a thing", [])
        e, _ = s.labels.add_expression(img.id, "two things")
        s.labels.add_box(e.id, Box(0, 0, (1, 1, 5, 5), BoxState.PROPOSED, BoxSource.MODEL, score=0.5))
    assert main(["info", str(image_folder)]) == 0
    out = capsys.readouterr().out
    assert "phrases   2" in out and "proposed 1" in out and "images    5" in out


def test_info_with_separate_db(image_folder, tmp_path, capsys):
    db = tmp_path / "elsewhere" / "p.sqlite"
    assert main(["info", str(image_folder), "--db", str(db)]) == 0
    assert db.exists() and not (image_folder / ".grounding").exists()


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "folder not found" in err
    f = tmp_path / "f.txt"
    f.write_text("x")
    assert main(["info", str(f)]) == 2
    assert "not a folder" in capsys.readouterr().err
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    assert main(["info", str(tmp_path), "--db", str(blocker / "p.sqlite")]) == 2
    assert "--db" in capsys.readouterr().err
    # the GUI command checks its folder before starting Qt
    assert main([str(tmp_path / "missing")]) == 2
    assert "folder not found" in capsys.readouterr().err


def test_version_via_console_script():
    out = subprocess.run([sys.executable, "-m", "grounding_desktop.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"grounding-desktop {__version__}"
