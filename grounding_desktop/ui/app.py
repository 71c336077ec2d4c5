"""QApplication start-up (placeholder window until the main window lands)."""
from __future__ import annotations

import sys


def run_app(args) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    from ..commands import CliError
    from ..project import open_project
    from ..store import StoreError

    app = QApplication.instance() or QApplication(sys.argv[:1])
    text = "Grounding Desktop"
    if args.folder:
        try:
            store, _ = open_project(args.folder, args.db)
        except StoreError as exc:
            raise CliError(str(exc)) from exc
        text += f"\n{store.root}: {store.counts()['images']} images"
    label = QLabel(text)
    label.resize(480, 200)
    label.show()
    if args.screenshot:
        app.processEvents()
        label.grab().save(args.screenshot)
        return 0
    return app.exec()
