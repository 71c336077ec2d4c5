import pytest

from grounding_desktop.core import (
    Box, BoxState, area_xywh, clamp_xywh, denormalize_xywh, iou_xywh, normalize_xywh,
    xywh_to_xyxy, xyxy_to_xywh,
)


def test_xyxy_round_trip():
    b = (10.5, 20.0, 30.25, 40.0)
    assert xywh_to_xyxy(b) == (10.5, 20.0, 40.75, 60.0)
    assert xyxy_to_xywh(xywh_to_xyxy(b)) == b


def test_normalise_round_trip_and_bad_size():
    b = (32.0, 24.0, 16.0, 12.0)
    n = normalize_xywh(b, 64, 48)
    assert n == (0.5, 0.5, 0.25, 0.25)
    assert denormalize_xywh(n, 64, 48) == b
    with pytest.raises(ValueError):
        normalize_xywh(b, 0, 48)


def test_clamp_inside_outside_and_backwards():
    assert clamp_xywh((-10, -5, 30, 20), 100, 50) == (0.0, 0.0, 20.0, 15.0)
    assert clamp_xywh((90, 40, 30, 20), 100, 50) == (90.0, 40.0, 10.0, 10.0)
    assert clamp_xywh((200, 200, 10, 10), 100, 50) == (100.0, 50.0, 0.0, 0.0)
    # dragged from bottom-right to top-left: negative size is flipped, then clipped
    assert clamp_xywh((50, 30, -20, -10), 100, 50) == (30.0, 20.0, 20.0, 10.0)


def test_iou():
    assert iou_xywh((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou_xywh((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0
    assert iou_xywh((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou_xywh((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0
    assert area_xywh((0, 0, -3, 4)) == 0.0


def test_box_helpers():
    a = Box(1, 1, (0.0, 0.0, 10.0, 10.0), BoxState.ACCEPTED)
    b = Box(2, 1, (5.0, 5.0, 10.0, 10.0))
    assert a.xyxy == (0.0, 0.0, 10.0, 10.0)
    assert a.area == 100.0
    assert a.iou(b) == pytest.approx(25 / 175)
    assert b.clamped(12, 12).bbox == (5.0, 5.0, 7.0, 7.0)
    assert a.normalized(20, 40) == (0.0, 0.0, 0.5, 0.25)


def test_keep_inside_moves_a_box_back_whole_and_cuts_only_what_cannot_fit():
    from grounding_desktop.core import keep_inside

    assert keep_inside((90, -5, 20, 10), 100, 50) == (80, 0, 20, 10)  # past the right and top edges
    assert keep_inside((10, 10, 20, 10), 100, 50) == (10, 10, 20, 10)  # inside: unchanged
    assert keep_inside((-10, 0, 300, 80), 100, 50) == (0, 0, 100, 50)  # larger than the image
    assert keep_inside((30, 30, -20, -10), 100, 50) == (10, 20, 20, 10)  # drawn backwards


def test_clamp_point_gives_the_nearest_point_of_the_image():
    from grounding_desktop.core import clamp_point

    assert clamp_point(-3, 70, 100, 50) == (0, 50)
    assert clamp_point(40, 20, 100, 50) == (40, 20)
