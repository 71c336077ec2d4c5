"""QApplication start-up, and the ``--screenshot`` mode used for the README and for smoke tests."""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn, Optional

from ..core import GrounderFactory

SCREENSHOT_TIMEOUT_ENV = "GROUNDING_DESKTOP_SCREENSHOT_TIMEOUT"


def configure_process() -> None:
    """Process-wide settings the window relies on.

    A 1 ms GIL switch interval (Python's default is 5 ms): worker threads running Python code
    (image decoding, reading a project's lessons, the model process's pipe) then hand the GIL back to
    the GUI thread sooner, which keeps the longest paint stall down. (The model itself runs in a
    process of its own, with its own GIL.)
    """
    sys.setswitchinterval(0.001)


def run_app(folder: Optional[str], db: Optional[str] = None, factory: Optional[GrounderFactory] = None,
            device: Optional[str] = None, phrase: Optional[str] = None, screenshot: Optional[str] = None) -> NoReturn:
    """Open the window on ``folder`` (None: the last folder that still exists) and run it; with
    ``screenshot``, save the window as a PNG once it is ready. Then the process ends
    (``end_process``). A folder that cannot be opened raises ``StoreError``."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from ..grounder_factory import loaded_grounder
    from ..store import ProjectStore
    from .main_window import MainWindow
    from .model_start import ModelStart
    from .settings import APPLICATION, ORGANISATION, SETTINGS_ENV, app_settings, recent_folders
    from .style import apply_style

    configure_process()
    if screenshot and not os.environ.get(SETTINGS_ENV):
        # A screenshot shows the default layout and must not touch the person's settings.
        tmp = tempfile.mkdtemp(prefix="grounding-desktop-")
        os.environ[SETTINGS_ENV] = str(Path(tmp) / "settings.ini")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Grounding Desktop")
    apply_style(app)
    settings: QSettings = app_settings()

    if folder is None and not screenshot:
        folder = next((f for f in recent_folders(settings) if Path(f).is_dir()), None)
    store = ProjectStore.open_folder(folder, db) if folder is not None else None
    # A screenshot without a phrase shows no proposals: it does not wait for (or load) the model.
    model = ModelStart(factory or loaded_grounder, device, load=not screenshot or bool(phrase))
    window = MainWindow(store, model, settings)
    if screenshot:
        window.resize(1440, 900)
    window.show()
    if phrase:
        window.phrase_bar.set_text(phrase)
    if screenshot:
        if phrase:
            window.start_model()
        end_process(take_screenshot(app, window, Path(screenshot), bool(phrase)))
    end_process(app.exec())


def end_process(code: int) -> NoReturn:
    """Exit once the window has closed, without Python's teardown: every edit is committed and the
    store closed by then (the window's close does it), the settings synced and the model process
    ended. The teardown would only free memory and destroy Qt objects, for nothing."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def screenshot_ready(window, want_proposals: bool) -> bool:
    """The folder is scanned, the first image is painted, and (if asked) the proposals are on
    screen, or cannot come (an unusable phrase, a model that failed, an unreadable image)."""
    doc = window.doc
    if window.session.scanning:
        return False
    if doc.labels.store is not None and doc.labels.image is None and window.image_list.visible_count():
        return False
    if doc.labels.image is not None and window.last_painted_id != doc.labels.image.id:
        return False
    return not (want_proposals and doc.query.waiting)


def take_screenshot(app, window, path: Path, want_proposals: bool) -> int:
    from PySide6.QtCore import QEventLoop, QTimer

    from ..editing.state import ModelState

    timeout = float(os.environ.get(SCREENSHOT_TIMEOUT_ENV, "300"))
    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(30)
    timer.timeout.connect(lambda: loop.quit() if screenshot_ready(window, want_proposals)
                          or time.monotonic() > deadline else None)
    timer.start()
    loop.exec()
    timer.stop()
    for _ in range(5):  # let the last repaint land
        app.processEvents()
    timed_out = not screenshot_ready(window, want_proposals)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(path))
    state, error = window.host.state, window.host.error
    window.close()
    if not ok:
        print(f"grounding-desktop: error: could not write {path}", file=sys.stderr)
        return 2
    if want_proposals and state == ModelState.FAILED:
        print(f"grounding-desktop: screenshot saved to {path}, but the model failed: {error}", file=sys.stderr)
        return 1
    if timed_out:
        print(f"grounding-desktop: screenshot saved to {path} after waiting {timeout:.0f} s "
              f"(not everything had finished)", file=sys.stderr)
        return 1
    print(f"screenshot saved to {path}")
    return 0
