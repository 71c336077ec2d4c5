"""Teaching the Grounder what a project's labelled boxes show: the app does it when a project opens
and after every edit of an image, ``ground --project`` and ``evaluate`` before they ground.

The boxes are the truth (``store``); the Grounder's concepts are rebuilt from them. A region
embedding costs a pass of the second CNN over the image, so each one is kept in the project
database (``box_embeddings``) and a reopened project needs no image work for the boxes it knows.
What an image teaches is read from the database as a ``Lesson``, plain data, because in the app the
model lives in its own process: the app reads the lessons and stores the embeddings the model made
(the database has one writer), the model process gives the lessons (``teach``). The CLI does both in
one process. Wired here because ``grounding`` does not import ``store``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Optional

from .core import Box, BoxState, Expression, ImageReadError, ImageRecord
from .core.grounder import LearningGrounder
from .core.phrase import PhraseError, clean_phrase
from .store import ProjectStore

if TYPE_CHECKING:
    from .grounding.scoring.concepts import LabelledBox

Progress = Optional[Callable[[int, int], None]]
REFIT_IMAGES = 24  # a project's refit grounds the phrases of its last this many labelled images
# A region embedding as the project database keeps it: the box's id, its bbox when it was embedded,
# the bytes of its vector and context (``grounding.scoring.concepts.embedding_bytes``), from which the
# concepts' heads are fitted again (no head is stored).
StoredEmbedding = tuple[int, tuple[float, float, float, float], bytes]


def image_key(store: ProjectStore, record: ImageRecord) -> str:
    """The key the Grounder knows an image by: its path (what the app prepares it as)."""
    return str(Path(store.root) / record.path)


@dataclass(frozen=True)
class Lesson:
    """What one image's labelled boxes teach: each accepted or rejected box, with its stored
    embedding when that was made for the box as it is now. ``look`` False: only boxes with a stored
    embedding teach (no image work, what the app does first when a project opens)."""

    key: str                      # the image's key in the Grounder (``image_key``)
    size: tuple[int, int]         # the image's original size, so stored embeddings need no decode
    boxes: tuple["LabelledBox", ...]
    look: bool = True

    @property
    def waiting(self) -> bool:
        """Some box has no stored embedding yet: it teaches only once the image is looked at."""
        return any(b.embedding is None for b in self.boxes)

    def looking(self) -> "Lesson":
        return replace(self, look=True)


def labelled_boxes(annotations: Iterable[tuple[Expression, list[Box]]], known: dict) -> list["LabelledBox"]:
    """The accepted and rejected boxes of an image as ``grounding.scoring.concepts.LabelledBox``es, each
    with its stored embedding and context when they were made for the box as it is now."""
    from .grounding.scoring.concepts import LabelledBox, embedding_from_bytes

    out = []
    for expr, boxes in annotations:
        for b in boxes:
            if b.state == BoxState.PROPOSED:
                continue  # a proposal is not a label
            stored = known.get(b.id)
            vector, context = embedding_from_bytes(stored[1]) \
                if stored and tuple(stored[0]) == tuple(b.bbox) else (None, None)
            out.append(LabelledBox(b.id, expr.text, tuple(b.bbox), b.state == BoxState.ACCEPTED, vector,
                                   context))
    return out


def image_lesson(store: ProjectStore, record: ImageRecord, embedding_model: str,
                 annotations: Optional[list] = None, known: Optional[dict] = None, look: bool = True) -> Lesson:
    """``record``'s labelled boxes as they are in the database now."""
    if annotations is None:
        annotations = store.labels.annotations(record.id)
    if known is None:
        known = store.embeddings.read(embedding_model, [b.id for _, bs in annotations for b in bs])
    return Lesson(image_key(store, record), (record.width, record.height),
                  tuple(labelled_boxes(annotations, known)), look)


def project_lessons(store: ProjectStore, embedding_model: str, look: bool = True,
                    annotations: Optional[dict] = None) -> list[Lesson]:
    """A lesson for every image of the project that has labelled boxes; files gone from disk teach
    through their stored embeddings. ``annotations``: ``store.labels.all_annotations()`` when the
    caller has read it already."""
    known = store.embeddings.read(embedding_model)
    by_image = store.labels.all_annotations() if annotations is None else annotations
    lessons = []
    for record in store.images.all(include_missing=True):
        chosen = by_image.get(record.id)
        if chosen:
            lessons.append(image_lesson(store, record, embedding_model, chosen, known, look))
    return lessons


def give_lesson(grounder: LearningGrounder, lesson: Lesson) -> list[StoredEmbedding]:
    """Make the Grounder's examples of the lesson's image its boxes; returns the embeddings it had
    to make, for the project database."""
    stored = [b for b in lesson.boxes if b.embedding is not None]
    if not lesson.look:
        grounder.learn(lesson.key, stored, size=lesson.size)
        return []
    try:
        made = grounder.learn(lesson.key, list(lesson.boxes), size=lesson.size)
    except ImageReadError:  # the file is gone or broken: only what is stored can teach
        grounder.learn(lesson.key, stored, size=lesson.size)
        return []
    from .grounding.scoring.concepts import embedding_bytes

    return [(e.example_id, e.bbox, embedding_bytes(e.embedding, e.context)) for e in made]


