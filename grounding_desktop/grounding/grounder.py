"""``Grounder``: the one object the GUI and the CLI talk to for phrase -> boxes.

``prepare(image)`` runs the CNN once per image and keeps the result (``features.ImageFeatures``:
regions, per-class scores, colour statistics) in a bounded LRU; ``propose(image, phrase)`` then
only re-scores those regions, so typing a phrase costs milliseconds per keystroke. The same
records come out of ``compute_features`` (many images, batched on a GPU) for the feature pass to
keep, and go back in with ``prepared_from``: an image prepared once is never run through the detector
again. The second CNN (``region_evidence``) adds evidence beside the detector's classes: a concept
learned from the user's boxes (``learn``) and, for a noun no COCO word list names, ImageNet's
kinds; that work runs on first need and is cached per image too. The scorer fuses every source
with fitted weights (``priors.FusedWeights``: the shipped fit, or the project's own refit,
``set_fused``). Models load lazily
on first use (the GUI builds a Grounder in a background thread); every public method is
thread-safe.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np

from ..core.geometry import clamp_xywh
from ..core.model import ImageReadError
from ..core.phrase import PhraseError, clean_phrase
from ..core.detector_choice import DetectorChoice
from ..core.proposal import SCORE_PLACES, Proposal
from .detectors.backends import backend_device, make_detector
from .scoring.concepts import ConceptExample, ConceptKey, ConceptMemory, ExampleContext, LabelledBox
from .device import is_device_failure, resolve_device, warn_fallback
from .features import EMBEDDED_REGIONS, FEATURES_FORMAT, ImageFeatures
from ..core.phrase_parse import ParsedPhrase, parse_phrase
from .scoring.priors import DEFAULT_WEIGHTS, FusedWeights, ScorerWeights, shipped_weights
from .recognition.imagenet import KEPT_KINDS, Kinds, kinds_for
from .scoring.region_evidence import (MAX_CROPS, ImageEvidence, classify_regions, compute_features,
                                      concept_subject, embed_examples, imagenet_subject)
from .scoring.regions import RegionStats, nested_objects
from .scoring.scorer import PhraseScorer, Scene, ScoreResult, SubjectEvidence

log = logging.getLogger(__name__)

SCORER_VERSION = "modular-2"
INFERENCE_MAX_SIDE = 1024     # huge photos are downscaled for inference, never for coordinates
DETECTION_THRESHOLD = 0.05
MAX_DETECTIONS = 100
MAX_CANDIDATES = 50        # class-agnostic regions besides the detections (things COCO lacks)
PREPARE_HELPERS = 1        # threads that decode images and build regions beside the network

# A path, an image file's bytes (as read from disk), a PIL image or an RGB array.
ImageInput = Union[str, os.PathLike, bytes, "Image.Image", np.ndarray]  # noqa: F821


# (path or binary file, max_side) -> (RGB PIL image, at most max_side on its long side; full
# EXIF-corrected (w, h)). ``io.images.decode_image`` is the one the application passes (see
# ``grounder_factory``): image files are decoded in ``io``, which this layer does not import.
ImageLoader = Callable[[Union[str, os.PathLike, io.BytesIO], int], tuple]


@dataclass(frozen=True)
class Preparation:
    """How ``prepare`` looks at an image, part of what names its features (``features_version``):
    downscaled to at most ``max_side`` pixels on its long side (never for coordinates), the
    detector's detections kept down to ``score_threshold``."""

    max_side: int = INFERENCE_MAX_SIDE
    score_threshold: float = DETECTION_THRESHOLD


@dataclass
class PreparedImage:
    """What ``prepare`` keeps per image: its features, the scorer's view of them, and the way
    back to original pixels."""

    key: str
    features: ImageFeatures
    scene: Scene
    evidence: ImageEvidence            # the second CNN's findings, computed on first need
    stamp: Optional[tuple[float, int]] = None  # (mtime, size) of a file, to notice edits

    @property
    def width(self) -> int:            # original (EXIF-corrected) size
        return self.features.width

    @property
    def height(self) -> int:
        return self.features.height

    @property
    def scale_x(self) -> float:        # original pixels per inference pixel
        return self.features.width / self.features.frame_width

    @property
    def scale_y(self) -> float:
        return self.features.height / self.features.frame_height


