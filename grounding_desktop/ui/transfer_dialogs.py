"""File → Export… and File → Import…: the io exporters/importers run on a worker thread with a
progress bar, a Cancel button and a summary at the end. A cancelled or failed run leaves earlier
files (and the database) untouched: the io layer guarantees it, the dialog only reports it.

Both dialogs are built from the tables the CLI reads (``io.formats.EXPORT_FORMATS`` and
``io.export_options.EXPORT_OPTIONS``; ``io.importers.IMPORT_FORMATS`` and ``IMPORT_OPTIONS``), so
they offer every format and option the CLI does, and a format added there appears here."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
    QLabel, QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget,
)

from ..io.errors import ImportFileError
from ..io.export import Cancelled, ExportError, ExportOptions, export_options, export_project
from ..io.export_options import EXPORT_OPTIONS
from ..io.formats import EXPORT_FORMAT, EXPORT_FORMATS, ExportFormat
from ..io.importers import IMPORT_FORMAT, IMPORT_FORMATS, IMPORT_OPTIONS, ImportFormat, import_options
from ..io.option_spec import OptionKind, OptionSpec
from ..store import ProjectStore, StoreError
from .workers import BackgroundTasks, short_error


class _Job(QObject):
    """Runs ``work(progress, cancelled)`` off the GUI thread (``workers.BackgroundTasks``) and
    reports back through signals, on the GUI thread. ``progress(done, total, stage="")``: the
    stage, when given, names what is counted ("preparing")."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, work: Callable, store: ProjectStore, parent=None):
        super().__init__(parent)
        self._work = work
        self._store = store
        self._tasks = BackgroundTasks(1, self)
        self.cancel_event = threading.Event()
        self.running = False

    def start(self) -> None:
        self.running = True
        progress = lambda done, total, stage="": self._tasks.post(self.progressed.emit, done, total, stage)  # noqa: E731
        self._tasks.run(lambda: self._work(progress, self.cancel_event.is_set), self._done, store=self._store)

    def _done(self, result, error: Optional[BaseException]) -> None:
        self.running = False
        if error is None:
            self.succeeded.emit(result)
        elif isinstance(error, Cancelled):
            self.failed.emit("Cancelled: nothing was written.")
        elif isinstance(error, ImportFileError):
            self.failed.emit("Failed, nothing was imported:\n" + "\n".join(error.problems)
                             + (f"\n… and {error.more} more" if error.more else ""))
        else:
            reason = str(error) if isinstance(error, (ExportError, StoreError, OSError)) else short_error(error)
            self.failed.emit(f"Failed: {reason}\nNothing was written.")
        self.finished.emit()