def teach(grounder: LearningGrounder, lessons: Iterable[Lesson], progress: Progress = None,
          cancelled: Optional[Callable[[], bool]] = None, clear: bool = False,
          refit: bool = False) -> list[StoredEmbedding]:
    """Give the Grounder ``lessons`` (after forgetting every concept it knew, with ``clear``);
    returns the embeddings it made, for ``keep_embeddings``. Stops early when ``cancelled()``.
    With ``refit`` (the lessons are the whole project), the scorer's fused weights are fitted
    again on the project's own boxes (``refit_scorer``)."""
    lessons = list(lessons)
    if clear:
        grounder.forget_concepts()
    made: list[StoredEmbedding] = []
    for i, lesson in enumerate(lessons):
        if cancelled is not None and cancelled():
            break
        made += give_lesson(grounder, lesson)
        if progress is not None:
            progress(i + 1, len(lessons))
    if refit and not (cancelled is not None and cancelled()):
        refit_scorer(grounder, lessons)
    return made


def project_trials(grounder: LearningGrounder, lessons: Iterable[Lesson]) -> list:
    """Each labelled phrase of the lessons' images grounded with what the other images taught
    (``fit_scorer.Trial``: its regions' evidence terms; the regions that overlap one of its accepted
    boxes by IoU >= 0.5 are right, every other region, rejected boxes included, is wrong). The most
    recently labelled ``REFIT_IMAGES`` images only: each costs a look at the image."""
    import numpy as np

    from .grounding.scoring.fit_scorer import HIT_IOU, Trial
    from .core.phrase_parse import parse_phrase
    from .grounding.scoring.scorer import pairwise_iou

    trials = []
    for lesson in list(lessons)[-REFIT_IMAGES:]:
        by_phrase: dict[str, list] = {}
        for box in lesson.boxes:
            by_phrase.setdefault(box.phrase, []).append(box)
        try:
            entry = grounder.prepared(grounder.prepare(lesson.key))
        except ImageReadError:
            continue
        if entry is None:
            continue  # out of the cache already (another thread's images): the refit does without it
        for phrase, boxes in by_phrase.items():
            try:
                scene, result = grounder.scored(entry, parse_phrase(clean_phrase(phrase)), held_out=True)
            except PhraseError:
                continue
            truth = np.array([(x / entry.scale_x, y / entry.scale_y, (x + w) / entry.scale_x,
                               (y + h) / entry.scale_y) for x, y, w, h in (b.bbox for b in boxes if b.accepted)])
            hit = (pairwise_iou(scene.boxes, truth) >= HIT_IOU).any(1) if len(truth) and len(scene) \
                else np.zeros(len(scene), bool)
            if len(scene):
                trials.append(Trial(np.asarray(result.terms), hit, lesson.key, context=result.context,
                                    boxes=np.asarray(scene.boxes), proposable=np.asarray(result.evidence) > 0))
    return trials


def refit_scorer(grounder: LearningGrounder, lessons: Iterable[Lesson]):
    """Fit the Grounder's fused weights on the project's own boxes when it has enough of them and
    the refit beats the shipped fit on them (``fit_scorer.refit``); else the shipped fit. Returns
    the weights now in use."""
    from .grounding.scoring.fit_scorer import MIN_PROJECT_BOXES, refit
    from .grounding.scoring.priors import shipped_weights

    lessons = list(lessons)
    boxes = sum(len(lesson.boxes) for lesson in lessons)
    fitted = None
    if boxes >= MIN_PROJECT_BOXES:
        grounder.set_fused(None)  # the project's boxes are grounded as the shipped fit sees them
        fitted = refit(project_trials(grounder, lessons), shipped_weights(), boxes)
    grounder.set_fused(fitted)
    return fitted if fitted is not None else shipped_weights()


def keep_embeddings(store: ProjectStore, embedding_model: str, made: Iterable[StoredEmbedding]) -> None:
    """Store the embeddings the model made, so the project never computes them again."""
    made = list(made)
    if made:
        store.embeddings.write(embedding_model, made)


def teach_project(grounder: LearningGrounder, store: ProjectStore, progress: Progress = None,
                  cancelled: Optional[Callable[[], bool]] = None) -> None:
    """Teach a Grounder in this process every box of the project, and nothing else it knew (the
    scorer refitted when the project has boxes enough), storing the embeddings it had to make.
    Every box, whichever phrase is asked: a concept's head learns from the other concepts' boxes
    as negatives, so the head is the same in the window, ``evaluate``, ``ground``, ``search`` and
    ``propose``."""
    model = grounder.embedding_model
    lessons = project_lessons(store, model)
    made = teach(grounder, lessons, progress, cancelled, clear=True, refit=True)
    keep_embeddings(store, model, made)
