"""torchvision's detection and segmentation models against the built-ins that describe them,
exact: Σ numel and FlopCounterMode/2 under --profile torchvision (issue 24)."""
from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import mbcost
from _models import TORCHVISION


class BackboneAndHead(torch.nn.Module):
    """A detector's network: the backbone's feature maps into the head — not the transform that
    resizes and normalises images, nor the anchors' decoding and NMS, which are no network."""

    def __init__(self, detector):
        super().__init__()
        self.backbone, self.head = detector.backbone, detector.head

    def forward(self, x):
        return self.head(list(self.backbone(x).values()))


def built(name: str) -> torch.nn.Module:
    from torchvision.models import detection, segmentation

    if name.startswith("ssdlite"):  # no backbone weights: torchvision builds the reduced tail
        return BackboneAndHead(getattr(detection, name)(weights=None, weights_backbone=None))
    return getattr(segmentation, name)(weights=None, weights_backbone=None)  # aux_loss off


# torchvision's own figures, which the live modules must give too
HEADS = {
    "ssdlite320_mobilenet_v3_large": (583_171_904, 3_440_060),
    "deeplabv3_mobilenet_v3_large": (10_436_350_688, 11_025_477),
    "lraspp_mobilenet_v3_large": (2_086_219_688, 3_221_538),
}


@pytest.mark.parametrize("name", sorted(HEADS))
def test_torchvisions_heads_are_exact(name):
    r = mbcost.analyze(name, convention=TORCHVISION)
    net = built(name).eval()
    with FlopCounterMode(display=False) as fc:
        net(torch.zeros(1, 3, *r.resolution))
    measured = (fc.get_total_flops() // 2, sum(p.numel() for p in net.parameters()))
    assert measured == HEADS[name] == (r.madds, r.params)