def build_scene(rgb: np.ndarray, det) -> Scene:
    """Detections of ``rgb`` -> the scorer's ``Scene``.

    One region per distinct box: the detector repeats a box once per class it passes, with the
    same per-class score vector, so duplicates add nothing but work. No detection at all (a black
    frame) is an empty scene, a normal answer.
    """
    boxes = np.asarray(det.boxes, np.float64).reshape(-1, 4)
    _, first = np.unique(np.round(boxes, 2), axis=0, return_index=True)
    first = np.sort(first)  # keep the detector's best-first order
    stats = RegionStats.from_rgb(rgb)
    boxes = boxes[first]
    labels = np.asarray(det.labels, np.int64).reshape(-1)[first]
    scores = np.asarray(det.scores, np.float64).reshape(-1)[first]
    colours, lightness = stats.describe(boxes, nested_objects(boxes, labels, scores))
    class_scores = np.asarray(det.class_scores, np.float64)
    class_scores = class_scores.reshape(len(det.scores), class_scores.shape[-1])[first]
    objectness = None if det.objectness is None else \
        np.asarray(det.objectness, np.float64).reshape(-1)[first]
    return Scene(boxes=boxes, class_scores=class_scores, labels=labels, scores=scores,
                 colour_frac=colours, lightness=lightness,
                 width=float(rgb.shape[1]), height=float(rgb.shape[0]), objectness=objectness)


