"""The dialogs the main window opens (export, import, evaluate, the model, the shortcuts, About),
as a part of ``MainWindow``: each opens without blocking, is kept as an attribute while open (tests
and the window reach it there), and deletes itself when closed."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from ..core.detector_choice import DetectorChoice
from .evaluate_dialog import EvaluateDialog
from .help_dialog import ShortcutsDialog
from .message_boxes import about
from .model_dialog import ModelDialog, remember_detector
from .transfer_dialogs import ExportDialog, ImportDialog


class WindowDialogs:
    """Mixed into ``MainWindow`` (which has ``doc``, ``host``, ``label_sync``, ``image_list``, ``status``)."""

    def open_dialog(self, dlg: QDialog) -> QDialog:
        """Open ``dlg`` window-modal; closed, it is deleted and the window takes the keys again."""
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.finished.connect(lambda _result: self.activateWindow())
        dlg.open()
        return dlg

    def show_export(self) -> None:
        if self.doc.labels.store is not None:
            self.transfer_dialog = self.open_dialog(ExportDialog(self.doc.labels.store, self))

    def show_import(self) -> None:
        if self.doc.labels.store is not None:
            self.transfer_dialog = self.open_dialog(ImportDialog(self.doc.labels.store, self))
            self.transfer_dialog.finished_with_changes.connect(self._on_imported)

    def _on_imported(self) -> None:
        """An import writes many rows at once, outside the undo stack: reload what is shown."""
        self.image_list.set_records(self.doc.labels.store.images.all())
        self.doc.changed_outside(True, "Imported")
        self.label_sync.teach_project(self.doc.labels.store)
        self.image_list.set_current(self.doc.labels.image.id if self.doc.labels.image else None)
        self.image_list.refresh_doubt()

    def show_evaluate(self) -> None:
        if self.doc.labels.store is not None:
            self.transfer_dialog = self.open_dialog(EvaluateDialog(self.doc.labels.store, self.host, self))

    def show_model_dialog(self) -> None:
        if self.doc.labels.store is not None:
            dlg = self.open_dialog(ModelDialog(self.host.detector or DetectorChoice(), self.host.runtime, self))
            dlg.chosen.connect(self._on_detector_chosen)

    def _on_detector_chosen(self, choice: DetectorChoice) -> None:
        if self.doc.labels.store is not None:
            remember_detector(self.doc.labels.store, choice)
            self.host.use_detector(choice)

    def show_shortcuts(self) -> None:
        self.shortcuts_dialog = self.open_dialog(ShortcutsDialog(self))

    def show_about(self) -> None:
        about(self, self.status.model.text().removeprefix("Model: "),
              str(self.doc.labels.store.db_path) if self.doc.labels.store else "none")
