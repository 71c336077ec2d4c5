"""Where the window keeps its layout and recent folders (QSettings, INI format), and the layout itself.

``GROUNDING_DESKTOP_SETTINGS=/path/file.ini`` redirects everything to one file: tests and the
``--screenshot`` mode use it so they never touch a person's real settings.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Optional, Sequence

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow

ORGANISATION = "GroundingDesktop"
APPLICATION = "grounding-desktop"
SETTINGS_ENV = "GROUNDING_DESKTOP_SETTINGS"
MAX_RECENT = 10
DOCK_WIDTHS = (250, 420)  # the image list and the phrases panel, the first time


def app_settings() -> QSettings:
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def recent_folders(settings: QSettings) -> list[str]:
    return _as_list(settings.value("recent/folders", []))


def add_recent_folder(settings: QSettings, folder: os.PathLike | str) -> list[str]:
    path = str(Path(folder).resolve())
    items = [path] + [p for p in recent_folders(settings) if p != path]
    items = items[:MAX_RECENT]
    settings.setValue("recent/folders", items)
    settings.sync()
    return items


def _project_key(db_path: os.PathLike | str) -> str:
    return "projects/" + hashlib.sha1(str(Path(db_path).resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def last_image(settings: QSettings, db_path: os.PathLike | str) -> Optional[int]:
    """The image this person had open when they last left the project (by its database)."""
    try:
        return int(settings.value(_project_key(db_path) + "/last_image"))
    except (TypeError, ValueError):
        return None


def remember_image(settings: QSettings, db_path: os.PathLike | str, image_id: int) -> None:
    """Where to start next time. Kept with the person's settings, not in the project: on a shared
    project each labeller comes back to their own place, and moving through images writes nothing
    to the project database."""
    settings.setValue(_project_key(db_path) + "/last_image", int(image_id))


def prepares_in_background(settings: QSettings) -> bool:
    """Whether the feature pass starts by itself (Grounding → Prepare Images in the Background)."""
    return settings.value("folder/prepare_in_background", True, type=bool)


def set_prepares_in_background(settings: QSettings, on: bool) -> None:
    settings.setValue("folder/prepare_in_background", bool(on))


def save_layout(settings: QSettings, window: QMainWindow) -> None:
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
    settings.sync()


def restore_layout(settings: QSettings, window: QMainWindow, left: QDockWidget, right: QDockWidget) -> None:
    """The last session's window and docks; the first time, 90 % of the screen at most, with the
    image list and phrases panel at readable widths."""
    geometry = settings.value("window/geometry")
    state = settings.value("window/state")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        screen = QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        w, h = 1440, 900
        if avail is not None and avail.width() >= 1000:
            w, h = min(w, int(avail.width() * 0.9)), min(h, int(avail.height() * 0.9))
        window.resize(w, h)
        window.resizeDocks([left, right], list(DOCK_WIDTHS), Qt.Orientation.Horizontal)
    if isinstance(state, QByteArray) and not state.isEmpty():
        window.restoreState(state)


class DockWidths(QObject):
    """Gives the side panels back their width when the window grows again.

    A shrinking window takes its room from the panels too, but a growing one gives all of it to the
    image: after a shrink to the minimum and back, the phrases panel stayed about 60 px wide. The
    width a panel should have is the one it was given while the window kept its size (laid out, or
    dragged by the user); ``window_resized`` restores it, as far as the room allows.
    """

    def __init__(self, window: QMainWindow, docks: Sequence[QDockWidget]):
        super().__init__(window)
        self.window = window
        self.wanted = {dock: width for dock, width in zip(docks, DOCK_WIDTHS)}
        self._window_width: Optional[int] = None  # the width the docks were last laid out for
        for dock in docks:
            dock.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize and obj in self.wanted and obj.isVisible() \
                and self._window_width in (None, self.window.width()):
            self.wanted[obj] = obj.width()  # not squeezed by the window: the width it should keep
        return False

    def window_resized(self, old: QSize, new: QSize) -> None:
        if self._window_width is not None and new.width() > old.width():
            short = [(d, w) for d, w in self.wanted.items() if d.isVisible() and not d.isFloating() and d.width() < w]
            if short:
                self.window.resizeDocks([d for d, _ in short], [w for _, w in short], Qt.Orientation.Horizontal)
        self._window_width = new.width()
