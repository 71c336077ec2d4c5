"""The model process's to-do list: what it drops, and the order it does the rest in."""
from __future__ import annotations

from grounding_desktop.editing.state import ProposalQuery
from grounding_desktop.model_worker.messages import Cancel, Learn, Load, Prepare, Propose
from grounding_desktop.model_worker.work_queue import Features, WorkQueue


def _propose(rid: int) -> Propose:
    return Propose(rid, ProposalQuery(1, "a.png", f"phrase {rid}"), 5)


def _drain(queue: WorkQueue) -> list:
    out = []
    while (work := queue.pop()) is not None:
        out.append(work)
    return out


def test_only_the_newest_proposal_request_is_kept_and_a_cancel_drops_it():
    q = WorkQueue()
    for rid in (1, 2, 3):
        q.put(_propose(rid))
    assert _drain(q) == [_propose(3)]
    q.put(_propose(4))
    q.put(Cancel(5))
    q.put(_propose(5))  # cancelled before it came
    assert _drain(q) == []


def test_the_image_shown_replaces_the_images_wanted_before():
    q = WorkQueue()
    q.put(Prepare("a.png"))
    q.put(Prepare("b.png", prefetch=True))
    q.put(Features("a.png"))
    q.put(Features("elsewhere.png"))  # never wanted: not queued
    q.put(Prepare("c.png"))  # the user moved on: a and b are not worth the CPU now
    q.put(Prepare("c.png", prefetch=True))  # already queued
    assert _drain(q) == [Prepare("c.png")]
    assert q.wanted == {"c.png"}


def test_edits_go_first_then_proposals_then_images_then_the_rest():
    q = WorkQueue()
    later, urgent = Learn(1, (), urgent=False), Learn(1, ())
    q.put(Features("a.png"))  # not wanted yet: dropped
    q.put(Prepare("a.png", prefetch=True))
    q.put(Features("a.png"))
    q.put(later)
    q.put(Prepare("b.png"))  # makes a.png unwanted: its prefetch and maps are dropped
    q.put(Prepare("a.png", prefetch=True))
    q.put(_propose(1))
    q.put(urgent)
    assert _drain(q) == [urgent, _propose(1), Prepare("b.png"), later, Prepare("a.png", prefetch=True)]


def test_a_project_read_again_drops_the_older_lessons_and_a_new_model_drops_everything():
    q = WorkQueue()
    q.put(Learn(1, (), clear=True))
    q.put(Learn(1, (), urgent=False))
    q.put(Learn(2, (), clear=True))
    q.put(Learn(1, ()))  # an older epoch's lesson after the newer project read: stale
    assert _drain(q) == [Learn(2, (), clear=True)]
    q.put(_propose(1))
    q.put(Prepare("a.png"))
    load = Load(3, factory=print)
    q.put(load)
    assert _drain(q) == [load] and q.wanted == set()


def test_what_the_user_waits_for_is_pressing_and_background_work_is_not():
    """A job such as the feature pass waits while the queue is pressing (``serve.Worker.wait_turn``)."""
    q = WorkQueue()
    q.put(Learn(0, (), urgent=False))
    q.put(Features("a.png"))
    assert not q.pressing()  # the slow part of a project's lessons, the second CNN's maps when idle
    for pressing in (Prepare("a.png"), Prepare("b.png", prefetch=True), _propose(1), Learn(0, ()), Load(1, object)):
        q.put(pressing)
        assert q.pressing(), pressing
        _drain(q)
        assert not q.pressing()
