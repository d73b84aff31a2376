"""The ONNX path, honest (issue 23): no-op ops folded, so real exports import exactly without
--allow-unknown; a partial result said in every format and refused by `check`.

Counts are torch's own: mult-adds FlopCounterMode / 2, parameters Σ numel minus what an
eval-mode export's folding of each BN into the conv before it removes (_models.bn_folding_loss).
"""
from __future__ import annotations

import onnx
import pytest
import torch

from _models import TORCHVISION, export, imported, torch_counts


def _module_of(node_name: str) -> str:
    """The module path of a node torch's TorchScript exporter named for its scope:
    '/blocks/blocks.1/blocks.1.0/bn1/BatchNormalization' → 'blocks.1.0.bn1'."""
    path = ""
    for part in node_name.strip("/").split("/")[:-1]:
        path = part if not path or part.startswith(path + ".") else f"{path}.{part}"
    return path


def eval_folding_loss(net: torch.nn.Module, model: onnx.ModelProto) -> int:
    """What an eval-mode export removes from Σ numel: each BatchNorm2d it folded into the conv
    before it (every one but those the file keeps as BatchNormalization nodes: MixNet's after a
    Concat) loses N of its 2N (γ, β become the conv's N biases). The convs before a BN in
    these nets have no bias (which would be lost too), as timm and torchvision build them."""
    mods = dict(net.named_modules())
    kept = {_module_of(n.name) for n in model.graph.node if n.op_type == "BatchNormalization"}
    assert all(isinstance(mods[k], torch.nn.BatchNorm2d) for k in kept)
    return sum(m.num_features for name, m in mods.items()
               if isinstance(m, torch.nn.BatchNorm2d) and name not in kept)


def _real(name: str):
    if name.startswith("torchvision:"):
        tv = pytest.importorskip("torchvision")
        return getattr(tv.models, name.split(":")[1])(), (1, 3, 224, 224)
    timm = pytest.importorskip("timm")
    m = timm.create_model(name)
    return m, (1, *m.default_cfg["input_size"])


# measured with torch 2.14.1, timm 1.0.31, torchvision 0.29.1 (mult-adds; Σ numel):
NO_OPS = ["ghostnet_100",  # 141,150,512; 5,182,508: 32 Slices of each ghost module's whole channel range
          "torchvision:shufflenet_v2_x1_0",  # 144,907,992; 2,278,604: its Slice channel split (x.chunk(2))
          "mixnet_s"]  # 239,173,360; 4,134,606: a BatchNormalization after each mixed conv's Concat


@pytest.mark.parametrize("name", NO_OPS)
def test_real_exports_with_no_op_slices_and_a_bn_after_a_concat_import_exactly(name, tmp_path):
    net, size = _real(name)
    madds, params, _ = torch_counts(net, size)
    model = export(net, size, tmp_path / "m.onnx")
    got = imported(tmp_path / "m.onnx", TORCHVISION)  # no --allow-unknown: nothing left uncosted
    assert (got.madds, got.params, got.graph.unknown) == (madds, params - eval_folding_loss(net, model), ())
