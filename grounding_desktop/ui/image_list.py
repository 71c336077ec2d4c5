"""The image list: every image of the project with its state, a state filter, and "i / N".

"Review by doubt" lists only the images with proposals to review, the model's least sure first
(``store.proposals.images_by_doubt``, read when the filter is chosen and when proposals were added),
each with that confidence; an image marked reviewed leaves it, so Space walks it in order."""
from __future__ import annotations

from enum import Enum
from typing import Callable, Iterator, Optional, Sequence

from PySide6.QtCore import (QAbstractListModel, QModelIndex, QPointF, QRectF, QSize, QSortFilterProxyModel, Qt,
                            Signal)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QLabel, QLineEdit, QListView,
                               QVBoxLayout, QWidget)

from ..core import ImageRecord, ImageState

UNREADABLE = "error"  # an image's status when its file cannot be read, beside the ``ImageState`` values
STATE_COLOURS = {ImageState.NEW: "#9AA0A6", ImageState.IN_PROGRESS: "#F9AB00", ImageState.REVIEWED: "#34A853",
                 UNREADABLE: "#EA4335"}


class ImageFilter(Enum):
    """What the image list shows (the value is the filter's title, in the order offered)."""

    ALL = "All images"
    NEW = "New"
    IN_PROGRESS = "In progress"
    REVIEWED = "Reviewed"
    UNREADABLE = "Unreadable"
    NOT_REVIEWED = "Not reviewed"
    DOUBT = "Review by doubt (least sure first)"  # images with proposals, the model's least sure first

    def shows(self, status: str) -> bool:
        """An image of ``status`` (``record_status``) passes (review by doubt also asks for proposals)."""
        if self == ImageFilter.ALL:
            return True
        if self in (ImageFilter.NOT_REVIEWED, ImageFilter.DOUBT):
            return status != ImageState.REVIEWED
        return status == ONE_STATUS[self]


ONE_STATUS = {ImageFilter.NEW: ImageState.NEW, ImageFilter.IN_PROGRESS: ImageState.IN_PROGRESS,
              ImageFilter.REVIEWED: ImageState.REVIEWED, ImageFilter.UNREADABLE: UNREADABLE}  # the filters that show the images of one status


def record_status(rec: ImageRecord) -> str:
    """The key of an image's icon, colour and filter: its state's value, or ``UNREADABLE``."""
    return UNREADABLE if rec.error else ImageState(rec.state).value


def status_label(rec: ImageRecord) -> str:
    """An image's state as the user reads it ("in progress", "unreadable")."""
    return "unreadable" if rec.error else ImageState(rec.state).label


def state_icon(status: str, size: int = 16, dpr: float = 2.0) -> QIcon:
    """Drawn, not shipped: crisp at any DPI, and colour plus shape (not colour alone) tells states apart."""
    pix = QPixmap(int(size * dpr), int(size * dpr))
    pix.setDevicePixelRatio(dpr)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    c = QColor(STATE_COLOURS[status])
    r = QRectF(2, 2, size - 4, size - 4)
    if status == ImageState.NEW:
        p.setPen(QPen(c, 1.8))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(r)
    else:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(c)
        p.drawEllipse(r)
        pen = QPen(QColor("#FFFFFF"), 1.8)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        s = size
        if status == ImageState.REVIEWED:
            path = QPainterPath(QPointF(s * 0.30, s * 0.52))
            path.lineTo(QPointF(s * 0.45, s * 0.66))
            path.lineTo(QPointF(s * 0.71, s * 0.36))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
        elif status == ImageState.IN_PROGRESS:
            p.setBrush(QColor("#FFFFFF"))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(QPointF(s / 2, s / 2), s * 0.13, s * 0.13)
        elif status == UNREADABLE:
            p.drawLine(QPointF(s / 2, s * 0.28), QPointF(s / 2, s * 0.56))
            p.drawPoint(QPointF(s / 2, s * 0.72))
    p.end()
    return QIcon(pix)


class ImageListModel(QAbstractListModel):
    RecordRole = Qt.ItemDataRole.UserRole + 1
    StatusRole = Qt.ItemDataRole.UserRole + 2

    def __init__(self, parent=None):
        super().__init__(parent)
        self._records: list[ImageRecord] = []
        self._rows: dict[int, int] = {}
        self._icons = {s: state_icon(s) for s in STATE_COLOURS}

    def set_records(self, records: Sequence[ImageRecord]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self._rows = {r.id: i for i, r in enumerate(self._records)}
        self.endResetModel()

    def update_record(self, rec: ImageRecord) -> None:
        row = self._rows.get(rec.id)
        if row is None:
            return
        self._records[row] = rec
        idx = self.index(row)
        self.dataChanged.emit(idx, idx)

    def record(self, image_id: int) -> Optional[ImageRecord]:
        row = self._rows.get(image_id)
        return self._records[row] if row is not None else None

    def records(self) -> list[ImageRecord]:
        return list(self._records)

    def row_of(self, image_id: int) -> Optional[int]:
        return self._rows.get(image_id)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self._records)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        rec = self._records[index.row()]
        status = record_status(rec)
        if role == Qt.ItemDataRole.DisplayRole:
            return rec.path
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons[status]
        if role == Qt.ItemDataRole.ToolTipRole:
            size = f"{rec.width} × {rec.height} px" if rec.width else "size unknown"
            tip = f"{rec.path}\n{size} · {status_label(rec)}"
            return tip + (f"\nUnreadable: {rec.error}" if rec.error else "")
        if role == Qt.ItemDataRole.ForegroundRole and rec.error:
            return QColor(STATE_COLOURS[UNREADABLE])
        if role == self.RecordRole:
            return rec
        if role == self.StatusRole:
            return status
        return None


