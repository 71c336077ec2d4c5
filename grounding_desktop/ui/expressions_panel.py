"""The phrases of the image shown, each with its boxes, and the model's live proposals.

The tooltips carry the model's explanation (its module scores) so a person can see *why* a box
was proposed before trusting it.
"""
from __future__ import annotations

from typing import Optional, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ..core import Box, BoxState, Expression, Proposal
from .box_item import HIGHLIGHT_COLOUR, PHRASE_COLOURS, PROPOSAL_COLOUR

KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # "expression" | "box" | "proposals" | "proposal"
ID_ROLE = Qt.ItemDataRole.UserRole + 2
STATE_COLOURS = {BoxState.ACCEPTED: "#81C995", BoxState.PROPOSED: "#FDD663", BoxState.REJECTED: "#F28B82"}


def swatch(colour: str, dashed: bool = False, size: int = 14, dpr: float = 2.0) -> QIcon:
    pix = QPixmap(int(size * dpr), int(size * dpr))
    pix.setDevicePixelRatio(dpr)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = p.pen()
    pen.setColor(QColor(colour))
    pen.setWidthF(2.0)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    p.setPen(pen)
    fill = QColor(colour)
    fill.setAlpha(70)
    p.setBrush(fill)
    p.drawRoundedRect(2, 2, size - 4, size - 4, 2, 2)
    p.end()
    return QIcon(pix)


def box_tooltip(b: Box) -> str:
    x, y, w, h = b.bbox
    lines = [f"Box {b.id}: x {x:.0f}, y {y:.0f}, {w:.0f} × {h:.0f} px",
             f"{b.state.value} · source {b.source.value}" + (f" · score {b.score:.3f}" if b.score is not None else "")]
    if b.model_version:
        lines.append(f"model {b.model_version}")
    if b.explanation:
        lines.append(f"Why: {b.explanation}")
    return "\n".join(lines)


