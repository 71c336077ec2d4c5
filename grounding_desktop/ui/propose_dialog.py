"""Grounding → Propose for Every Image…: the model's best boxes for a list of phrases (typed, or
from a file) stored on every image not yet reviewed, as proposals to review by doubt, with
progress and cancel, as one undoable step.

The frame is the export dialog's (``WorkerDialog``). A worker thread runs ``folder.propose``'s
steps on the model process (images not prepared yet first, ``GrounderHost.features``; then
``GrounderHost.propose_images``) and hands each batch of answers here, where the GUI thread stores it as a
``ProposeBatch`` that joins the run's first one (one Ctrl+Z takes the whole run back; a cancel
keeps what was stored until then, as that one step). What is never stored (a box the phrase has
already, in any state; anything on a reviewed image) is the store's rule."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFileDialog, QLabel, QPlainTextEdit, QPushButton, QWidget

from ..core import PhraseError, clean_phrase
from ..editing.edits import ProposeBatch
from ..editing.keys import key
from ..folder.propose import DEFAULT_MIN_SCORE, ProposeReport, ProposeRun, phrase_lines, proposal_answers
from ..model_worker.folder_engine import ProcessEngine
from ..store import ProjectStore
from .folder_pass import FolderPass
from .model_host import GrounderHost
from .transfer_dialogs import WorkerDialog
from .undo import UndoStack


class ProposeDialog(WorkerDialog):
    run_text = "Propose"
    answered = Signal(object, object, object)  # run, phrases, a batch's answers: from the worker to the GUI thread

    def __init__(self, store: ProjectStore, host: GrounderHost, folder_pass: FolderPass, stack: UndoStack,
                 parent: Optional[QWidget] = None):
        super().__init__(store, "Propose for every image", parent)
        self.host, self.folder_pass, self.stack = host, folder_pass, stack
        self.setMinimumHeight(460)
        intro = QLabel("Stores the model's best box for each phrase (every match of a plural phrase) scoring at "
                       "least the minimum, on every image not yet reviewed, as proposals to review. Boxes that "
                       "are there are never changed, and no phrase gets a box it has already (accepted, "
                       f"rejected or proposed). One {key('undo')} takes it all back.")
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.phrases = QPlainTextEdit()
        self.phrases.setObjectName("proposePhrases")
        self.phrases.setPlaceholderText("One phrase a line, e.g.\nthe dog\nthe person on the left\n"
                                        "(lines starting with # are skipped)")
        self.form.addRow("Phrases", self.phrases)
        from_file = QPushButton("From a file…")
        from_file.clicked.connect(self._browse)
        self.form.addRow("", from_file)
        self.min_score = QDoubleSpinBox()
        self.min_score.setObjectName("proposeMinScore")
        self.min_score.setRange(0.0, 1.0)
        self.min_score.setSingleStep(0.05)
        self.min_score.setValue(DEFAULT_MIN_SCORE)
        self.min_score.setToolTip("Boxes the model scores lower are not stored")
        self.form.addRow("Minimum score", self.min_score)
        self.added = 0  # proposals stored by this run
        self.changed: set[int] = set()  # images they were stored on
        self._resume: Callable[[], None] = lambda: None
        self.answered.connect(self._store)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Phrases, one a line", str(self.store.root),
                                              "Text (*.txt);;All files (*)")
        if path:
            self.load_phrases(path)

    def load_phrases(self, path: str) -> None:
        """Put a file's lines in the phrases box (UTF-8; a file that cannot be read is said so)."""
        try:
            self.phrases.setPlainText(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            self.summary.setPlainText(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}")

    def checked_phrases(self) -> Optional[list[str]]:
        """The phrases typed, cleaned and without repeats; None after saying what is wrong."""
        out = []
        for n, line in phrase_lines(self.phrases.toPlainText()):
            try:
                out.append(clean_phrase(line))
            except PhraseError as exc:
                self.summary.setPlainText(f"Line {n}: {exc}")
                return None
        if not out:
            self.summary.setPlainText("Type at least one phrase, one a line.")
            return None
        return list(dict.fromkeys(out))

    def make_work(self) -> Optional[Callable]:
        phrases = self.checked_phrases()
        if phrases is None:
            return None
        info = self.host.info
        if not self.host.ready or info is None or not info.features_version:
            self.summary.setPlainText("The model has not loaded yet: try again in a moment.")
            return None
        self.added, self.changed = 0, set()
        self._resume = self.folder_pass.hold()  # this run prepares what it needs itself
        run, min_score, store = object(), self.min_score.value(), self.store
        engine = ProcessEngine(self.host, info.features_version)

        def work(progress, cancelled) -> ProposeReport:
            report = ProposeReport()
            self.folder_pass.wait_until_stopped(cancelled)  # its batch in hand written: no image twice
            features = self.folder_pass.indexed_features()
            try:
                asked = ProposeRun(phrases, min_score,
                                   lambda stage, done, total: progress(done, total, stage.capitalize()), cancelled)
                for rows in proposal_answers(store, features, engine, asked, report):
                    if rows:
                        self._hand_over(run, phrases, rows)
            finally:
                features.release_thread()
            return report

        return work

    def _hand_over(self, run: object, phrases: list[str], rows: list) -> None:
        try:
            self.answered.emit(run, phrases, rows)
        except RuntimeError:  # the window closed meanwhile: nothing is stored any more
            pass

    def _store(self, run: object, phrases: list[str], rows: list) -> None:
        """On the GUI thread: one batch, joining the run's undo step."""
        edit = ProposeBatch(rows, run=run, phrases=phrases)
        if self.stack.push(edit) and edit.batch is not None:
            self.added += edit.batch.box_count
            self.changed.update(edit.batch.image_ids)

    def summary_lines(self, report: ProposeReport) -> list[str]:
        lines = ["Cancelled: what was stored until then is kept (one step)."] if report.cancelled else []
        lines.append(f"{self.added:,} proposals added on {len(self.changed):,} of {report.images:,} images "
                     f"({report.skipped_reviewed:,} reviewed images left alone, "
                     f"{report.features.prepared:,} prepared now).")
        if self.added:
            lines.append("Review them least sure first: the image list's “Review by doubt” filter. "
                         f"One {key('undo')} takes them all back.")
        return lines

    def _on_failure(self, message: str) -> None:
        if self.added:  # the batches stored before it failed stay, as the run's one undo step
            message = (message.removesuffix("\nNothing was written.") + f"\n{self.added:,} proposals stored "
                       f"on {len(self.changed):,} images before it stopped are kept; one {key('undo')} takes them back.")
        super()._on_failure(message)

    def _on_finished(self) -> None:
        super()._on_finished()
        self._resume()