class ImageFilterProxy(QSortFilterProxyModel):
    """Filters by state (and by a name fragment); keeps the source's natural path order, or in
    review by doubt the order of the doubt given (``set_doubt``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._filter = ImageFilter.ALL
        self._text = ""
        self._doubt: dict[int, tuple[int, float]] = {}  # image id -> (rank, confidence)

    def set_filter(self, shown: ImageFilter) -> None:
        self._refilter(lambda: setattr(self, "_filter", shown))
        self.sort(0 if shown == ImageFilter.DOUBT else -1)

    def set_doubt(self, ranked: Sequence[tuple[ImageRecord, float]]) -> None:
        """The images to review by doubt, least sure first, with their confidence."""
        self._refilter(lambda: setattr(self, "_doubt", {r.id: (i, c) for i, (r, c) in enumerate(ranked)}))
        if self._filter == ImageFilter.DOUBT:
            self.invalidate()  # sort again by the new ranks

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:  # noqa: N802 - Qt's name
        rank = lambda idx: self._doubt.get(idx.data(ImageListModel.RecordRole).id, (len(self._doubt), 0.0))[0]  # noqa: E731
        return rank(left) < rank(right)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and self._filter == ImageFilter.DOUBT:
            rec = super().data(index, ImageListModel.RecordRole)
            if rec is not None and rec.id in self._doubt:
                return f"{self._doubt[rec.id][1]:.2f}  {rec.path}"
        return super().data(index, role)

    @property
    def filter(self) -> ImageFilter:
        return self._filter

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_text", text.strip().lower()))

    def _refilter(self, change) -> None:
        # Qt 6.10 replaced invalidateFilter() by begin/endFilterChange(); support both.
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:  # noqa: N802 - Qt's name
        idx = self.sourceModel().index(row, 0, parent)
        status = idx.data(ImageListModel.StatusRole)
        if not self._filter.shows(status):
            return False
        if self._filter == ImageFilter.DOUBT and idx.data(ImageListModel.RecordRole).id not in self._doubt:
            return False
        if self._text and self._text not in str(idx.data(Qt.ItemDataRole.DisplayRole)).lower():
            return False
        return True


class ImageListPanel(QWidget):
    """The dock on the left. ``image_chosen`` fires when the user picks an image in the list."""

    image_chosen = Signal(int)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("imageList")
        self.doubt_source: Callable[[], Sequence[tuple[ImageRecord, float]]] = lambda: ()  # the window's store
        self.model = ImageListModel(self)
        self.proxy = ImageFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._current: Optional[int] = None
        self._setting = False  # set_current is selecting: not the user's choice

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        row = QHBoxLayout()
        self.filter = QComboBox(self)
        self.filter.setObjectName("stateFilter")
        for shown in ImageFilter:
            self.filter.addItem(shown.value)
        self.filter.setToolTip("Show only images in this state")
        # Its width follows the panel's, never its longest entry's: a longer count beside it (review
        # by doubt: "1 / 3  (of 20)") would otherwise widen the panel and push the image aside.
        self.filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.filter.setMinimumContentsLength(8)
        self.filter.currentIndexChanged.connect(self._on_filter)
        row.addWidget(self.filter, 1)
        self.count = QLabel("0 / 0", self)
        self.count.setObjectName("imageCount")
        self.count.setToolTip("Position of the image shown / images in the list")
        f = QFont(self.count.font())
        f.setBold(True)
        self.count.setFont(f)
        row.addWidget(self.count)
        layout.addLayout(row)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter by name…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search)
        layout.addWidget(self.search)
        self.view = QListView(self)
        self.view.setObjectName("imageListView")
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)
        self.view.setIconSize(QSize(16, 16))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        layout.addWidget(self.view, 1)
        self.legend = QLabel(self)
        self.legend.setObjectName("legend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setText(" ".join(
            f"<span style='color:{STATE_COLOURS[s.value]}'>●</span>&nbsp;{s.label}" for s in ImageState))
        layout.addWidget(self.legend)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)

    # -- data --------------------------------------------------------------------------------
    def set_records(self, records: Sequence[ImageRecord]) -> None:
        self.model.set_records(records)
        self._update_count()

    def update_record(self, rec: ImageRecord) -> None:
        self.model.update_record(rec)
        self._update_count()

    def update_records(self, records: Sequence[ImageRecord]) -> None:
        for rec in records:
            self.model.update_record(rec)
        self._update_count()

    def visible_ids(self) -> list[int]:
        """Image ids in the order shown, after filtering: what next/previous walk through."""
        out = []
        for r in range(self.proxy.rowCount()):
            rec = self.proxy.index(r, 0).data(ImageListModel.RecordRole)
            out.append(rec.id)
        return out

    def visible_count(self) -> int:
        return self.proxy.rowCount()

    def visible_id_at(self, row: int) -> Optional[int]:
        """The image id at ``row`` of the filtered list (negative rows count from the end)."""
        n = self.proxy.rowCount()
        if row < 0:
            row += n
        if not 0 <= row < n:
            return None
        return self.proxy.index(row, 0).data(ImageListModel.RecordRole).id

    def visible_row_of(self, image_id: Optional[int]) -> Optional[int]:
        """Row of ``image_id`` in the filtered list, without walking it (lists of 10,000 images)."""
        row = self.model.row_of(image_id) if image_id is not None else None
        if row is None:
            return None
        pidx = self.proxy.mapFromSource(self.model.index(row))
        return pidx.row() if pidx.isValid() else None

    def neighbours(self, image_id: int) -> tuple[Optional[ImageRecord], Optional[ImageRecord]]:
        """The records after and before ``image_id`` in the filtered list (None at either end)."""
        row = self.visible_row_of(image_id)
        ids = (self.visible_id_at(row + 1), self.visible_id_at(row - 1) if row else None) if row is not None \
            else (None, None)
        return tuple(self.model.record(i) if i is not None else None for i in ids)

    def visible_after(self, image_id: Optional[int]) -> Iterator[ImageRecord]:
        """The records of the filtered list from the one after ``image_id``, wrapping round; read
        one at a time, so finding the next image to do stops as soon as it is found."""
        n = self.proxy.rowCount()
        row = self.visible_row_of(image_id)
        start = row + 1 if row is not None else 0
        for k in range(n):
            yield self.proxy.index((start + k) % n, 0).data(ImageListModel.RecordRole)

    def set_filter(self, shown: ImageFilter) -> None:
        self.filter.setCurrentIndex(list(ImageFilter).index(shown))

    # -- current image -----------------------------------------------------------------------
    def set_current(self, image_id: Optional[int]) -> None:
        """Select ``image_id`` in the list, and only it, without emitting ``image_chosen``. The
        selection model's signals must flow: the view repaints the rows that lose the selection
        from them (blocked, earlier rows stayed drawn highlighted)."""
        self._current = image_id
        self._setting = True
        sel = self.view.selectionModel()
        try:
            row = self.model.row_of(image_id) if image_id is not None else None
            pidx = self.proxy.mapFromSource(self.model.index(row)) if row is not None else QModelIndex()
            if pidx.isValid():
                sel.setCurrentIndex(pidx, sel.SelectionFlag.ClearAndSelect)
                self.view.scrollTo(pidx)
            else:
                sel.clearSelection()
        finally:
            self._setting = False
        self._update_count()

    def _on_current(self, current: QModelIndex, previous: QModelIndex) -> None:
        if self._setting or not current.isValid():
            return
        rec = current.data(ImageListModel.RecordRole)
        if rec is not None and rec.id != self._current:
            self._current = rec.id
            self._update_count()
            self.image_chosen.emit(rec.id)

    def _on_filter(self, index: int) -> None:
        shown = list(ImageFilter)[index]
        if shown == ImageFilter.DOUBT:
            self.proxy.set_doubt(self.doubt_source())
        self.proxy.set_filter(shown)
        self.set_current(self._current)

    def refresh_doubt(self) -> None:
        """Proposals were added or taken away: review by doubt reads its order again."""
        if self.proxy.filter == ImageFilter.DOUBT:
            self.proxy.set_doubt(self.doubt_source())
            self.set_current(self._current)

    def _on_search(self, text: str) -> None:
        self.proxy.set_text(text)
        self.set_current(self._current)

    def _update_count(self, *args) -> None:
        n = self.proxy.rowCount()
        pos = 0
        row = self.model.row_of(self._current) if self._current is not None else None
        if row is not None:
            pidx = self.proxy.mapFromSource(self.model.index(row))
            pos = pidx.row() + 1 if pidx.isValid() else 0
        total = self.model.rowCount()
        text = f"{pos if pos else '–'} / {n}"
        if n != total:
            text += f"  (of {total})"
        self.count.setText(text)
