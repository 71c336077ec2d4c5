"""The window's actions, menus and toolbar, built from the one table in ``shortcuts.ACTIONS``."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle, QToolBar, QWidget

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
