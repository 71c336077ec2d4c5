"""The image view: zoom, pan, boxes, proposals, hint point, and the mouse gestures that edit them
(those in ``canvas_input``).

The canvas never writes the database and keeps no copy of the labels: it draws what the bound
``ImageDocument`` holds, redrawing only the part a signal names (a Tab restyles two proposals),
and hands what the user did to the document's rules (select, move, accept a proposal, a hint
point). The scene's unit is one image pixel of the EXIF-corrected original; a downscaled display
image is stretched back to that size, so coordinates never depend on how the image was decoded.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap, QTransform, QWheelEvent
from PySide6.QtWidgets import (QGraphicsEllipseItem, QGraphicsItem, QGraphicsLineItem, QGraphicsPixmapItem,
                               QGraphicsRectItem, QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView,
                               QWidget)

from ..core import BoxState
from ..editing.document import ImageDocument
from ..editing.keys import key
from ..editing.state import Tone
from .box_item import PHRASE_COLOURS, PROPOSAL_COLOUR, BoxItem, Handle
from .canvas_input import CanvasInput, Gesture, qrect
from .proposal_text import proposal_tag, proposal_tooltip

MIN_ZOOM, MAX_ZOOM = 0.02, 40.0
BACKGROUND = QColor("#1E1F22")
MESSAGE_COLOURS = {Tone.ERROR: "#F28B82"}  # other tones: the plain detail colour
DETAIL_COLOUR = "#BDC1C6"


class Canvas(CanvasInput, QGraphicsView):
    """Shows one image with its boxes and the model's proposals (``bind`` a document first)."""

    box_drawn = Signal(tuple)  # xywh: the window names it (the document may need to ask for a phrase)
    edit_requested = Signal(int)  # box id double-clicked
    space_tapped = Signal()  # Space pressed and released without panning
    image_painted = Signal()  # the first paint after an image was set
    zoom_changed = Signal(float)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("canvas")
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self.setBackgroundBrush(BACKGROUND)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform
                            | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setMouseTracking(True)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        # Panning is by drag (middle button, Space, or empty image area); scroll bars only take room.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Clicks must not steal focus from the phrase bar while someone types (click = hint point);
        # the canvas takes focus itself in mousePressEvent when that is not the case.
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.keep_focus_elsewhere = lambda: False

        self._pixmap_item = QGraphicsPixmapItem()
        self._pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        # Smooth scaling of a photo is the dearest part of a repaint: keep the scaled image at screen
        # resolution, so moving a highlight or a box repaints by copying pixels (redone on zoom).
        self._pixmap_item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._pixmap_item.setZValue(0)
        self._scene.addItem(self._pixmap_item)
        self._placeholder: list[QGraphicsItem] = []
        self._image_rect = QRectF()
        self._has_image = False
        self._fit_mode = True
        self._paint_pending = False

        self._doc: Optional[ImageDocument] = None
        self._boxes: list[BoxItem] = []
        self._proposals: list[BoxItem] = []
        self._hint_items: list[QGraphicsItem] = []
        self._draw_item: Optional[BoxItem] = None
        self._pending: Optional[BoxItem] = None  # a drawn box waiting for its phrase
        self.draw_mode = False

        # interaction state
        self._mode: Optional[Gesture] = None
        self._press_view = QPointF()
        self._press_scene = QPointF()
        self._start_rect = QRectF()
        self._handle: Optional[Handle] = None
        self._active: Optional[BoxItem] = None
        self._ctrl_click = False
        self._space_down = False
        self._space_panned = False

    def bind(self, doc: ImageDocument) -> None:
        """Draw ``doc``'s image labels from now on, updating only what each signal names."""
        self._doc = doc
        doc.labels.annotations_changed.connect(self._draw_boxes)
        doc.labels.selection_changed.connect(self._apply_selection)
        doc.query.proposals_changed.connect(self._draw_proposals)
        doc.labels.threshold_changed.connect(self._draw_proposals)  # weaker ones are drawn faint
        doc.query.highlight_changed.connect(self._apply_highlight)
        doc.query.hint_changed.connect(self._draw_hint)

    # -- content -----------------------------------------------------------------------------
    @property
    def image_rect(self) -> QRectF:
        return QRectF(self._image_rect)

    @property
    def has_image(self) -> bool:
        return self._has_image

    @property
    def display_size(self) -> QSize:
        """Pixels of the decoded image on screen (downscaled for huge images), not image pixels."""
        return self._pixmap_item.pixmap().size()

    def show_image(self, image: Optional[QImage], width: int, height: int) -> None:
        """Show a decoded image stretched to ``width`` x ``height`` image pixels, with its labels."""
        self._clear_placeholder()
        if image is None or image.isNull():
            self._pixmap_item.setPixmap(QPixmap())
            self._has_image = False
            self._draw_all()
            return
        pix = QPixmap.fromImage(image)
        self._pixmap_item.setPixmap(pix)
        self._pixmap_item.setOpacity(1.0)
        w, h = (width, height) if width > 0 and height > 0 else (image.width(), image.height())
        self._pixmap_item.setTransform(QTransform.fromScale(w / image.width(), h / image.height()))
        self._image_rect = QRectF(0, 0, w, h)
        self._has_image = True
        self._set_scene_rect()
        self._fit_mode = True
        self.fit()
        self._draw_all()
        self._paint_pending = True
        self.viewport().update()

    def hold_for_loading(self) -> None:
        """While the next image decodes: dim the last one and draw nothing on it (its boxes would be
        the wrong image's); avoids a flash of a placeholder when decoding takes a few ms."""
        self._has_image = False
        self._draw_all()
        self._pixmap_item.setOpacity(0.3)

    def show_message(self, title: str, detail: str = "", tone: Tone = Tone.NORMAL, final: bool = True) -> None:
        """A placeholder instead of an image: 'Loading…' (not final), or why a file cannot be shown."""
        self._clear_placeholder()
        self._pixmap_item.setPixmap(QPixmap())
        self._has_image = False
        self._draw_all()
        w, h = 960, 640
        self._image_rect = QRectF(0, 0, w, h)
        rect = QGraphicsRectItem(self._image_rect)
        rect.setBrush(QColor("#2B2D31"))
        pen = QPen(QColor("#5A5D63"), 1.5, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        rect.setPen(pen)
        self._scene.addItem(rect)
        items: list[QGraphicsItem] = [rect]
        font = QFont()
        font.setPointSizeF(22)
        t = QGraphicsSimpleTextItem(title)
        t.setFont(font)
        t.setBrush(QColor("#E8EAED"))
        t.setPos((w - t.boundingRect().width()) / 2, h / 2 - 60)
        self._scene.addItem(t)
        items.append(t)
        if detail:
            f2 = QFont()
            f2.setPointSizeF(15)
            d = QGraphicsSimpleTextItem(detail)
            d.setFont(f2)
            d.setBrush(QColor(MESSAGE_COLOURS.get(tone, DETAIL_COLOUR)))
            bw = d.boundingRect().width()
            if bw > w - 40:
                d.setScale((w - 40) / bw)
                bw = w - 40
            d.setPos((w - bw) / 2, h / 2 + 5)
            self._scene.addItem(d)
            items.append(d)
        for it in items:
            it.setZValue(5)
        self._placeholder = items
        self._set_scene_rect()
        self._fit_mode = True
        self.fit()
        self._paint_pending = final
        self.viewport().update()

    @property
    def message_lines(self) -> list[str]:
        """The placeholder's title and detail, when one is shown instead of an image."""
        return [it.text() for it in self._placeholder if isinstance(it, QGraphicsSimpleTextItem)]

    def _clear_placeholder(self) -> None:
        for it in self._placeholder:
            self._scene.removeItem(it)
        self._placeholder = []

    def _set_scene_rect(self) -> None:
        # Generous margins so an image can be panned to any edge and labels above boxes show.
        r = self._image_rect
        m = max(r.width(), r.height()) * 0.5
        self._scene.setSceneRect(r.adjusted(-m, -m, m, m))

    def _draw_all(self) -> None:
        self._draw_boxes()
        self._draw_proposals()
        self._draw_hint()

    def _draw_boxes(self) -> None:
        """The image's stored boxes (rejected ones are listed in the panel, not drawn); proposed
        ones scoring under the threshold faint (Space leaves them proposals)."""
        for it in self._boxes:
            self._scene.removeItem(it)
        self._boxes = []
        annotations = self._doc.labels.annotations if self._doc is not None and self._has_image else ()
        for i, a in enumerate(annotations):
            colour = PHRASE_COLOURS[i % len(PHRASE_COLOURS)]
            text = a.expression.text
            for b in a.kept:
                label = (text if len(text) <= 32 else text[:31] + "…") + (" ?" if b.state == BoxState.PROPOSED else "")
                weak = b.state == BoxState.PROPOSED and not self._doc.labels.is_confident(b)
                item = BoxItem(qrect(b.bbox), colour, label, box_id=b.id, weak=weak)
                item.set_view_scale(self.zoom)
                self._scene.addItem(item)
                self._boxes.append(item)
        self._apply_selection()

    def box_items(self) -> list[BoxItem]:
        return list(self._boxes)

    def box_item(self, box_id: int) -> Optional[BoxItem]:
        return next((b for b in self._boxes if b.box_id == box_id), None)

    def _draw_proposals(self) -> None:
        """Every proposal gets an item (Tab walks them all); those under the threshold stay hidden
        unless highlighted, so weak guesses do not clutter the good one."""
        for it in self._proposals:
            self._scene.removeItem(it)
        self._proposals = []
        doc = self._doc
        proposals = doc.query.proposals if doc is not None and self._has_image else ()
        for i, p in enumerate(proposals):
            item = BoxItem(qrect(p.bbox), PROPOSAL_COLOUR, proposal_tag(i, p), proposal_index=i,
                           weak=p.score < doc.labels.threshold)
            item.set_view_scale(self.zoom)
            item.setToolTip(proposal_tooltip(i, p))
            self._scene.addItem(item)
            self._proposals.append(item)
        self._apply_highlight()

    def proposal_items(self) -> list[BoxItem]:
        """One item per proposal, hidden ones included (``isVisible``)."""
        return list(self._proposals)

    def _apply_highlight(self) -> None:
        index = self._doc.query.highlight if self._doc is not None else -1
        for it in self._proposals:
            it.set_highlighted(it.proposal_index == index)
            it.setVisible(it.highlighted or not it.weak)
        self._layout_labels()

    def _layout_labels(self) -> None:
        """Keep labels readable, as labelme and CVAT do: no label covers another one or a handle of
        the selected box. The highlighted proposal's label is placed first, then the other
        proposals', then the boxes'; each takes its box's first free spot (``label_spots``: above
        its corner, inside it a line at a time, under it), else the one that covers least. Every
        label stays on the image (moved left near the right side)."""
        shown = [it for it in self._proposals if it.isVisible()]
        order = sorted(shown, key=lambda it: (not it.highlighted, it.proposal_index)) + self._boxes
        placed = [r for it in self._boxes for r in it.handle_rects()]
        right = self._image_rect.right()

        def covered(r: QRectF) -> float:
            return sum(r.intersected(p).width() * r.intersected(p).height() for p in placed if r.intersects(p))

        for it in order:
            spots = it.label_spots(right)
            at = min(spots, key=lambda p: covered(it.label_rect(p)))  # the first free one, if any
            it.place_label(at)
            placed.append(it.label_rect(at))

    def _draw_hint(self) -> None:
        for it in self._hint_items:
            self._scene.removeItem(it)
        self._hint_items = []
        point = self.hint_point
        if point is None:
            return
        x, y = point
        ring = QGraphicsEllipseItem(-7, -7, 14, 14)
        ring.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        pen = QPen(QColor("#00E5FF"), 2.5)
        pen.setCosmetic(True)
        ring.setPen(pen)
        ring.setBrush(QColor(0, 229, 255, 60))
        ring.setPos(x, y)
        ring.setZValue(40)
        ring.setToolTip(f"Hint point: proposals near it are preferred ({key('clear')} clears)")
        self._scene.addItem(ring)
        items: list[QGraphicsItem] = [ring]
        for dx, dy in ((1, 0), (0, 1)):
            line = QGraphicsLineItem(-12 * dx, -12 * dy, 12 * dx, 12 * dy)
            line.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            line.setPen(pen)
            line.setPos(x, y)
            line.setZValue(40)
            self._scene.addItem(line)
            items.append(line)
        self._hint_items = items

    @property
    def hint_point(self) -> Optional[tuple[float, float]]:
        """The hint point drawn on the image (the document's, while an image is shown)."""
        return self._doc.query.hint if self._doc is not None and self._has_image else None

    def mark_pending(self, xywh: Optional[tuple]) -> None:
        """Outline a box just drawn while its phrase is asked for; None takes the outline away."""
        if self._pending is not None:
            self._scene.removeItem(self._pending)
            self._pending = None
        if xywh is not None:
            self._pending = BoxItem(qrect(xywh), "#FFFFFF", "?")
            self._pending.set_view_scale(self.zoom)
            self._pending.set_selected(True)
            self._scene.addItem(self._pending)

    def global_rect(self, xywh: tuple) -> QRect:
        """Where a rectangle of the image (``xywh``, image pixels) is on the screen."""
        r = self.mapFromScene(qrect(xywh)).boundingRect()
        return QRect(self.viewport().mapToGlobal(r.topLeft()), r.size())

    # -- selection ---------------------------------------------------------------------------
    def _selected_item(self) -> Optional[BoxItem]:
        box = self._doc.labels.selected_box if self._doc is not None else None
        return self.box_item(box.id) if box is not None else None

    def _apply_selection(self) -> None:
        selected = self._selected_item()
        for it in self._boxes:
            it.set_selected(it is selected)
        self._layout_labels()  # labels keep clear of the selected box's handles

    # -- zoom --------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        """Whole image in view with a small margin; stays fitted on resize until the user zooms."""
        if self._image_rect.isEmpty():
            return
        self._fit_mode = True
        vp = self.viewport().rect()
        if vp.width() < 10 or vp.height() < 10:
            return
        margin = 16
        sx = (vp.width() - 2 * margin) / self._image_rect.width()
        sy = (vp.height() - 2 * margin) / self._image_rect.height()
        s = max(min(sx, sy), MIN_ZOOM)
        self._set_zoom(s)
        self.centerOn(self._image_rect.center())

    def zoom_by(self, factor: float, at: Optional[QPointF] = None) -> None:
        """Zoom by ``factor`` keeping the image point under ``at`` (viewport pixels; default the
        centre) where it is on screen."""
        self._fit_mode = False
        target = min(max(self.zoom * factor, MIN_ZOOM), MAX_ZOOM)
        f = target / self.zoom
        if abs(f - 1.0) < 1e-9:
            return
        if at is None:
            at = QPointF(self.viewport().rect().center())
        fixed = self.mapToScene(at.toPoint())
        old = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(f, f)
        self.setTransformationAnchor(old)
        moved = QPointF(self.mapFromScene(fixed)) - at
        self.horizontalScrollBar().setValue(round(self.horizontalScrollBar().value() + moved.x()))
        self.verticalScrollBar().setValue(round(self.verticalScrollBar().value() + moved.y()))
        self._zoom_updated()

    def actual_size(self) -> None:
        self._fit_mode = False
        self._set_zoom(1.0)

    def _set_zoom(self, s: float) -> None:
        self.resetTransform()
        self.scale(s, s)
        self._zoom_updated()

    def _zoom_updated(self) -> None:
        z = self.zoom
        for it in self._boxes + self._proposals + [i for i in (self._draw_item, self._pending) if i is not None]:
            it.set_view_scale(z)
        self._layout_labels()
        self.zoom_changed.emit(z)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._fit_mode:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        delta = event.angleDelta().y() or event.angleDelta().x()
        if not delta:
            return
        self.zoom_by(1.0015 ** delta, at=event.position())  # 120 units (one notch) = ~20 %
        event.accept()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().paintEvent(event)
        if self._paint_pending and (self._has_image or self._placeholder):
            self._paint_pending = False
            self.image_painted.emit()
