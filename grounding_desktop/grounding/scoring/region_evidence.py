"""Subject evidence beyond the detector's 80 classes, from the second CNN (``recognizer``).

- ImageNet kinds: the most object-like regions (detections and class-agnostic candidates) are
  cropped and classified once per image (``classify_regions``; a feature pass keeps the answer in
  its record, so a folder's search needs no CNN pass); a noun such as "squirrel" then weighs each
  region by how much its crop looks like the kinds the noun names.
- Learned concepts: regions, and windows of the learned box shapes searched over the image
  (``box_search``), are embedded on the image's feature maps and judged by the concept's trained
  head (``concepts.ConceptMemory.head``): a probability per region (``concept_evidence``). The
  best windows, and those and the best regions moved by the head's box regressor, join the scene
  as regions of their own, so a tight box is proposed even where no detector box fits.

Every result is cached on the prepared image (``ImageEvidence``), so a second keystroke of the
same phrase costs no CNN work.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from . import box_search, concept_head
from ..recognition import imagenet
from .concepts import ConceptKey, ConceptMemory
from ..recognition.recognizer import RegionFeatures, RegionRecognizer
from ..detectors import NO_CLASS
from .regions import RegionStats
from .scorer import Scene, SubjectEvidence, iou

MAX_CROPS = 12            # regions classified per image (the most object-like ones)
SAME_OBJECT_IOU = 0.5     # a region this close to a classified one shares its ImageNet evidence
CONCEPT_REGIONS = 3       # searched windows that join the scene for a concept
REFINED_REGIONS = 3       # best scene regions the box regressor moves too


@dataclass
class ImageEvidence:
    """What the second CNN found on one prepared image, computed on first need. The image's
    pixels too, for an image prepared elsewhere (the feature pass): ``loader`` decodes them."""

    pixels: Optional[np.ndarray] = None           # the inference pixels
    loader: Optional[Callable[[], np.ndarray]] = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    features: Optional[RegionFeatures] = None
    mirrored: Optional[RegionFeatures] = None     # the maps of the image mirrored left to right
    region_embeddings: Optional[np.ndarray] = None  # (N, D) of the scene's regions
    # (indices of the regions whose crops were classified, their kept kinds: ids, probabilities),
    # ``classify_regions``; a feature pass record's when it kept them
    classified: Optional[tuple[np.ndarray, np.ndarray, np.ndarray]] = None
    concept_answers: dict = field(default_factory=dict)  # (concept, memory version, excluded) -> answer
    # (region indices, their int8 embeddings, their scales) a feature pass record kept
    # (``features.ImageFeatures``)
    kept: Optional[tuple[np.ndarray, np.ndarray, np.ndarray]] = None

    @property
    def rgb(self) -> np.ndarray:
        """The inference pixels, decoded now if they were not kept (callers hold ``lock``)."""
        if self.pixels is None:
            self.pixels = self.loader()
        return self.pixels


def classify_regions(recognizer: RegionRecognizer, rgb: np.ndarray, boxes: np.ndarray,
                     objectness: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indices of the ``MAX_CROPS`` most object-like regions, their crops' kept ImageNet kinds:
    ids and probabilities, ``imagenet.kept``): what ImageNet evidence is read from, for an image
    now and in a feature pass record alike."""
    order = np.argsort(-np.asarray(objectness, np.float64), kind="stable")[:MAX_CROPS]
    ids, probs = imagenet.kept(recognizer.classify(rgb, np.asarray(boxes)[order]))
    return order, ids, probs


