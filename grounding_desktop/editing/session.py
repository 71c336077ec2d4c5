"""The window's rules that are not about labels, without Qt: which image a step, a jump or Space
shows, which image a project opens on, what a rescan's report changes, and the order Esc works in.

``ui.main_window.MainWindow`` builds one ``Session`` over its document, its image list (as
filtered and ordered: ``VisibleImages``) and itself (``SessionView``: what the window does when a
rule says so), and its actions call these methods; unit tests drive them with plain objects.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Protocol

from ..core import ImageRecord
from ..store.scan_sync import ScanReport
from .document import ImageDocument


class VisibleImages(Protocol):
    """The image list as shown (filtered, ordered): what next/previous walk through."""

    def visible_count(self) -> int: ...

    def visible_id_at(self, row: int) -> Optional[int]: ...  # negative rows count from the end

    def visible_row_of(self, image_id: Optional[int]) -> Optional[int]: ...

    def visible_after(self, image_id: Optional[int]) -> Iterable[ImageRecord]: ...  # wrapping round


class SessionView(Protocol):
    """What the window does when a rule says so."""

    def show_image(self, image_id: int) -> None: ...

    def say(self, text: str, ms: int) -> None: ...  # the status bar

    def show_placeholder(self, title: str, detail: str, final: bool) -> None: ...  # no image to show

    def cancel_interaction(self) -> bool: ...  # a drag on the image; True if there was one

    def leave_draw_mode(self) -> bool: ...  # True if draw mode was on

    def phrase_has_focus(self) -> bool: ...

    def focus_image(self) -> None: ...


@dataclass(frozen=True)
class RescanNews:
    """What a finished rescan changed: ``message`` (said in the status bar); ``relearn``: rows under the
    model's lessons moved (images removed, renamed or changed); ``refresh_folder``: the folder
    work (the feature pass, search) has images to look at again."""

    message: str
    relearn: bool
    refresh_folder: bool


class Session:
    def __init__(self, doc: ImageDocument, images: VisibleImages, view: SessionView) -> None:
        self.doc, self.images, self.view = doc, images, view
        self.scanning = False  # a folder scan is running (the window starts it)

    # -- navigation ----------------------------------------------------------------------------
    def step(self, step: int) -> None:
        """Next (1) or previous (-1) image in the list as shown; from none shown, the first or the last."""
        n = self.images.visible_count()
        row = self.images.visible_row_of(self.doc.labels.image.id if self.doc.labels.image else None)
        if not n:
            return
        if row is None:
            self.view.show_image(self.images.visible_id_at(0 if step > 0 else -1))
        elif 0 <= row + step < n:
            self.view.show_image(self.images.visible_id_at(row + step))
        else:
            self.view.say("Last image" if step > 0 else "First image", 2000)

    def jump(self, index: int) -> None:
        """Home (0) and End (-1)."""
        image_id = self.images.visible_id_at(index)
        if image_id is not None:
            self.view.show_image(image_id)

    def review_and_next(self) -> None:
        """Space: ``LabelsDocument.review_and_next``, then show the next image to do."""
        current = self.doc.labels.image.id if self.doc.labels.image else None
        target = self.doc.labels.review_and_next(self.images.visible_after(current))
        if target is not None:
            self.view.show_image(target)

    # -- open and rescan -----------------------------------------------------------------------
    def show_first(self, resume: Optional[int]) -> None:
        """Where the person left off in this project (``resume``, if the list shows it), else the
        first image; with none, say why (a scan still running, or no images in the folder)."""
        first = self.images.visible_id_at(0)
        if self.doc.labels.image is None and first is not None:
            self.view.show_image(resume if self.images.visible_row_of(resume) is not None else first)
        elif first is None:
            root = str(self.doc.labels.store.root)
            if self.scanning:
                self.view.show_placeholder("Scanning the folder…", root, False)
            else:
                self.view.show_placeholder("No images here", f"{root} has no jpg, png, bmp, webp or tiff files", True)

    def rescanned(self, report: ScanReport) -> RescanNews:
        """A rescan's report: the document lets go of what the disk took away (and of the undo
        history, if rows under it changed); the window acts on the news."""
        done = f"Scan: {len(report.added)} new, {len(report.removed)} gone, {len(report.renamed)} renamed"
        changed = bool(report.removed or report.renamed or report.changed)
        self.view.say(done, 5000)  # before the document's notice, which says more when it comes
        self.doc.changed_outside(changed, done)
        return RescanNews(done, relearn=changed, refresh_folder=changed or bool(report.added))

    # -- Esc -----------------------------------------------------------------------------------
    def escape(self) -> None:
        """Esc: cancel a drag, leave draw mode, clear the phrase, or go back to the image (from the
        phrase bar) or drop the selection — the first of these that applies."""
        if self.view.cancel_interaction() or self.view.leave_draw_mode() or self.doc.query.clear():
            return
        if self.view.phrase_has_focus():
            self.view.focus_image()
        else:
            self.doc.labels.select(None)