class WorkerDialog(QDialog):
    """Shared frame: an options form, a progress bar, a summary box, Run/Cancel/Close buttons."""

    finished_with_changes = Signal()
    run_text = "Run"

    def __init__(self, store: ProjectStore, title: str, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.store = store
        self.job: Optional[_Job] = None
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.form = QFormLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setPlaceholderText("The summary appears here.")
        self.summary.setMaximumHeight(150)
        self.buttons = QDialogButtonBox()
        self.run_button = self.buttons.addButton(self.run_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.run_button.setDefault(True)
        self.cancel_button = self.buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.setEnabled(False)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.run_button.clicked.connect(self._start)
        self.cancel_button.clicked.connect(self._cancel)
        self.close_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

    def _path_row(self, edit: QLineEdit, browse: Callable[[], None]) -> QWidget:
        return path_row(edit, browse)

    def make_work(self) -> Optional[Callable]:
        """The job to run, or None after telling the user what is wrong with the options."""
        raise NotImplementedError

    def summary_lines(self, result) -> list[str]:
        return result.lines()

    def _start(self) -> None:
        try:
            work = self.make_work()
        except (ExportError, ImportFileError) as exc:  # an option that does not parse: one line
            self.summary.setPlainText(str(exc))
            return
        if work is None:
            return
        self.summary.clear()
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.job = _Job(work, self.store, self)
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(self._on_success)
        self.job.failed.connect(self._on_failure)
        self.job.finished.connect(self._on_finished)
        self.run_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.job.start()

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancel_event.set()
            self.cancel_button.setEnabled(False)

    def _on_progress(self, done: int, total: int, stage: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{stage} %v / %m" if stage else "%p%")

    def _on_success(self, result) -> None:
        self.progress.setFormat("%p%")
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.summary.setPlainText("\n".join(self.summary_lines(result)))
        self.finished_with_changes.emit()

    def _on_failure(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.summary.setPlainText(message)

    def _on_finished(self) -> None:
        self.run_button.setEnabled(True)
        self.close_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def reject(self) -> None:
        if self.job is not None and self.job.running:
            return  # Esc while running cancels instead of closing on a live thread
        super().reject()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Escape and self.job is not None and self.job.running:
            self._cancel()
            return
        super().keyPressEvent(event)


def path_row(edit: QLineEdit, browse: Callable[[], None]) -> QWidget:
    """A line edit with a Browse… button beside it."""
    row = QWidget()
    h = QHBoxLayout(row)
    h.setContentsMargins(0, 0, 0, 0)
    h.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    h.addWidget(button)
    return row


class OptionFields:
    """A row in ``form`` per declared option (``io.option_spec.OptionSpec``): a check box for a
    flag, a line edit for a value (with Browse… for a file). ``widgets`` by the option's field;
    ``values()`` what the user set, for the io layer's parser (``export_options``,
    ``import_options``); ``offer(fields)`` enables only the options a format takes."""

    def __init__(self, specs: Sequence[OptionSpec], form: QFormLayout, parent: QWidget, start_dir: Path):
        self.widgets: dict[str, QWidget] = {}
        for spec in specs:
            if spec.kind == OptionKind.FLAG:
                widget: QWidget = QCheckBox(spec.label)
                form.addRow("", widget)
            else:
                widget = QLineEdit()
                widget.setPlaceholderText(spec.placeholder)
                row = widget if spec.kind == OptionKind.TEXT else path_row(
                    widget, lambda w=widget, s=spec: self._browse(parent, w, s, start_dir))
                form.addRow(spec.label, row)
            widget.setToolTip(f"{spec.flag}: {spec.help}")
            self.widgets[spec.field] = widget

    @staticmethod
    def _browse(parent: QWidget, edit: QLineEdit, spec: OptionSpec, start_dir: Path) -> None:
        path, _ = QFileDialog.getOpenFileName(parent, spec.label, str(start_dir), "JSON (*.json);;All files (*)")
        if path:
            edit.setText(path)

    def values(self) -> dict[str, Any]:
        """The enabled options' values by field: a check box's state, a line edit's text."""
        return {field: (w.isChecked() if isinstance(w, QCheckBox) else w.text().strip())
                for field, w in self.widgets.items() if w.isEnabled()}

    def offer(self, fields: frozenset[str]) -> None:
        for field, widget in self.widgets.items():
            widget.setEnabled(field in fields)


class ExportDialog(WorkerDialog):
    """Every export format (``EXPORT_FORMATS``) with every option the CLI takes
    (``EXPORT_OPTIONS``); those a format does not take are greyed out."""

    run_text = "Export"

    def __init__(self, store: ProjectStore, parent: Optional[QWidget] = None, start_dir: Optional[Path] = None):
        super().__init__(store, "Export annotations", parent)
        self.start_dir = Path(start_dir or store.root)
        self.format = QComboBox()
        for f in EXPORT_FORMATS:
            self.format.addItem(f.title, f.name)
            self.format.setItemData(self.format.count() - 1, f"--format {f.name}", Qt.ItemDataRole.ToolTipRole)
        self.out = QLineEdit(str(self.start_dir / EXPORT_FORMATS[0].default_name))
        self.form.addRow("Format", self.format)
        self.form.addRow("Write to", self._path_row(self.out, self._browse_out))
        self.fields = OptionFields(EXPORT_OPTIONS, self.form, self, self.start_dir)
        self.fields.offer(EXPORT_FORMATS[0].options)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.fields.widgets["with_images"].toggled.connect(self._suggest_out)

    @property
    def chosen(self) -> ExportFormat:
        return EXPORT_FORMAT[self.format.currentData()]

    def _format_changed(self) -> None:
        self.fields.offer(self.chosen.options)
        self._suggest_out()

    def _writes_folder(self) -> bool:
        return self.chosen.out_is_folder or self.fields.widgets["with_images"].isChecked()

    def _suggest_out(self) -> None:
        """The chosen format's default name where the last one was written: a folder with
        ``--with-images``, beside the project folder (a copy inside it would be scanned as new images)."""
        name = self.chosen.default_name
        folder = Path(self.out.text() or self.start_dir).parent
        if self._writes_folder() and not self.chosen.out_is_folder:
            name = Path(name).stem
            root = Path(self.store.root).resolve()
            if folder.resolve() == root or root in folder.resolve().parents:
                folder, name = root.parent, f"{root.name}_{name}"
        self.out.setText(str(folder / name))

    def _browse_out(self) -> None:
        if self._writes_folder():
            path = QFileDialog.getExistingDirectory(self, "Export into folder", str(self.start_dir))
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to file", self.out.text())
        if path:
            self.out.setText(path)

    def options(self) -> ExportOptions:
        return export_options(self.fields.values())

    def make_work(self) -> Optional[Callable]:
        if not self.out.text().strip():
            self.summary.setPlainText("Choose where to write the export.")
            return None
        fmt, out, options = self.chosen.name, Path(self.out.text().strip()), self.options()
        return lambda progress, cancelled: export_project(self.store, fmt, out, options, progress, cancelled)


class ImportDialog(WorkerDialog):
    """Every import format (``IMPORT_FORMATS``) with every option the CLI takes (``IMPORT_OPTIONS``)."""

    run_text = "Import"

    def __init__(self, store: ProjectStore, parent: Optional[QWidget] = None):
        super().__init__(store, "Import annotations", parent)
        self.format = QComboBox()
        for f in IMPORT_FORMATS:
            self.format.addItem(f.title, f.name)
            self.format.setItemData(self.format.count() - 1, f"{f.flag} {f.metavar}", Qt.ItemDataRole.ToolTipRole)
        self.file = QLineEdit()
        note = QLabel("Images are matched by path, then by file name. The whole file is checked "
                      "first; then all of it is added in one step, or nothing is.")
        note.setWordWrap(True)
        self.form.addRow("Format", self.format)
        self.form.addRow("Read", self._path_row(self.file, self._browse))
        self.fields = OptionFields(IMPORT_OPTIONS, self.form, self, Path(store.root))
        self.form.addRow(note)
        self.format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

    @property
    def chosen(self) -> ImportFormat:
        return IMPORT_FORMAT[self.format.currentData()]

    def set_format(self, name: str) -> None:
        """Choose the import format by its CLI name (``coco``, ``odvg``, ``refcoco``)."""
        self.format.setCurrentIndex(self.format.findData(name))

    def _format_changed(self) -> None:
        self.file.setPlaceholderText(f"{'a folder' if self.chosen.folder else 'a file'}: {self.chosen.title}")

    def _browse(self) -> None:
        f = self.chosen
        if f.folder:
            path = QFileDialog.getExistingDirectory(self, f"Import {f.title}", str(self.store.root))
        else:
            path, _ = QFileDialog.getOpenFileName(self, f"Import {f.title}", str(self.store.root), f.file_types)
        if path:
            self.file.setText(path)

    def make_work(self) -> Optional[Callable]:
        if not self.file.text().strip():
            self.summary.setPlainText(f"Choose the {'folder' if self.chosen.folder else 'file'} to import.")
            return None
        read, path, options = self.chosen.read, self.file.text().strip(), import_options(self.fields.values())
        return lambda progress, cancelled: read(self.store, path, options, progress=progress, cancelled=cancelled)