def proposal_tooltip(p: Proposal) -> str:
    x, y, w, h = p.bbox
    lines = [f"Proposal{(' ' + p.label) if p.label else ''}: score {p.score:.3f}",
             f"x {x:.0f}, y {y:.0f}, {w:.0f} × {h:.0f} px"]
    if p.explanation:
        lines.append(f"Why: {p.explanation}")
    if p.modules:
        lines.append("  ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                               for k, v in p.modules.items()))
    return "\n".join(lines)


class ExpressionsPanel(QWidget):
    box_selected = Signal(int)
    expression_selected = Signal(int)
    proposal_selected = Signal(int)
    proposal_activated = Signal(int)
    rename_requested = Signal(int)  # expression id

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("expressionsPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("expressionsTree")
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Phrase / box", "State", "Score", "Source"])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        layout.addWidget(self.tree)
        self._building = False
        self._annotations: list[tuple[Expression, list[Box]]] = []
        self._proposals: list[Proposal] = []
        self._phrase = ""
        self._highlight = -1

    # -- content -----------------------------------------------------------------------------
    def set_annotations(self, annotations: Sequence[tuple[Expression, Sequence[Box]]]) -> None:
        self._annotations = [(e, list(bs)) for e, bs in annotations]
        self._rebuild()

    def set_proposals(self, phrase: str, proposals: Sequence[Proposal], highlight: int) -> None:
        self._phrase = phrase
        self._proposals = list(proposals)
        self._highlight = highlight
        self._rebuild()

    def set_highlight(self, index: int) -> None:
        self._highlight = index
        root = self._proposals_root()
        if root is None:
            return
        for i in range(root.childCount()):
            self._style_proposal(root.child(i), i == index)

    def _proposals_root(self) -> Optional[QTreeWidgetItem]:
        top = self.tree.topLevelItem(0)
        return top if top is not None and top.data(0, KIND_ROLE) == "proposals" else None

    def _rebuild(self) -> None:
        selected = self.selected()
        self._building = True
        self.tree.clear()
        try:
            if self._proposals:
                root = QTreeWidgetItem([f"Proposals for “{self._phrase}”", "", "", ""])
                root.setData(0, KIND_ROLE, "proposals")
                f = QFont(root.font(0))
                f.setItalic(True)
                root.setFont(0, f)
                root.setForeground(0, QBrush(QColor(PROPOSAL_COLOUR)))
                root.setIcon(0, swatch(PROPOSAL_COLOUR, dashed=True))
                root.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.tree.addTopLevelItem(root)
                for i, p in enumerate(self._proposals):
                    item = QTreeWidgetItem([f"#{i + 1}  {p.label}".rstrip(), "proposed", f"{p.score:.2f}", "model"])
                    item.setData(0, KIND_ROLE, "proposal")
                    item.setData(0, ID_ROLE, i)
                    tip = proposal_tooltip(p)
                    for c in range(4):
                        item.setToolTip(c, tip)
                    item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    root.addChild(item)
                    self._style_proposal(item, i == self._highlight)
                root.setExpanded(True)
            for n, (expr, boxes) in enumerate(self._annotations):
                colour = PHRASE_COLOURS[n % len(PHRASE_COLOURS)]
                kept = [b for b in boxes if b.state != BoxState.REJECTED]
                summary = f"{len(kept)} box{'es' if len(kept) != 1 else ''}" if kept else "no target"
                scores = [b.score for b in kept if b.score is not None]
                item = QTreeWidgetItem([expr.text, summary, f"{max(scores):.2f}" if scores else "", ""])
                item.setData(0, KIND_ROLE, "expression")
                item.setData(0, ID_ROLE, expr.id)
                item.setIcon(0, swatch(colour))
                item.setToolTip(0, f"“{expr.text}” — double-click or F2 to edit, Del to delete")
                f = QFont(item.font(0))
                f.setBold(True)
                item.setFont(0, f)
                item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.tree.addTopLevelItem(item)
                for b in boxes:
                    x, y, w, h = b.bbox
                    child = QTreeWidgetItem([f"{w:.0f} × {h:.0f} at {x:.0f}, {y:.0f}", b.state.value,
                                             f"{b.score:.2f}" if b.score is not None else "–", b.source.value])
                    child.setData(0, KIND_ROLE, "box")
                    child.setData(0, ID_ROLE, b.id)
                    child.setForeground(1, QBrush(QColor(STATE_COLOURS[b.state])))
                    child.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    if b.state == BoxState.REJECTED:
                        f2 = QFont(child.font(0))
                        f2.setStrikeOut(True)
                        child.setFont(0, f2)
                        child.setForeground(0, QBrush(QColor("#80868B")))
                    tip = box_tooltip(b)
                    for c in range(4):
                        child.setToolTip(c, tip)
                    item.addChild(child)
                item.setExpanded(True)
        finally:
            self._building = False
        if selected is not None:
            self._select(*selected)

    def _style_proposal(self, item: QTreeWidgetItem, highlighted: bool) -> None:
        f = QFont(item.font(0))
        f.setBold(highlighted)
        for c in range(4):
            item.setFont(c, f)
        item.setIcon(0, swatch(HIGHLIGHT_COLOUR if highlighted else PROPOSAL_COLOUR, dashed=True))

    # -- selection ---------------------------------------------------------------------------
    def selected(self) -> Optional[tuple[str, int]]:
        items = self.tree.selectedItems()
        if not items:
            return None
        kind = items[0].data(0, KIND_ROLE)
        if kind in ("expression", "box", "proposal"):
            return kind, int(items[0].data(0, ID_ROLE))
        return None

    def select_box(self, box_id: Optional[int]) -> None:
        if box_id is None:
            self._building = True
            self.tree.clearSelection()
            self._building = False
        else:
            self._select("box", box_id)

    def select_expression(self, expression_id: int) -> None:
        self._select("expression", expression_id)

    def _select(self, kind: str, ident: int) -> None:
        self._building = True
        try:
            for i in range(self.tree.topLevelItemCount()):
                top = self.tree.topLevelItem(i)
                for item in [top] + [top.child(j) for j in range(top.childCount())]:
                    if item.data(0, KIND_ROLE) == kind and item.data(0, ID_ROLE) == ident:
                        self.tree.setCurrentItem(item)
                        self.tree.scrollToItem(item)
                        return
            self.tree.clearSelection()
        finally:
            self._building = False

    def _on_selection(self) -> None:
        if self._building:
            return
        sel = self.selected()
        if sel is None:
            return
        kind, ident = sel
        if kind == "box":
            self.box_selected.emit(ident)
        elif kind == "expression":
            self.expression_selected.emit(ident)
        elif kind == "proposal":
            self.proposal_selected.emit(ident)

    def _on_double_click(self, item: QTreeWidgetItem, column: int) -> None:
        kind = item.data(0, KIND_ROLE)
        if kind == "proposal":
            self.proposal_activated.emit(int(item.data(0, ID_ROLE)))
        elif kind == "expression":
            self.rename_requested.emit(int(item.data(0, ID_ROLE)))
        elif kind == "box" and item.parent() is not None:
            self.rename_requested.emit(int(item.parent().data(0, ID_ROLE)))
