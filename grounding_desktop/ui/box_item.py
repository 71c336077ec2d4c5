"""Boxes on the canvas: stored boxes (solid, with handles when selected) and proposals (dashed).

Items live in scene coordinates that *are* image pixels (EXIF-corrected frame), so what is drawn
is exactly what is stored. Pens are cosmetic and labels ignore the view transform, so lines and
text stay crisp and readable at every zoom level and on high-DPI screens.
"""
from __future__ import annotations

from enum import Enum
from typing import Optional

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

HANDLE_PX = 9.0  # handle size on screen, in logical pixels

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
    """A small tag above a box's top-left corner, in screen pixels whatever the zoom."""

    def __init__(self, parent: QGraphicsItem, text: str, colour: QColor, bold: bool = False):
        super().__init__(parent)
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
        self._rect = QRectF(-1, -h, w, h)

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
    """One rectangle in image pixels: a stored box (``box_id``) or a proposal (``proposal_index``)."""

    def __init__(self, rect: QRectF, colour: str, label: str = "", kind: ItemKind = ItemKind.BOX,
                 box_id: Optional[int] = None, proposal_index: Optional[int] = None, weak: bool = False):
        super().__init__()
        self.kind = kind
        self.weak = weak
        self.box_id = box_id
        self.proposal_index = proposal_index
        self._rect = QRectF(rect).normalized()
        self._colour = QColor(WEAK_COLOUR if weak else colour)
        self._selected = False
        self._highlighted = False
        self._scale = 1.0
        self._label_drop = 0.0  # label moved down by this many label heights to avoid another one
        self._label_shift = 0.0  # label moved left by this much (scene units) to stay on the image
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # the canvas does hit-testing itself
        self.setZValue(20 if kind == ItemKind.PROPOSAL else 10)
        self.label = LabelItem(self, label, self._colour)
        self._place_label()

    # -- geometry ----------------------------------------------------------------------------
    @property
    def rect(self) -> QRectF:
        return QRectF(self._rect)

    def set_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(rect).normalized()
        self._place_label()

    def xywh(self) -> tuple[float, float, float, float]:
        r = self._rect
        return (r.x(), r.y(), r.width(), r.height())

    def set_view_scale(self, scale: float) -> None:
        """The canvas passes its zoom so handles keep a constant size on screen."""
        if scale > 0 and abs(scale - self._scale) > 1e-9:
            self.prepareGeometryChange()
            self._scale = scale
            self._place_label()

    def _place_label(self) -> None:
        h = self.label.size_px[1]
        self.label.setPos(self._rect.topLeft() + QPointF(-self._label_shift, self._label_drop * h / self._scale))

    def label_shift_within(self, right_edge: float) -> float:
        """How far left the label must move for its right end to stay at or before ``right_edge``
        (the image's right side), never past the box's left side's room: 0 when it fits."""
        overflow = self._rect.left() + self.label.size_px[0] / self._scale - right_edge
        return min(max(overflow, 0.0), max(self._rect.left(), 0.0))

    def label_rect(self, drop: float, shift: float = 0.0) -> QRectF:
        """Where the label would be, in scene units, dropped by ``drop`` label heights and moved
        left by ``shift``."""
        w, h = self.label.size_px
        top_left = self._rect.topLeft() + QPointF(-1 / self._scale - shift, (drop - 1) * h / self._scale)
        return QRectF(top_left.x(), top_left.y(), w / self._scale, h / self._scale)

    def set_label_place(self, drop: float, shift: float = 0.0) -> None:
        self._label_drop, self._label_shift = drop, shift
        self._place_label()

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
