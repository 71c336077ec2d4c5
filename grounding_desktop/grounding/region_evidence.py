"""Subject evidence beyond the detector's 80 classes, from the second CNN (``recognizer``).

- ImageNet kinds: the most object-like regions (detections and class-agnostic candidates) are
  cropped and classified once per image; a noun such as "squirrel" then weighs each region by how
  much its crop looks like the kinds the noun names.
- Learned concepts: regions, and windows of the learned box shapes searched over the image
  (``box_search``), are embedded on the image's feature maps and matched against the concept's
  examples (``concepts.ConceptMemory``). The best windows join the scene as regions of their own,
  so a tight box is proposed even where no detector box fits.

Every result is cached on the prepared image (``ImageEvidence``), so a second keystroke of the
same phrase costs no CNN work.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from . import box_search, imagenet
from .concepts import ConceptKey, ConceptMemory
from .recognizer import RegionFeatures, RegionRecognizer
from .regions import NO_CLASS, RegionStats
from .scorer import Scene, SubjectEvidence, pairwise_iou

MAX_CROPS = 12            # regions classified per image (the most object-like ones)
SAME_OBJECT_IOU = 0.5     # a region this close to a classified one shares its ImageNet evidence
CONCEPT_REGIONS = 3       # searched windows that join the scene for a concept


@dataclass
class ImageEvidence:
    """What the second CNN found on one prepared image, computed on first need. The image's
    pixels too, for an image prepared elsewhere (the feature pass): ``loader`` decodes them."""

    pixels: Optional[np.ndarray] = None           # the inference pixels
    loader: Optional[Callable[[], np.ndarray]] = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    features: Optional[RegionFeatures] = None
    region_embeddings: Optional[np.ndarray] = None  # (N, D) of the scene's regions
    classified: Optional[np.ndarray] = None       # indices of the regions whose crops were classified
    probs: Optional[np.ndarray] = None            # (len(classified), 1000)
    concept_answers: dict = field(default_factory=dict)  # (concept, memory version, excluded) -> answer

    @property
    def rgb(self) -> np.ndarray:
        """The inference pixels, decoded now if they were not kept (callers hold ``lock``)."""
        if self.pixels is None:
            self.pixels = self.loader()
        return self.pixels


def imagenet_subject(recognizer: RegionRecognizer, evidence: ImageEvidence, scene: Scene,
                     kinds: imagenet.Kinds, noun: str, boxes: Optional[np.ndarray] = None) -> SubjectEvidence:
    """p(noun | region) from the region crops' ImageNet classes, for the ``MAX_CROPS`` most
    object-like regions of ``scene``. ``boxes``: every region to judge, ``scene``'s first (a scene a
    concept extended with windows); a region not classified takes the evidence of the classified
    region it overlaps most, if by IoU >= 0.5 (a window on the same object), else none."""
    with evidence.lock:
        if evidence.classified is None:
            order = np.argsort(-scene.objectness, kind="stable")[:MAX_CROPS]
            evidence.probs = recognizer.classify(evidence.rgb, scene.boxes[order])
            evidence.classified = order
    boxes = scene.boxes if boxes is None else np.asarray(boxes, np.float64)
    found, names = imagenet.evidence(evidence.probs, kinds)
    p = np.zeros(len(boxes))
    labels = ["object"] * len(boxes)
    if len(found):
        overlap = pairwise_iou(boxes, scene.boxes[evidence.classified])
        nearest = overlap.argmax(1)
        same = overlap[np.arange(len(boxes)), nearest] >= SAME_OBJECT_IOU
        p = np.where(same, found[nearest], 0.0)
        labels = [names[int(k)] if ok else "object" for k, ok in zip(nearest, same)]
    return SubjectEvidence(p, labels, note=f"ImageNet '{kinds.label}' for '{noun}'",
                           source="imagenet", match=kinds.similarity)


def _features(recognizer: RegionRecognizer, evidence: ImageEvidence) -> RegionFeatures:
    if evidence.features is None:
        evidence.features = recognizer.features(evidence.rgb)
    return evidence.features


def compute_features(recognizer: RegionRecognizer, evidence: ImageEvidence) -> None:
    """The image's feature maps now, if they are not there yet."""
    with evidence.lock:
        _features(recognizer, evidence)


def embed_boxes(recognizer: RegionRecognizer, evidence: ImageEvidence, boxes: np.ndarray) -> np.ndarray:
    """Embeddings of xyxy ``boxes`` (inference pixels) on the image's feature maps."""
    with evidence.lock:
        return recognizer.embed(_features(recognizer, evidence), boxes)


def concept_subject(recognizer: RegionRecognizer, memory: ConceptMemory, evidence: ImageEvidence,
                    scene: Scene, concept: ConceptKey, exclude_image: Optional[str]
                    ) -> Optional[tuple[Scene, SubjectEvidence]]:
    """The scene with the best windows for ``concept`` added, and every region's evidence; None
    when the concept has no accepted box (outside ``exclude_image``)."""
    cache_key = (concept, memory.version, exclude_image)
    with evidence.lock:
        answer = evidence.concept_answers.get(cache_key)
        if answer is not None:
            return answer
        if memory.count(concept, exclude_image) == 0:
            return None
        features = _features(recognizer, evidence)
        if evidence.region_embeddings is None:
            evidence.region_embeddings = recognizer.embed(features, scene.boxes)

        def similarity(boxes: np.ndarray) -> np.ndarray:
            return memory.match(concept, recognizer.embed(features, boxes), exclude_image).similarity

        seeds_match = memory.match(concept, evidence.region_embeddings, exclude_image)
        found, _ = box_search.search(similarity, scene.width, scene.height, seeds_match.shapes,
                                     scene.boxes, min_step=16.0 / features.scale)
        found = found[:CONCEPT_REGIONS]
        extended = with_regions(scene, evidence.rgb, found)
        embeddings = np.concatenate([evidence.region_embeddings, recognizer.embed(features, found)])
        match = memory.match(concept, embeddings, exclude_image)
        n = match.examples
        name = f"{concept.qualifier} {concept.noun}".strip()
        subject = SubjectEvidence(match.evidence, [name] * len(extended),
                                  note=f"learned from {n} of your box{'es' if n != 1 else ''}",
                                  source="concept", judged_attributes=bool(concept.qualifier))
        answer = (extended, subject)
        # Answers made before the memory last changed are stale: keep only this version's.
        evidence.concept_answers = {k: v for k, v in evidence.concept_answers.items()
                                    if k[1] == memory.version}
        evidence.concept_answers[cache_key] = answer
        return answer


def with_regions(scene: Scene, rgb: np.ndarray, boxes: np.ndarray) -> Scene:
    """``scene`` plus class-less regions at xyxy ``boxes`` (their colours read from ``rgb``)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if not len(boxes):
        return scene
    colours, lightness = RegionStats.from_rgb(rgb).describe(boxes)
    n = len(boxes)
    return Scene(boxes=np.concatenate([scene.boxes, boxes]),
                 class_scores=np.concatenate([scene.class_scores,
                                              np.zeros((n, scene.class_scores.shape[1]))]),
                 labels=np.concatenate([scene.labels, np.full(n, NO_CLASS, np.int64)]),
                 scores=np.concatenate([scene.scores, np.zeros(n)]),
                 colour_frac=np.concatenate([scene.colour_frac, colours]),
                 lightness=np.concatenate([scene.lightness, lightness]),
                 width=scene.width, height=scene.height,
                 objectness=np.concatenate([scene.objectness, np.zeros(n)]))
