"""The model's NMS and RoIAlign (torchvision's kernels, loaded without its Python package) give
what ``torchvision.ops`` gives."""
from __future__ import annotations

import torch

from grounding_desktop.grounding.detectors import box_ops


def _boxes(n: int, generator: torch.Generator) -> torch.Tensor:
    xy = torch.rand(n, 2, generator=generator) * 200
    return torch.cat([xy, xy + 5 + torch.rand(n, 2, generator=generator) * 80], 1)


def test_nms_and_batched_nms_match_torchvision():
    import torchvision.ops

    g = torch.Generator().manual_seed(0)
    boxes, scores = _boxes(300, g), torch.rand(300, generator=g)
    classes = torch.randint(0, 5, (300,), generator=g)
    assert torch.equal(box_ops.nms(boxes, scores, 0.5), torchvision.ops.nms(boxes, scores, 0.5))
    ours = box_ops.batched_nms(boxes, scores, classes, 0.45)
    assert torch.equal(ours, torchvision.ops.batched_nms(boxes, scores, classes, 0.45))
    assert len(set(classes[ours].tolist())) == 5  # every class keeps its own boxes
    assert box_ops.batched_nms(boxes[:0], scores[:0], classes[:0], 0.5).shape == (0,)


def test_roi_align_matches_torchvision():
    import torchvision.ops

    g = torch.Generator().manual_seed(1)
    features = torch.rand(1, 8, 20, 30, generator=g)
    rois = torch.cat([torch.zeros(6, 1), _boxes(6, g) / 8], 1)
    for size, scale, aligned in ((1, 1 / 8, True), ((3, 2), 0.5, False)):
        expected = torchvision.ops.roi_align(features, rois, size, spatial_scale=scale, sampling_ratio=2,
                                             aligned=aligned)
        assert torch.allclose(box_ops.roi_align(features, rois, size, scale, 2, aligned), expected)
