"""The window's actions, menus and toolbar, built from the one table in ``shortcuts.ACTIONS``, and
which of them are enabled."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QStyle, QToolBar, QWidget

from ..editing.document import ImageDocument
from ..editing.keys import RECENT_FOLDERS
from .shortcuts import ACTIONS, MENUS, ActionSpec


def configure(action: QAction, spec: ActionSpec, style: QStyle) -> None:
    """Give ``action`` the table's name, keys, tooltip, icon and toolbar label."""
    action.setObjectName(f"action_{spec.name}")
    action.setShortcuts([QKeySequence(k) for k in spec.keys])
    shown = QKeySequence(spec.keys[0]).toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{spec.tip}  ({shown})")
    action.setStatusTip(spec.tip)
    action.setCheckable(spec.checkable)
    if spec.short:
        action.setIconText(spec.short)
    if spec.icon:
        pm = getattr(QStyle.StandardPixmap, spec.icon, None)
        if pm is not None:
            action.setIcon(style.standardIcon(pm))


def build_actions(window: QMainWindow, handlers: dict[str, Callable[[], None]], stack: QUndoStack,
                  canvas: QWidget) -> dict[str, QAction]:
    """One QAction per table row. Undo and redo follow ``stack``; keys that mean something else
    in lists and text fields (arrows) only work when the canvas has the focus."""
    check_handlers(handlers)
    actions: dict[str, QAction] = {}
    style = window.style()
    for spec in ACTIONS:
        if spec.name == "undo":
            action = stack.createUndoAction(window, spec.text.replace("&", ""))
        elif spec.name == "redo":
            action = stack.createRedoAction(window, spec.text.replace("&", ""))
        else:
            action = QAction(spec.text, window)
        configure(action, spec, style)
        if spec.name in handlers:
            fn = handlers[spec.name]
            action.triggered.connect(lambda _checked=False, fn=fn: fn())
        if spec.canvas_only:
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            canvas.addAction(action)
        else:
            window.addAction(action)
        actions[spec.name] = action
    return actions


def check_handlers(handlers: dict[str, Callable[[], None]]) -> None:
    """Every action that is triggered (not undo and redo, which follow the stack, nor a checkable
    one, which is wired by its ``toggled``) has a handler, and every handler an action: a name
    misspelt on either side fails when the window is built, not silently on a key press."""
    triggered = {a.name for a in ACTIONS if not a.checkable and a.name not in ("undo", "redo")}
    missing, unknown = sorted(triggered - handlers.keys()), sorted(handlers.keys() - triggered)
    if missing or unknown:
        raise ValueError(f"actions without a handler: {missing}; handlers without an action: {unknown}")


def build_menus(window: QMainWindow, actions: dict[str, QAction]) -> tuple[dict[str, QMenu], QToolBar, QMenu]:
    """The menu bar (with File → Open Recent) and the toolbar; returns (menus, toolbar, recent menu)."""
    menus = {name: window.menuBar().addMenu(f"&{name}") for name in MENUS}
    recent = menus["File"].addMenu("Open &Recent")
    recent.setObjectName("recentMenu")
    toolbar = QToolBar("Main", window)
    toolbar.setObjectName("mainToolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
    last_menu = None
    for spec in ACTIONS:
        menu = menus[spec.menu]
        if spec.menu == "File" and spec.name == "quit":
            menu.addSeparator()
        if spec.menu != last_menu and spec.toolbar and last_menu is not None:
            toolbar.addSeparator()
        menu.addAction(actions[spec.name])
        if spec.toolbar:
            toolbar.addAction(actions[spec.name])
            last_menu = spec.menu
    menus["File"].insertMenu(actions["rescan"], recent)
    return menus, toolbar, recent


def link_docks(actions: dict[str, QAction], docks: dict[str, QDockWidget]) -> None:
    """Each View action shows or hides its dock, and follows the dock when its own close button
    hides it (``isHidden``: hidden by the user, not merely with the window)."""
    for name, dock in docks.items():
        action = actions[name]
        action.toggled.connect(dock.setVisible)
        dock.visibilityChanged.connect(lambda _visible, action=action, dock=dock: _follow(action, dock))


def _follow(action: QAction, dock: QDockWidget) -> None:
    action.blockSignals(True)
    action.setChecked(not dock.isHidden())
    action.blockSignals(False)


def needs_now(doc: ImageDocument) -> dict[str, bool]:
    """What holds now, for an action's ``ActionSpec.needs``: a project is open, an image is shown,
    proposals are on screen, proposals are on screen or on their way (Enter accepts when they land),
    or that or a stored proposal is selected (Enter accepts it)."""
    has_image = doc.labels.image is not None
    has_props = bool(doc.query.proposals) and has_image
    return {"project": doc.labels.store is not None, "image": has_image, "proposals": has_props,
            "answer": has_props or doc.query.waiting,
            "answer_or_proposed_box": has_props or doc.query.waiting or doc.stored_proposal_selected}


def update_enabled(actions: dict[str, QAction], doc: ImageDocument) -> None:
    """Enable each action whose ``needs`` holds now (``needs_now``); one without needs stays enabled."""
    now = needs_now(doc)
    for spec in ACTIONS:
        if spec.needs:
            actions[spec.name].setEnabled(now[spec.needs])


def fill_recent_menu(menu: QMenu, folders: list[str], open_folder: Callable[[str], object]) -> None:
    menu.clear()
    if not folders:
        menu.addAction("No recent folders").setEnabled(False)
    for i, folder in enumerate(folders):
        action = menu.addAction(f"&{i + 1}  {folder}" if i < len(RECENT_FOLDERS) else folder)
        if i < len(RECENT_FOLDERS):
            action.setShortcut(QKeySequence(RECENT_FOLDERS[i]))
        action.triggered.connect(lambda _c=False, f=folder: open_folder(f))
