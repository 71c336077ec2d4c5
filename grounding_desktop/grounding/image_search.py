"""Ranking a folder's prepared images by how well their best region matches a phrase.

Every image's regions sit in one table (``ImageIndex``, in parts). A phrase costs one vectorised pass over
all regions for an upper bound of each image's best score (``PhraseScorer.upper_bound``: the
subject and the words about a region itself, every comparison with other regions counted as
won), then the exact score (``Grounder.propose_prepared``) of images in order of that bound,
until no image left can beat the results found: the answer is what proposing on every image
would give, at the cost of a few dozen images. The subject's evidence over all regions, the
costly part, is kept per noun, so a phrase refined by a word ("the dog" -> "the black dog") costs
the new word and the exact scores.

A concept learned from the user's boxes is bounded alike: its head judges, in one pass, the region
embeddings the feature pass kept (``features.ImageFeatures.embeddings``), and an image prepared by
the pass is scored on those too (``region_evidence.concept_evidence``): no CNN pass, no pixels.
So is a noun ImageNet knows: the kinds the pass kept of each image's classified crops
(``features.ImageFeatures.kind_ids``) give every region its evidence in one pass over the table,
as scoring the image gives it (``region_evidence.imagenet_subject``). An image whose record kept
neither (one added without them) is scored exactly, its pixels decoded on first need; for a
concept, so is an image with no region (the head searches its pixels for windows).
"""
from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional, Protocol

import numpy as np

from ..core.grounder import FolderGrounder
from ..core.model import ImageReadError
from ..core.phrase import clean_phrase
from ..core.proposal import SCORE_PLACES, Proposal
from .features import ImageFeatures
from ..core.phrase_parse import NounPhrase, parse_phrase
from .recognition import imagenet
from .scoring.concepts import ConceptMemory
from .scoring.region_evidence import classified_crop
from .scoring.scorer import PhraseScorer, Scene, SubjectEvidence

_SLACK = 1e-9  # the bound and the exact score are the same float64 sums, taken in other orders by BLAS
PART_REGIONS = 65536  # regions per part of the table: a vectorised step (bounds the temporaries' memory)
NOUNS_KEPT = 8  # nouns whose evidence a part keeps (a phrase typed letter by letter asks for many)


@dataclass(frozen=True)
class Match:
    """An image's best proposal for the phrase searched."""

    key: str
    proposal: Proposal


class IndexedGrounder(FolderGrounder, Protocol):
    """What ``ImageIndex`` asks of the model beyond ``core.FolderGrounder``: its scorer, for the
    bounds over the region table, and the concepts it learned, whose heads judge the kept region
    embeddings. ``grounding.grounder.Grounder`` is one."""

    @property
    def concepts(self) -> ConceptMemory:
        ...

    def load_scorer(self) -> PhraseScorer:
        ...


