"""How well the model grounds a project's own phrases: the number that tells a user the model
improved as they labelled.

Every phrase with accepted boxes is grounded on its image and the top box compared with them:
Acc@0.5 (the top box overlaps one of them by IoU >= 0.5) and the mean IoU, per phrase and over
all. Learned concepts are scored leave-one-image-out: an image is grounded with what the other
images' boxes taught, never with its own. Phrases stored as "not in this image" have no box to
compare with and are counted apart. Shared by ``grounding-desktop evaluate`` and Grounding →
Evaluate in the app.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Optional

from .core import BoxState, ImageReadError, PhraseStatus, iou_xywh, phrase_key, phrase_status
from .io.errors import Cancelled
from .project_concepts import image_key, teach_project
from .store import ProjectStore

HIT_IOU = 0.5


@dataclass
class PhraseResult:
    """One phrase (case and spacing ignored) over every image it was labelled on."""

    phrase: str
    tried: int = 0
    hits: int = 0
    iou_sum: float = 0.0
    evidence: Counter = field(default_factory=Counter)  # detector | imagenet | concept -> times

    @property
    def accuracy(self) -> float:
        return self.hits / self.tried if self.tried else 0.0

    @property
    def mean_iou(self) -> float:
        return self.iou_sum / self.tried if self.tried else 0.0

    @property
    def evidence_text(self) -> str:
        """What the top boxes rested on: "concept 3, detector 1"."""
        return ", ".join(f"{k} {v}" for k, v in self.evidence.most_common())

    def as_dict(self) -> dict:
        return {"phrase": self.phrase, "tried": self.tried, "hits": self.hits,
                "acc50": round(self.accuracy, 4), "mean_iou": round(self.mean_iou, 4),
                "evidence": dict(self.evidence)}


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
        return out

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
        return {"overall": self.total.as_dict(), "phrases": [r.as_dict() for r in self.phrases],
                "images": self.images, "no_target_phrases": self.no_target,
                "unreadable_images": self.unreadable}


def evaluate_project(grounder, store: ProjectStore, progress: Optional[Callable[[int, int], None]] = None,
                     cancelled: Optional[Callable[[], bool]] = None) -> Evaluation:
    """Ground every labelled phrase of the project (concepts leave-one-image-out).

    ``progress(done, total)`` counts images: first while the boxes teach the model, then while it
    is judged. Raises ``Cancelled`` when ``cancelled()`` turns true.
    """
    stopped = cancelled or (lambda: False)
    teach_project(grounder, store, (lambda i, n: progress(i, 2 * n)) if progress else None, stopped)
    by_image = store.all_annotations()
    records = [r for r in store.images(include_missing=True) if r.id in by_image]
    results: dict[str, PhraseResult] = {}
    report = Evaluation([])
    for i, record in enumerate(records):
        if stopped():
            raise Cancelled("evaluation cancelled")
        tried, readable, labelled = False, record.readable, False
        for expr, boxes in by_image[record.id]:
            truth = [b.bbox for b in boxes if b.state == BoxState.ACCEPTED]
            if not truth:
                report.no_target += phrase_status(expr, boxes) == PhraseStatus.NO_TARGET
                continue
            labelled = True
            if not readable:
                continue
            try:
                top = grounder.propose(image_key(store, record), expr.text, top_k=1, held_out=True)
            except ImageReadError:
                readable = False
                continue
            tried = True
            result = results.setdefault(phrase_key(expr.text), PhraseResult(phrase_key(expr.text)))
            iou = max(iou_xywh(top[0].bbox, t) for t in truth) if top else 0.0
            result.tried += 1
            result.hits += iou >= HIT_IOU
            result.iou_sum += iou
            result.evidence[top[0].modules.get("evidence", "detector") if top else "none"] += 1
        report.images += tried
        report.unreadable += labelled and not readable
        if progress is not None:
            progress(len(records) + i + 1, 2 * len(records))
    if stopped():
        raise Cancelled("evaluation cancelled")
    report.phrases = sorted(results.values(), key=lambda r: (-r.tried, r.phrase))
    return report
