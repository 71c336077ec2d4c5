"""What an evaluation says about the model's scores, judged from each top box's score alone: per
phrase the reliability (of the top boxes scoring above 0.5, the fraction right), over all the
reliability table and the calibration error; and the picture of it all (a PNG of the asked size)."""
import io

import pytest
from PIL import Image

from grounding_desktop.core import Proposal
from grounding_desktop.evaluation import EvaluationPlan, ImageTrials, Outcome, judge
from grounding_desktop.evaluation_plot import plot_png

TRUTH = (10.0, 10.0, 20.0, 20.0)
RIGHT, WRONG = TRUTH, (60.0, 60.0, 20.0, 20.0)


def _report(answers: dict[str, list]):
    """``phrase -> [(score, right), ...]`` (None: no box), one image per answer, judged."""
    images, tops = [], []
    for phrase, shots in answers.items():
        for k, shot in enumerate(shots):
            images.append(ImageTrials(f"{phrase}-{k}", True, ((phrase, (TRUTH,)),)))
            tops.append((None if shot is None else Proposal(RIGHT if shot[1] else WRONG, shot[0]),))
    return judge(EvaluationPlan((), tuple(images)), Outcome(tuple(tops)))


@pytest.fixture
def report():
    return _report({
        "the cup": [(0.95, True), (0.92, True), (0.91, False), (0.55, True), (0.3, False)],
        "a dog": [(0.45, True), (0.15, False), None],
    })


def test_each_phrase_says_how_often_its_top_boxes_above_half_were_right(report):
    cup, dog = report.phrases
    assert (cup.above_half, cup.above_half_right, cup.reliability, cup.reliability_text) == (4, 3, 0.75, "3 of 4")
    assert (dog.above_half, dog.reliability, dog.reliability_text) == (0, None, "none above 0.5")
    assert (report.total.above_half, report.total.above_half_right) == (4, 3)
    phrases = report.as_dict()["phrases"]
    assert (phrases[0]["above_half"], phrases[0]["above_half_right"], phrases[0]["reliability"]) == (4, 3, 0.75)
    assert phrases[1]["reliability"] is None


def test_the_reliability_table_counts_top_boxes_by_tenth_of_the_score(report):
    bins = report.as_dict()["reliability_bins"]
    assert [(b["from"], b["to"]) for b in bins] == [(k / 10, (k + 1) / 10) for k in range(10)]
    by_bin = {b["from"]: (b["count"], b["right"], b["fraction_right"]) for b in bins if b["count"]}
    # 0.95, 0.92, 0.91 -> 0.9-1 (2 right of 3); 0.55 -> 0.5-0.6; 0.45; 0.3; 0.15 (no box: not scored)
    assert by_bin == {0.9: (3, 2, 0.6667), 0.5: (1, 1, 1.0), 0.4: (1, 1, 1.0), 0.3: (1, 0, 0.0),
                      0.1: (1, 0, 0.0)}
    assert sum(b["count"] for b in bins) == 7
    # weighted gaps: 0.9-1 |0.667-0.927|*3, 0.5 |1-0.55|, 0.4 |1-0.45|, 0.3 |0-0.3|, 0.1 |0-0.15|, over 7
    assert report.as_dict()["calibration_error"] == pytest.approx((0.78 + 0.45 + 0.55 + 0.3 + 0.15) / 7, abs=1e-4)


def test_a_score_of_one_lands_in_the_last_bin():
    bins = _report({"x": [(1.0, True)]}).as_dict()["reliability_bins"]
    assert bins[-1]["count"] == 1 and bins[-1]["fraction_right"] == 1.0


def test_the_picture_is_a_png_of_the_asked_size(report):
    for size in ((1000, 420), (640, 300)):
        with Image.open(io.BytesIO(plot_png(report, *size))) as picture:
            assert picture.format == "PNG" and picture.size == size
            colours = picture.convert("RGB").getcolors(1 << 20)
            assert len(colours) > 20  # drawn, not blank
