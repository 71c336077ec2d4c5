"""Which keys do what: the one table of key bindings, by action name, and how a key is named to
people. Plain Python, so the document's messages (``editing.messages``) name the keys the window
binds: ``ui.shortcuts.ACTIONS`` (menus, toolbar, the help dialog, the README's table) reads its
keys from here. Keys are ``QKeySequence`` portable strings; an action's first key is the one shown.
"""
from __future__ import annotations

KEYS: dict[str, tuple[str, ...]] = {
    "open_folder": ("Ctrl+O",),
    "export": ("Ctrl+E",),
    "import": ("Ctrl+I",),
    "rescan": ("F5",),
    "quit": ("Ctrl+Q",),
    "undo": ("Ctrl+Z",),
    "redo": ("Ctrl+Shift+Z", "Ctrl+Y"),
    "history": ("Ctrl+H",),
    "draw_mode": ("W", "Ctrl+B"),
    "delete": ("Del", "Backspace"),
    "rename": ("F2",),
    "nudge_left": ("Left", "Shift+Left"),
    "nudge_right": ("Right", "Shift+Right"),
    "nudge_up": ("Up", "Shift+Up"),
    "nudge_down": ("Down", "Shift+Down"),
    "focus_phrase": ("Ctrl+L",),
    "next_proposal": ("Tab",),
    "prev_proposal": ("Shift+Tab",),
    "accept": ("Return", "Enter"),
    "accept_all": ("Ctrl+Return", "Ctrl+Enter"),
    "accept_none": ("Shift+Return", "Shift+Enter"),
    "reject": ("Ctrl+R",),
    "evaluate": ("Ctrl+Shift+E",),
    "clear": ("Esc",),
    "propose_all": ("Ctrl+Shift+P",),
    "prepare_background": ("Ctrl+Shift+B",),
    "model": ("Ctrl+M",),
    "prev_image": ("A", "PgUp"),
    "next_image": ("D", "PgDown"),
    "review_next": ("Space",),
    "review_doubt": ("Ctrl+Shift+R",),
    "search": ("Ctrl+F",),
    "first_image": ("Home",),
    "last_image": ("End",),
    "fit": ("F", "Ctrl+0"),
    "zoom_in": ("Ctrl+=", "Ctrl++"),
    "zoom_out": ("Ctrl+-",),
    "actual_size": ("Ctrl+1",),
    "show_images": ("F7",),
    "show_expressions": ("F8",),
    "show_search": ("F9",),
    "shortcuts": ("F1", "Ctrl+/"),
    "about": ("Shift+F1",),
}
# File → Open Recent: its first nine folders, in order (not actions of their own).
RECENT_FOLDERS: tuple[str, ...] = tuple(f"Ctrl+Shift+{i}" for i in range(1, 10))


def display_keys(keys: tuple[str, ...]) -> str:
    """Keys as people name them: "Return" and the keypad's "Enter" are both just Enter."""
    shown: list[str] = []
    for k in keys:
        k = k.replace("Return", "Enter")
        if k not in shown:
            shown.append(k)
    return " / ".join(shown)


def key(action: str, which: int = 0) -> str:
    """The key a message names for ``action``: its first (or ``which``-th), as people name it
    ("Shift+Enter")."""
    return display_keys(KEYS[action][which:which + 1])