class ImageIndex:
    """The prepared images of a folder, for ``search``. Images are added in the order ties rank,
    and may be added between searches (a feature pass going on): the region table grows by parts
    of at most ``part_regions`` regions, and only the last part is built again, so a search after a
    few more images costs about what it did before them."""

    def __init__(self, grounder: IndexedGrounder, part_regions: int = PART_REGIONS) -> None:
        self.grounder = grounder
        self.part_regions = part_regions
        self._keys: list[str] = []
        self._features: list[ImageFeatures] = []
        self._sources: list = []      # where each image's pixels are decoded from, if needed
        self._parts: list[_Part] = []  # the region table of the images indexed so far, in order

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str, features: ImageFeatures, image=None) -> None:
        """Index an image (``image``: where its pixels are, when not at the path ``key``)."""
        self._keys.append(key)
        self._features.append(features)
        self._sources.append(image)

    def search(self, phrase: str, top: int = 20,
               cancelled: Optional[Callable[[], bool]] = None) -> list[Match]:
        """The ``top`` images whose best region matches ``phrase`` best, best first (ties in the
        order images were added). An image where the phrase finds nothing is not listed, nor one
        whose pixels the second CNN needed but could not read. Raises ``core.phrase.PhraseError``
        for an unusable phrase."""
        text = clean_phrase(phrase)
        if top < 1 or not self._keys:
            return []
        bounds = self.bounds(text)
        order = [int(i) for i in np.argsort(-bounds, kind="stable") if bounds[i] > 0]
        kept: list[tuple[float, int, Proposal]] = []  # a min-heap of (score, -index, proposal)
        for i in order:
            if len(kept) == top:
                # The best the image can get, as its proposal's score is rounded: an image that cannot
                # beat the worst result (ties go to the image added first) is not scored; none
                # after one that cannot reach its score is.
                reach = round(float(bounds[i]) + _SLACK, SCORE_PLACES)
                if reach < kept[0][0]:
                    break
                if (reach, -i) < kept[0][:2]:
                    continue
            if cancelled is not None and cancelled():
                break
            entry = self.grounder.prepared_from(self._keys[i], self._features[i], self._sources[i])
            try:
                found = self.grounder.propose_prepared(entry, text, top_k=1, folder=True)
            except ImageReadError:  # the second CNN needed pixels of a file gone or changed since
                continue
            if not found:
                continue
            item = (found[0].score, -i, found[0])
            if len(kept) < top:
                heapq.heappush(kept, item)
            elif item[:2] > kept[0][:2]:
                heapq.heapreplace(kept, item)
        kept.sort(key=lambda item: item[:2], reverse=True)
        return [Match(self._keys[-i], p) for _, i, p in kept]

    # ------------------------------------------------------------------ bounds
    def bounds(self, phrase: str) -> np.ndarray:
        """Per image, a score its best region cannot exceed for ``phrase`` (0: no region has any
        evidence; inf where the kept features bound nothing: every image for a grounder that
        bounds no phrase, an image whose record kept no embeddings a learned concept's head can
        judge, or no ImageNet kinds for a noun ImageNet knows)."""
        text = clean_phrase(phrase)
        bounded, concept, kinds = self.grounder.bounded_subject(text)
        if not bounded:
            return np.full(len(self._keys), np.inf)
        parsed = parse_phrase(text)
        scorer = self.grounder.load_scorer()
        noun = parsed.subject
        if concept is not None:
            version = self.grounder.concepts.version
            head = self.grounder.concepts.head(concept)[0]
        out = np.zeros(len(self._keys))
        for part in self._grown():
            det = part.detector_p(scorer, noun)
            # Sources in the order ``Grounder._sources`` gives them; each probability is exact where
            # the image's record kept what it judges (0 elsewhere: those images are scored exactly).
            sources, evidence, unjudged = [], det, np.zeros(len(part.sizes), bool)
            if concept is not None:
                p = part.concept_p(concept, version, head)
                sources.append(SubjectEvidence(p, [""] * len(p), source="concept",
                                               judged_attributes=bool(concept.qualifier)))
                evidence = np.maximum(evidence, p)
                unjudged |= ~part.judged_by(head)
            if kinds is not None:
                p = part.imagenet_p(noun, kinds)
                sources.append(SubjectEvidence(p, [""] * len(p), source="imagenet", match=kinds.similarity))
                evidence = np.maximum(evidence, p)
                unjudged |= ~part.classified & (part.sizes > 0)  # no region: nothing to propose
            bound = np.where(evidence > 0, scorer.upper_bound(part.table, parsed, det, part.starts[part.sizes > 0],
                                                              sources, folder=True), 0.0)
            full = part.sizes > 0  # a region with no evidence is never proposed
            if full.any():
                out[part.first:part.first + len(part.sizes)][full] = np.maximum.reduceat(bound, part.starts[full])
            out[part.first:part.first + len(part.sizes)][unjudged] = np.inf
        return out

    def _grown(self) -> list["_Part"]:
        """The parts of the region table, with the images added since the last search in them:
        the last part (if it has room) is built again with them, further ones are new."""
        done = self._parts[-1].first + len(self._parts[-1].sizes) if self._parts else 0
        if done < len(self._keys):
            first = done
            if self._parts and self._parts[-1].regions < self.part_regions:
                first = self._parts.pop().first
            while first < len(self._keys):
                last, regions = first, 0
                while last < len(self._keys) and (last == first or regions + len(self._features[last]) <= self.part_regions):
                    regions += len(self._features[last])
                    last += 1
                self._parts.append(_Part(first, self._features[first:last]))
                first = last
        return self._parts


