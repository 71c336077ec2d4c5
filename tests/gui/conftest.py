"""GUI test set-up: isolated settings, a small photo folder, and a driver that works the real
widgets with qtbot's keyboard and mouse (only the grounder is a deterministic fake, run in the
window's model process as the real one is)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakes import FakeGrounder  # noqa: E402
from gui_helpers import IMAGE_SIZE, Driver, make_window  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Never read or write a person's real settings (layout, recent folders)."""
    monkeypatch.setenv("GROUNDING_DESKTOP_SETTINGS", str(tmp_path / "settings.ini"))
    return tmp_path / "settings.ini"


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    from PIL import Image, ImageDraw

    folder = tmp_path / "photos"
    folder.mkdir()
    for name, colour in (("a1.png", (200, 60, 60)), ("a2.png", (60, 160, 60)), ("a10.png", (60, 60, 200))):
        img = Image.new("RGB", IMAGE_SIZE, colour)
        ImageDraw.Draw(img).rectangle((40, 40, 120, 140), fill=(240, 240, 240))
        img.save(folder / name)
    return folder


@pytest.fixture
def open_window(qtbot):
    """``open_window(folder, factory=FakeGrounder, **kw)`` -> Driver for a window on ``folder``'s
    project (``functools.partial(FakeGrounder, delay=0.3)`` for a slower fake)."""
    opened = []

    def _open(folder: Path, factory=FakeGrounder, ready_timeout: int = 5000, **kwargs) -> Driver:
        from grounding_desktop.project import open_project

        store, _ = open_project(folder)
        window = make_window(qtbot, store, factory, rescan=False, **kwargs)
        driver = Driver(qtbot, window)
        opened.append(window)
        driver.wait_ready(ready_timeout)
        return driver

    yield _open
    for w in opened:
        if w.doc is not None:
            w.close()


@pytest.fixture
def gui(open_window, photos) -> Driver:
    return open_window(photos)
