"""Boxes on the canvas: stored boxes (solid, with handles when selected) and proposals (dashed).

Items live in scene coordinates that *are* image pixels (EXIF-corrected frame), so what is drawn
is exactly what is stored. Pens are cosmetic and labels ignore the view transform, so lines and
text stay crisp and readable at every zoom level and on high-DPI screens. A box's label is an item
of its own, above every box and handle (a child would be stacked with its box, under a selected
box's handles); it comes and goes with its box.
"""
from __future__ import annotations

from enum import Enum
from typing import Optional

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

HANDLE_PX = 9.0  # handle size on screen, in logical pixels
LABEL_Z, HIGHLIGHTED_LABEL_Z = 35, 36  # above every box (a selected one is at 30), under the hint point (40)

# Distinct, colour-blind-friendlier hues for the phrases of one image (cycled).
PHRASE_COLOURS = ("#4FC3F7", "#AED581", "#FFB74D", "#CE93D8", "#F48FB1", "#4DB6AC",
                  "#FFF176", "#9FA8DA", "#EF9A9A", "#BCAAA4")
PROPOSAL_COLOUR = "#FFD54F"
HIGHLIGHT_COLOUR = "#FF9100"
WEAK_COLOUR = "#B0B4BA"  # proposals (live or stored) scoring under the threshold: shown, but not shouting


class ItemKind(Enum):
    BOX = "box"  # stored: solid, selectable, with handles when selected
    PROPOSAL = "proposal"  # the model's: dashed, accepted by a click


class Handle(Enum):
    """The eight resize handles of a selected box: corners and edge midpoints."""

    TL = "tl"
    T = "t"
    TR = "tr"
    R = "r"
    BR = "br"
    B = "b"
    BL = "bl"
    L = "l"

    @property
    def cursor(self) -> Qt.CursorShape:
        if self in (Handle.TL, Handle.BR):
            return Qt.CursorShape.SizeFDiagCursor
        if self in (Handle.TR, Handle.BL):
            return Qt.CursorShape.SizeBDiagCursor
        if self in (Handle.L, Handle.R):
            return Qt.CursorShape.SizeHorCursor
        return Qt.CursorShape.SizeVerCursor


def handle_points(r: QRectF) -> dict[Handle, QPointF]:
    cx, cy = r.center().x(), r.center().y()
    return {
        Handle.TL: r.topLeft(), Handle.T: QPointF(cx, r.top()), Handle.TR: r.topRight(),
        Handle.R: QPointF(r.right(), cy), Handle.BR: r.bottomRight(), Handle.B: QPointF(cx, r.bottom()),
        Handle.BL: r.bottomLeft(), Handle.L: QPointF(r.left(), cy),
    }


class LabelItem(QGraphicsItem):
    """A small tag by a box (``BoxItem.label_spots``), in screen pixels whatever the zoom."""

    def __init__(self, text: str, colour: QColor, bold: bool = False):
        super().__init__()
        self.setZValue(LABEL_Z)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._font = QFont()
        self._font.setPointSizeF(9.0)
        self._font.setBold(bold)
        self._colour = colour
        self._set_text(text)

    def restyle(self, colour: QColor, bold: bool) -> None:
        self._colour = colour
        self._font.setBold(bold)
        self._set_text(self._text)  # bold text is wider
        self.update()

    def _set_text(self, text: str) -> None:
        self.prepareGeometryChange()
        self._text = text
        fm = QFontMetricsF(self._font)
        w = fm.horizontalAdvance(text) + 8
        h = fm.height() + 2
        self._rect = QRectF(0, 0, w, h)

    @property
    def text(self) -> str:
        return self._text

    @property
    def size_px(self) -> tuple[float, float]:
        return self._rect.width(), self._rect.height()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: Optional[QWidget] = None) -> None:
        if not self._text:
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._colour)
        painter.drawRoundedRect(self._rect, 2, 2)
        painter.setFont(self._font)
        painter.setPen(QColor("#111111") if self._colour.lightness() > 110 else QColor("#FFFFFF"))
        painter.drawText(self._rect.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         self._text)


