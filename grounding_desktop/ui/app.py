"""QApplication start-up, and the ``--screenshot`` mode used for the README and for smoke tests."""
from __future__ import annotations

import importlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

SCREENSHOT_TIMEOUT_ENV = "GROUNDING_DESKTOP_SCREENSHOT_TIMEOUT"


def resolve_factory(spec: Optional[str]) -> Optional[Callable]:
    """``module:callable`` -> the callable (a developer option: run the window with another grounder)."""
    if not spec:
        return None
    from ..commands import CliError

    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        factory = getattr(module, attr or "Grounder")
    except (ImportError, AttributeError) as exc:
        raise CliError(f"cannot load grounder {spec!r}: {exc}") from exc
    return lambda device: factory(device=device) if device else factory()


def configure_process() -> None:
    """Process-wide settings the window relies on.

    A 1 ms GIL switch interval (Python's default is 5 ms): worker threads running Python code
    (phrase scoring, image decoding) then hand the GIL back to the GUI thread sooner, which keeps
    the longest paint stall down while proposals are computed; torch kernels release the GIL anyway.
    """
    sys.setswitchinterval(0.001)


def run_app(args) -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from ..commands import CliError
    from ..store import ProjectStore, StoreError
    from .main_window import MainWindow
    from .settings import APPLICATION, ORGANISATION, SETTINGS_ENV, app_settings, recent_folders
    from .style import apply_style
    from .workers import default_grounder_factory

    configure_process()
    screenshot = getattr(args, "screenshot", None)
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

    folder = args.folder
    if folder is None and not screenshot:
        folder = next((f for f in recent_folders(settings) if Path(f).is_dir()), None)
    store = None
    if folder is not None:
        try:
            store = ProjectStore.open_folder(folder, getattr(args, "db", None))
        except StoreError as exc:
            raise CliError(str(exc)) from exc
    factory = resolve_factory(getattr(args, "grounder", None)) or default_grounder_factory
    window = MainWindow(store, grounder_factory=factory, device=getattr(args, "device", None), settings=settings)
    if screenshot:
        window.resize(1440, 900)
    window.show()
    if getattr(args, "phrase", None):
        window.phrase_bar.set_text(args.phrase)
    if screenshot:
        return take_screenshot(app, window, Path(screenshot), bool(getattr(args, "phrase", None)))
    return app.exec()


def screenshot_ready(window, want_proposals: bool) -> bool:
    """The folder is scanned, the first image is painted, and (if asked) proposals are on screen."""
    if window.scanning:
        return False
    if window.doc is not None and window.current is None and window.image_list.visible_count():
        return False
    if window.current is not None and window.last_painted_id != window.current.id:
        return False
    if want_proposals and window.current is not None and window.current.readable:
        state = window.host.state
        if state in ("idle", "loading"):
            return False
        if state == "ready" and not window.session.up_to_date:
            return False
    return True


def take_screenshot(app, window, path: Path, want_proposals: bool) -> int:
    from PySide6.QtCore import QEventLoop, QTimer

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
    if want_proposals and state == "failed":
        print(f"grounding-desktop: screenshot saved to {path}, but the model failed: {error}", file=sys.stderr)
        return 1
    if timed_out:
        print(f"grounding-desktop: screenshot saved to {path} after waiting {timeout:.0f} s "
              f"(not everything had finished)", file=sys.stderr)
        return 1
    print(f"screenshot saved to {path}")
    return 0
