"""Where the window keeps its layout and recent folders (QSettings, INI format).

``GROUNDING_DESKTOP_SETTINGS=/path/file.ini`` redirects everything to one file: tests and the
``--screenshot`` mode use it so they never touch a person's real settings.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANISATION = "GroundingDesktop"
APPLICATION = "grounding-desktop"
SETTINGS_ENV = "GROUNDING_DESKTOP_SETTINGS"
MAX_RECENT = 10


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
