"""``evaluate --plot FILE.png``: a target that cannot be written is refused in one line before the
model runs (the picture itself: tests/cli/test_evaluate_cli.py and tests/unit/test_evaluation_report.py)."""
import pytest

from support import make_image
from grounding_desktop.cli import main


@pytest.mark.parametrize("target,words", [
    ("out.txt", "the picture is a PNG file"),
    ("nowhere/out.png", "folder not found"),
])
def test_a_plot_that_cannot_be_written_is_refused_first(tmp_path, capsys, target, words):
    make_image(tmp_path / "photos" / "a.jpg")
    assert main(["evaluate", str(tmp_path / "photos"), "--plot", str(tmp_path / target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("grounding-desktop: error: --plot") and words in err
    assert not (tmp_path / "photos" / ".grounding").exists()  # refused before the project was opened