class BoxItem(QGraphicsItem):
    """One rectangle in image pixels: a stored box (``box_id``; none while drawn or named) or a
    proposal (``proposal_index``: its kind is ``ItemKind.PROPOSAL``)."""

    def __init__(self, rect: QRectF, colour: str, label: str = "", box_id: Optional[int] = None,
                 proposal_index: Optional[int] = None, weak: bool = False):
        super().__init__()
        self.kind = ItemKind.BOX if proposal_index is None else ItemKind.PROPOSAL
        self.weak = weak
        self.box_id = box_id
        self.proposal_index = proposal_index
        self._rect = QRectF(rect).normalized()
        self._colour = QColor(WEAK_COLOUR if weak else colour)
        self._selected = False
        self._highlighted = False
        self._scale = 1.0
        self._label_at: Optional[QPointF] = None  # the label's top-left (scene), as the canvas placed it
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # the canvas does hit-testing itself
        self.setZValue(20 if self.kind == ItemKind.PROPOSAL else 10)
        self.label = LabelItem(label, self._colour)
        self._place_label()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):  # noqa: N802 - Qt's name
        """The label joins and leaves the scene with its box, and shows only with it."""
        if change == QGraphicsItem.GraphicsItemChange.ItemSceneChange and self.label.scene() is not None:
            self.label.scene().removeItem(self.label)
        elif change == QGraphicsItem.GraphicsItemChange.ItemSceneHasChanged and value is not None:
            value.addItem(self.label)
        elif change == QGraphicsItem.GraphicsItemChange.ItemVisibleHasChanged:
            self.label.setVisible(bool(value))
        return super().itemChange(change, value)

    # -- geometry ----------------------------------------------------------------------------
    @property
    def rect(self) -> QRectF:
        return QRectF(self._rect)

    def set_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(rect).normalized()
        self._label_at = None  # above the corner while it moves; the canvas lays labels out again
        self._place_label()

    def xywh(self) -> tuple[float, float, float, float]:
        r = self._rect
        return (r.x(), r.y(), r.width(), r.height())

    def set_view_scale(self, scale: float) -> None:
        """The canvas passes its zoom so handles keep a constant size on screen."""
        if scale > 0 and abs(scale - self._scale) > 1e-9:
            self.prepareGeometryChange()
            self._scale = scale
            self._label_at = None
            self._place_label()

    def _place_label(self) -> None:
        self.label.setPos(self._label_at if self._label_at is not None else self.label_spots()[0])

    def label_spots(self, right_edge: Optional[float] = None) -> list[QPointF]:
        """Where the label may go, best first (top-left corners, scene units): above the box's
        top-left corner; the same, clear of a corner handle; inside the box below its top edge, a
        line at a time; under the box. Each moved left to end at or before ``right_edge`` (the
        image's right side), never past the image's left side."""
        w, h = (v / self._scale for v in self.label.size_px)
        r = self._rect
        clear = (HANDLE_PX / 2 + 2) / self._scale
        spots = [QPointF(r.left(), r.top() - h), QPointF(r.left() + clear, r.top() - h)]
        spots += [QPointF(r.left() + clear, r.top() + clear + k * h) for k in range(4)]
        spots.append(QPointF(r.left(), r.bottom() + clear))
        if right_edge is not None:
            for p in spots:
                p.setX(max(min(p.x(), right_edge - w), min(r.left(), 0.0)))
        return spots

    def label_rect(self, at: QPointF) -> QRectF:
        """The label's rectangle, in scene units, with its top-left at ``at``."""
        w, h = self.label.size_px
        return QRectF(at.x(), at.y(), w / self._scale, h / self._scale)

    def place_label(self, at: QPointF) -> None:
        self._label_at = QPointF(at)
        self._place_label()

    def handle_rects(self) -> list[QRectF]:
        """The handles drawn on a selected box (scene units); none when not selected."""
        if not self._selected:
            return []
        s = HANDLE_PX / self._scale
        return [QRectF(p.x() - s / 2, p.y() - s / 2, s, s) for p in handle_points(self._rect).values()]

    def _margin(self) -> float:
        return (HANDLE_PX + 4) / self._scale

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        m = self._margin()
        return self._rect.adjusted(-m, -m, m, m)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.boundingRect())
        return path

    # -- state -------------------------------------------------------------------------------
    @property
    def selected(self) -> bool:
        return self._selected

    def set_selected(self, on: bool) -> None:
        if on != self._selected:
            self._selected = on
            self.setZValue((30 if on else 10) if self.kind == ItemKind.BOX else self.zValue())
            self.update()

    @property
    def highlighted(self) -> bool:
        return self._highlighted

    def set_highlighted(self, on: bool) -> None:
        if on != self._highlighted:
            self._highlighted = on
            if self.kind == ItemKind.PROPOSAL:
                self._colour = QColor(HIGHLIGHT_COLOUR if on else (WEAK_COLOUR if self.weak else PROPOSAL_COLOUR))
                self.label.restyle(self._colour, bold=on)
                self.label.setZValue(HIGHLIGHTED_LABEL_Z if on else LABEL_Z)
                self.setZValue(25 if on else 20)
            self.update()

    # -- hit testing (in scene = image pixels) -------------------------------------------------
    def handle_at(self, p: QPointF) -> Optional[Handle]:
        if not self._selected:
            return None
        tol = (HANDLE_PX * 0.5 + 3) / self._scale
        for name, hp in handle_points(self._rect).items():
            if abs(p.x() - hp.x()) <= tol and abs(p.y() - hp.y()) <= tol:
                return name
        return None

    def contains_point(self, p: QPointF) -> bool:
        tol = 3 / self._scale  # thin boxes are still clickable
        return self._rect.adjusted(-tol, -tol, tol, tol).contains(p)

    # -- painting ----------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: Optional[QWidget] = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        r = self._rect
        if self.kind == ItemKind.PROPOSAL:
            width = 3.0 if self._highlighted else (1.0 if self.weak else 1.6)
            # A dark under-stroke keeps dashed lines visible on bright images.
            under = QPen(QColor(0, 0, 0, 150), width + 2)
            under.setCosmetic(True)
            painter.setPen(under)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(r)
            pen = QPen(self._colour, width, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            painter.setPen(pen)
            if self._highlighted:
                fill = QColor(self._colour)
                fill.setAlpha(45)
                painter.setBrush(QBrush(fill))
            painter.drawRect(r)
            return
        width = 3.0 if self._selected else (1.2 if self.weak else 2.0)
        under = QPen(QColor(0, 0, 0, 140), width + 2)
        under.setCosmetic(True)
        painter.setPen(under)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(r)
        pen = QPen(self._colour, width)
        pen.setCosmetic(True)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        fill = QColor(self._colour)
        fill.setAlpha(40 if self._selected else 18)
        painter.setBrush(QBrush(fill))
        painter.drawRect(r)
        if self._selected:
            s = HANDLE_PX / self._scale
            edge = QPen(QColor("#1A1A1A"), 1)
            edge.setCosmetic(True)
            painter.setPen(edge)
            painter.setBrush(QColor("#FFFFFF"))
            for hp in handle_points(r).values():
                painter.drawRect(QRectF(hp.x() - s / 2, hp.y() - s / 2, s, s))