class _Part:
    """The regions of images ``first`` .. ``first + len(sizes)`` as one scene (per-region frame
    sizes), where each image starts in it, and the subject's evidence over them: the detector's and
    ImageNet's per noun (kept for a phrase refined by a word), a learned concept's while the
    concepts do not change."""

    def __init__(self, first: int, feats: list[ImageFeatures]) -> None:
        self.first = first
        self.sizes = np.array([len(f) for f in feats], np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.regions = int(self.sizes.sum())

        def cat(name: str, dtype) -> np.ndarray:
            return np.concatenate([getattr(f, name) for f in feats]).astype(dtype, copy=False)

        # The values an image's scene holds (``ImageFeatures.scene``: float64), so the bound computes
        # what scoring the image does. Class scores are kept class by class (Fortran order) as float32
        # (the float16 kept, exactly): a bound reads the columns a noun weighs, 8x faster than
        # float16's (364 bytes a region: 240 MB for 10,000 images).
        self.table = Scene(boxes=cat("boxes", np.float64),
                           class_scores=np.asfortranarray(cat("class_scores", np.float32)),
                           labels=cat("labels", np.int16), scores=cat("scores", np.float64),
                           colour_frac=cat("colour_frac", np.float64), lightness=cat("lightness", np.float64),
                           width=np.repeat([float(f.frame_width) for f in feats], self.sizes),
                           height=np.repeat([float(f.frame_height) for f in feats], self.sizes),
                           objectness=cat("objectness", np.float64))
        self._detector_p: OrderedDict[tuple, np.ndarray] = OrderedDict()  # the detector's p per noun
        self._imagenet_p: OrderedDict[tuple, np.ndarray] = OrderedDict()  # ImageNet's p per noun
        self._concept_p: dict[object, np.ndarray] = {}    # a learned concept's p, this memory version's
        self._concepts_version: Optional[int] = None
        # The kept region embeddings: their rows in the table, int8 vectors and scales.
        self.embedded = np.array([len(f.embedded) > 0 for f in feats], bool)
        dims = {f.embeddings.shape[1] for f in feats if len(f.embedded)}
        with_vectors = [(s, f) for s, f in zip(self.starts, feats) if len(f.embedded)]
        self.kept_rows = np.concatenate([s + f.embedded.astype(np.int64) for s, f in with_vectors]) \
            if with_vectors else np.zeros(0, np.int64)
        self.kept = np.concatenate([f.embeddings for _, f in with_vectors]) if len(dims) == 1 \
            else np.zeros((0, 0), np.int8)
        self.kept_scale = np.concatenate([f.embedding_scale for _, f in with_vectors]).astype(np.float64) \
            if with_vectors else np.zeros(0, np.float32)
        # The kept ImageNet kinds of the classified crops, and the crop each region takes its
        # evidence from (``region_evidence.classified_crop``; -1: none).
        # Records of one ``features_version`` keep as many kinds a crop; mixed ones are not read.
        with_kinds = [f for f in feats if len(f.classified)]
        readable = len({f.kind_ids.shape[1] for f in with_kinds}) == 1
        self.kind_ids = np.concatenate([f.kind_ids for f in with_kinds]) if readable else np.zeros((0, 0), np.int16)
        self.kind_probs = np.concatenate([f.kind_probs for f in with_kinds]) if readable \
            else np.zeros((0, 0), np.float16)
        counts = np.array([len(f.classified) for f in feats], np.int64) * readable  # crops per image
        self.classified = counts > 0
        # Every region against its image's crops at once: (regions, most crops an image has).
        first = np.cumsum(counts) - counts
        rows = np.concatenate([s + f.classified.astype(np.int64) for s, f in zip(self.starts, feats)
                               if readable and len(f.classified)] or [np.zeros(0, np.int64)])
        image = np.repeat(np.arange(len(feats)), self.sizes)
        slots = np.arange(counts.max(initial=0))
        usable = slots[None, :] < counts[image][:, None]
        mine = self.table.boxes[rows][np.minimum(first[image][:, None] + slots[None, :], len(rows) - 1)]
        crop = classified_crop(self.table.boxes, mine, usable)
        self.region_crop = np.where(crop >= 0, first[image] + crop, -1)

    def reads(self, head) -> bool:
        """Whether the kept embeddings are of ``head``'s size (records of one ``features_version``
        all are)."""
        return self.kept.shape[1:] == np.shape(head.weights)

    def judged_by(self, head) -> np.ndarray:
        """(images,) whether ``head`` judges an image's kept embeddings: it kept some it reads."""
        return self.embedded & self.reads(head)

    def detector_p(self, scorer: PhraseScorer, noun: NounPhrase) -> np.ndarray:
        """(regions,) the detector's p(``noun`` | region), kept for the nouns used last (a phrase
        refined by a word needs it again)."""
        return _remembered(self._detector_p, (noun.noun, noun.head, noun.generic),
                           lambda: scorer.subject_p(self.table, noun, named=False)[0])

    def imagenet_p(self, noun: NounPhrase, kinds: imagenet.Kinds) -> np.ndarray:
        """(regions,) ImageNet's p(``noun`` | region): its classified crop's, 0 for a region that
        takes none or an image that kept no kinds; kept as the detector's is."""

        def made() -> np.ndarray:
            found = imagenet.probability(self.kind_ids, self.kind_probs, kinds)
            taken = self.region_crop >= 0
            p = np.zeros(self.regions)
            p[taken] = found[self.region_crop[taken]]
            return p

        return _remembered(self._imagenet_p, (noun.noun, noun.head, noun.generic), made)

    def concept_p(self, concept, version: int, head) -> np.ndarray:
        """(regions,) a learned concept's probability of each region (its ``head`` when the concepts'
        memory is at ``version``), 0 where none was kept; kept while the memory does not change."""
        if version != self._concepts_version:
            self._concept_p, self._concepts_version = {}, version
        p = self._concept_p.get(concept)
        if p is None:
            p = self._concept_p[concept] = self._head_p(head)
        return p

    def _head_p(self, head) -> np.ndarray:
        p = np.zeros(self.regions)
        if len(self.kept) and self.reads(head):
            p[self.kept_rows] = head.kept_probability(self.kept, self.kept_scale)
        return p


def _remembered(cache: OrderedDict, key, make: Callable[[], np.ndarray]) -> np.ndarray:
    """``cache[key]``, made by ``make()`` if absent; the ``NOUNS_KEPT`` used last are kept."""
    value = cache.get(key)
    if value is None:
        value = cache[key] = make()
        while len(cache) > NOUNS_KEPT:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return value
