"""The model in its own process: what it answers equals the model in this one, a proposal request
superseded while the model is busy is dropped there, a killed process is restarted once with no
edit lost, and closing the window (or quitting while the model loads) never waits for the model."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from fakes import MODEL_PID_ENV, FakeGrounder, expected, slow_grounder
from gui_helpers import IMAGE_SIZE, make_window
from grounding_desktop.core import BoxState
from grounding_desktop.editing.state import ModelState, ProposalQuery
from grounding_desktop.model_worker.client import ModelProcess
from grounding_desktop.model_worker.messages import Learned, Loaded, Prepared, Proposed

Key, Mod = Qt.Key, Qt.KeyboardModifier
REPO = Path(__file__).resolve().parents[2]


class Talk:
    """A model process driven directly: requests in, answers collected in order."""

    def __init__(self, factory) -> None:
        self.answers: "queue.SimpleQueue" = queue.SimpleQueue()
        self.process = ModelProcess(lambda _p, answer: self.answers.put(answer),
                                    lambda _p, code: self.answers.put(("exit", code)))
        self.process.load(1, factory)
        loaded = self.next(Loaded, 240)
        assert loaded.info is not None, loaded.error
        self.info = loaded.info

    def next(self, kind, timeout: float = 30):
        while True:
            answer = self.answers.get(timeout=timeout)
            if isinstance(answer, kind):
                return answer
            assert not isinstance(answer, tuple), f"the model process ended: {answer}"


@pytest.fixture
def talk():
    opened = []

    def _open(factory) -> Talk:
        opened.append(Talk(factory))
        return opened[-1]

    yield _open
    for t in opened:
        t.process.stop()


def _wait_until_gone(pid: int, seconds: float) -> None:
    """Fails unless process ``pid`` ends within ``seconds`` (reaped by init once its parent is gone)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    pytest.fail("the model process outlived the app")


def test_a_proposal_request_superseded_while_the_model_is_busy_is_dropped_there(talk, photos):
    model = talk(partial(FakeGrounder, delay=0.5))
    path = str(photos / "a1.png")
    phrases = ("c", "ca", "cat", "cat on", "cat on the left")
    for rid, phrase in enumerate(phrases, 1):
        model.process.propose(rid, ProposalQuery(1, path, phrase), 5)
        time.sleep(0.1 if rid == 1 else 0)  # the model takes the first; the others come while it is busy
    answered = [model.next(Proposed)]
    while answered[-1].rid != len(phrases):
        answered.append(model.next(Proposed))
    # Typically [1, 5]; [5] on a machine so busy that all came before the model took the first.
    assert [a.rid for a in answered] in ([1, 5], [5]), "superseded requests were computed, not dropped"
    assert list(answered[-1].answer.proposals) == expected(IMAGE_SIZE, phrases[-1])


def test_the_feature_pass_gives_way_to_the_image_shown_and_then_goes_on(talk, photos):
    """A job waits for its turn while the image shown is prepared, and takes it again once that is
    done (with nothing more to come: the loop must not leave the job waiting)."""
    import threading

    from grounding_desktop.io.scan import quick_hash
    model = talk(partial(FakeGrounder, feature_delay=0.2))
    # each photo twice, filed under its content's hash (a record is kept only under that)
    items = [(quick_hash(p), str(p)) for _ in range(2) for p in sorted(photos.iterdir())]
    results: "queue.SimpleQueue" = queue.SimpleQueue()
    threading.Thread(target=lambda: results.put(model.process.features(items)), daemon=True).start()
    time.sleep(0.3)  # the pass is on its second image
    model.process.prepare(str(photos / "a1.png"))
    assert model.next(Prepared).path == str(photos / "a1.png")
    assert results.empty()  # the image shown went first: the job still had images to do
    done = results.get(timeout=20)
    assert [key for key, data, error in done if data and not error] == [key for key, _ in items]


def _searchable(model, photos) -> int:
    """Make every photo searchable in the model process; returns how many."""
    from fakes import image_features
    from grounding_desktop.io.scan import quick_hash

    rows = [(quick_hash(p), str(p), image_features(p).to_bytes()) for p in sorted(photos.iterdir())]
    model.process.index_features(rows)
    return len(rows)


def test_a_proposal_is_answered_while_a_search_of_the_folder_runs(talk, photos):
    """A job runs beside the loop that answers the user: a proposal never waits behind a search."""
    import threading

    model = talk(partial(FakeGrounder, prepared_delay=1.0))  # a search of 3 images: 3 s
    searchable = _searchable(model, photos)
    found: "queue.SimpleQueue" = queue.SimpleQueue()
    threading.Thread(target=lambda: found.put(model.process.search("the cup", 5)), daemon=True).start()
    time.sleep(0.3)  # the search is on its first image
    path = str(photos / "a1.png")
    model.process.propose(1, ProposalQuery(1, path, "the cup"), 5)
    assert list(model.next(Proposed).answer.proposals) == expected(IMAGE_SIZE, "the cup")
    assert found.empty(), "the proposal waited for the search"
    assert len(found.get(timeout=30)) == searchable


