"""``io.progress.TerminalProgress``, the commands' progress off a terminal: a plain line once work
has lasted, then at each tenth; nothing for quick work or with ``quiet`` (the clock is the test's)."""
import io

from grounding_desktop.io.progress import PLAIN_AFTER_S, TerminalProgress


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _run(progress: TerminalProgress, clock: Clock, total: int, seconds_each: float) -> None:
    for done in range(total + 1):
        progress(done, total)
        clock.now += seconds_each
    progress(total, total)  # a second report of the end (an import's merge) prints nothing more


def test_long_work_prints_a_line_per_tenth_with_rate_and_time_left():
    out, clock = io.StringIO(), Clock()
    _run(TerminalProgress("preparing", "image", stream=out, clock=clock), clock, 200, 0.5)
    lines = out.getvalue().splitlines()
    assert PLAIN_AFTER_S == 2.0  # the first line comes after 4 images of half a second
    assert [line.split()[1] for line in lines] == ["2%"] + [f"{10 * k}%" for k in range(1, 11)]
    assert lines[1].startswith("preparing:") and "20/200" in lines[1] and "2.00image/s" in lines[1]
    assert "[00:10<01:30," in lines[1]  # 10 s gone, 90 s to go at that rate
    assert "200/200" in lines[-1]


def test_quick_work_and_quiet_print_nothing():
    for quiet, seconds in ((False, PLAIN_AFTER_S / 50), (True, 1.0)):
        out, clock = io.StringIO(), Clock()
        _run(TerminalProgress("importing", "entry", quiet=quiet, stream=out, clock=clock), clock, 20, seconds)
        assert out.getvalue() == ""
