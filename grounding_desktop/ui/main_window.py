"""The main window: builds the widgets (``window_layout``) and wires them to the document model,
the session and the workers.

It holds no labels and no rule: the store is the truth, ``editing.ImageDocument`` owns the open
image and every editing rule, ``editing.session.Session`` navigation, which image a project opens
on, what a rescan changes and the order Esc works in; the canvas, phrases panel and phrase bar draw
what the document holds, and every edit goes through the undo stack into the store at once. So
closing the window, or a crash, loses nothing.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow

from ..editing.document import ImageDocument
from ..editing.keys import key
from ..editing.session import Session
from ..editing.state import ModelState
from ..store import ProjectStore, StoreError
from ..store.scan_sync import ScanReport
from .folder_tools import FolderTools
from .image_display import ImageDisplay
from .image_list import status_label
from .message_boxes import APP_TITLE, model_failed, warn
from .model_dialog import project_detector
from .label_sync import LabelSync
from .model_host import GrounderHost
from .model_start import ModelStart
from .phrase_dialog import PhraseQuestions
from .proposals import ProposalRequester
from .settings import (DockWidths, add_recent_folder, app_settings, last_image, recent_folders, remember_image,
                       restore_layout, save_layout)
from .status_bar import StatusLabels
from .undo import UndoStack
from .window_actions import build_actions, build_menus, fill_recent_menu, link_docks, update_enabled
from .window_dialogs import WindowDialogs
from .window_layout import WindowView, build_widgets
from .welcome import WelcomePage
from .workers import FolderScanner


class MainWindow(WindowDialogs, QMainWindow):
    """``MainWindow(store, ModelStart(factory))``; tests pass a small deterministic grounder."""

    image_shown = Signal(int)  # image id, once its pixels (or its placeholder) are painted

    def __init__(self, store: Optional[ProjectStore] = None, model: ModelStart = ModelStart(),
                 settings: Optional[QSettings] = None, rescan: bool = True):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_TITLE)
        self.settings = settings if settings is not None else app_settings()
        self.doc = ImageDocument()
        self.undo_stack = UndoStack(self.doc, self)
        self.host = GrounderHost(model.factory, model.device, self)
        self.label_sync = LabelSync(self.host, self)
        self.requester = ProposalRequester(self.doc, self.host, self)
        self.scanner = FolderScanner(self)
        self._load_model = model.load
        self._model_started = False
        self._closing = False
        self.last_painted_id: Optional[int] = None

        build_widgets(self, self.undo_stack)
        self.display = ImageDisplay(self.doc, self.canvas, self)
        self.questions = PhraseQuestions(self, self.doc, self.canvas)
        self.folder = FolderTools(self)
        self.session = Session(self.doc, self.image_list, WindowView(self))
        self.actions_by_name = build_actions(self, self._handlers(), self.undo_stack, self.canvas)
        self.welcome = WelcomePage(self.actions_by_name["open_folder"], recent_folders(self.settings), self.pages)
        self.menus, self.toolbar, self.recent_menu = build_menus(self, self.actions_by_name)
        self.status = StatusLabels(self.statusBar())
        self._connect()
        restore_layout(self.settings, self, self.images_dock, self.panel_dock)
        self.dock_widths = DockWidths(self, [self.images_dock, self.panel_dock])
        self._update_actions()
        if store is not None:
            self.open_store(store, rescan=rescan)
        if model.load:
            QTimer.singleShot(model.delay_ms, self.start_model)

    # ------------------------------------------------------------------ construction
    def _handlers(self) -> dict[str, Callable[[], None]]:
        doc, labels, query, c = self.doc, self.doc.labels, self.doc.query, self.canvas

        def nudge(dx: int, dy: int) -> Callable[[], None]:
            return lambda: labels.nudge(dx, dy, big=bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier))

        return {
            "open_folder": self.choose_folder, "export": self.show_export, "import": self.show_import,
            "rescan": self.rescan, "quit": self.close, "delete": labels.delete_selected, "rename": self.questions.edit_selected,
            "nudge_left": nudge(-1, 0), "nudge_right": nudge(1, 0), "nudge_up": nudge(0, -1), "nudge_down": nudge(0, 1),
            "focus_phrase": self.phrase_bar.focus, "next_proposal": lambda: query.move_highlight(1),
            "prev_proposal": lambda: query.move_highlight(-1), "accept": lambda: doc.accept(),
            "accept_all": doc.accept_all, "accept_none": doc.accept_no_target, "reject": doc.reject,
            "clear": self.session.escape, "next_image": lambda: self.session.step(1),
            "prev_image": lambda: self.session.step(-1), "first_image": lambda: self.session.jump(0),
            "last_image": lambda: self.session.jump(-1), "review_next": self.session.review_and_next,
            "fit": c.fit, "zoom_in": lambda: c.zoom_by(1.25),
            "zoom_out": lambda: c.zoom_by(0.8), "actual_size": c.actual_size,
            "shortcuts": self.show_shortcuts, "about": self.show_about, "model": self.show_model_dialog,
            "evaluate": self.show_evaluate, "propose_all": self.folder.show_propose,
            "review_doubt": self.folder.review_by_doubt, "search": self.folder.show_search,
        }

    def _connect(self) -> None:
        doc, labels, query, a = self.doc, self.doc.labels, self.doc.query, self.actions_by_name
        self.canvas.bind(doc)
        self.panel.bind(doc)
        self.phrase_bar.bind(doc)
        for signal in (query.proposals_changed, query.request_changed, labels.image_changed, labels.selection_changed):
            signal.connect(self._update_actions)
        labels.image_changed.connect(self._update_title)
        query.proposals_changed.connect(lambda: self.status.show_answer(query.answer))
        labels.record_changed.connect(self.image_list.update_record)
        labels.other_image_edited.connect(self.show_image)  # undo/redo on another image: show it
        labels.notice.connect(lambda text: self.statusBar().showMessage(text, 5000))
        labels.error.connect(lambda msg: warn(self, "Could not save the edit", msg))
        self.undo_stack.indexChanged.connect(lambda _i: self.phrase_bar.forget_typing_history())
        self.phrase_bar.edit.textChanged.connect(lambda _t: self._update_actions())
        self.canvas.box_drawn.connect(self.questions.name_drawn_box)
        self.canvas.edit_requested.connect(lambda box_id: self.questions.edit_selected())  # the box is selected
        self.canvas.space_tapped.connect(a["review_next"].trigger)
        self.canvas.image_painted.connect(self._on_image_painted)
        self.canvas.zoom_changed.connect(self.status.show_zoom)
        self.panel.edit_requested.connect(self.questions.edit_selected)  # the row double-clicked is selected
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        self.image_list.image_chosen.connect(self.show_image)
        self.welcome.folder_chosen.connect(self.open_folder)
        self.scanner.progress.connect(lambda i, n: self.statusBar().showMessage(f"Scanning… {i} / {n} images"))
        self.scanner.finished.connect(self._on_scan_finished)
        self.host.state_changed.connect(self._on_model_state)
        self.host.info_changed.connect(lambda _: self._show_model())
        self.host.failed.connect(self._on_model_failed)
        self.host.notice.connect(lambda text: self.statusBar().showMessage(text, 10000))
        # Every edit (and its undo) reports its image's record here: the model learns that image's
        # boxes as they are now, before the next proposal.
        labels.record_changed.connect(lambda rec: self.label_sync.teach_image(labels.store, rec.id))
        self.label_sync.learn_failed.connect(
            lambda why: self.statusBar().showMessage(f"The model could not learn from the boxes: {why}", 8000))
        a["draw_mode"].toggled.connect(self._on_draw_mode)
        a["prepare_background"].setChecked(self.folder.folder_pass.auto)
        a["prepare_background"].toggled.connect(self.folder.folder_pass.set_auto)
        link_docks(a, {"history": self.history_dock, "show_images": self.images_dock,
                       "show_expressions": self.panel_dock, "show_search": self.folder.search_dock})

    # ------------------------------------------------------------------ project
    def open_folder(self, folder: os.PathLike | str) -> bool:
        try:
            store = ProjectStore.open_folder(folder)
        except StoreError as exc:
            warn(self, "Cannot open folder", str(exc))
            return False
        self.open_store(store, rescan=True)
        return True

    def open_store(self, store: ProjectStore, rescan: bool = True) -> None:
        """Show a project: what the database already knows at once, then the folder scan's news."""
        self.folder.close()
        self.doc.close_project()
        self.doc.open_project(store, self.undo_stack)
        self.pages.setCurrentIndex(0)
        self.display.forget()
        self.status.forget_answer()
        add_recent_folder(self.settings, store.root)
        choice, problem = project_detector(store)
        self.host.use_detector(choice)
        self.label_sync.teach_project(store)  # the whole project's boxes, as soon as the model is there
        self.statusBar().showMessage(problem, 8000)  # '' when the setting is fine
        self.image_list.set_records(store.images.all())
        self.folder.open(store)
        self.session.scanning = False
        if rescan:
            self.rescan()
        self.session.show_first(last_image(self.settings, store.db_path))
        self._update_title()

    def _on_scan_finished(self, report: Optional[ScanReport], error: str) -> None:
        self.session.scanning = False
        if self.doc.labels.store is None:
            return
        if error:
            warn(self, "Folder scan failed", error)
        self.image_list.set_records(self.doc.labels.store.images.all())
        if report is not None:
            news = self.session.rescanned(report)
            if news.relearn:
                self.label_sync.teach_project(self.doc.labels.store)
            if news.refresh_folder:
                self.folder.rescanned()
        self.image_list.set_current(self.doc.labels.image.id if self.doc.labels.image else None)
        self.session.show_first(last_image(self.settings, self.doc.labels.store.db_path))

    def rescan(self) -> None:
        if self.doc.labels.store is not None and not self.session.scanning:
            self.session.scanning = True
            self.statusBar().showMessage(f"Scanning {self.doc.labels.store.root}…")
            self.scanner.scan(self.doc.labels.store)

    def choose_folder(self) -> None:
        start = str(self.doc.labels.store.root) if self.doc.labels.store else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", start)
        if folder:
            self.open_folder(folder)

    def fill_recent_menu(self) -> None:
        fill_recent_menu(self.recent_menu, recent_folders(self.settings), self.open_folder)

    # ------------------------------------------------------------------ model
    def start_model(self) -> None:
        if not self._model_started and not self._closing:
            self._model_started = True
            self.host.start_loading()

    def _on_model_state(self, state: ModelState) -> None:
        self._show_model()
        if state == ModelState.READY:
            self._prepare_current()

    def _show_model(self) -> None:
        """The model's state and facts in the status bar (its version names the fit in use)."""
        info = self.host.info
        self.status.show_model(self.host.state,
                               *((info.device, info.model_version, info.runtime) if info is not None else ()))

    def _on_model_failed(self, reason: str) -> None:
        self.model_dialog = model_failed(self, reason)

    def _prepare_current(self) -> None:
        rec = self.doc.labels.image
        if rec is not None and rec.readable and self.host.ready:
            self.host.prepare(self.doc.labels.path_of(rec))

    # ------------------------------------------------------------------ images
    def show_image(self, image_id: int) -> None:
        rec = self.doc.labels.store.images.get(image_id) if self.doc.labels.store is not None else None
        if rec is None:
            return
        self.image_list.set_current(rec.id)
        remember_image(self.settings, self.doc.labels.store.db_path, rec.id)
        self.canvas.hold_for_loading()  # nothing of the last image is drawn over the next one
        self.doc.open_image(rec)
        self.display.show(rec)
        self._prepare_current()
        # Decode the neighbours now (and the next one's CNN features), so stepping is instant.
        nxt, previous = self.image_list.neighbours(rec.id)
        self.display.prefetch([r for r in (nxt, previous) if r is not None])
        if nxt is not None and nxt.readable and self.host.ready:
            self.host.prepare(self.doc.labels.path_of(nxt), prefetch=True)

    def _on_image_painted(self) -> None:
        if self.doc.labels.image is not None:
            self.last_painted_id = self.doc.labels.image.id
            self.image_shown.emit(self.doc.labels.image.id)
        if self._load_model and not self._model_started:
            QTimer.singleShot(0, self.start_model)

    # ------------------------------------------------------------------ draw mode
    def _on_draw_mode(self, on: bool) -> None:
        self.canvas.set_draw_mode(on)
        if on:
            self.doc.query.clear_highlight()  # Enter must not accept a proposal while a box is drawn
        leave = f"{key('draw_mode')} or {key('clear')} leaves"
        self.statusBar().showMessage(f"Draw mode: drag a box on the image ({leave})" if on else "", 0 if on else 1)

    # ------------------------------------------------------------------ chrome
    def _update_actions(self) -> None:
        update_enabled(self.actions_by_name, self.doc)

    def _update_title(self) -> None:
        rec, store = self.doc.labels.image, self.doc.labels.store
        parts = ([f"{rec.file_name} ({status_label(rec)})"] if rec else []) + ([Path(store.root).name] if store else [])
        self.setWindowTitle(" — ".join(parts + [APP_TITLE]))
        self.status.show_image(rec)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.dock_widths.window_resized(event.oldSize(), event.size())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Everything is saved already; only the layout is left to remember. Workers stop first
        (and hand nothing back after this), so no thread touches the database after it is closed;
        the model process is ended, not waited for, even while it loads."""
        self._closing = True
        save_layout(self.settings, self)
        self.hide()
        self.host.shutdown()
        self.label_sync.shutdown()
        self.folder.shutdown()
        self.display.shutdown()
        self.scanner.shutdown()
        self.doc.close_project()
        super().closeEvent(event)
