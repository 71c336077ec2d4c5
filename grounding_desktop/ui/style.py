"""The look: Fusion with a dark palette, so photos stand out and the colours of boxes and states
read the same on every platform."""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#8AB4F8"

STYLE_SHEET = f"""
QMainWindow::separator {{ background: #2B2D31; width: 4px; height: 4px; }}
QDockWidget {{ font-weight: 600; }}
QDockWidget::title {{ background: #2B2D31; padding: 5px 8px; }}
#phraseBar {{ background: #26282C; border-bottom: 1px solid #3C4043; }}
#phraseEdit {{ background: #1E1F22; border: 1px solid #5F6368; border-radius: 6px; padding: 5px 8px;
               color: #F1F3F4; selection-background-color: #3C6FD1; }}
#phraseEdit:focus {{ border: 2px solid {ACCENT}; padding: 4px 7px; }}
#phraseInfo {{ color: #BDC1C6; }}
#phraseInfo[tone="error"] {{ color: #F28B82; }}
#phraseInfo[tone="busy"] {{ color: #FDD663; }}
#phraseInfo[tone="good"] {{ color: #81C995; }}
#imageCount {{ color: #E8EAED; padding: 0 4px; }}
#legend {{ color: #9AA0A6; }}
QStatusBar {{ background: #202124; color: #BDC1C6; }}
QStatusBar QLabel {{ padding: 0 8px; }}
#modelStatus[tone="busy"] {{ color: #FDD663; }}
#modelStatus[tone="error"] {{ color: #F28B82; }}
#modelStatus[tone="good"] {{ color: #81C995; }}
QToolBar {{ spacing: 4px; padding: 3px; border-bottom: 1px solid #3C4043; }}
QToolButton:checked {{ background: #3C4A63; border-radius: 4px; }}
QTreeWidget, QListView {{ background: #1E1F22; alternate-background-color: #232428; border: none; }}
QTreeView::item, QListView::item {{ padding: 3px 2px; }}
QHeaderView::section {{ background: #2B2D31; color: #BDC1C6; border: none; padding: 4px; }}
#recentFolder {{ color: {ACCENT}; border: none; padding: 2px 8px; }}
#recentFolder:hover {{ text-decoration: underline; }}
QToolTip {{ background: #303134; color: #E8EAED; border: 1px solid #5F6368; padding: 4px; }}
"""


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor("#1E1F22"), QColor("#292A2D"), QColor("#E8EAED")
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        p.setColor(group, QPalette.ColorRole.Window, window)
        p.setColor(group, QPalette.ColorRole.WindowText, text)
        p.setColor(group, QPalette.ColorRole.Base, base)
        p.setColor(group, QPalette.ColorRole.AlternateBase, QColor("#232428"))
        p.setColor(group, QPalette.ColorRole.Text, text)
        p.setColor(group, QPalette.ColorRole.Button, QColor("#303134"))
        p.setColor(group, QPalette.ColorRole.ButtonText, text)
        p.setColor(group, QPalette.ColorRole.Highlight, QColor("#3C6FD1"))
        p.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#FFFFFF"))
        p.setColor(group, QPalette.ColorRole.ToolTipBase, QColor("#303134"))
        p.setColor(group, QPalette.ColorRole.ToolTipText, text)
        p.setColor(group, QPalette.ColorRole.PlaceholderText, QColor("#80868B"))
        p.setColor(group, QPalette.ColorRole.Link, QColor(ACCENT))
        p.setColor(group, QPalette.ColorRole.BrightText, QColor("#F28B82"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6E7175"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6E7175"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#6E7175"))
    return p


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE_SHEET)
