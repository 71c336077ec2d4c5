"""Search by phrase (Ctrl+F): the folder's images ranked by how well their best region matches a
phrase, each with its thumbnail and the matched box drawn on it; Enter or a click opens the image
with that box as the highlighted proposal.

The ranking runs in the model process over the images prepared so far (``GrounderHost.search``, over what
``folder_pass`` sent it), on a worker thread here that waits for it; a newer phrase cancels the
search in flight. As the feature pass prepares more images the search runs again, so results
stream in. The panel keeps no labels: a result is an image id and the model's proposal."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QKeyEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QStyle, QVBoxLayout, QWidget

from ..core import ImageRecord, PhraseError, Proposal, clean_phrase, display_path, short_error
from ..editing.keys import key
from ..folder.feature_pass import preparable
from ..io.errors import Cancelled
from ..store import ProjectStore
from .box_item import HIGHLIGHT_COLOUR
from .folder_pass import FolderPass
from .model_host import GrounderHost
from .workers import BackgroundTasks, ImageLoader

TOP = 30  # results shown
THUMB = 96  # thumbnail side, in logical pixels
DEBOUNCE_MS = 200  # typing pauses this long before a search
REFRESH_MS = 700  # at most one search again this often while the pass adds images
ResultRole = Qt.ItemDataRole.UserRole + 1


class SearchEdit(QLineEdit):
    """The search box: Enter opens the chosen result, Up/Down choose one, Esc goes back to the
    image. It keeps those keys from the window's shortcuts (Enter would accept a proposal)."""

    stepped = Signal(int)
    entered = Signal()
    left = Signal()
    _KEYS = {Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Escape}

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ShortcutOverride and isinstance(e, QKeyEvent) and e.key() in self._KEYS \
                and e.modifiers() == Qt.KeyboardModifier.NoModifier:
            e.accept()
            return True
        return super().event(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.entered.emit()
        elif e.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.stepped.emit(1 if e.key() == Qt.Key.Key_Down else -1)
        elif e.key() == Qt.Key.Key_Escape:
            self.left.emit()
        else:
            super().keyPressEvent(e)


class ResultKeys(QObject):
    """Keys in the result list act on the list, never on the image shown: the window's shortcuts
    for them (Enter accepts a proposal, Space marks the image reviewed, arrows nudge a box) wait
    while it has the focus. Up/Down/Home/End/PgUp/PgDown choose a result, Enter opens it (the list
    activates it), Esc goes back to the image."""

    left = Signal()
    _KEYS = {Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left,
             Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown,
             Qt.Key.Key_Space, Qt.Key.Key_Escape, Qt.Key.Key_Tab, Qt.Key.Key_Backtab}

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:  # noqa: N802 - Qt's name
        if isinstance(e, QKeyEvent) and e.key() in self._KEYS and not e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            if e.type() == QEvent.Type.ShortcutOverride:
                e.accept()
                return True
            if e.type() == QEvent.Type.KeyPress and e.key() == Qt.Key.Key_Escape:
                self.left.emit()
                return True
        return False


def thumbnail(image: QImage, record: ImageRecord, bbox) -> QIcon:
    """``image`` fitted in a square of ``THUMB`` with ``bbox`` (original pixels) drawn on it."""
    dpr = 2.0
    side = int(THUMB * dpr)
    scaled = image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    pix = QPixmap(side, side)
    pix.fill(QColor("#1E1F22"))
    painter = QPainter(pix)
    ox, oy = (side - scaled.width()) / 2, (side - scaled.height()) / 2
    painter.drawImage(int(ox), int(oy), scaled)
    s = scaled.width() / max(record.width, 1)
    x, y, w, h = bbox
    rect = QRectF(ox + x * s, oy + y * s, w * s, h * s)
    painter.setPen(QPen(QColor(0, 0, 0, 160), 5))
    painter.drawRect(rect)
    painter.setPen(QPen(QColor(HIGHLIGHT_COLOUR), 3))
    painter.drawRect(rect)
    painter.end()
    pix.setDevicePixelRatio(dpr)
    return QIcon(pix)


class SearchPanel(QWidget):
    """The search dock's content. ``result_chosen(record, proposal, phrase)`` when one is opened."""

    result_chosen = Signal(object, object, str)
    left = Signal()  # Esc in the search box or the result list: back to the image

    def __init__(self, host: GrounderHost, folder_pass: FolderPass, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("searchPanel")
        self.host = host
        self.folder_pass = folder_pass
        self.store: Optional[ProjectStore] = None
        self.phrase = ""  # the phrase of the results shown
        self._tasks = BackgroundTasks(1, self)
        self._thumbs = ImageLoader(max_side=THUMB * 2, cache_size=TOP * 2, parent=self)
        self._thumbs.loaded.connect(self._on_thumbnail)
        self._search_id = 0
        self._cancel = threading.Event()
        self._running = False
        self._again = False  # search again when the one in flight is back

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        self.edit = SearchEdit(self)
        self.edit.setObjectName("searchEdit")
        self.edit.setPlaceholderText(f"Find images showing…  ({key('search')})")
        self.edit.setClearButtonEnabled(True)
        layout.addWidget(self.edit)
        self.status = QLabel(self)
        self.status.setObjectName("searchStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.results = QListWidget(self)
        self.results.setObjectName("searchResults")
        self.results.setIconSize(QSize(THUMB, THUMB))
        self.results.setUniformItemSizes(True)
        self.results.setWordWrap(True)
        self._result_keys = ResultKeys(self)
        self.results.installEventFilter(self._result_keys)
        self.edit.left.connect(self.left)
        self._result_keys.left.connect(self.left)
        layout.addWidget(self.results, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.search)
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(lambda: self.search(cancel_running=False))
        self.edit.textChanged.connect(lambda _text: self._debounce.start())
        self.edit.entered.connect(self.open_current)
        self.edit.stepped.connect(self._step)
        self.results.itemActivated.connect(lambda _item: self.open_current())
        if not self.results.style().styleHint(QStyle.StyleHint.SH_ItemView_ActivateItemOnSingleClick,
                                              None, self.results):
            self.results.itemClicked.connect(lambda _item: self.open_current())  # else it activates
        folder_pass.indexed.connect(self._on_indexed)
        host.state_changed.connect(lambda _state: self.search() if self.host.ready and self.edit.text().strip()
                                   else None)

    # -- API ---------------------------------------------------------------------------------
    def set_store(self, store: Optional[ProjectStore]) -> None:
        """Another project: its images, nothing found yet."""
        self.store = store
        self._cancel.set()
        self._search_id += 1
        self._thumbs.forget()
        self._show([], "")
        if self.edit.text().strip():
            self._debounce.start()

    def focus(self) -> None:
        """Ctrl+F: the cursor in the search box, its text selected (typing replaces it)."""
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    def shown(self) -> list[tuple[ImageRecord, Proposal]]:
        """The results listed, best first."""
        return [self.results.item(i).data(ResultRole) for i in range(self.results.count())]

    def open_current(self) -> None:
        """Open the chosen result (the first when none is)."""
        item = self.results.currentItem() or self.results.item(0)
        if item is not None:
            record, proposal = item.data(ResultRole)
            self.result_chosen.emit(record, proposal, self.phrase)

    def shutdown(self) -> None:
        self._cancel.set()
        self._tasks.shutdown()
        self._thumbs.shutdown()

    # -- searching ---------------------------------------------------------------------------
    def search(self, cancel_running: bool = True) -> None:
        """Search the box's phrase now (a search in flight is cancelled first, or with
        ``cancel_running`` False let finish; either way the newest text is searched after it)."""
        text = self.edit.text().strip()
        if not text or self.store is None:
            self._cancel.set()
            self._show([], "")
            return
        try:
            phrase = clean_phrase(text)
        except PhraseError as exc:
            self.status.setText(f"Phrase refused: {exc}")
            return
        if not self.host.ready:
            self.status.setText("The model is loading: the search runs when it is ready.")
            return
        if self._running:
            self._again = True
            if cancel_running:
                self._cancel.set()
            return
        self._search_id += 1
        search_id, store, self._cancel = self._search_id, self.store, threading.Event()
        cancel = self._cancel
        self._running = True
        if phrase != self.phrase:
            self.status.setText(f"Searching for “{phrase}”…")
        self._tasks.run(lambda: self._find(store, phrase, cancel),
                        lambda found, error: self._found(search_id, phrase, found, error), store=store)

    def _find(self, store: ProjectStore, phrase: str, cancel: threading.Event) -> list:
        """On a worker thread: the model's ranking, as the project's images (every image showing
        a content hash that matched)."""
        ranked = self.host.search(phrase, TOP, cancel.is_set)
        by_hash: dict[str, list[ImageRecord]] = {}
        for r in preparable(store):
            by_hash.setdefault(r.content_hash, []).append(r)
        return [(r, p) for h, p in ranked for r in by_hash.get(h, ())][:TOP]

    def _found(self, search_id: int, phrase: str, found: Optional[list], error: Optional[BaseException]) -> None:
        self._running = False
        if search_id == self._search_id and not isinstance(error, Cancelled):
            if error is not None:
                self.status.setText(f"Search failed: {short_error(error)}")
            else:
                self._show(found, phrase)
        if self._again:
            self._again = False
            self.search()

    def _on_indexed(self, _searchable: int) -> None:
        if self.phrase and not self._refresh.isActive():
            self._refresh.start()

    # -- showing -----------------------------------------------------------------------------
    def _show(self, found: list, phrase: str) -> None:
        chosen = self.results.currentRow()
        self.phrase = phrase
        self.results.clear()
        for record, proposal in found:
            folder = record.path.rpartition("/")[0]  # shown under the name when in a subfolder
            item = QListWidgetItem(display_path(f"{proposal.score:.2f}  {record.file_name}"
                                                + (f"\n{folder}/" if folder else "")))
            item.setData(ResultRole, (record, proposal))
            item.setToolTip(proposal.explanation)
            cached = self._thumbs.cached(record.id)
            if cached is not None:
                item.setIcon(thumbnail(cached, record, proposal.bbox))
            else:
                self._thumbs.request(record.id, str(Path(self.store.root) / record.path))
            self.results.addItem(item)
        if found:
            self.results.setCurrentRow(min(max(chosen, 0), len(found) - 1))
        self.status.setText(self._summary(len(found), phrase) if phrase else "")

    def _summary(self, n: int, phrase: str) -> str:
        searched = self.folder_pass.searchable
        more = self.folder_pass.to_prepare if self.folder_pass.running else 0
        text = (f"{n} best match{'es' if n != 1 else ''} for “{phrase}”" if n
                else f"No image shows “{phrase}”") + f" among {searched:,} prepared images"
        return text + (f"; {more:,} more are searched as they are prepared." if more else ".")

    def _on_thumbnail(self, image_id: int, image: Optional[QImage], _error: str) -> None:
        if image is None:
            return
        for i in range(self.results.count()):
            item = self.results.item(i)
            record, proposal = item.data(ResultRole)
            if record.id == image_id:
                item.setIcon(thumbnail(image, record, proposal.bbox))

    def _step(self, step: int) -> None:
        n = self.results.count()
        if n:
            self.results.setCurrentRow(min(max(self.results.currentRow() + step, 0), n - 1))
