"""Can the app open a window here? Linux without a display, or an X11 display without the xcb
libraries Qt's xcb platform loads, would make Qt abort with a misleading message ("xcb-cursor0 is
needed"); the app and ``doctor`` say instead, in one line, what is missing and how to install it.
Qt-free: the libraries are looked for with the dynamic loader, as Qt's plugin would load them."""
from __future__ import annotations

import ctypes
import os
import sys
from typing import Optional

# What Qt 6's xcb platform plugin (libqxcb, libQt6XcbQpa) links, and the Debian/Ubuntu package of each.
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1", "libX11.so.6": "libx11-6", "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1", "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def loadable(library: str) -> bool:
    """Whether the dynamic loader finds and loads ``library`` (a soname)."""
    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


def no_display() -> bool:
    """Linux without X11 or Wayland, and no Qt platform chosen."""
    return (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"))


def uses_xcb() -> bool:
    """Whether Qt will open the window through X11 (xcb): chosen by name, or the only display."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return sys.platform.startswith("linux") and bool(os.environ.get("DISPLAY")) \
        and not os.environ.get("WAYLAND_DISPLAY")


def missing_xcb_libraries() -> list[str]:
    """The libraries Qt's xcb platform needs that are not installed (in ``XCB_LIBRARIES`` order)."""
    return [lib for lib in XCB_LIBRARIES if not loadable(lib)]


def install_line(missing: list[str]) -> str:
    return "sudo apt-get install " + " ".join(XCB_LIBRARIES[lib] for lib in missing)


def window_problem() -> Optional[str]:
    """Why no window can open here, as one line naming the fix; None when nothing is known wrong."""
    if no_display():
        return ("no display to open a window on (DISPLAY and WAYLAND_DISPLAY are not set); "
                "on a machine without one, run with QT_QPA_PLATFORM=offscreen (e.g. for --screenshot)")
    if uses_xcb():
        missing = missing_xcb_libraries()
        if missing:
            return (f"the window cannot open: Qt's X11 (xcb) platform needs {', '.join(missing)}; "
                    f"install with: {install_line(missing)}")
    return None


def window_facts() -> dict:
    """For ``doctor``: the Qt platform the window would use, what it lacks, and the fix."""
    platform = os.environ.get("QT_QPA_PLATFORM") or ("xcb" if uses_xcb() else None)
    missing = missing_xcb_libraries() if uses_xcb() else []
    return {"platform": platform, "missing_libraries": missing,
            "install": install_line(missing) if missing else None, "problem": window_problem()}