def classified_crop(boxes: np.ndarray, crops: np.ndarray, usable: Optional[np.ndarray] = None) -> np.ndarray:
    """(N,) for each xyxy box, the classified region whose ImageNet evidence it takes: the one it
    overlaps most, if by IoU >= ``SAME_OBJECT_IOU`` (a window on the same object); -1 for none.
    ``crops``: the classified regions' (M, 4) boxes, or each box's own (N, M, 4) with ``usable``
    (N, M) saying which are real (a folder's table: each region's image's crops)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    crops = np.asarray(crops, np.float64)
    if not crops.shape[-2] or not len(boxes):
        return np.full(len(boxes), -1, np.int64)
    overlap = iou(boxes[:, None, :], crops if crops.ndim == 3 else crops[None])
    if usable is not None:
        overlap = np.where(usable, overlap, -1.0)
    nearest = overlap.argmax(1)
    return np.where(overlap[np.arange(len(boxes)), nearest] >= SAME_OBJECT_IOU, nearest, -1)


def imagenet_subject(recognizer: RegionRecognizer, evidence: ImageEvidence, scene: Scene,
                     kinds: imagenet.Kinds, noun: str, boxes: Optional[np.ndarray] = None) -> SubjectEvidence:
    """p(noun | region) from the region crops' ImageNet classes, for the ``MAX_CROPS`` most
    object-like regions of ``scene``. ``boxes``: every region to judge, ``scene``'s first (a scene a
    concept extended with windows); a region not classified takes the evidence of the classified
    region it overlaps most, if by IoU >= 0.5 (a window on the same object), else none."""
    with evidence.lock:
        if evidence.classified is None:
            evidence.classified = classify_regions(recognizer, evidence.rgb, scene.boxes, scene.objectness)
    order, ids, probs = evidence.classified
    boxes = scene.boxes if boxes is None else np.asarray(boxes, np.float64)
    found, names = imagenet.evidence(ids, probs, kinds)
    crop = classified_crop(boxes, scene.boxes[order])
    same = crop >= 0
    p = np.where(same, found[crop] if len(found) else 0.0, 0.0)
    labels = [names[int(k)] if ok else "object" for k, ok in zip(crop, same)]
    return SubjectEvidence(p, labels, note=f"ImageNet '{kinds.label}' for '{noun}'",
                           source="imagenet", match=kinds.similarity)


def _features(recognizer: RegionRecognizer, evidence: ImageEvidence) -> RegionFeatures:
    if evidence.features is None:
        evidence.features = recognizer.features(evidence.rgb)
    return evidence.features


def _mirrored(recognizer: RegionRecognizer, evidence: ImageEvidence) -> RegionFeatures:
    """The maps of the image mirrored left to right (what a labelled box teaches seen from the
    other side)."""
    if evidence.mirrored is None:
        evidence.mirrored = recognizer.features(np.ascontiguousarray(evidence.rgb[:, ::-1]))
    return evidence.mirrored


def compute_features(recognizer: RegionRecognizer, evidence: ImageEvidence) -> None:
    """The image's feature maps now, and its mirror's (what learning from a box on it needs), if
    they are not there yet."""
    with evidence.lock:
        _features(recognizer, evidence)
        _mirrored(recognizer, evidence)


def embed_examples(recognizer: RegionRecognizer, evidence: ImageEvidence, scene: Scene,
                   boxes: np.ndarray, seeds: list[int]
                   ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(embedding, context xyxy boxes, their embeddings, which are mirrored) of each xyxy labelled
    box (inference pixels) of the scene's image, its context seeded by ``seeds``
    (``concept_head.context_boxes``). The box and its jittered copies are embedded on the mirrored
    image's maps too (kept with the unmirrored coordinates, flagged): a thing seen from the other
    side is still the thing."""
    regions = scene.boxes[np.argsort(-scene.objectness, kind="stable")]
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    contexts = [concept_head.context_boxes(b, scene.width, scene.height, regions, s)
                for b, s in zip(boxes, seeds)]
    mirrorable = [np.concatenate([b[None], c[concept_head.jittered(c, b)]]) for b, c in zip(boxes, contexts)]
    every = np.concatenate([boxes, *contexts])
    flipped = np.concatenate(mirrorable)
    flipped = np.stack([scene.width - flipped[:, 2], flipped[:, 1], scene.width - flipped[:, 0], flipped[:, 3]], 1)
    with evidence.lock:
        vectors = recognizer.embed(_features(recognizer, evidence), every)
        mirror_vectors = recognizer.embed(_mirrored(recognizer, evidence), flipped)
    out, start, mstart = [], len(contexts), 0
    for i, (c, m) in enumerate(zip(contexts, mirrorable)):
        out.append((vectors[i], np.concatenate([c, m]),
                    np.concatenate([vectors[start:start + len(c)], mirror_vectors[mstart:mstart + len(m)]]),
                    np.r_[np.zeros(len(c), bool), np.ones(len(m), bool)]))
        start += len(c)
        mstart += len(m)
    return out


@dataclass
class ConceptEvidence:
    """What a concept's head says about one image: a probability for each of the scene's regions,
    and candidate boxes of its own (boxes its regressor moved, then the best searched windows)."""

    p: np.ndarray                 # (N,) p(region shows the concept), the scene's regions
    boxes: np.ndarray             # (M, 4) xyxy candidates, inference pixels
    p_boxes: np.ndarray           # (M,) their probabilities
    refined: np.ndarray           # (M,) bool: moved by the box regressor
    examples: int                 # accepted boxes the head rests on
    origin: np.ndarray            # (M,) the scene region a candidate was moved from, -1 for none


