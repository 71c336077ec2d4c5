"""Asking the model while the user types: the document says what to ask (``query``), this asks
the ``GrounderHost`` once typing pauses, and hands each answer back to the document, which drops
any that no longer fits what is typed."""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from ..editing.document import ImageDocument
from .model_host import GrounderHost

TOP_K = 5
DEBOUNCE_MS = 60  # below a quick typist's key interval: results refresh per keystroke


class ProposalRequester(QObject):
    def __init__(self, doc: ImageDocument, host: GrounderHost, parent: QObject | None = None):
        super().__init__(parent)
        self.doc = doc
        self.host = host
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._ask)
        doc.query.request_changed.connect(self._on_query_changed)
        host.answered.connect(doc.take_answer)
        host.state_changed.connect(doc.query.set_model_state)

    def _on_query_changed(self) -> None:
        if self.doc.query.request is None:
            self._timer.stop()
            self.host.cancel()
        elif self.doc.query.waiting:
            self._timer.start()

    def _ask(self) -> None:
        query = self.doc.query.request
        if query is not None and self.host.ready and not self.doc.query.up_to_date:
            self.host.request(query, TOP_K)
