"""The window's work on the whole folder, wired in one place: the feature pass (its status in the
status bar), search by phrase (a dock beside the image list), propose for every image (a dialog)
and review by doubt (the image list's filter). ``MainWindow`` builds it and calls ``open`` with
each project; each part holds its own rules (``folder_pass``, ``search_panel``,
``propose_dialog``, ``image_list``)."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt

from ..core import ImageRecord, Proposal
from ..store import ProjectStore
from .folder_pass import FolderPass
from .image_list import ImageFilter
from .pass_status import PassStatus
from .propose_dialog import ProposeDialog
from .search_panel import SearchPanel
from .window_layout import Window, add_dock


class FolderTools(QObject):
    def __init__(self, window: Window):
        super().__init__(window)
        self.window = window
        self.folder_pass = FolderPass(window.host, window.settings, self)
        self.pass_status = PassStatus(self.folder_pass, window.statusBar())
        window.statusBar().addPermanentWidget(self.pass_status)
        self.search = SearchPanel(window.host, self.folder_pass, window)
        self.search_dock = add_dock(window, "Search", "searchDock", self.search, Qt.DockWidgetArea.LeftDockWidgetArea)
        window.tabifyDockWidget(window.images_dock, self.search_dock)
        window.images_dock.raise_()
        self.search.result_chosen.connect(self.open_result)
        self.search.left.connect(lambda: window.canvas.setFocus())  # Esc in the search panel
        window.image_list.doubt_source = lambda: window.doc.labels.store.proposals.images_by_doubt() if window.doc.labels.store else ()
        window.doc.labels.records_changed.connect(window.image_list.update_records)
        window.doc.labels.records_changed.connect(lambda _records: window.image_list.refresh_doubt())

    def open(self, store: ProjectStore) -> None:
        """A project is shown: its pass (when it starts by itself) and its search."""
        self.folder_pass.open(store)
        self.search.set_store(store)

    def close(self) -> None:
        self.folder_pass.close()
        self.search.set_store(None)

    def rescanned(self) -> None:
        """Files were added, changed or removed: prepare them (when the pass starts by itself)."""
        self.folder_pass.start(prepare=self.folder_pass.auto)
        self.window.image_list.refresh_doubt()

    def shutdown(self) -> None:
        self.search.shutdown()
        self.folder_pass.shutdown()

    # -- search ------------------------------------------------------------------------------
    def show_search(self) -> None:
        """Ctrl+F: the search dock shown, the cursor in its box."""
        self.search_dock.show()
        self.search_dock.raise_()
        self.search.focus()

    def open_result(self, record: ImageRecord, proposal: Proposal, phrase: str) -> None:
        """Show a search result's image with its best box as the highlighted proposal."""
        w = self.window
        if w.image_list.visible_row_of(record.id) is None:
            w.image_list.set_filter(ImageFilter.ALL)  # the result is not in the filtered list: show them all
        w.show_image(record.id)
        w.doc.query.look_for(phrase, proposal.bbox)

    # -- propose for every image, review by doubt ----------------------------------------------
    def show_propose(self) -> None:
        w = self.window
        if w.doc.labels.store is not None:
            self.propose_dialog = w.open_dialog(ProposeDialog(w.doc.labels.store, w.host, self.folder_pass, w.undo_stack, w))

    def review_by_doubt(self) -> None:
        """The image list filtered to review by doubt, its first image shown."""
        w = self.window
        w.images_dock.show()
        w.images_dock.raise_()
        w.image_list.set_filter(ImageFilter.DOUBT)
        first = w.image_list.visible_id_at(0)
        if first is None:
            w.statusBar().showMessage("No image has proposals to review: Grounding → Propose for Every Image…", 5000)
        else:
            w.show_image(first)
