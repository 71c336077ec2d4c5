"""The phrases of the image shown, each with its boxes, and the model's live proposals.

It draws what the bound ``ImageDocument`` holds, rebuilding only the section a signal names (a Tab
restyles two rows), and hands clicks to the document. The tooltips carry the model's explanation
(its module scores) so a person can see *why* a box was proposed before trusting it.
"""
from __future__ import annotations

from enum import Enum
from functools import lru_cache
from typing import Optional

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ..core import Box, BoxState, PhraseStatus, Proposal, phrase_status
from ..editing.document import ImageDocument
from ..editing.keys import key
from ..editing.state import Annotation, SelectionKind
from .box_item import HIGHLIGHT_COLOUR, PHRASE_COLOURS, PROPOSAL_COLOUR
from .proposal_text import proposal_tooltip

KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # a RowKind
ID_ROLE = Qt.ItemDataRole.UserRole + 2  # expression id, box id, or proposal index
STATE_COLOURS = {BoxState.ACCEPTED: "#81C995", BoxState.PROPOSED: "#FDD663", BoxState.REJECTED: "#F28B82"}
MIN_PHRASE_COLUMN_PX = 120
NEEDS_BOX_COLOUR = "#FDD663"  # unfinished: a label still to make, not an error
STATUS_TIPS = {
    PhraseStatus.LABELLED: "Labelled: its accepted boxes are exported.",
    PhraseStatus.TO_REVIEW: "Only proposals to review: accept or reject them; not exported until then.",
    PhraseStatus.NO_TARGET: "Not in this image: exported as a negative example.",
    PhraseStatus.NEEDS_BOX: f"Needs a box: its proposals were rejected. Draw the box ({key('draw_mode')}), accept "
                            f"another proposal, or {key('accept_none')} on the phrase if the thing is not in the "
                            "image. Not exported until then.",
}


class RowKind(Enum):
    PHRASE = "phrase"
    BOX = "box"
    PROPOSALS = "proposals"  # the heading over the proposals
    PROPOSAL = "proposal"


@lru_cache(maxsize=64)
def swatch(colour: str, dashed: bool = False, size: int = 14, dpr: float = 2.0) -> QIcon:
    """A small box icon in a phrase's or a proposal's colour (drawn once per colour, then reused)."""
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


