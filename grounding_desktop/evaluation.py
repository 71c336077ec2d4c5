"""How well the model grounds a project's own phrases: the number that tells a user the model
improved as they labelled.

Every phrase with accepted boxes is grounded on its image and the top box compared with them:
Acc@0.5 (the top box overlaps one of them by IoU >= 0.5) and the mean IoU, per phrase and over
all. The top box's score is judged too, from the score alone (whatever the model made of it): per
phrase its reliability (of the top boxes scoring above 0.5, the fraction that were right), and over
all a reliability table (scores in tenths: how many top boxes, and the fraction right) with the
expected calibration error. Learned concepts are scored leave-one-image-out: an image is grounded
with what the other images' boxes taught, never with its own. Phrases stored as "not in this image" have no box to
compare with and are counted apart. Shared by ``grounding-desktop evaluate`` and Grounding →
Evaluate in the app.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Optional

from .core import BoxState, ImageReadError, PhraseStatus, Proposal, iou_xywh, phrase_key, phrase_status
from .core.geometry import XYWH
from .core.grounder import LearningGrounder
from .io.errors import Cancelled
from .project_concepts import Lesson, StoredEmbedding, image_key, keep_embeddings, project_lessons, teach
from .store import ProjectStore

Progress = Optional[Callable[[int, int], None]]
HIT_IOU = 0.5
RELIABLE_ABOVE = 0.5  # a phrase's reliability: how often a top box scoring above this was right
BINS = 10  # the reliability table: scores 0-0.1, 0.1-0.2, ..., 0.9-1


@dataclass
class ScoreBin:
    """Top boxes whose score lies in ``[low, high)`` (the last bin holds 1.0 too)."""

    low: float
    high: float
    count: int = 0
    right: int = 0
    score_sum: float = 0.0

    @property
    def fraction_right(self) -> Optional[float]:
        return self.right / self.count if self.count else None

    @property
    def mean_score(self) -> Optional[float]:
        return self.score_sum / self.count if self.count else None

    def as_dict(self) -> dict:
        return {"from": self.low, "to": self.high, "count": self.count, "right": self.right,
                "fraction_right": _rounded(self.fraction_right), "mean_score": _rounded(self.mean_score)}


def reliability_table(scored: list[tuple[float, bool]]) -> list[ScoreBin]:
    """(score, right) pairs counted in :data:`BINS` bins of the score."""
    bins = [ScoreBin(round(k / BINS, 2), round((k + 1) / BINS, 2)) for k in range(BINS)]
    for score, right in scored:
        b = bins[min(max(int(score * BINS), 0), BINS - 1)]
        b.count += 1
        b.right += right
        b.score_sum += score
    return bins


def calibration_error(bins: list[ScoreBin]) -> Optional[float]:
    """The expected calibration error: the gap between the mean score and the fraction right of
    each bin, weighted by its share of the boxes (0: a score of 0.8 is right 8 times in 10)."""
    total = sum(b.count for b in bins)
    if not total:
        return None
    return sum(b.count / total * abs(b.fraction_right - b.mean_score) for b in bins if b.count)


def _rounded(v: Optional[float]) -> Optional[float]:
    return None if v is None else round(v, 4)


@dataclass
class PhraseResult:
    """One phrase (case and spacing ignored) over every image it was labelled on."""

    phrase: str
    tried: int = 0
    hits: int = 0
    iou_sum: float = 0.0
    evidence: Counter = field(default_factory=Counter)  # detector | imagenet | concept -> times
    scored: list[tuple[float, bool]] = field(default_factory=list)  # each top box's score, and if it was right

    @property
    def accuracy(self) -> float:
        return self.hits / self.tried if self.tried else 0.0

    @property
    def mean_iou(self) -> float:
        return self.iou_sum / self.tried if self.tried else 0.0

    @property
    def above_half(self) -> int:
        """Top boxes scoring above :data:`RELIABLE_ABOVE`."""
        return sum(1 for score, _ in self.scored if score > RELIABLE_ABOVE)

    @property
    def above_half_right(self) -> int:
        return sum(1 for score, right in self.scored if score > RELIABLE_ABOVE and right)

    @property
    def reliability(self) -> Optional[float]:
        """Of the top boxes scoring above 0.5, the fraction that were right (None: there were none)."""
        return self.above_half_right / self.above_half if self.above_half else None

    @property
    def reliability_text(self) -> str:
        """"4 of 5" (right of the top boxes scoring above 0.5), or "none above 0.5"."""
        return f"{self.above_half_right} of {self.above_half}" if self.above_half else "none above 0.5"

    @property
    def evidence_text(self) -> str:
        """What the top boxes rested on: "concept 3, detector 1"."""
        return ", ".join(f"{k} {v}" for k, v in self.evidence.most_common())

    def as_dict(self) -> dict:
        return {"phrase": self.phrase, "tried": self.tried, "hits": self.hits,
                "acc50": round(self.accuracy, 4), "mean_iou": round(self.mean_iou, 4),
                "evidence": dict(self.evidence), "above_half": self.above_half,
                "above_half_right": self.above_half_right, "reliability": _rounded(self.reliability)}


@dataclass
class Evaluation:
    phrases: list[PhraseResult]
    images: int = 0               # images with at least one phrase tried
    no_target: int = 0            # phrases stored as "not in this image": nothing to compare
    unreadable: int = 0           # labelled images the model could not look at

    @property
    def total(self) -> PhraseResult:
        out = PhraseResult("all phrases")
        for r in self.phrases:
            out.tried += r.tried
            out.hits += r.hits
            out.iou_sum += r.iou_sum
            out.evidence.update(r.evidence)
            out.scored += r.scored
        return out

    @property
    def reliability_bins(self) -> list[ScoreBin]:
        """The reliability table of every top box."""
        return reliability_table(self.total.scored)

    @property
    def empty_message(self) -> str:
        """Why nothing was scored."""
        if self.unreadable:
            return (f"None of the {self.unreadable} labelled images can be read "
                    f"(missing or broken files): nothing to evaluate.")
        return "No phrase with accepted boxes yet: label a few boxes, then evaluate."

    def notes(self) -> list[str]:
        """What was counted and what was left out, in words."""
        out = [f"{self.images} images"]
        if self.no_target:
            out.append(f"{self.no_target} 'not in this image' phrases not scored")
        if self.unreadable:
            out.append(f"{self.unreadable} unreadable images skipped")
        return out + ["learned concepts judged leave-one-image-out"]

    def as_dict(self) -> dict:
        bins = self.reliability_bins
        return {"overall": self.total.as_dict(), "phrases": [r.as_dict() for r in self.phrases],
                "images": self.images, "no_target_phrases": self.no_target,
                "unreadable_images": self.unreadable, "reliability_bins": [b.as_dict() for b in bins],
                "calibration_error": _rounded(calibration_error(bins))}


@dataclass(frozen=True)
class ImageTrials:
    """One labelled image: each phrase to ground on it, with its accepted boxes."""

    key: str                      # the image's key in the Grounder (``image_key``)
    readable: bool                # False: the file is known to be unreadable, nothing is tried
    phrases: tuple[tuple[str, tuple[XYWH, ...]], ...]


@dataclass(frozen=True)
class EvaluationPlan:
    """Everything an evaluation needs from the project database, as plain data (in the app the
    model that runs it lives in its own process)."""

    lessons: tuple[Lesson, ...]   # what the project's boxes teach
    images: tuple[ImageTrials, ...]
    no_target: int = 0


@dataclass(frozen=True)
class Outcome:
    """What the model did with a plan: per image, its top proposal for each phrase (None: no box),
    or None for an image it could not read; and the region embeddings it made while learning."""

    tops: tuple[Optional[tuple[Optional[Proposal], ...]], ...]
    made: tuple[StoredEmbedding, ...] = ()


# run(plan, progress, cancelled) -> Outcome: ``run_plan`` with a Grounder in this process, or the
# app's model process running it.
PlanRunner = Callable[[EvaluationPlan, Progress, Optional[Callable[[], bool]]], Outcome]


def plan_evaluation(store: ProjectStore, embedding_model: str) -> EvaluationPlan:
    """Read what to teach and what to try: every phrase with accepted boxes, on its image."""
    by_image = store.labels.all_annotations()
    images, no_target = [], 0
    for record in store.images.all(include_missing=True):
        phrases = []
        for expr, boxes in by_image.get(record.id, ()):
            truth = tuple(tuple(b.bbox) for b in boxes if b.state == BoxState.ACCEPTED)
            if truth:
                phrases.append((expr.text, truth))
            else:
                no_target += phrase_status(expr, boxes) == PhraseStatus.NO_TARGET
        if phrases:
            images.append(ImageTrials(image_key(store, record), record.readable, tuple(phrases)))
    lessons = project_lessons(store, embedding_model, annotations=by_image)
    return EvaluationPlan(tuple(lessons), tuple(images), no_target)


def run_plan(grounder: LearningGrounder, plan: EvaluationPlan, progress: Progress = None,
             cancelled: Optional[Callable[[], bool]] = None) -> Outcome:
    """Teach the Grounder the plan's lessons, then ground every phrase with the concepts its own
    image taught left out. ``progress(done, total)`` counts lessons, then images. Raises
    ``Cancelled`` when ``cancelled()`` turns true."""
    stopped = cancelled or (lambda: False)
    total = len(plan.lessons) + len(plan.images)
    made = teach(grounder, plan.lessons, (lambda i, _n: progress(i, total)) if progress else None, stopped,
                 clear=True)
    tops = []
    for i, image in enumerate(plan.images):
        if stopped():
            raise Cancelled("evaluation cancelled")
        tops.append(_top_boxes(grounder, image))
        if progress is not None:
            progress(len(plan.lessons) + i + 1, total)
    if stopped():
        raise Cancelled("evaluation cancelled")
    return Outcome(tuple(tops), tuple(made))


def _top_boxes(grounder: LearningGrounder, image: ImageTrials) -> Optional[tuple[Optional[Proposal], ...]]:
    if not image.readable:
        return None
    tops = []
    for phrase, _truth in image.phrases:
        try:
            top = grounder.propose(image.key, phrase, top_k=1, held_out=True)
        except ImageReadError:
            return None
        tops.append(top[0] if top else None)
    return tuple(tops)


def judge(plan: EvaluationPlan, outcome: Outcome) -> Evaluation:
    """Acc@0.5 and mean IoU of the top boxes, per phrase (case and spacing ignored)."""
    results: dict[str, PhraseResult] = {}
    report = Evaluation([], no_target=plan.no_target)
    for image, tops in zip(plan.images, outcome.tops):
        if tops is None:
            report.unreadable += 1
            continue
        report.images += 1
        for (phrase, truth), top in zip(image.phrases, tops):
            result = results.setdefault(phrase_key(phrase), PhraseResult(phrase_key(phrase)))
            iou = max(iou_xywh(top.bbox, t) for t in truth) if top else 0.0
            result.tried += 1
            result.hits += iou >= HIT_IOU
            result.iou_sum += iou
            result.evidence[top.modules.get("evidence", "detector") if top else "none"] += 1
            if top is not None and math.isfinite(top.score):
                result.scored.append((float(top.score), iou >= HIT_IOU))
    report.phrases = sorted(results.values(), key=lambda r: (-r.tried, r.phrase))
    return report


def evaluate_project(store: ProjectStore, embedding_model: str, run: PlanRunner, progress: Progress = None,
                     cancelled: Optional[Callable[[], bool]] = None) -> Evaluation:
    """Ground every labelled phrase of the project (concepts leave-one-image-out): the plan is read
    here, ``run`` runs it on the model (``functools.partial(run_plan, grounder)`` in this process),
    the embeddings it made are stored, and the top boxes are judged. Raises ``Cancelled``."""
    plan = plan_evaluation(store, embedding_model)
    outcome = run(plan, progress, cancelled)
    keep_embeddings(store, embedding_model, outcome.made)
    return judge(plan, outcome)