def concept_evidence(recognizer: RegionRecognizer, memory: ConceptMemory, evidence: ImageEvidence,
                     scene: Scene, concept: ConceptKey, exclude_image: Optional[str]
                     ) -> Optional[ConceptEvidence]:
    """p(``concept`` | region) for each region of ``scene`` and the head's own candidates; None
    when the concept has no accepted box (outside ``exclude_image``). Callers hold nothing: the
    image's lock is taken here.

    An image prepared by the feature pass and not looked at since (no feature maps) is judged on
    the embeddings its record kept, with no CNN pass: only those regions get a probability, and
    the head adds no boxes of its own (what searching a folder costs, ``image_search``)."""
    trained = memory.head(concept, exclude_image)
    if trained is None:
        return None
    head, shapes = trained
    with evidence.lock:
        if evidence.features is None and evidence.kept is not None and len(evidence.kept[0]):
            p = np.zeros(len(scene))
            regions, codes, scale = evidence.kept
            p[regions] = head.kept_probability(codes, scale)
            return ConceptEvidence(p, np.zeros((0, 4)), np.zeros(0), np.zeros(0, bool), head.examples,
                                   np.zeros(0, np.int64))
        features = _features(recognizer, evidence)
        if evidence.region_embeddings is None:
            evidence.region_embeddings = recognizer.embed(features, scene.boxes)
        regions = evidence.region_embeddings
        found, _ = box_search.search(lambda b: head.logit(recognizer.embed(features, b)),
                                     scene.width, scene.height, shapes, scene.boxes,
                                     min_step=16.0 / features.scale)
        found = found[:CONCEPT_REGIONS]
        p = head.probability(regions)
        best = np.argsort(-p, kind="stable")[:REFINED_REGIONS]
        starts = np.concatenate([found, scene.boxes[best]])
        moved = head.refine(starts, np.concatenate([recognizer.embed(features, found), regions[best]]))
        moved[:, [0, 2]] = np.clip(moved[:, [0, 2]], 0, scene.width)
        moved[:, [1, 3]] = np.clip(moved[:, [1, 3]], 0, scene.height)
        p_found = head.probability(recognizer.embed(features, found))
        # A moved box is the regressor's box for the region it moved from: at least as likely
        # the thing as that region (Fast R-CNN's detections), and listed first, so it wins a tie.
        p_moved = np.maximum(head.probability(recognizer.embed(features, moved)), np.r_[p_found, p[best]])
    boxes = np.concatenate([moved, found])
    refined = np.r_[np.ones(len(moved), bool), np.zeros(len(found), bool)]
    none = np.full(len(found), -1, np.int64)
    return ConceptEvidence(p, boxes, np.r_[p_moved, p_found], refined, head.examples,
                           np.r_[none, best, none].astype(np.int64))


def concept_subject(recognizer: RegionRecognizer, memory: ConceptMemory, evidence: ImageEvidence,
                    scene: Scene, concept: ConceptKey, exclude_image: Optional[str]
                    ) -> Optional[tuple[Scene, SubjectEvidence]]:
    """The scene with the concept's candidate boxes added, and every region's evidence; None
    when the concept has no accepted box (outside ``exclude_image``). The head is taken once,
    before the slow steps, so a lesson that arrives meanwhile (an undo) cannot pull it away."""
    cache_key = (concept, memory.version, exclude_image)
    with evidence.lock:
        answer = evidence.concept_answers.get(cache_key)
    if answer is not None:
        return answer
    found = concept_evidence(recognizer, memory, evidence, scene, concept, exclude_image)
    if found is None:
        return None
    with evidence.lock:
        extended = with_regions(scene, evidence.rgb, found.boxes, found.origin) if len(found.boxes) else scene
    n = found.examples
    name = f"{concept.qualifier} {concept.noun}".strip()
    subject = SubjectEvidence(np.concatenate([found.p, found.p_boxes]), [name] * len(extended),
                              note="learned from your box" if n == 1 else f"learned from {n} of your boxes",
                              source="concept", judged_attributes=bool(concept.qualifier))
    answer = (extended, subject)
    with evidence.lock:
        # Answers made before the memory last changed are stale: keep only this version's.
        evidence.concept_answers = {k: v for k, v in evidence.concept_answers.items()
                                    if k[1] == memory.version}
        evidence.concept_answers[cache_key] = answer
    return answer


def with_regions(scene: Scene, rgb: np.ndarray, boxes: np.ndarray,
                 origin: Optional[np.ndarray] = None) -> Scene:
    """``scene`` plus regions at xyxy ``boxes`` (their colours read from ``rgb``). A box with an
    ``origin`` (the index of the scene region it was moved from, -1 for none) keeps that region's
    detector scores and objectness, as a regressed box keeps its proposal's class score in Fast
    R-CNN; the others are class-less."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if not len(boxes):
        return scene
    colours, lightness = RegionStats.from_rgb(rgb).describe(boxes)
    n = len(boxes)
    origin = np.full(n, -1, np.int64) if origin is None else np.asarray(origin, np.int64)
    kept = origin >= 0
    class_scores = np.zeros((n, scene.class_scores.shape[1]))
    class_scores[kept] = scene.class_scores[origin[kept]]
    labels = np.full(n, NO_CLASS, np.int64)
    labels[kept] = scene.labels[origin[kept]]
    scores, objectness = np.zeros(n), np.zeros(n)
    scores[kept] = scene.scores[origin[kept]]
    objectness[kept] = scene.objectness[origin[kept]]
    return Scene(boxes=np.concatenate([scene.boxes, boxes]),
                 class_scores=np.concatenate([scene.class_scores, class_scores]),
                 labels=np.concatenate([scene.labels, labels]),
                 scores=np.concatenate([scene.scores, scores]),
                 colour_frac=np.concatenate([scene.colour_frac, colours]),
                 lightness=np.concatenate([scene.lightness, lightness]),
                 width=scene.width, height=scene.height,
                 objectness=np.concatenate([scene.objectness, objectness]))