def test_jobs_run_one_at_a_time_in_the_order_they_came(talk, photos):
    """Two jobs never use the model at once: a feature batch asked for during a search runs after it."""
    import threading

    from grounding_desktop.io.scan import quick_hash
    model = talk(partial(FakeGrounder, prepared_delay=0.5))
    _searchable(model, photos)
    done: "queue.SimpleQueue" = queue.SimpleQueue()
    threading.Thread(target=lambda: done.put(("search", model.process.search("the cup", 5))), daemon=True).start()
    time.sleep(0.3)  # the search is on its first image
    items = [(quick_hash(photos / "a1.png"), str(photos / "a1.png"))]
    threading.Thread(target=lambda: done.put(("features", model.process.features(items))), daemon=True).start()
    first, second = done.get(timeout=30), done.get(timeout=30)
    assert [first[0], second[0]] == ["search", "features"]
    assert [key for key, data, error in second[1] if data and not error] == [items[0][0]]


@pytest.mark.model
def test_the_model_process_proposes_and_learns_as_the_model_in_this_process(talk, tmp_path):
    """The real model: proposals for COCO, ImageNet and learned phrases, and the embeddings made
    while learning from a box, are the same through the process as in this one."""
    from support import make_gizmo_photos

    from grounding_desktop.grounder_factory import loaded_grounder
    from grounding_desktop.grounding.scoring.concepts import LabelledBox
    from grounding_desktop.project_concepts import Lesson, give_lesson

    photos = make_gizmo_photos(tmp_path / "gizmos", 2)
    (taught, box), (other, _) = photos
    lesson = Lesson(str(taught), (480, 360), (LabelledBox(1, "the gizmo", box, True),))
    here = loaded_grounder()
    model = talk(loaded_grounder)
    made_here = give_lesson(here, lesson)
    model.process.learn(1, (lesson,), clear=True)
    assert model.next(Learned).made == tuple(made_here)
    for rid, phrase in enumerate(("the cat", "the blue square on the right", "a tabby", "the gizmo"), 1):
        model.process.propose(rid, ProposalQuery(1, str(other), phrase), 5)
        answer = model.next(Proposed).answer
        assert answer.proposals == tuple(here.propose(str(other), phrase, top_k=5)), phrase
    assert answer.proposals[0].modules["evidence"] == "concept"  # the lesson taught the process's model


@pytest.mark.model
def test_a_folder_pass_runs_in_the_model_process_as_in_this_one(talk, tmp_path):
    """The feature pass and propose-for-every-image through the model process's jobs: the records
    the app keeps and the boxes it would store are those of the model in this process."""
    from support import make_gizmo_photos

    from grounding_desktop.folder.engine import LocalEngine
    from grounding_desktop.folder.feature_pass import kept_features, preparable, run_feature_pass
    from grounding_desktop.grounder_factory import loaded_grounder
    from grounding_desktop.model_worker.folder_engine import ProcessEngine
    from grounding_desktop.project import open_project
    from grounding_desktop.store.features import FeatureStore

    photos = make_gizmo_photos(tmp_path / "photos", 3)
    store, _ = open_project(photos[0][0].parent)
    features = FeatureStore.of_project(store)
    model = talk(loaded_grounder)
    engine = ProcessEngine(model.process, model.info.features_version)
    report = run_feature_pass(store, features, engine, batch_size=2)
    assert (report.prepared, report.failed) == (3, [])
    records = preparable(store)
    kept = kept_features(features, engine.features_version, records)
    here = LocalEngine(loaded_grounder())
    items = [(r.content_hash, str(store.root / r.path)) for r in records]
    assert here.features_version == engine.features_version
    assert {key: data for batch in here.features(items, 8) for key, data, _ in batch} == kept
    with_records = [(key, path, kept[key]) for key, path in items]
    phrases = ["the cat", "the blue square"]
    assert list(engine.propose(with_records, phrases, 0.0, 2)) == list(here.propose(with_records, phrases, 0.0, 2))
    features.close()
    store.close()


def _kill_model(gui) -> None:
    pid = gui.w.host.pid
    os.kill(pid, signal.SIGKILL)
    gui.wait(lambda: gui.w.host.pid != pid)