class ExpressionsPanel(QWidget):
    edit_requested = Signal()  # a phrase or box row double-clicked (and so selected): edit its phrase

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
        # The phrase column fills the panel, and the user may drag it wider than that (the list
        # then scrolls sideways) to read long phrases; the tooltip shows them whole anyway.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        for c in (1, 2, 3):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self._user_width: Optional[int] = None  # the phrase column's width the user dragged it to
        self._fitting = False
        header.sectionResized.connect(self._on_section_resized)
        self.tree.viewport().installEventFilter(self)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        layout.addWidget(self.tree)
        self._building = False
        self._doc: Optional[ImageDocument] = None

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if obj is self.tree.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_phrase_column()
        return super().eventFilter(obj, event)

    def _fit_columns(self) -> None:
        """After rows changed: the state, score and source columns take their contents' width now
        (Qt would do it later, after the phrase column was fitted to the old widths), then the
        phrase column the room left."""
        self.tree.doItemsLayout()
        self.tree.header().resizeSections()
        self._fit_phrase_column()

    def _fit_phrase_column(self) -> None:
        """The phrase column takes the room the other columns leave, or the user's wider width. Only
        a wider one scrolls sideways: a scroll bar that came and went whenever a column fitted to its
        content grew would resize the list, and refit the column, again."""
        others = sum(self.tree.columnWidth(c) for c in (1, 2, 3))
        fill = max(self.tree.viewport().width() - others, MIN_PHRASE_COLUMN_PX)
        wider = (self._user_width or 0) > fill
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if wider
                                               else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        width = self._user_width if wider else fill
        if width != self.tree.columnWidth(0):
            self._fitting = True
            try:
                self.tree.setColumnWidth(0, width)
            finally:
                self._fitting = False

    def _on_section_resized(self, index: int, _old: int, new: int) -> None:
        if index == 0 and not self._fitting:
            self._user_width = new
        elif index != 0:
            self._fit_phrase_column()  # a state or score column grew with its content

    def bind(self, doc: ImageDocument) -> None:
        """Show ``doc``'s phrases and proposals from now on, updating only what each signal names."""
        self._doc = doc
        doc.labels.annotations_changed.connect(self._show_annotations)
        doc.query.proposals_changed.connect(self._show_proposals)
        doc.query.highlight_changed.connect(self._show_highlight)
        doc.labels.selection_changed.connect(self._show_selection)

    # -- content -----------------------------------------------------------------------------
    def _proposals_root(self) -> Optional[QTreeWidgetItem]:
        top = self.tree.topLevelItem(0)
        return top if top is not None and top.data(0, KIND_ROLE) == RowKind.PROPOSALS else None

    def _show_proposals(self) -> None:
        self._building = True
        try:
            old = self._proposals_root()
            if old is not None:
                self.tree.takeTopLevelItem(0)
            doc = self._doc
            if doc.query.proposals:
                self.tree.insertTopLevelItem(0, self._proposals_item(doc.query.answer.query.phrase, doc.query.proposals))
                self.tree.topLevelItem(0).setExpanded(True)
                self._show_highlight()
        finally:
            self._building = False
        self._fit_columns()

    def _proposals_item(self, phrase: str, proposals: tuple[Proposal, ...]) -> QTreeWidgetItem:
        root = QTreeWidgetItem([f"Proposals for “{phrase}”", "", "", ""])
        root.setData(0, KIND_ROLE, RowKind.PROPOSALS)
        f = QFont(root.font(0))
        f.setItalic(True)
        root.setFont(0, f)
        root.setForeground(0, QBrush(QColor(PROPOSAL_COLOUR)))
        root.setIcon(0, swatch(PROPOSAL_COLOUR, dashed=True))
        root.setFlags(Qt.ItemFlag.ItemIsEnabled)
        root.setToolTip(0, f"Proposals for “{phrase}”: {key('next_proposal')} moves the highlight, "
                           f"{key('accept')} accepts it, {key('reject')} rejects it")
        for i, p in enumerate(proposals):
            item = QTreeWidgetItem([f"#{i + 1}  {p.label}".rstrip(), "proposed", f"{p.score:.2f}", "model"])
            item.setData(0, KIND_ROLE, RowKind.PROPOSAL)
            item.setData(0, ID_ROLE, i)
            tip = proposal_tooltip(i, p)
            for c in range(4):
                item.setToolTip(c, tip)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setIcon(0, swatch(PROPOSAL_COLOUR, dashed=True))
            root.addChild(item)
        return root

    def _show_highlight(self) -> None:
        root = self._proposals_root()
        if root is None:
            return
        for i in range(root.childCount()):
            item = root.child(i)
            highlighted = i == self._doc.query.highlight
            if item.font(0).bold() == highlighted:
                continue  # unchanged: a Tab restyles two rows
            f = QFont(item.font(0))
            f.setBold(highlighted)
            item.setFont(0, f)  # the name column only: bold text there widens no column fitted to its content
            item.setIcon(0, swatch(HIGHLIGHT_COLOUR if highlighted else PROPOSAL_COLOUR, dashed=True))

    def _show_annotations(self) -> None:
        self._building = True
        try:
            first = 1 if self._proposals_root() is not None else 0
            while self.tree.topLevelItemCount() > first:
                self.tree.takeTopLevelItem(first)
            self.tree.addTopLevelItems([self._phrase_item(n, a) for n, a in enumerate(self._doc.labels.annotations)])
            for i in range(first, self.tree.topLevelItemCount()):
                self.tree.topLevelItem(i).setExpanded(True)
        finally:
            self._building = False
        self._fit_columns()
        self._show_selection()

    @staticmethod
    def _phrase_item(n: int, a: Annotation) -> QTreeWidgetItem:
        expr, kept = a.expression, a.kept
        status = phrase_status(expr, a.boxes)
        summary = f"{len(kept)} box{'es' if len(kept) != 1 else ''}" if kept else status.value
        scores = [b.score for b in kept if b.score is not None]
        item = QTreeWidgetItem([expr.text, summary, f"{max(scores):.2f}" if scores else "", ""])
        item.setData(0, KIND_ROLE, RowKind.PHRASE)
        item.setData(0, ID_ROLE, expr.id)
        item.setIcon(0, swatch(PHRASE_COLOURS[n % len(PHRASE_COLOURS)]))
        tip = (f"“{expr.text}”\n{STATUS_TIPS[status]}\nDouble-click or {key('rename')} to edit its text, "
               f"{key('delete')} to delete it")
        for c in range(4):
            item.setToolTip(c, tip)  # the whole phrase, however narrow the column
        if status == PhraseStatus.NEEDS_BOX:
            item.setForeground(1, QBrush(QColor(NEEDS_BOX_COLOUR)))
        f = QFont(item.font(0))
        f.setBold(True)
        item.setFont(0, f)
        item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for b in a.boxes:
            x, y, w, h = b.bbox
            child = QTreeWidgetItem([f"{w:.0f} × {h:.0f} at {x:.0f}, {y:.0f}", b.state.value,
                                     f"{b.score:.2f}" if b.score is not None else "–", b.source.value])
            child.setData(0, KIND_ROLE, RowKind.BOX)
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
        return item

    def rows(self) -> list[QTreeWidgetItem]:
        """Every row, top to bottom (headings, phrases, their boxes)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            out += [top] + [top.child(j) for j in range(top.childCount())]
        return out

    # -- selection ---------------------------------------------------------------------------
    def _show_selection(self) -> None:
        sel = self._doc.labels.selection
        kind = None if sel is None else (RowKind.BOX if sel.kind == SelectionKind.BOX else RowKind.PHRASE)
        self._building = True
        try:
            row = next((r for r in self.rows() if kind is not None and r.data(0, KIND_ROLE) == kind
                        and r.data(0, ID_ROLE) == sel.id), None)
            if row is None:
                self.tree.clearSelection()
            else:
                self.tree.setCurrentItem(row)
                self.tree.scrollToItem(row)
        finally:
            self._building = False

    def _on_selection(self) -> None:
        items = self.tree.selectedItems()
        if self._building or not items:
            return
        kind, ident = items[0].data(0, KIND_ROLE), items[0].data(0, ID_ROLE)
        if kind == RowKind.BOX:
            self._doc.labels.select_box(ident)
        elif kind == RowKind.PHRASE:
            self._doc.labels.select_phrase(ident)
        elif kind == RowKind.PROPOSAL:
            self._doc.query.set_highlight(ident)

    def _on_double_click(self, item: QTreeWidgetItem, column: int) -> None:
        kind = item.data(0, KIND_ROLE)
        if kind == RowKind.PROPOSAL:
            self._doc.accept(int(item.data(0, ID_ROLE)))
        elif kind in (RowKind.PHRASE, RowKind.BOX):
            self.edit_requested.emit()
