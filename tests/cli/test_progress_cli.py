"""Progress of the long commands on a terminal: a bar with the rate and the time left on stderr,
the results on stdout unchanged, nothing with --quiet (``export`` and ``import`` here, in a real
process whose stderr is a terminal; ``prepare``, ``propose``, ``search`` and ``evaluate`` take the
same ``io.progress.TerminalProgress``)."""
import fcntl
import json
import os
import struct
import subprocess
import sys
import termios

import pytest

from exportkit import labelled_project
from support import REPO


def _run_on_a_terminal(*argv: str) -> tuple[str, str]:
    """(stdout, stderr) of the CLI with stderr on a pseudo-terminal."""
    main_end, term_end = os.openpty()
    fcntl.ioctl(term_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24 rows, 100 columns
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "grounding_desktop.cli", *argv], stdout=subprocess.PIPE,
                            stderr=term_end, env=env)
    os.close(term_end)
    err = b""
    while True:
        try:
            chunk = os.read(main_end, 4096)
        except OSError:  # the terminal's other end is closed
            break
        if not chunk:
            break
        err += chunk
    os.close(main_end)
    out = proc.stdout.read().decode()
    assert proc.wait() == 0, err.decode()
    return out, err.decode()


@pytest.fixture
def folder(tmp_path):
    labelled_project(tmp_path / "photos").close()
    return tmp_path / "photos"


def test_export_and_import_show_a_bar_on_a_terminal_and_keep_stdout_for_results(folder, tmp_path):
    out, err = _run_on_a_terminal("export", str(folder), "--format", "coco", "--out", str(tmp_path / "c.json"),
                                  "--json")
    assert json.loads(out)["format"] == "coco"
    assert "exporting: 100%" in err and "step/s]" in err and "<00:00" in err  # rate and time left

    out, err = _run_on_a_terminal("import", str(folder), "--db", str(tmp_path / "fresh.sqlite"), "--coco",
                                  str(tmp_path / "c.json"), "--json")
    assert json.loads(out)["boxes_added"] == 5
    assert "importing: 100%" in err and "entry/s]" in err

    out, err = _run_on_a_terminal("import", str(folder), "--db", str(tmp_path / "fresh.sqlite"), "--coco",
                                  str(tmp_path / "c.json"), "--quiet")
    assert err == "" and out.startswith("imported coco file")