def test_a_killed_model_process_restarts_once_and_no_edit_is_lost(gui):
    gui.type_phrase("the white square")
    gui.key(Key.Key_Return)  # accepted: a box in the database
    gui.type_phrase("a thing", wait=False)
    _kill_model(gui)  # in the middle of typing
    assert gui.w.host.state == ModelState.RESTARTING
    assert "restarting" in gui.w.status.model.text()
    assert "stopped unexpectedly (killed by SIGKILL)" in gui.w.statusBar().currentMessage()
    gui.wait(lambda: gui.w.doc.query.up_to_date)  # proposals return without retyping
    assert list(gui.w.doc.query.proposals) == gui.expected(IMAGE_SIZE, "a thing")
    (expr, (box,)), = gui.annotations()
    assert expr.text == "the white square" and box.state == BoxState.ACCEPTED
    gui.key(Key.Key_Z, Mod.ControlModifier, widget=gui.w.canvas)  # the undo history is intact
    assert gui.annotations() == []

    _kill_model(gui)  # a second death: the model is unavailable, the window keeps working
    gui.wait(lambda: gui.w.host.state == ModelState.FAILED)
    assert "unavailable" in gui.w.status.model.text()
    assert "stopped unexpectedly again" in gui.w.model_dialog.text()
    gui.w.model_dialog.accept()
    gui.wait(lambda: QApplication.activeWindow() is gui.w)
    gui.key(Key.Key_B, Mod.ControlModifier, widget=gui.w.phrase_bar.edit)  # draw it by hand, phrase still typed
    gui.drag_image((30, 30), (130, 120))
    (expr, (box,)), = gui.annotations()
    assert expr.text == "a thing" and box.bbox == pytest.approx((30, 30, 100, 90), abs=1.5)


def test_closing_the_window_while_the_model_loads_ends_its_process(qtbot, photos):
    from grounding_desktop.project import open_project

    store, _ = open_project(photos)
    window = make_window(qtbot, store, slow_grounder, rescan=False)
    qtbot.waitUntil(lambda: window.host.state == ModelState.LOADING)
    process = window.host.pid
    window.close()  # returns at once: the load is not waited for
    assert window.host.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(process, 0)


def test_quitting_while_the_model_loads_exits_at_once(photos, tmp_path):
    """The app with a model that takes an hour to load, asked for proposals (so its screenshot
    waits for the model) and timing out after 2 s: it exits then, and its model process with it."""
    pid_file = tmp_path / "model.pid"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), str(REPO)]),
               GROUNDING_DESKTOP_SETTINGS=str(tmp_path / "s.ini"), GROUNDING_DESKTOP_SCREENSHOT_TIMEOUT="2",
               **{MODEL_PID_ENV: str(pid_file)})
    proc = subprocess.run([sys.executable, "-m", "grounding_desktop.cli", str(photos), "--phrase", "a thing",
                           "--screenshot", str(tmp_path / "shot.png"), "--grounder", "fakes:slow_grounder"],
                          env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 1 and "not everything had finished" in proc.stderr, proc.stderr
    model = int(pid_file.read_text())
    _wait_until_gone(model, 5)


def test_the_app_killed_leaves_a_model_process_that_ends_quietly(photos, tmp_path):
    """kill -9 of the app: its model process sees the pipe close and ends at once, without the
    interpreter's teardown (beside the real model's native threads it printed "terminate called
    without an active exception")."""
    pid_file, err = tmp_path / "model.pid", tmp_path / "stderr.txt"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), str(REPO)]),
               GROUNDING_DESKTOP_SETTINGS=str(tmp_path / "s.ini"), **{MODEL_PID_ENV: str(pid_file)})
    with err.open("w") as stderr:
        app = subprocess.Popen([sys.executable, "-m", "grounding_desktop.cli", str(photos), "--grounder",
                                "fakes:noisy_at_teardown"], env=env, stdout=subprocess.DEVNULL, stderr=stderr, cwd=REPO)
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    model = int(pid_file.read_text())
    app.kill()
    app.wait(10)
    _wait_until_gone(model, 10)
    said = err.read_text()
    assert "teardown" not in said and "Traceback" not in said, said


def test_a_lesson_says_the_model_s_new_version_even_when_it_failed_after_changing_it(talk, photos):
    """The app keeps the model's version (the status bar, the boxes' model) from the lessons'
    answers: a lesson that changed the version says so, and one that fails after changing it says
    both."""
    from fakes import LESSON_CUT_SHORT, RefittingGrounder

    from grounding_desktop.grounding.scoring.concepts import LabelledBox
    from grounding_desktop.project_concepts import Lesson

    model = talk(RefittingGrounder)
    assert model.info.model_version == "fake-1" and model.info.learns
    image = str(sorted(photos.glob("*.png"))[0])
    model.process.learn(1, (Lesson(image, (640, 480), (LabelledBox(1, "a thing", (10, 10, 50, 50), True),)),))
    learned = model.next(Learned)
    assert (learned.error, learned.model_version) == ("", "fake-1+fit-1")
    boxes = (LabelledBox(1, "a thing", (10, 10, 50, 50), True), LabelledBox(2, LESSON_CUT_SHORT, (60, 60, 50, 50), True))
    model.process.learn(2, (Lesson(image, (640, 480), boxes),))
    learned = model.next(Learned)
    assert "cut short" in learned.error and learned.model_version == "fake-1+fit-2"
