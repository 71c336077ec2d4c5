"""The window's rules that are not about labels (``editing.session.Session``), without Qt: steps
through the list as shown, the image a project opens on, what a rescan's report changes, and the
order Esc works in. The list is a plain list of records; the view records what it was told."""
from __future__ import annotations

import pytest

from grounding_desktop.core import ImageState
from grounding_desktop.editing.document import ImageDocument
from grounding_desktop.editing.edit_stack import EditStack
from grounding_desktop.editing.session import Session
from grounding_desktop.project import open_project
from grounding_desktop.store.scan_sync import ScanReport


class ShownList:
    """``VisibleImages`` over a project's images, in a list (the order shown), read fresh from the
    store as the window's list is kept fresh by the document's ``record_changed``."""

    def __init__(self, store):
        self.store = store
        self.ids = [r.id for r in store.images.all()]

    @property
    def records(self):
        return [self.store.images.get(i) for i in self.ids]

    def visible_count(self):
        return len(self.records)

    def visible_id_at(self, row):
        return self.records[row].id if -len(self.records) <= row < len(self.records) else None

    def visible_row_of(self, image_id):
        return next((i for i, r in enumerate(self.records) if r.id == image_id), None)

    def visible_after(self, image_id):
        row = self.visible_row_of(image_id)
        start = row + 1 if row is not None else 0
        return [self.records[(start + k) % len(self.records)] for k in range(len(self.records))]


class View:
    """``SessionView`` that does what a window would to the plain state below."""

    def __init__(self, doc: ImageDocument):
        self.doc = doc
        self.said: list[str] = []
        self.placeholder = None
        self.dragging = self.drawing = self.phrase_focus = False

    def show_image(self, image_id):
        self.doc.open_image(self.doc.labels.store.images.get(image_id))

    def say(self, text, ms):
        self.said.append(text)

    def show_placeholder(self, title, detail, final):
        self.placeholder = (title, final)

    def cancel_interaction(self):
        was, self.dragging = self.dragging, False
        return was

    def leave_draw_mode(self):
        was, self.drawing = self.drawing, False
        return was

    def phrase_has_focus(self):
        return self.phrase_focus

    def focus_image(self):
        self.phrase_focus = False


@pytest.fixture
def session(tmp_path):
    from support import make_image

    for name in ("a.png", "b.png", "c.png"):
        make_image(tmp_path / name)
    store, _ = open_project(tmp_path)
    doc = ImageDocument()
    doc.open_project(store, EditStack(doc.apply))
    yield Session(doc, ShownList(store), View(doc))
    doc.close_project()


def shown(s: Session):
    return s.doc.labels.image.file_name if s.doc.labels.image else None


def test_steps_walk_the_list_as_shown_and_stop_at_its_ends(session):
    session.step(1)
    assert shown(session) == "a.png"  # from none shown: the first
    session.step(1)
    session.step(1)
    assert shown(session) == "c.png"
    session.step(1)
    assert shown(session) == "c.png" and session.view.said[-1] == "Last image"
    session.jump(0)
    assert shown(session) == "a.png"
    session.step(-1)
    assert session.view.said[-1] == "First image"
    session.jump(-1)
    assert shown(session) == "c.png"


def test_a_project_opens_where_the_person_left_off_else_on_the_first_image(session):
    b = session.doc.labels.store.images.by_path()["b.png"].id
    session.show_first(resume=b)
    assert shown(session) == "b.png"
    session.doc.open_image(None)
    session.show_first(resume=12345)  # not in the list (gone, or filtered out)
    assert shown(session) == "a.png"


def test_an_empty_list_says_whether_the_scan_is_still_running(session):
    session.images.ids = []
    session.scanning = True
    session.show_first(resume=None)
    assert session.view.placeholder == ("Scanning the folder…", False)
    session.scanning = False
    session.show_first(resume=None)
    assert session.view.placeholder == ("No images here", True)


def test_space_marks_the_image_reviewed_and_shows_the_next_not_reviewed(session):
    session.jump(0)
    session.doc.labels.store.images.set_state(session.doc.labels.store.images.by_path()["b.png"].id, ImageState.REVIEWED)
    session.review_and_next()
    assert shown(session) == "c.png"
    assert session.doc.labels.store.images.by_path()["a.png"].state == ImageState.REVIEWED


def test_a_rescan_that_moved_rows_clears_the_history_and_asks_to_relearn(session):
    notices = []
    session.doc.labels.notice.connect(notices.append)
    session.jump(0)
    session.doc.query.set_text("a thing")
    session.doc.accept_no_target()
    added = session.rescanned(ScanReport(added=["d.png"]))
    assert (added.relearn, added.refresh_folder, notices) == (False, True, [])
    moved = session.rescanned(ScanReport(renamed=[("b.png", "e.png")]))
    assert (moved.relearn, moved.refresh_folder) == (True, True)
    assert moved.message == session.view.said[-1] == "Scan: 0 new, 0 gone, 1 renamed"
    assert notices == ["Scan: 0 new, 0 gone, 1 renamed; the undo history was cleared (the edits stay saved)"]


def test_esc_cancels_a_drag_then_leaves_draw_mode_then_clears_the_phrase_then_leaves_the_bar(session):
    session.jump(0)
    v = session.view
    v.dragging = v.drawing = v.phrase_focus = True
    session.doc.query.set_text("a thing")
    session.escape()
    assert not v.dragging and v.drawing
    session.escape()
    assert not v.drawing and session.doc.query.phrase == "a thing"
    session.escape()
    assert not session.doc.query.phrase and v.phrase_focus
    session.escape()
    assert not v.phrase_focus and session.doc.labels.selection is None

