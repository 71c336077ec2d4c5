"""The canvas's gestures: draw mode, the mouse (select, move, resize, draw, pan, a hint point, a
click on a proposal) and the keys the canvas handles itself (Space: tap or pan). A part of
``ui.canvas.Canvas``, written apart from its drawing; it reads and writes the attributes
``Canvas.__init__`` sets, and hands what the user did to the document's rules.
"""
from __future__ import annotations

from enum import Enum
from typing import Optional

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QCursor, QKeyEvent, QMouseEvent

from ..core import clamp_point, keep_inside
from .box_item import BoxItem, Handle

CLICK_SLOP_PX = 4  # a press and release closer than this is a click, not a drag
MIN_BOX_PX = 2.0  # smaller drawn boxes (in image pixels) are taken as slips and ignored


class Gesture(Enum):
    """What a mouse press started."""

    PAN = "pan"
    MOVE = "move"
    RESIZE = "resize"
    DRAW = "draw"
    CLICK = "click"  # decided on release: accept a proposal, or a hint point


def qrect(xywh) -> QRectF:
    return QRectF(*xywh)


def xywh_of(r: QRectF) -> tuple[float, float, float, float]:
    return (r.x(), r.y(), r.width(), r.height())


class CanvasInput:
    """The gestures of ``Canvas`` (mixed in before ``QGraphicsView``)."""

    # -- draw mode ---------------------------------------------------------------------------
    def set_draw_mode(self, on: bool) -> None:
        self.draw_mode = on
        self._update_cursor(self.mapToScene(self.viewport().mapFromGlobal(QCursor.pos())))

    def cancel_interaction(self) -> bool:
        """Esc during a drag: put things back. True if there was something to cancel."""
        if self._mode is None:
            return False
        if self._mode in (Gesture.MOVE, Gesture.RESIZE) and self._active is not None:
            self._active.set_rect(self._start_rect)
        if self._draw_item is not None:
            self._scene.removeItem(self._draw_item)
            self._draw_item = None
        self._mode = None
        self._active = None
        return True

    # -- mouse -------------------------------------------------------------------------------
    def _hit_box(self, p: QPointF) -> Optional[BoxItem]:
        """The smallest stored box under ``p``: nested boxes stay reachable."""
        hits = [b for b in self._boxes if b.contains_point(p)]
        return min(hits, key=lambda b: b.rect.width() * b.rect.height()) if hits else None

    def _hit_proposal(self, p: QPointF) -> Optional[BoxItem]:
        hits = [b for b in self._proposals if b.isVisible() and b.contains_point(p)]
        if not hits:
            return None
        for b in hits:
            if b.highlighted:
                return b
        return min(hits, key=lambda b: b.rect.width() * b.rect.height())

    def _inside(self, p: QPointF) -> QPointF:
        """The nearest point of the image to ``p``."""
        r = self._image_rect
        return QPointF(*clamp_point(p.x(), p.y(), r.width(), r.height()))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if not self.keep_focus_elsewhere():
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position()
        self._press_view = QPointF(pos)
        p = self.mapToScene(pos.toPoint())
        self._press_scene = p
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_down):
            self._begin_pan()
            return
        if button != Qt.MouseButton.LeftButton or self._image_rect.isEmpty() or self._doc is None:
            super().mousePressEvent(event)
            return
        self._ctrl_click = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        sel = self._selected_item()
        if sel is not None and not self.draw_mode:
            handle = sel.handle_at(p)
            if handle is not None:
                self._mode, self._handle, self._active = Gesture.RESIZE, handle, sel
                self._start_rect = sel.rect
                return
        if self.draw_mode and self._has_image and self._image_rect.contains(p):
            self._mode = Gesture.DRAW
            start = self._inside(p)
            self._press_scene = start
            self._draw_item = BoxItem(QRectF(start, start), "#FFFFFF", "")
            self._draw_item.set_view_scale(self.zoom)
            self._draw_item.set_selected(True)
            self._scene.addItem(self._draw_item)
            return
        if not self._ctrl_click and self._hit_proposal(p) is not None:
            self._mode = Gesture.CLICK  # accepted on release, if it was a click
            return
        box = None if self._ctrl_click else self._hit_box(p)
        if box is not None:
            self._doc.labels.select_box(box.box_id)
            self._mode, self._active = Gesture.MOVE, box
            self._start_rect = box.rect
            return
        self._mode = Gesture.CLICK

    def _begin_pan(self) -> None:
        self._mode = Gesture.PAN
        self._space_panned = self._space_down
        self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        pos = event.position()
        p = self.mapToScene(pos.toPoint())
        if self._mode == Gesture.PAN:
            d = pos - self._press_view
            self._press_view = QPointF(pos)
            self.horizontalScrollBar().setValue(int(self.horizontalScrollBar().value() - d.x()))
            self.verticalScrollBar().setValue(int(self.verticalScrollBar().value() - d.y()))
            return
        if self._mode == Gesture.CLICK and (pos - self._press_view).manhattanLength() > CLICK_SLOP_PX:
            if not self._ctrl_click:
                self._begin_pan()  # dragging empty space pans
                return
        if self._mode == Gesture.MOVE and self._active is not None:
            moved = xywh_of(self._start_rect.translated(p - self._press_scene))
            self._active.set_rect(qrect(keep_inside(moved, self._image_rect.width(), self._image_rect.height())))
            return
        if self._mode == Gesture.RESIZE and self._active is not None:
            self._active.set_rect(self._resized(self._start_rect, self._handle, self._inside(p)))
            return
        if self._mode == Gesture.DRAW and self._draw_item is not None:
            self._draw_item.set_rect(QRectF(self._press_scene, self._inside(p)).normalized())
            return
        self._update_cursor(p)
        super().mouseMoveEvent(event)

    @staticmethod
    def _resized(r: QRectF, handle: Optional[Handle], p: QPointF) -> QRectF:
        x1, y1, x2, y2 = r.left(), r.top(), r.right(), r.bottom()
        if handle in (Handle.TL, Handle.L, Handle.BL):
            x1 = p.x()
        if handle in (Handle.TR, Handle.R, Handle.BR):
            x2 = p.x()
        if handle in (Handle.TL, Handle.T, Handle.TR):
            y1 = p.y()
        if handle in (Handle.BL, Handle.B, Handle.BR):
            y2 = p.y()
        return QRectF(QPointF(min(x1, x2), min(y1, y2)), QPointF(max(x1, x2), max(y1, y2)))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        mode, self._mode = self._mode, None
        p = self.mapToScene(event.position().toPoint())
        if mode == Gesture.PAN:
            self._update_cursor(p)
            return
        if mode in (Gesture.MOVE, Gesture.RESIZE) and self._active is not None:
            item, self._active = self._active, None
            old, new = self._start_rect, item.rect
            if (abs(new.x() - old.x()) + abs(new.y() - old.y()) + abs(new.width() - old.width())
                    + abs(new.height() - old.height())) > 1e-6 and new.width() >= 1 and new.height() >= 1:
                self._doc.labels.move_box(item.box_id, xywh_of(new), resized=mode == Gesture.RESIZE)
            else:
                item.set_rect(old)
            return
        if mode == Gesture.DRAW and self._draw_item is not None:
            item, self._draw_item = self._draw_item, None
            self._scene.removeItem(item)
            r = item.rect
            on_screen = min(r.width(), r.height()) * self.zoom
            if r.width() >= MIN_BOX_PX and r.height() >= MIN_BOX_PX and on_screen >= 3:
                self.box_drawn.emit(xywh_of(r))
            return
        if mode == Gesture.CLICK:
            if not self._ctrl_click:
                prop = self._hit_proposal(p)
                if prop is not None:
                    self._doc.accept(prop.proposal_index)
                    return
            self._doc.labels.select(None)
            if self._has_image and self._image_rect.contains(p):
                self._doc.query.set_hint((p.x(), p.y()))
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        p = self.mapToScene(event.position().toPoint())
        box = self._hit_box(p)
        if box is not None and event.button() == Qt.MouseButton.LeftButton and not self.draw_mode:
            self._doc.labels.select_box(box.box_id)
            self.edit_requested.emit(box.box_id)
            return
        super().mouseDoubleClickEvent(event)

    def _update_cursor(self, p: QPointF) -> None:
        if self._space_down:
            shape = Qt.CursorShape.OpenHandCursor
        elif self.draw_mode:
            shape = Qt.CursorShape.CrossCursor
        else:
            sel = self._selected_item()
            handle = sel.handle_at(p) if sel is not None else None
            if handle is not None:
                shape = handle.cursor
            elif self._hit_proposal(p) is not None:
                shape = Qt.CursorShape.PointingHandCursor
            elif self._hit_box(p) is not None:
                shape = Qt.CursorShape.SizeAllCursor
            else:
                shape = Qt.CursorShape.ArrowCursor
        self.viewport().setCursor(shape)

    # -- Space: tap = action, hold + drag = pan ---------------------------------------------------
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Space and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            event.accept()  # handled in keyPress/keyRelease so Space+drag can pan
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Space and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            if not event.isAutoRepeat():
                self._space_down = True
                self._space_panned = False
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat() and self._space_down:
                self._space_down = False
                panned = self._space_panned or self._mode == Gesture.PAN
                self._space_panned = False
                self._update_cursor(self.mapToScene(self.viewport().mapFromGlobal(QCursor.pos())))
                if not panned:
                    self.space_tapped.emit()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._space_down = False
        super().focusOutEvent(event)