def _file_stamp(path: Union[str, os.PathLike]) -> Optional[tuple[float, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime, st.st_size)


class Grounder:
    """Phrase grounding on one device with a per-image feature cache.

    ``device``: None/'auto' picks CUDA, then MPS, then the CPU; 'cpu', 'cuda', 'cuda:N', 'mps'
    ask for one. ``detector``: a ``DetectorChoice`` (the bundled SSD on a backend, or the user's
    ONNX file), or just a backend name ('auto', 'torch', 'onnxruntime', 'onnxruntime-int8',
    'opencv'); None is the default choice. See ``backends.py``. ``preparation``: the inference size
    and the detection threshold ``prepare`` uses (``Preparation``).
    """

    def __init__(self, device: Optional[str] = None, cache_size: int = 32, *,
                 detector: Union[str, DetectorChoice, None] = None, weights: ScorerWeights = DEFAULT_WEIGHTS,
                 preparation: Preparation = Preparation(), image_loader: Optional[ImageLoader] = None) -> None:
        self.detector_choice = detector if isinstance(detector, DetectorChoice) \
            else DetectorChoice() if detector is None else DetectorChoice(backend=detector)
        self.requested_device = device
        self._device: Optional[str] = None
        self.cache_size = max(1, int(cache_size))
        self.weights = weights
        self._fused = shipped_weights()
        self.preparation = preparation
        self.image_loader = image_loader
        self._detector = None
        self._encoder = None
        self._scorer: Optional[PhraseScorer] = None
        self._recognizer = None
        self._imagenet = None
        self.concepts = ConceptMemory()
        self._model_lock = threading.RLock()
        self._cache_lock = threading.Lock()
        self._cache: "OrderedDict[str, PreparedImage]" = OrderedDict()
        self._helper_pool: Optional[ThreadPoolExecutor] = None

    # ------------------------------------------------------------------ loading
    @property
    def device(self) -> str:
        """The device in use ('cpu', 'cuda', 'cuda:N', 'mps'); resolving it imports torch."""
        if self._device is None:
            with self._model_lock:
                if self._device is None:
                    self._device = backend_device(self.detector_choice, self.requested_device,
                                                  resolve_device(self.requested_device))
        return self._device

    @property
    def model_version(self) -> str:
        """Names what proposes: the networks, the scorer and the fit fusing its evidence (the
        shipped one or a project's refit), stored with every box the model proposed."""
        self.load_detector()
        from .text.encoder import MODEL_NAME
        from .recognition.recognizer import VARIANT

        return (f"{self._detector.version}+{MODEL_NAME}+efficientnet-{VARIANT}+{SCORER_VERSION}"
                f"+fit-{self._fused.fingerprint}")

    @property
    def features_version(self) -> str:
        """Names what made a prepared image's features: the detector, its settings here, the
        record's format and the second CNN's recipes of the region embeddings and the crops' kinds
        it keeps. Kept features of another version are stale (``store.features``): embeddings a
        concept's head cannot read are never searched as if they were its own."""
        from .recognition.recognizer import embedding_model

        prep = self.preparation
        return (f"{self.load_detector().version}+features{FEATURES_FORMAT}+side{prep.max_side}"
                f"+score{prep.score_threshold:g}+top{MAX_DETECTIONS}+cand{MAX_CANDIDATES}+emb{embedding_model()}"
                f"+crops{MAX_CROPS}x{KEPT_KINDS}")

    @property
    def embedding_model(self) -> str:
        """What made the region embeddings ``learn`` returns (stored with them): the network's
        recipe and the context each box is embedded with (``concept_head.context_boxes``)."""
        from .scoring.concept_head import CONTEXT_RECIPE
        from .recognition.recognizer import embedding_model

        return f"{embedding_model()}+{CONTEXT_RECIPE}"

    @property
    def detector_weights_path(self) -> str:
        """Where the detector's converted weights are read from ("" for OpenCV, which reads the graph)."""
        return str(getattr(self.load_detector(), "weights_path", ""))

    def load(self, encoder: bool = True) -> "Grounder":
        """Load everything now (the app's model process does it at start-up).

        With ``encoder`` the phrase encoder's network loads too; otherwise it waits for the
        first phrase whose noun is not among the cached class words.
        """
        self.load_detector()
        self.load_scorer()
        if encoder:
            with self._model_lock:
                self._encoder.preload()
        return self

    def load_detector(self):
        with self._model_lock:
            if self._detector is None:
                device = self.device
                try:
                    self._detector = self._make_detector(device)
                except Exception as exc:
                    if device == "cpu" or not is_device_failure(exc):
                        raise
                    self._fall_back(exc)
                    self._detector = self._make_detector("cpu")
            return self._detector

    @property
    def runtime(self) -> str:
        """What runs the detector's network ('torch 2.x cpu', 'onnxruntime 1.x CUDA', ...)."""
        return self.load_detector().runtime

    def _make_detector(self, device: str):
        return make_detector(self.detector_choice, device)

    def load_scorer(self) -> PhraseScorer:
        with self._model_lock:
            if self._scorer is None:
                from .text.encoder import ClassPrototypes, PhraseEncoder
                from .detectors.ssd_weights import cache_dir

                # The encoder embeds a few words per phrase: the CPU is as fast as a GPU for that
                # and keeps GPU memory for the detector.
                self._encoder = PhraseEncoder(device="cpu")
                # Phrases are matched to the detector's own class names (the user's, for an
                # ONNX detector of theirs).
                prototypes = ClassPrototypes(self._encoder, self.load_detector().class_names,
                                             cache_dir=cache_dir())
                self._scorer = PhraseScorer(prototypes, self.weights, self._fused)
            return self._scorer

    def load_recognizer(self):
        """The second CNN (EfficientNet-Lite0, ImageNet-1k), loaded on first need."""
        with self._model_lock:
            if self._recognizer is None:
                from .recognition.recognizer import RegionRecognizer

                try:
                    self._recognizer = RegionRecognizer(self.device)
                except Exception as exc:
                    if self.device == "cpu" or not is_device_failure(exc):
                        raise
                    self._fall_back(exc)
                    self._recognizer = RegionRecognizer("cpu")
                self._crops_on_onnxruntime()
            return self._recognizer

    def _crops_on_onnxruntime(self) -> None:
        """On a CPU the second CNN's crops run on onnxruntime (``export_recognizer``), else on torch."""
        if self._recognizer.device.type != "cpu":
            return
        from .recognition.export_recognizer import use_onnxruntime

        try:
            use_onnxruntime(self._recognizer)
        except Exception as exc:  # noqa: BLE001 - e.g. a torch without its ONNX exporter
            log.warning("the second CNN's crops run on torch (no ONNX export: %s)", exc)

    def _imagenet_prototypes(self):
        with self._model_lock:
            if self._imagenet is None:
                from .recognition.imagenet import imagenet_prototypes
                from .detectors.ssd_weights import cache_dir

                self.load_scorer()
                self._imagenet = imagenet_prototypes(self._encoder, cache_dir())
            return self._imagenet

    @property
    def fused(self) -> FusedWeights:
        """The weights that fuse the evidence into a score (the shipped fit, or a project's refit)."""
        return self._fused

    def set_fused(self, fused: Optional[FusedWeights]) -> None:
        """Fuse the evidence with ``fused`` from now on (None: the shipped fit)."""
        with self._model_lock:
            self._fused = fused if fused is not None else shipped_weights()
            if self._scorer is not None:
                self._scorer.fused = self._fused

    def _fall_back(self, exc: BaseException) -> None:
        warn_fallback(f"{self._device} failed ({str(exc).splitlines()[0][:160]})")
        self._device = "cpu"
        if self._detector is not None:
            self._detector = self._make_detector("cpu")
        if self._recognizer is not None and self._recognizer.device.type != "cpu":
            from .recognition.recognizer import RegionRecognizer

            self._recognizer = RegionRecognizer("cpu")
            self._crops_on_onnxruntime()

    # ------------------------------------------------------------------ images
    def _key_for(self, image: ImageInput, key: Optional[str]) -> str:
        if key is not None:
            return str(key)
        if isinstance(image, (str, os.PathLike)):
            return str(image)
        arr = np.asarray(image)
        digest = hashlib.blake2b(arr.tobytes(), digest_size=12)
        digest.update(str(arr.shape).encode())
        return f"array:{digest.hexdigest()}"

    def _to_rgb(self, image: ImageInput):
        """(RGB uint8 array for inference, original (w, h), file stamp or None)."""
        if isinstance(image, (str, os.PathLike, bytes)):
            if self.image_loader is None:
                raise TypeError("this Grounder has no image_loader: pass an image or array, or build it "
                                "with grounding_desktop.grounder_factory.make_grounder()")
            is_file = not isinstance(image, bytes)
            stamp = _file_stamp(image) if is_file else None
            try:
                pil, size = self.image_loader(image if is_file else io.BytesIO(image), self.preparation.max_side)
            except ImageReadError as exc:
                raise ImageReadError(f"{image}: {exc}" if is_file else str(exc)) from exc
            return np.asarray(pil), size, stamp
        from .detectors.detector import to_rgb_array

        try:
            rgb = to_rgb_array(image)
        except (ValueError, TypeError) as exc:
            raise ImageReadError(f"not an image: {exc}") from exc
        h, w = rgb.shape[:2]
        max_side = self.preparation.max_side
        if max(h, w) > max_side:
            import cv2

            s = max_side / max(h, w)
            rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))),
                             interpolation=cv2.INTER_AREA)
        return rgb, (w, h), None

    def prepare(self, image: ImageInput, key: Optional[str] = None) -> str:
        """Run the detector on ``image`` (path, PIL image or RGB array) unless cached; returns
        the cache key (``str(path)`` for files). A file changed on disk is prepared again."""
        k = self._key_for(image, key)
        with self._cache_lock:
            entry = self._cache.get(k)
        if entry is not None and (entry.stamp is None or not isinstance(image, (str, os.PathLike))
                                  or _file_stamp(image) == entry.stamp):
            with self._cache_lock:
                if k in self._cache:
                    self._cache.move_to_end(k)
            return k
        prepared = self._prepare_many([image])[0]
        if isinstance(prepared, ImageReadError):
            raise prepared
        rgb, stamp, features = prepared
        self._remember(PreparedImage(k, features, features.scene(), ImageEvidence(rgb), stamp))
        return k

    def compute_features(self, images: Sequence[ImageInput], pause: Optional[Callable[[], None]] = None
                         ) -> list[Union[ImageFeatures, ImageReadError]]:
        """The features of each of ``images`` (paths, image files' bytes, PIL images, arrays), or
        the ``ImageReadError`` that kept one out; the detector sees them in batches where it runs
        batches (the torch SSD: on a GPU, a batch costs about what one image does). Nothing is
        cached: this is the feature pass's step, whose caller keeps the records. ``pause()`` is
        called before each detector batch: it may wait (the app's model process lets proposals
        go first) or raise to stop."""
        return [p if isinstance(p, ImageReadError) else p[2]
                for p in self._prepare_many(images, keep_pixels=False, pause=pause)]

    def _prepare_many(self, images: Sequence[ImageInput], keep_pixels: bool = True,
                      pause: Optional[Callable[[], None]] = None
                      ) -> list[Union[tuple[Optional[np.ndarray], Optional[tuple], ImageFeatures], ImageReadError]]:
        """(inference pixels if ``keep_pixels``, file stamp, features) of each image, or its
        ImageReadError.

        A pipeline: helper threads decode the next batch of images and build each image's regions
        (colour statistics) while the network runs, so on a CPU the pass costs little more than
        the network itself (``benchmarks/feature_pass.py``)."""
        helpers = self._helpers()
        limit = getattr(self.load_detector(), "batch_limit", 1)
        batches = [images[i:i + limit] for i in range(0, len(images), limit)]
        ahead = [helpers.submit(self._decoded, image) for image in batches[0]] if batches else []
        building: list = []
        for k in range(len(batches)):
            decoded = [f.result() for f in ahead]
            if k + 1 < len(batches):
                ahead = [helpers.submit(self._decoded, image) for image in batches[k + 1]]
            readable = [d for d in decoded if not isinstance(d, ImageReadError)]
            if pause is not None:
                pause()
            detections = iter(self._detect([rgb for rgb, _, _ in readable]))
            for d in decoded:
                building.append(d if isinstance(d, ImageReadError) else
                                helpers.submit(self._built, *d, next(detections)))
        built = [b if isinstance(b, ImageReadError) else b.result() for b in building]
        if keep_pixels:
            return built
        # The feature pass: its records keep what learned concepts and ImageNet kinds need.
        return [b if isinstance(b, ImageReadError) else self._with_second_cnn(b) for b in built]

    def _decoded(self, image: ImageInput):
        try:
            return self._to_rgb(image)
        except ImageReadError as exc:
            return exc

    @staticmethod
    def _built(rgb: np.ndarray, size: tuple, stamp: Optional[tuple], detections) -> tuple:
        return rgb, stamp, ImageFeatures.from_scene(build_scene(rgb, detections), size)

    def _with_second_cnn(self, built: tuple) -> tuple:
        """``_built``'s answer with its record holding the second CNN's embeddings of its most
        object-like regions (``features.EMBEDDED_REGIONS``) and the ImageNet kinds of their crops
        (``region_evidence.classify_regions``): searching a folder for a learned concept or an
        ImageNet noun then needs no CNN pass."""
        rgb, stamp, features = built
        order = np.argsort(-features.objectness.astype(np.float32), kind="stable")[:EMBEDDED_REGIONS]
        if not len(order):  # no region (a blank frame): nothing to embed
            return None, stamp, features
        with self._model_lock:
            recognizer = self.load_recognizer()
            vectors = recognizer.embed(recognizer.features(rgb), features.boxes[order])
            classified = classify_regions(recognizer, rgb, features.boxes, features.objectness)
        return None, stamp, features.with_embeddings(order, vectors).with_kinds(*classified)

    def _helpers(self) -> ThreadPoolExecutor:
        with self._cache_lock:
            if self._helper_pool is None:
                self._helper_pool = ThreadPoolExecutor(PREPARE_HELPERS, thread_name_prefix="prepare")
            return self._helper_pool

    def prepared_from(self, key: str, features: ImageFeatures,
                      image: Optional[ImageInput] = None) -> PreparedImage:
        """Take ``features`` (kept by the feature pass) as the prepared image ``key``, not cached
        (``propose_prepared`` scores it): no detector pass. Its pixels are decoded only if the
        second CNN is needed, from ``image`` (by default the key, as a path)."""
        source = key if image is None else image

        def pixels() -> np.ndarray:
            rgb = self._to_rgb(source)[0]
            if rgb.shape[:2] != (features.frame_height, features.frame_width):
                raise ImageReadError(f"{key}: the file changed since it was prepared")
            return rgb

        stamp = _file_stamp(source) if isinstance(source, (str, os.PathLike)) else None
        return PreparedImage(key, features, features.scene(),
                             ImageEvidence(loader=pixels, kept=features.kept_embeddings(),
                                           classified=features.kept_kinds()), stamp)

    def _remember(self, entry: PreparedImage) -> None:
        with self._cache_lock:
            self._cache[entry.key] = entry
            self._cache.move_to_end(entry.key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def prepare_features(self, image: ImageInput, key: Optional[str] = None) -> str:
        """``prepare`` plus the second CNN's feature maps of the image, so that learning from a
        box on it, or matching a learned concept on it, costs no CNN pass later (the app does
        this while the user looks at the image)."""
        k = self.prepare(image, key)
        entry = self.prepared(k)
        if entry is not None:
            with self._model_lock:
                compute_features(self.load_recognizer(), entry.evidence)
        return k

    def _detect(self, rgbs: list[np.ndarray]) -> list:
        """The detector's ``Detections`` of each image (in batches where it runs them)."""
        if not rgbs:
            return []
        detector = self.load_detector()
        with self._model_lock:
            try:
                return self._detect_with(detector, rgbs)
            except Exception as exc:
                if self.device == "cpu" or not is_device_failure(exc):
                    raise
                self._fall_back(exc)
                return self._detect_with(self._detector, rgbs)

    def _detect_with(self, detector, rgbs: list[np.ndarray]) -> list:
        threshold = self.preparation.score_threshold
        if hasattr(detector, "detect_batch"):  # the bundled SSD; its RoIAlign features go unused
            return detector.detect_batch(rgbs, threshold, MAX_DETECTIONS, MAX_CANDIDATES,
                                         region_features=False)
        return [detector.detect(rgb, threshold, MAX_DETECTIONS, candidates=MAX_CANDIDATES)
                for rgb in rgbs]

    def prepared(self, key: str) -> Optional[PreparedImage]:
        with self._cache_lock:
            return self._cache.get(key)

    def forget(self, key: Optional[str] = None) -> None:
        """Drop one image (or all) from the cache."""
        with self._cache_lock:
            if key is None:
                self._cache.clear()
            else:
                self._cache.pop(str(key), None)

    # ------------------------------------------------------------------ phrases
    def propose(self, image_or_key: ImageInput, phrase: str,
                hint: Optional[tuple[float, float]] = None, top_k: int = 5,
                held_out: bool = False) -> list[Proposal]:
        """Boxes for ``phrase``, best first, in original image pixels.

        ``image_or_key``: a path, image, or a key returned by ``prepare`` (prepared if needed).
        ``hint``: a point (x, y) the user clicked, original pixels; boxes holding it win.
        Singular phrases give up to ``top_k`` alternatives; plural ones every box that matches.
        ``held_out``: learned concepts leave this image's own boxes out (evaluation).
        Raises ``core.phrase.PhraseError`` for an unusable phrase.
        """
        text = clean_phrase(phrase)  # an unusable phrase is refused before any image work
        return self.propose_prepared(self._entry(image_or_key), text, hint, top_k, held_out=held_out)

    def propose_prepared(self, entry: PreparedImage, phrase: str,
                         hint: Optional[tuple[float, float]] = None, top_k: int = 5,
                         folder: bool = False, held_out: bool = False) -> list[Proposal]:
        """``propose`` on a prepared image that need not be in the cache (``prepared_from``).
        ``folder``: the phrase is asked of every picture of a folder, which may not hold its thing
        (proposing, searching): scored with the fit's calibration for that."""
        text = clean_phrase(phrase)
        parsed = parse_phrase(text)
        scorer = self.load_scorer()
        # Before scoring: a refit meanwhile (folder jobs) is not claimed; "+folder": scored with the
        # fit's calibration for a folder, which exports can tell apart.
        version = self.model_version + ("+folder" if folder else "")
        scene, result = self.scored(entry, parsed, hint, held_out, folder)
        chosen = scorer.select(scene, result, top_k, parsed.plural)
        out = []
        for i in chosen:
            modules = {k: round(v, 4) for k, v in result.module_values(int(i)).items()}
            modules["plural"] = parsed.plural
            modules["evidence"] = result.sources[int(i)]
            modules["detector_score"] = round(float(scene.scores[i]), 4)
            modules["detector_label"] = scorer.labels.get(int(scene.labels[i]), "")
            out.append(Proposal(
                bbox=self._to_original(entry, scene.boxes[i]),
                score=round(float(result.scores[i]), SCORE_PLACES), label=self._region_label(scene, result, int(i)),
                explanation=scorer.explain(result, int(i)), modules=modules,
                model_version=version))
        return out

    def scored(self, entry: PreparedImage, parsed: ParsedPhrase,
               hint: Optional[tuple[float, float]] = None, held_out: bool = False, folder: bool = False
               ) -> tuple[Scene, ScoreResult]:
        """Every region of a prepared image scored for ``parsed`` (``hint`` in original pixels), with
        its evidence terms: what ``propose`` chooses from, and what a fit of the scorer learns from."""
        scene, sources = self._sources(entry, parsed, entry.key if held_out else None)
        if hint is not None:
            hint = (float(hint[0]) / entry.scale_x, float(hint[1]) / entry.scale_y)
        return scene, self.load_scorer().score(scene, parsed, hint, sources, folder)

    @staticmethod
    def _to_original(entry: PreparedImage, box: np.ndarray) -> tuple:
        """An xyxy box in inference pixels -> (x, y, w, h) in original pixels, inside the image."""
        x0, y0, x1, y1 = (float(v) for v in box)
        bbox = clamp_xywh((x0 * entry.scale_x, y0 * entry.scale_y,
                           (x1 - x0) * entry.scale_x, (y1 - y0) * entry.scale_y),
                          entry.width, entry.height)
        return tuple(round(v, 2) for v in bbox)

    def _sources(self, entry: PreparedImage, parsed: ParsedPhrase, exclude_image: Optional[str]
                 ) -> tuple[Scene, list[SubjectEvidence]]:
        """The regions to score (a learned concept adds its best windows) and the evidence for the
        subject noun beyond the detector's classes: a concept learned from the user's boxes, and
        ImageNet's kinds for a noun ImageNet knows better than COCO. Each adds to the detector's
        evidence."""
        concept, kinds = self._second_cnn_sources(parsed, exclude_image)
        scene, sources = entry.scene, []
        if concept is None and kinds is None:
            return scene, sources
        with self._model_lock:
            if concept is not None:
                found = concept_subject(self.load_recognizer(), self.concepts, entry.evidence,
                                        entry.scene, concept, exclude_image)
                if found is not None:
                    scene = found[0]
                    sources.append(found[1])
            if kinds is not None and entry.scene.boxes.size:
                sources.append(imagenet_subject(self.load_recognizer(), entry.evidence, entry.scene,
                                                kinds, parsed.subject.noun, boxes=scene.boxes))
        return scene, sources

    def _second_cnn_sources(self, parsed: ParsedPhrase, exclude_image: Optional[str]):
        """(the concept the user's boxes taught for the phrase's noun, with its colour words first,
        then any, then the same for its head word alone, so "the shiny gizmo" uses what "the gizmo"
        taught; or None) and (the ImageNet kinds of a noun no COCO word list names and that comes
        closer to an ImageNet kind than to any COCO class; or None)."""
        concept = ConceptKey.of(parsed)
        taught = None
        if concept is not None:
            head = concept.noun.split()[-1]
            for key in dict.fromkeys((concept, ConceptKey(concept.noun), ConceptKey(head, concept.qualifier),
                                      ConceptKey(head))):
                if self.concepts.count(key, exclude_image):
                    taught = key
                    break
        coco, exact = self.load_scorer().coco_match(parsed.subject)
        if exact:
            return taught, None
        kinds = kinds_for(self._imagenet_prototypes(), parsed.subject)
        return taught, kinds if kinds is not None and kinds.similarity > coco else None

    def bounded_subject(self, phrase: str) -> tuple[bool, Optional[ConceptKey], Optional[Kinds]]:
        """(whether ``PhraseScorer.upper_bound`` bounds every region's score of ``phrase`` from the
        kept features: always, here; the learned concept whose head adds its evidence, or None; the
        ImageNet kinds that add theirs, or None). Both judge what a feature pass kept: the region
        embeddings and the crops' kinds (``image_search``)."""
        concept, kinds = self._second_cnn_sources(parse_phrase(clean_phrase(phrase)), None)
        return True, concept, kinds

    # ------------------------------------------------------------------ learning
    def forget_concepts(self) -> None:
        """Forget every box ``learn`` was given (a project's lessons are taught afresh)."""
        self.concepts.clear()

    def learn(self, image: ImageInput, boxes: Sequence[LabelledBox],
              size: Optional[tuple[int, int]] = None) -> list[ConceptExample]:
        """Make ``boxes`` the labelled boxes of ``image`` that concepts learn from.

        Boxes not listed any more (deleted, undone) are forgotten, moved or re-labelled ones are
        learned again, and new ones are embedded on the image's features (prepared if needed);
        a box that brings its ``embedding`` (from the project database) needs no image work, given
        the image's original ``size``. Returns the examples embedded now, for the caller to store.
        The concepts' heads are fitted again on the next ``propose`` that needs them.
        """
        image_key = self._key_for(image, None)
        wanted: dict[int, tuple[LabelledBox, ConceptKey]] = {}
        for box in boxes:
            try:
                concept = ConceptKey.of(parse_phrase(clean_phrase(box.phrase)))
            except PhraseError:
                continue
            if concept is not None and box.bbox[2] > 0 and box.bbox[3] > 0:
                wanted[box.example_id] = (box, concept)
        known = self.concepts.of_image(image_key)
        stale = [i for i, e in known.items() if i not in wanted or not e.describes(*wanted[i])]
        new = [(b, c) for i, (b, c) in wanted.items() if i not in known or i in stale]
        entry = None
        if size is None or any(b.embedding is None for b, _ in new):
            entry = self._entry(image)
            size = (entry.width, entry.height)
        embedded: list[ConceptExample] = []
        unit = float(np.sqrt(size[0] * size[1]))
        missing = [b for b, _ in new if b.embedding is None]
        made: dict[int, tuple[np.ndarray, ExampleContext]] = {}
        if missing:
            made = self._embed_examples(entry, missing)
        examples = []
        for box, concept in new:
            vector, context = made.get(box.example_id, (box.embedding, box.context))
            example = ConceptExample(box.example_id, concept, image_key, tuple(box.bbox),
                                     (box.bbox[2] / unit, box.bbox[3] / unit),
                                     np.asarray(vector, np.float32), box.accepted, context)
            examples.append(example)
            if box.example_id in made:
                embedded.append(example)
        self.concepts.remove(stale)
        self.concepts.add(examples)
        return embedded

    def _embed_examples(self, entry: PreparedImage, boxes: Sequence[LabelledBox]
                        ) -> dict[int, tuple[np.ndarray, ExampleContext]]:
        """Box id -> (embedding, context) of labelled ``boxes`` on the prepared image."""
        sx, sy = entry.scale_x, entry.scale_y
        xyxy = np.array([(x / sx, y / sy, (x + w) / sx, (y + h) / sy) for x, y, w, h in (b.bbox for b in boxes)])
        with self._model_lock:
            computed = embed_examples(self.load_recognizer(), entry.evidence, entry.scene, xyxy,
                                      [b.example_id for b in boxes])
        out = {}
        for box, (vector, around, vectors, mirrored) in zip(boxes, computed):
            xywh = np.stack([around[:, 0] * sx, around[:, 1] * sy, (around[:, 2] - around[:, 0]) * sx,
                             (around[:, 3] - around[:, 1]) * sy], 1)
            out[box.example_id] = (vector, ExampleContext(xywh, vectors, mirrored))
        return out

    def _region_label(self, scene: Scene, result: ScoreResult, i: int) -> str:
        """What region ``i`` is, named by the evidence its score rests on most: the ImageNet kind
        or the learned concept; for the detector, its own class for the region (the detector's
        evidence for the phrase's class is not what the region is: "cup" on the spoon), else
        "object"."""
        if result.sources[i] in ("imagenet", "concept"):
            return result.subject_label[i]
        return self.load_scorer().labels.get(int(scene.labels[i])) or "object"

    def _entry(self, image_or_key: ImageInput) -> PreparedImage:
        if isinstance(image_or_key, str):
            with self._cache_lock:
                entry = self._cache.get(image_or_key)
            if entry is not None and (entry.stamp is None
                                      or _file_stamp(image_or_key) in (entry.stamp, None)):
                with self._cache_lock:
                    if image_or_key in self._cache:
                        self._cache.move_to_end(image_or_key)
                return entry
            if entry is None and not Path(image_or_key).exists():
                raise ImageReadError(f"{image_or_key}: no such file or prepared image")
        key = self.prepare(image_or_key)
        with self._cache_lock:
            entry = self._cache.get(key)
        if entry is None:  # evicted at once by a cache of size 1 under heavy concurrency
            key = self.prepare(image_or_key)
            entry = self._cache[key]
        return entry
