"""The main window: wires the image list, canvas, phrase bar and panels to the project.

It holds no annotation state of its own worth saving: the store is the truth, every edit is an
undo command pushed on the document's stack, and the widgets re-read the store when the document
says an image changed. So closing the window, or a crash, loses nothing.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QInputDialog, QLabel, QLineEdit,
                               QMainWindow, QMessageBox, QStyle, QToolBar, QUndoView, QVBoxLayout, QWidget)

from .. import __version__
from ..core import Box, BoxSource, BoxState, ImageRecord, ImageState, PhraseError, clean_phrase
from ..core.detector_choice import DetectorChoice
from ..store import ProjectStore, StoreError
from . import commands as cmd
from .canvas import Canvas
from .document import ProjectDocument
from .evaluate_dialog import EvaluateDialog
from .expressions_panel import ExpressionsPanel
from .help_dialog import ShortcutsDialog
from .image_list import ImageListPanel, record_status
from .model_dialog import ModelDialog, project_detector, remember_detector
from .phrase_bar import PhraseBar
from .proposals import ProposalSession
from .settings import add_recent_folder, app_settings, recent_folders
from .shortcuts import ACTIONS, MENUS, ActionSpec
from .transfer_dialogs import ExportDialog, ImportDialog
from .workers import FolderScanner, GrounderFactory, GrounderHost, ImageLoader, default_grounder_factory

APP_TITLE = "Grounding Desktop"
# The model starts loading as soon as the event loop runs, beside the first image's decode. (Waiting
# for the first paint instead measured the same first-paint time and a later model; see
# benchmarks/gui_responsiveness.py.)
MODEL_START_DELAY_MS = 0
LOADING_MESSAGE_DELAY_MS = 150  # a decode shorter than this shows no "Loading…" flash


class MainWindow(QMainWindow):
    """``MainWindow(store, grounder_factory=...)``; tests pass a small deterministic grounder."""

    image_shown = Signal(int)  # image id, once its pixels (or its placeholder) are painted
    proposals_shown = Signal(int)  # number of proposals, once an answer is on screen
    model_state_changed = Signal(str)  # loading | ready | failed

    def __init__(self, store: Optional[ProjectStore] = None, grounder_factory: GrounderFactory = default_grounder_factory,
                 device: Optional[str] = None, settings: Optional[QSettings] = None, rescan: bool = True,
                 load_model: bool = True, model_delay_ms: int = MODEL_START_DELAY_MS):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_TITLE)
        self.settings = settings if settings is not None else app_settings()
        self.doc: Optional[ProjectDocument] = None
        self.current: Optional[ImageRecord] = None
        self._annotations: list = []
        self._selected_expression: Optional[int] = None
        self._accept_pending: Optional[str] = None  # "one" | "all": Enter pressed before the answer came
        self._load_model = load_model
        self._model_started = False
        self._closing = False
        self.scanning = False
        self.last_painted_id: Optional[int] = None
        # Hooks tests replace to answer dialogs without a person.
        self.ask_text: Callable[[str, str, str], Optional[str]] = self._ask_text

        self.host = GrounderHost(grounder_factory, device, self)
        self.session = ProposalSession(self.host, self)
        self.loader = ImageLoader(parent=self)
        self.scanner = FolderScanner(self)

        self._build_widgets()
        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_status_bar()
        self._connect()
        self._restore_layout()
        self._update_actions()
        if store is not None:
            self.open_store(store, rescan=rescan)
        if load_model:
            QTimer.singleShot(model_delay_ms, self.start_model)

    # ------------------------------------------------------------------ construction
    def _build_widgets(self) -> None:
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.phrase_bar = PhraseBar(central)
        layout.addWidget(self.phrase_bar)
        self.canvas = Canvas(central)
        self.canvas.keep_focus_elsewhere = lambda: self.phrase_bar.edit.hasFocus() and bool(self.phrase_bar.text().strip())
        layout.addWidget(self.canvas, 1)
        self.setCentralWidget(central)

        self.image_list = ImageListPanel(self)
        self.images_dock = QDockWidget("Images", self)
        self.images_dock.setObjectName("imagesDock")
        self.images_dock.setWidget(self.image_list)
        self.images_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.images_dock)

        self.panel = ExpressionsPanel(self)
        self.panel_dock = QDockWidget("Phrases and boxes", self)
        self.panel_dock.setObjectName("phrasesDock")
        self.panel_dock.setWidget(self.panel)
        self.panel_dock.setFeatures(self.images_dock.features())
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.panel_dock)

        self.history = QUndoView(self)
        self.history.setObjectName("historyView")
        self.history.setEmptyLabel("Opened project")
        self.history_dock = QDockWidget("History", self)
        self.history_dock.setObjectName("historyDock")
        self.history_dock.setWidget(self.history)
        self.history_dock.setFeatures(self.images_dock.features())
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_dock)
        self.history_dock.hide()

    def _build_actions(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}
        handlers: dict[str, Callable[[], None]] = {
            "open_folder": self.choose_folder, "export": self.show_export, "import": self.show_import,
            "rescan": self.rescan, "quit": self.close,
            "delete": self.delete_selected, "rename": self.rename_selected,
            "nudge_left": lambda: self.nudge(-1, 0), "nudge_right": lambda: self.nudge(1, 0),
            "nudge_up": lambda: self.nudge(0, -1), "nudge_down": lambda: self.nudge(0, 1),
            "focus_phrase": self.focus_phrase, "next_proposal": lambda: self.session.move_highlight(1),
            "prev_proposal": lambda: self.session.move_highlight(-1), "accept": lambda: self.accept(),
            "accept_all": self.accept_all, "accept_none": self.accept_no_target, "reject": self.reject,
            "clear": self.escape,
            "next_image": lambda: self.step_image(1), "prev_image": lambda: self.step_image(-1),
            "first_image": lambda: self.jump_image(0), "last_image": lambda: self.jump_image(-1),
            "review_next": self.review_and_next,
            "fit": self.canvas.fit, "zoom_in": lambda: self.canvas.zoom_by(1.25),
            "zoom_out": lambda: self.canvas.zoom_by(0.8), "actual_size": self.canvas.actual_size,
            "shortcuts": self.show_shortcuts, "about": self.show_about, "model": self.show_model_dialog,
            "evaluate": self.show_evaluate,
        }
        style = self.style()
        for spec in ACTIONS:
            if spec.name in ("undo", "redo"):
                continue
            action = QAction(spec.text, self)
            self._configure(action, spec, style)
            if spec.name in handlers:
                fn = handlers[spec.name]
                action.triggered.connect(lambda _checked=False, fn=fn: fn())
            if spec.canvas_only:
                action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
                self.canvas.addAction(action)
            else:
                self.addAction(action)
            self.actions_by_name[spec.name] = action
        self.actions_by_name["draw_mode"].toggled.connect(self._on_draw_mode)
        self.actions_by_name["history"].toggled.connect(self.history_dock.setVisible)
        self.history_dock.visibilityChanged.connect(self._sync_dock_action("history", self.history_dock))
        self.actions_by_name["show_images"].toggled.connect(self.images_dock.setVisible)
        self.images_dock.visibilityChanged.connect(self._sync_dock_action("show_images", self.images_dock))
        self.actions_by_name["show_expressions"].toggled.connect(self.panel_dock.setVisible)
        self.panel_dock.visibilityChanged.connect(self._sync_dock_action("show_expressions", self.panel_dock))
        self._undo_action: Optional[QAction] = None
        self._redo_action: Optional[QAction] = None

    def _sync_dock_action(self, name: str, dock: QDockWidget):
        def sync(_visible: bool) -> None:
            action = self.actions_by_name[name]
            if self._closing:
                return
            action.blockSignals(True)
            action.setChecked(not dock.isHidden())
            action.blockSignals(False)
        return sync

    @staticmethod
    def _configure(action: QAction, spec: ActionSpec, style: QStyle) -> None:
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

    def _build_menus_and_toolbar(self) -> None:
        menus = {name: self.menuBar().addMenu(f"&{name}") for name in MENUS}
        self.menus = menus
        self.recent_menu = menus["File"].addMenu("Open &Recent")
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.toolbar = QToolBar("Main", self)
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        last_menu = None
        for spec in ACTIONS:
            action = self._action_for_menu(spec)
            menu = menus[spec.menu]
            if spec.menu == "File" and spec.name == "quit":
                menu.addSeparator()
            if spec.menu != last_menu and spec.toolbar and last_menu is not None:
                self.toolbar.addSeparator()
            menu.addAction(action)
            if spec.toolbar:
                self.toolbar.addAction(action)
                last_menu = spec.menu
        menus["File"].insertMenu(self.actions_by_name["rescan"], self.recent_menu)

    def _action_for_menu(self, spec: ActionSpec) -> QAction:
        if spec.name not in ("undo", "redo"):
            return self.actions_by_name[spec.name]
        # Undo/redo come from the document's stack (they follow it as projects change); this
        # placeholder is replaced in open_store().
        action = QAction(spec.text, self)
        self._configure(action, spec, self.style())
        action.setEnabled(False)
        self.addAction(action)
        self.actions_by_name[spec.name] = action
        return action

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.model_label = QLabel("Model: not started", self)
        self.model_label.setObjectName("modelStatus")
        self.latency_label = QLabel("Proposals: – ms", self)
        self.latency_label.setObjectName("latencyStatus")
        self.latency_label.setToolTip("Time the model took for the last proposals")
        self.zoom_label = QLabel("", self)
        self.zoom_label.setObjectName("zoomStatus")
        self.image_label = QLabel("", self)
        self.image_label.setObjectName("imageStatus")
        for w in (self.image_label, self.zoom_label, self.latency_label, self.model_label):
            sb.addPermanentWidget(w)

    def _connect(self) -> None:
        pb = self.phrase_bar
        pb.phrase_changed.connect(self.session.set_text)
        pb.edit.textChanged.connect(lambda _t: self._update_actions())
        pb.threshold_changed.connect(self._on_threshold)
        self.session.info.connect(pb.set_info)
        self.session.changed.connect(self._show_proposals)
        self.session.answered.connect(self._on_answered)
        self.canvas.proposal_clicked.connect(lambda i: self.accept(i))
        self.canvas.hint_clicked.connect(self._on_hint)
        self.canvas.box_selected.connect(self._on_canvas_selection)
        self.canvas.box_edited.connect(self._on_box_edited)
        self.canvas.box_drawn.connect(self._on_box_drawn)
        self.canvas.edit_requested.connect(self._on_edit_box_phrase)
        self.canvas.space_tapped.connect(self.actions_by_name["review_next"].trigger)
        self.canvas.image_painted.connect(self._on_image_painted)
        self.canvas.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.panel.box_selected.connect(self._on_panel_box)
        self.panel.expression_selected.connect(self._on_panel_expression)
        self.panel.proposal_selected.connect(self.session.set_highlight)
        self.panel.proposal_activated.connect(lambda i: self.accept(i))
        self.panel.rename_requested.connect(self.rename_expression)
        self.image_list.image_chosen.connect(self.show_image)
        self.loader.loaded.connect(self._on_image_decoded)
        self.scanner.progress.connect(self._on_scan_progress)
        self.scanner.finished.connect(self._on_scan_finished)
        self.host.loading.connect(self._on_model_loading)
        self.host.loaded.connect(self._on_model_loaded)
        self.host.failed.connect(self._on_model_failed)
        self.host.learn_failed.connect(lambda why: self.statusBar().showMessage(
            f"The model could not learn from the boxes: {why}", 8000))

    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            screen = QGuiApplication.primaryScreen()
            avail = screen.availableGeometry() if screen is not None else None
            w, h = 1440, 900
            if avail is not None and avail.width() >= 1000:
                w, h = min(w, int(avail.width() * 0.9)), min(h, int(avail.height() * 0.9))
            self.resize(w, h)
            self.resizeDocks([self.images_dock, self.panel_dock], [250, 420], Qt.Orientation.Horizontal)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)

    # ------------------------------------------------------------------ project
    def open_folder(self, folder: os.PathLike | str, db: Optional[str] = None) -> bool:
        try:
            store = ProjectStore.open_folder(folder, db)
        except StoreError as exc:
            self._warn("Cannot open folder", str(exc))
            return False
        self.open_store(store, rescan=True)
        return True

    def open_store(self, store: ProjectStore, rescan: bool = True) -> None:
        """Show a project: what the database already knows at once, then the folder scan's news."""
        if self.doc is not None:
            self.doc.close()
        self.doc = ProjectDocument(store, self)
        self.doc.changed.connect(self._on_doc_changed)
        self.doc.error.connect(lambda msg: self._warn("Could not save the edit", msg))
        self.history.setStack(self.doc.undo_stack)
        self.doc.undo_stack.indexChanged.connect(lambda _i: self.phrase_bar.forget_typing_history())
        self._install_undo_actions()
        self.loader.forget()
        self.current = None
        add_recent_folder(self.settings, store.root)
        self._use_project_detector(store)
        self.image_list.set_records(store.images())
        self._update_title()
        self.scanning = rescan
        if rescan:
            self.statusBar().showMessage(f"Scanning {store.root}…")
            self.scanner.scan(store)
        self.host.learn(store)
        self._show_first()
        self._update_actions()

    def _install_undo_actions(self) -> None:
        stack = self.doc.undo_stack
        for name, make in (("undo", stack.createUndoAction), ("redo", stack.createRedoAction)):
            spec = next(a for a in ACTIONS if a.name == name)
            new = make(self, spec.text.replace("&", ""))
            self._configure(new, spec, self.style())
            old = self.actions_by_name[name]
            for container in (self.menus["Edit"], self.toolbar):
                container.insertAction(old, new)
                container.removeAction(old)
            self.removeAction(old)
            self.addAction(new)
            self.actions_by_name[name] = new

    def _show_first(self) -> None:
        first = self.image_list.visible_id_at(0)
        if self.current is None and first is not None:
            self.show_image(first)
        elif first is None and self.scanning:
            self.canvas.show_message("Scanning the folder…", str(self.doc.store.root), final=False)
        elif first is None:
            self.canvas.show_message("No images here", f"{self.doc.store.root} has no jpg, png, bmp, webp or tiff files")
            self._update_title()

    def _on_scan_progress(self, i: int, n: int) -> None:
        self.statusBar().showMessage(f"Scanning… {i} / {n} images")

    def _on_scan_finished(self, report, error: str) -> None:
        self.scanning = False
        if self.doc is None:
            return
        if error:
            self._warn("Folder scan failed", error)
        self.image_list.set_records(self.doc.store.images())
        if self.current is not None:
            rec = self.doc.store.image(self.current.id)
            if rec is None or rec.missing:
                self.current = None
        self.image_list.set_current(self.current.id if self.current else None)
        if report is not None:
            parts = [f"{len(report.added)} new", f"{len(report.removed)} gone", f"{len(report.renamed)} renamed"]
            self.statusBar().showMessage(f"Scan done: {', '.join(parts)}", 5000)
        self._show_first()

    def rescan(self) -> None:
        if self.doc is not None and not self.scanning:
            self.scanning = True
            self.statusBar().showMessage("Scanning…")
            self.scanner.scan(self.doc.store)

    def choose_folder(self) -> None:
        start = str(self.doc.store.root) if self.doc else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", start)
        if folder:
            self.open_folder(folder)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        folders = recent_folders(self.settings)
        if not folders:
            none = self.recent_menu.addAction("No recent folders")
            none.setEnabled(False)
            return
        for i, folder in enumerate(folders):
            label = f"&{i + 1}  {folder}" if i < 9 else folder
            action = self.recent_menu.addAction(label)
            if i < 9:
                action.setShortcut(QKeySequence(f"Ctrl+Shift+{i + 1}"))
            action.triggered.connect(lambda _c=False, f=folder: self.open_folder(f))

    # ------------------------------------------------------------------ model
    def start_model(self) -> None:
        if not self._model_started and not self._closing:
            self._model_started = True
            self.host.start_loading()

    def _on_model_loading(self) -> None:
        self._set_model_label("Model: loading in the background…", "busy")
        self.model_state_changed.emit("loading")

    def _on_model_loaded(self, device: str, version: str) -> None:
        short = version.split("+")[0]
        short = short if len(short) <= 32 else short[:31] + "…"
        runtime = self.host.runtime or device
        self._set_model_label(f"Model: {short} · {runtime}", "good")
        self.model_label.setToolTip(f"Model {version}\nDevice {device}\nRuns on {runtime}")
        self.model_state_changed.emit("ready")
        self._prepare_current()

    def _on_model_failed(self, reason: str, details: str) -> None:
        self._set_model_label("Model: unavailable (manual labelling works)", "error")
        self.model_state_changed.emit("failed")
        if self._closing:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "The grounding model could not load",
                          f"{reason}\n\nYou can keep labelling by hand: draw boxes with W and type their phrases.",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("modelFailedDialog")
        box.setDetailedText(details)
        box.finished.connect(lambda _r: self.activateWindow())
        box.open()  # not exec(): the window stays usable behind it
        self.model_dialog = box

    def _set_model_label(self, text: str, tone: str) -> None:
        self.model_label.setText(text)
        self.model_label.setProperty("tone", tone)
        self.model_label.style().unpolish(self.model_label)
        self.model_label.style().polish(self.model_label)

    def _prepare_current(self) -> None:
        # The model can finish loading after the window closed (its signal is queued): no project then.
        if self.doc is not None and self.current is not None and self.current.readable and self.host.ready:
            self.host.prepare(self._path(self.current))

    # ------------------------------------------------------------------ images
    def _path(self, rec: ImageRecord) -> str:
        return str(Path(self.doc.store.root) / rec.path)

    def show_image(self, image_id: int) -> None:
        if self.doc is None:
            return
        rec = self.doc.store.image(image_id)
        if rec is None:
            return
        self.current = rec
        self.image_list.set_current(rec.id)
        self.canvas.select_box(None)
        self._selected_expression = None
        self._accept_pending = None
        self._update_title()
        if rec.missing:
            self.canvas.show_message("File missing", f"{rec.path} is no longer on disk (its labels are kept)")
        elif rec.error:
            self.canvas.show_message("Cannot show this image", f"{rec.path}: {rec.error}")
        else:
            cached = self.loader.cached(rec.id)
            if cached is not None:
                self.canvas.show_image(cached, rec.width, rec.height)
            else:
                self.canvas.hold_for_loading()
                QTimer.singleShot(LOADING_MESSAGE_DELAY_MS, lambda image_id=rec.id: self._show_loading(image_id))
                self.loader.request(rec.id, self._path(rec))
        self.refresh_annotations()
        self.session.set_image(rec.id, self._path(rec), rec.readable)
        self._prepare_current()
        self._prefetch_neighbours()
        self._update_actions()

    def _show_loading(self, image_id: int) -> None:
        if self.current is not None and self.current.id == image_id and not self.canvas.has_image \
                and self.loader.cached(image_id) is None and not self.current.error:
            self.canvas.show_message("Loading…", self.current.path, final=False)

    def _prefetch_neighbours(self) -> None:
        """Decode the neighbours now (and the next one's CNN features) so stepping is instant."""
        row = self.image_list.visible_row_of(self.current.id if self.current else None)
        if row is None:
            return
        for j in (row + 1, row - 1):
            image_id = self.image_list.visible_id_at(j) if j >= 0 else None
            rec = self.image_list.model.record(image_id) if image_id is not None else None
            if rec is not None and rec.readable:
                self.loader.request(rec.id, self._path(rec), prefetch=True)
                if j == row + 1 and self.host.ready:
                    self.host.prepare(self._path(rec), prefetch=True)

    def _on_image_decoded(self, image_id: int, qimg, error: str) -> None:
        self.loader.remember(image_id, qimg)
        if self.doc is None:
            return
        if error:
            rec = self.doc.store.image(image_id)
            if rec is not None and rec.error != error:
                try:
                    self.doc.store.set_image_error(image_id, error)
                except StoreError:
                    pass
                rec = self.doc.store.image(image_id)
                self.image_list.update_record(rec)
                if self.current is not None and self.current.id == image_id:
                    self.current = rec
                    self.session.readable = False
        if self.current is None or self.current.id != image_id:
            return
        if qimg is None:
            self.canvas.show_message("Cannot show this image", f"{self.current.path}: {error}")
        else:
            self.canvas.show_image(qimg, self.current.width, self.current.height)
        self.refresh_annotations()
        self._show_proposals()

    def _on_image_painted(self) -> None:
        if self.current is not None:
            self.last_painted_id = self.current.id
            self.image_shown.emit(self.current.id)
        if self._load_model and not self._model_started:
            QTimer.singleShot(0, self.start_model)

    def step_image(self, step: int) -> None:
        n = self.image_list.visible_count()
        if not n:
            return
        row = self.image_list.visible_row_of(self.current.id if self.current else None)
        if row is None:
            self.show_image(self.image_list.visible_id_at(0 if step > 0 else -1))
            return
        if 0 <= row + step < n:
            self.show_image(self.image_list.visible_id_at(row + step))
        else:
            self.statusBar().showMessage("Last image" if step > 0 else "First image", 2000)

    def jump_image(self, index: int) -> None:
        image_id = self.image_list.visible_id_at(index)
        if image_id is not None:
            self.show_image(image_id)

    def review_and_next(self) -> None:
        """Mark the image reviewed, then go to the next image (after it, wrapping) not yet reviewed."""
        if self.doc is None or self.current is None:
            return
        panel = self.image_list
        n = panel.visible_count()
        row = panel.visible_row_of(self.current.id)
        start = row + 1 if row is not None else 0
        target = None
        for k in range(n):  # walks only as far as the next image to do
            image_id = panel.visible_id_at((start + k) % n)
            rec = panel.model.record(image_id)
            if image_id != self.current.id and rec.state != ImageState.REVIEWED and rec.readable:
                target = image_id
                break
        if self.current.state != ImageState.REVIEWED and not self.current.error:
            self.doc.push(cmd.SetImageStateCommand(self.doc, self.current.id, self.current.state,
                                                   ImageState.REVIEWED, self.current.file_name))
        if target is not None:
            self.show_image(target)
        else:
            self.statusBar().showMessage("Every image in the list is reviewed.", 5000)

    # ------------------------------------------------------------------ annotations
    def refresh_annotations(self) -> None:
        if self.doc is None or self.current is None:
            self._annotations = []
        else:
            self._annotations = self.doc.store.annotations(self.current.id)
        selected = self.canvas.selected_box_id
        self.canvas.set_annotations(self._annotations)
        self.canvas.select_box(selected)
        self.panel.set_annotations(self._annotations)
        if selected is not None and self.canvas.selected_box_id is not None:
            self.panel.select_box(selected)
        elif self._selected_expression is not None:
            self.panel.select_expression(self._selected_expression)
        self.session.set_annotations(self._annotations)

    def _on_doc_changed(self, image_id: int) -> None:
        # Every edit of boxes passes here: the model learns the image's labelled boxes as they are now.
        self.host.learn(self.doc.store, image_id)
        rec = self.doc.store.image(image_id)
        if rec is not None:
            self.image_list.update_record(rec)
        if self.current is not None and image_id == self.current.id:
            self.current = rec
            self.refresh_annotations()
        elif rec is not None:
            # Only undo/redo touch another image: show it, so nobody is surprised by a silent change.
            self.show_image(image_id)
        self._update_title()
        self._update_actions()

    def _box(self, box_id: int) -> Optional[Box]:
        for _, boxes in self._annotations:
            for b in boxes:
                if b.id == box_id:
                    return b
        return None

    def _expression_of_box(self, box_id: int):
        for e, boxes in self._annotations:
            if any(b.id == box_id for b in boxes):
                return e
        return None

    def _expression(self, expression_id: int):
        return next((e for e, _ in self._annotations if e.id == expression_id), None)

    # ------------------------------------------------------------------ grounding
    def _show_proposals(self) -> None:
        s = self.session
        shown = s.shown if s.answered_image == (self.current.id if self.current else None) else []
        self.canvas.set_proposals(shown, s.highlight, self.phrase_bar.threshold.value())
        self.panel.set_proposals(s.answered_phrase or "", shown, s.highlight)
        self.canvas.set_hint(s.hint)
        if s.last_latency_ms is not None:
            extra = " (incl. CNN features)" if s.last_cold else ""
            self.latency_label.setText(f"Proposals: {s.last_latency_ms:.0f} ms{extra}")
        self._update_actions()

    def _on_threshold(self, value: float) -> None:
        self.session.threshold = value
        self._show_proposals()

    def _on_answered(self, n: int) -> None:
        pending, self._accept_pending = self._accept_pending, None
        if pending == "one":
            self.accept()
        elif pending == "all":
            self.accept_all()
        self.proposals_shown.emit(n)

    def _on_hint(self, x: float, y: float) -> None:
        self.session.set_hint((x, y))
        self.canvas.set_hint((x, y))

    def _phrase_or_none(self) -> Optional[str]:
        try:
            return clean_phrase(self.phrase_bar.text())
        except PhraseError:
            return None

    def _ensure_answer(self, kind: str) -> bool:
        """True if proposals for the typed phrase are on screen; else accept once they arrive."""
        self.phrase_bar.flush()
        if self.session.up_to_date:
            return True
        if self.session.waiting:
            self._accept_pending = kind
            self.phrase_bar.set_info("Will accept when the proposals arrive…", "busy")
        return False

    def accept(self, index: Optional[int] = None) -> None:
        """Store one proposal (the highlighted one, or ``index``) as a box of the phrase."""
        if self.doc is None or self.current is None:
            return
        if index is None and not self._ensure_answer("one"):
            return
        s = self.session
        if index is not None:
            s.set_highlight(index)
        p = s.current()
        if p is None or not s.answered_phrase:
            return
        phrase = s.answered_phrase
        ok = self.doc.push(cmd.AddBoxesCommand(
            self.doc, self.current.id, phrase, [cmd.proposal_box(p)],
            f"Accept {cmd._quote(phrase)} ({p.score:.2f})"))
        if ok:
            self._after_accept(phrase, keep_phrase=s.plural)

    def accept_all(self) -> None:
        if self.doc is None or self.current is None:
            return
        if not self._ensure_answer("all"):
            return
        s = self.session
        threshold = self.phrase_bar.threshold.value()
        chosen = s.above(threshold)
        if not chosen:
            self.phrase_bar.set_info(f"No proposal scores ≥ {threshold:.2f}; Enter accepts the highlighted one.",
                                     "error")
            return
        phrase = s.answered_phrase
        ok = self.doc.push(cmd.AddBoxesCommand(
            self.doc, self.current.id, phrase, [cmd.proposal_box(p) for p in chosen],
            f"Accept {len(chosen)} × {cmd._quote(phrase)}"))
        if ok:
            self._after_accept(phrase, keep_phrase=False)

    def accept_no_target(self) -> None:
        """The phrase names nothing in this image: a negative example, stored without boxes."""
        if self.doc is None or self.current is None:
            return
        phrase = self._phrase_or_none()
        if phrase is None:
            self.phrase_bar.set_info("Type the phrase first.", "error")
            return
        if any(e.text == phrase for e, _ in self._annotations):
            self.phrase_bar.set_info(f"“{phrase}” is already stored for this image.", "error")
            return
        if self.doc.push(cmd.AddBoxesCommand(self.doc, self.current.id, phrase, [],
                                             f"Add {cmd._quote(phrase)} (not in image)")):
            self._after_accept(phrase, keep_phrase=False)

    def _after_accept(self, phrase: str, keep_phrase: bool) -> None:
        expr = next((e for e, _ in self._annotations if e.text == phrase), None)
        if expr is not None:
            boxes = next(bs for e, bs in self._annotations if e.id == expr.id)
            newest = max((b for b in boxes if b.state != BoxState.REJECTED), key=lambda b: b.id, default=None)
            self._selected_expression = expr.id
            if newest is not None:
                self.canvas.select_box(newest.id)
                self.panel.select_box(newest.id)
        if keep_phrase:
            if self.session.hint is not None:
                self.session.hint = None
            self._show_proposals()
            self.phrase_bar.edit.selectAll()
        else:
            self.phrase_bar.clear()
            self.session.clear()
            self.canvas.set_hint(None)

    def reject(self) -> None:
        """Store the highlighted proposal as a rejected box (a hard negative) and hide it."""
        if self.doc is None or self.current is None:
            return
        s = self.session
        p = s.current()
        if p is None or not s.answered_phrase:
            return
        phrase = s.answered_phrase
        self.doc.push(cmd.AddBoxesCommand(
            self.doc, self.current.id, phrase, [cmd.proposal_box(p, BoxState.REJECTED)],
            f"Reject proposal for {cmd._quote(phrase)} ({p.score:.2f})"))

    def escape(self) -> None:
        """Esc: cancel a drag, leave draw mode, clear the phrase, or go back to the image — in that order."""
        if self.canvas.cancel_interaction():
            return
        draw = self.actions_by_name["draw_mode"]
        if draw.isChecked():
            draw.setChecked(False)
            return
        if self.phrase_bar.text() or self.session.hint is not None or self.session.shown:
            self._accept_pending = None
            self.phrase_bar.clear()
            self.session.clear()
            self.canvas.set_hint(None)
            return
        if self.phrase_bar.edit.hasFocus():
            self.canvas.setFocus()
            return
        self.canvas.select_box(None, notify=True)

    def focus_phrase(self) -> None:
        self.phrase_bar.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.phrase_bar.edit.selectAll()

    # ------------------------------------------------------------------ correction
    def _on_draw_mode(self, on: bool) -> None:
        self.canvas.set_draw_mode(on)
        self.statusBar().showMessage("Draw mode: drag on the image to draw a box (W or Esc to leave)" if on else "",
                                     0 if on else 1)

    def _on_box_drawn(self, xywh: tuple) -> None:
        if self.doc is None or self.current is None:
            return
        phrase = self._phrase_or_none()
        expression_id = None
        if phrase is None:
            expr = None
            if self.canvas.selected_box_id is not None:
                expr = self._expression_of_box(self.canvas.selected_box_id)
            elif self._selected_expression is not None:
                expr = self._expression(self._selected_expression)
            if expr is not None:
                phrase, expression_id = expr.text, expr.id
            else:
                text = self.ask_text("Phrase for the new box", "What does this box show?", "")
                if text is None:
                    return
                try:
                    phrase = clean_phrase(text)
                except PhraseError as exc:
                    self._warn("Phrase refused", str(exc))
                    return
        box = Box(0, 0, tuple(float(v) for v in xywh), BoxState.ACCEPTED, BoxSource.MANUAL)
        if self.doc.push(cmd.AddBoxesCommand(self.doc, self.current.id, phrase, [box],
                                             f"Draw box for {cmd._quote(phrase)}", expression_id=expression_id)):
            expr = next((e for e, _ in self._annotations if e.text == phrase and
                         (expression_id is None or e.id == expression_id)), None)
            if expr is not None:
                newest = max((b.id for b in next(bs for e, bs in self._annotations if e.id == expr.id)), default=None)
                self._selected_expression = expr.id
                if newest is not None:
                    self.canvas.select_box(newest)
                    self.panel.select_box(newest)

    def _on_box_edited(self, box_id: int, old: tuple, new: tuple, verb: str) -> None:
        box = self._box(box_id)
        if self.doc is None or self.current is None or box is None:
            return
        expr = self._expression_of_box(box_id)
        title = f"{verb} box of {cmd._quote(expr.text)}" if expr else f"{verb} box"
        self.doc.push(cmd.MoveResizeBoxCommand(self.doc, self.current.id, box, new, title))

    def nudge(self, dx: int, dy: int) -> None:
        box_id = self.canvas.selected_box_id
        box = self._box(box_id) if box_id is not None else None
        if box is None or self.current is None:
            return
        step = 10 if QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier else 1
        x, y, w, h = box.bbox
        x = min(max(x + dx * step, 0.0), max(self.current.width - w, 0.0))
        y = min(max(y + dy * step, 0.0), max(self.current.height - h, 0.0))
        if (x, y) != (box.bbox[0], box.bbox[1]):
            self.doc.push(cmd.MoveResizeBoxCommand(self.doc, self.current.id, box, (x, y, w, h), "Nudge box",
                                                   nudge=True))

    def delete_selected(self) -> None:
        if self.doc is None or self.current is None:
            return
        box_id = self.canvas.selected_box_id
        sel = self.panel.selected()
        if box_id is None and sel is not None and sel[0] == "box":
            box_id = sel[1]
        if box_id is not None:
            expr = self._expression_of_box(box_id)
            boxes = next((bs for e, bs in self._annotations if expr is not None and e.id == expr.id), [])
            if expr is not None and len(boxes) == 1:
                # The phrase's only box: deleting the box alone would leave a "not in image" phrase,
                # a claim nobody made. Delete the phrase with it (one undo step).
                self.doc.push(cmd.DeleteExpressionCommand(self.doc, self.current.id, expr))
            else:
                title = f"Delete box of {cmd._quote(expr.text)}" if expr else "Delete box"
                self.doc.push(cmd.DeleteBoxCommand(self.doc, self.current.id, box_id, title))
            self.canvas.select_box(None)
            return
        expr_id = sel[1] if sel is not None and sel[0] == "expression" else self._selected_expression
        expr = self._expression(expr_id) if expr_id is not None else None
        if expr is not None:
            self.doc.push(cmd.DeleteExpressionCommand(self.doc, self.current.id, expr))
            self._selected_expression = None
            return
        self.statusBar().showMessage("Select a box or a phrase to delete", 3000)

    def rename_selected(self) -> None:
        expr = None
        if self.canvas.selected_box_id is not None:
            expr = self._expression_of_box(self.canvas.selected_box_id)
        if expr is None and self._selected_expression is not None:
            expr = self._expression(self._selected_expression)
        sel = self.panel.selected()
        if expr is None and sel is not None and sel[0] == "expression":
            expr = self._expression(sel[1])
        if expr is None:
            self.statusBar().showMessage("Select a box or a phrase to edit its phrase", 3000)
            return
        self.rename_expression(expr.id)

    def _on_edit_box_phrase(self, box_id: int) -> None:
        expr = self._expression_of_box(box_id)
        if expr is not None:
            self.rename_expression(expr.id)

    def rename_expression(self, expression_id: int) -> None:
        expr = self._expression(expression_id)
        if expr is None or self.doc is None or self.current is None:
            return
        text = self.ask_text("Edit phrase", "Phrase:", expr.text)
        if text is None:
            return
        try:
            new = clean_phrase(text)
        except PhraseError as exc:
            self._warn("Phrase refused", f"{exc}.")
            return
        if new != expr.text:
            self.doc.push(cmd.RenameExpressionCommand(self.doc, self.current.id, expr, new))

    def _ask_text(self, title: str, label: str, default: str) -> Optional[str]:
        text, ok = QInputDialog.getText(self, title, label, QLineEdit.EchoMode.Normal, default)
        return text if ok else None

    # ------------------------------------------------------------------ selection sync
    def _on_canvas_selection(self, box_id) -> None:
        if box_id is not None:
            expr = self._expression_of_box(box_id)
            self._selected_expression = expr.id if expr else None
        self.panel.select_box(box_id)

    def _on_panel_box(self, box_id: int) -> None:
        self.canvas.select_box(box_id)
        expr = self._expression_of_box(box_id)
        self._selected_expression = expr.id if expr else None

    def _on_panel_expression(self, expression_id: int) -> None:
        self.canvas.select_box(None)
        self._selected_expression = expression_id

    # ------------------------------------------------------------------ chrome
    def _update_actions(self) -> None:
        has_props = bool(self.session.shown) and self.current is not None
        # Enter right after typing (debounce or model still busy) accepts once the answer lands.
        waiting = self._phrase_or_none() is not None and self.host.state in ("loading", "ready") \
            and self.current is not None and self.current.readable
        a = self.actions_by_name
        a["next_proposal"].setEnabled(has_props)
        a["prev_proposal"].setEnabled(has_props)
        a["accept"].setEnabled(has_props or waiting)
        a["accept_all"].setEnabled(has_props or waiting)
        a["reject"].setEnabled(has_props)
        has_image = self.current is not None
        for name in ("review_next", "draw_mode", "delete", "rename", "accept_none"):
            a[name].setEnabled(has_image)
        for name in ("next_image", "prev_image", "first_image", "last_image", "rescan", "export", "import",
                     "evaluate"):
            a[name].setEnabled(self.doc is not None)

    def _update_title(self) -> None:
        if self.doc is None:
            self.setWindowTitle(APP_TITLE)
            self.image_label.setText("")
            return
        root = Path(self.doc.store.root)
        if self.current is None:
            self.setWindowTitle(f"{root.name} — {APP_TITLE}")
            self.image_label.setText("")
            return
        rec = self.current
        self.setWindowTitle(f"{rec.file_name} ({record_status(rec)}) — {root.name} — {APP_TITLE}")
        self.image_label.setText(f"{rec.path} · {rec.width} × {rec.height} px · {record_status(rec)}")

    def _warn(self, title: str, text: str) -> None:
        self.statusBar().showMessage(f"{title}: {text}", 8000)
        if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            return  # nobody to click OK: the status bar says it
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.open()

    def show_export(self) -> None:
        if self.doc is not None:
            self._open_dialog(ExportDialog(self.doc.store, self))

    def show_import(self) -> None:
        if self.doc is not None:
            dlg = ImportDialog(self.doc.store, self)
            dlg.finished_with_changes.connect(self._on_imported)
            self._open_dialog(dlg)

    def show_evaluate(self) -> None:
        if self.doc is not None:
            self._open_dialog(EvaluateDialog(self.doc.store, self.host.grounder if self.host.ready else None,
                                             self))

    def _open_dialog(self, dlg) -> None:
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self.transfer_dialog = dlg

    def _on_imported(self) -> None:
        """An import writes many rows at once, outside the undo stack: reload what is shown."""
        self.image_list.set_records(self.doc.store.images())
        if self.current is not None:
            self.image_list.set_current(self.current.id)
            self.refresh_annotations()

    def _use_project_detector(self, store: ProjectStore) -> None:
        choice, problem = project_detector(store)
        if problem:
            self.statusBar().showMessage(problem, 8000)
        self.host.use_detector(choice)

    def show_model_dialog(self) -> None:
        if self.doc is None:
            return
        dlg = ModelDialog(self.host.detector or DetectorChoice(), self.host.runtime, self)
        dlg.chosen.connect(self._on_detector_chosen)
        self._open_dialog(dlg)

    def _on_detector_chosen(self, choice: DetectorChoice) -> None:
        if self.doc is None:
            return
        remember_detector(self.doc.store, choice)
        self.host.use_detector(choice)

    def show_shortcuts(self) -> None:
        dlg = ShortcutsDialog(self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self.shortcuts_dialog = dlg

    def show_about(self) -> None:
        model = self.model_label.text().removeprefix("Model: ")
        project = str(self.doc.store.db_path) if self.doc else "none"
        box = QMessageBox(QMessageBox.Icon.Information, f"About {APP_TITLE}",
                          f"{APP_TITLE} {__version__}\n\nModel: {model}\nProject database: {project}\n\n"
                          "Everything runs on this computer; nothing is sent anywhere.",
                          QMessageBox.StandardButton.Ok, self)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Everything is saved already; only the layout is left to remember. Workers finish first
        so no thread touches the database after it is closed."""
        self._closing = True
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        self.hide()
        self.host.shutdown()
        self.loader.shutdown()
        self.scanner.shutdown()
        if self.doc is not None:
            self.doc.close()
            self.doc = None
        super().closeEvent(event)
