"""Shared helpers of the cross-check: counting a torch module, exporting it, reading it back."""
from __future__ import annotations

import functools
import os
import warnings

import numpy as np
import onnx
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import mbcost
from mbcost.interop.onnx_import import read

TORCHVISION = mbcost.PROFILES["torchvision"]

# MBCOST_CROSSCHECK=full runs every setting of every built-in and every torchvision classifier:
# what a release is checked with. The default, what CI runs, keeps every built-in, kind, family and
# check, at fewer settings and with one torchvision classifier per family (the rest differ from it
# in depth and width, which the importer reads off the graph), for the tier's time on two cores.
FULL = os.environ.get("MBCOST_CROSSCHECK") == "full"


def _suite_helpers():
    """tests/conftest.py's helpers (its fixtures reach this folder as a parent conftest; its
    functions are imported by path, since this folder's conftest takes the module name)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("_suite_conftest", Path(__file__).parent.parent / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_helpers = _suite_helpers()
assert_one_line_error, kind_network = _helpers.assert_one_line_error, _helpers.kind_network


def interop_gap(arch, onnx_import: bool = False, alpha=None, resolution=None) -> str | None:
    """Why mbcost.torch.build (and from it the ONNX round trip) cannot check ``arch`` yet, if it
    cannot: the graph feature of issue 24 that mbcost/interop does not build — a block run
    ``times: N`` (built once, so counted once) — and, for a torch.onnx.export read back, a
    TF-'same' average pool whose padding is uneven at this size (ShuffleNet V1's shortcut at 224),
    which torch exports as Pad/AveragePool/Div, a pattern the importer does not read (test_onnx's
    generated graphs leave it out for that reason). The configs are marked xfail(strict=True)
    with the reason, so the tier fails the day the builders catch up."""
    r = planned(arch, alpha, resolution)
    layers = r.graph.layers
    if any(L.times > 1 for L in layers):
        return "mbcost.torch.build and mbcost export build a times: N block once (no repeated runs yet)"
    if onnx_import and any(_uneven_same_avg_pool(x) for x in r.layers):
        return "torch.onnx.export writes a TF-'same' average pool as Pad/AveragePool/Div, which the ONNX importer does not read"
    return None


def _uneven_same_avg_pool(x) -> bool:
    """A windowed average pool with TF's 'same' padding split unevenly (more after than before)."""
    L = x.layer
    if L.kind != "pool" or L.op != "avg" or L.global_ or L.padding != "same":
        return False
    (h, w, _), (oh, ow, _) = x.input_shape, x.output_shape
    return any(max((o - 1) * s + k - n, 0) % 2 for n, o, s, k in ((h, oh, L.s[0], L.k[0]), (w, ow, L.s[1], L.k[1])))


@functools.lru_cache(maxsize=None)
def _planned(arch, alpha, resolution):
    from mbcost.errors import GraphError

    try:
        return mbcost.analyze(arch, alpha=alpha, resolution=resolution)
    except GraphError as e:
        return e


def planned(arch, alpha=None, resolution=None) -> mbcost.Report:
    """mbcost's report of ``arch`` (paper convention), made once per process, for choosing and
    marking the tier's parameters: its collection asked for the same few hundred reports some
    1,500 times, 12 s in each xdist worker. Tests analyse afresh what they check."""
    r = _planned(arch, alpha, resolution)
    if isinstance(r, Exception):
        raise r
    return r


def one_token(arch, alpha=None, resolution=None) -> bool:
    """Whether ``arch`` (a name, or a spec) has sequences of one token: a MobileViT stage whose
    2×2 map is one 2×2 patch (at 64, the last stage), or the tokens of a 1×1 map. Their axes of
    size 1 vanish from an export's shapes, and the importer cannot tell the sequences from the
    map's positions there: it refuses (test_a_one_patch_stage_is_refused_not_guessed), so the
    built-ins check their round trip at 128 instead, and a generated graph may be refused."""
    r = planned(arch, alpha, resolution) if isinstance(arch, str) else mbcost.analyze(arch)
    return any(x.layer.kind == "tokens" and x.output_shape[0] == 1 for x in r.layers)


def builds(arch, alpha=None, resolution=None) -> bool:
    """Whether the engine builds ``arch`` there: ShuffleNet V1's groups must divide its α-scaled
    widths, and LR-ASPP's 49-wide pool (valid padding) needs an input of 784 or more."""
    return not isinstance(_planned(arch, alpha, resolution), Exception)


def marked(configs, onnx_import: bool = False, ids=None) -> list:
    """pytest params of (arch, alpha, resolution) or (arch, resolution) tuples, each known interop
    gap marked xfail(strict=True)."""
    out = []
    for i, config in enumerate(configs):
        gap = interop_gap(config[0], onnx_import, *((None,) + config[1:] if len(config) == 2 else config[1:3]))
        marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
        out.append(pytest.param(*config, marks=marks, id=ids[i] if ids else None))
    return out


def torch_counts(net: torch.nn.Module, size) -> tuple[int, int, dict]:
    """(FlopCounterMode's total / 2, Σ p.numel(), the outputs of every layer if the net has them).
    Measured with grad enabled and the math attention backend: FlopCounterMode does not count
    fused attention kernels, nor MultiheadAttention's fast path (taken in no_grad)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    net.eval()
    x = torch.zeros(size)
    with torch.enable_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc:
        outs = net.outputs(x) if hasattr(net, "outputs") else {"out": net(x)}
    return fc.get_total_flops() // 2, sum(p.numel() for p in net.parameters()), outs


def bn_folding_loss(net: torch.nn.Module) -> int:
    """What an eval-mode export's folding of each BatchNorm2d into the conv before it removes
    from Σ numel: its γ, β (2N) become the conv's bias (N), and a conv that had a bias loses
    that too — N per BN channel, 2N after a biased conv (test_onnx.folding_loss, for a torch
    module: the conv before a BN is the last Conv2d of N channels registered before it)."""
    loss, last = 0, {}
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            last[m.out_channels] = m
        elif isinstance(m, torch.nn.BatchNorm2d) and m.num_features in last:
            loss += m.num_features * (2 if last[m.num_features].bias is not None else 1)
    return loss


def export(net: torch.nn.Module, size, path, train: bool = False) -> onnx.ModelProto:
    """torch.onnx.export (the TorchScript exporter: the dynamo one needs onnxscript). Eval mode
    folds each BN into its conv's bias; train mode with PRESERVE keeps BatchNormalization."""
    net.train(train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = dict(training=torch.onnx.TrainingMode.PRESERVE) if train else {}
        torch.onnx.export(net, torch.zeros(size), str(path), dynamo=False, **kw)
    net.eval()
    return onnx.load(str(path))


def imported(path, convention=mbcost.PAPER) -> mbcost.Report:
    return mbcost.analyze(read(path), convention=convention)


def initializer_numel(model: onnx.ModelProto) -> int:
    """Σ size of the floating-point initializers the nodes read, each once: an independent
    parameter count of an ONNX file (BN's running mean and variance excluded, as PyTorch's
    parameters do; integer shapes and indices are not parameters)."""
    names = set()
    for n in model.graph.node:
        names.update(n.input[:3] if n.op_type == "BatchNormalization" else n.input)
    floats = (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE, onnx.TensorProto.BFLOAT16)
    tensors = [i for i in model.graph.initializer if i.name in names]
    # an exporter may store some (folded biases) as Constant nodes instead of initializers
    tensors += [n.attribute[0].t for n in model.graph.node if n.op_type == "Constant" and n.output[0] in names]
    # a rank-0 float is a constant of the arithmetic (attention's 1/√d, an activation's 3 or 6), no parameter
    return sum(int(np.prod(t.dims)) for t in tensors if t.data_type in floats and t.dims)


def distinct(net: torch.nn.Module) -> torch.nn.Module:
    """The network with every parameter and float buffer drawn at random from [0.5, 1.5): torch's
    exporter stores equal initializers once (a fresh LayerNorm's ones, a zero bias), which would
    make a file's own count depend on the values; positive, so a BN's variance stays valid."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for t in [*net.parameters(), *net.buffers()]:
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
    return net


def reference(source: str, name: str, size: tuple[int, int]) -> tuple[int, int]:
    """(FlopCounterMode's total / 2, Σ p.numel()) of a timm or torchvision model built with random
    weights at an H×W input: the counts an mbcost config of it must give under --profile
    torchvision. Grad stays enabled and attention runs on the math backend: FlopCounterMode
    counts neither the fused attention kernels nor MultiheadAttention's no-grad fast path (a ViT-B/16
    reads 11.27G instead of 17.56G without them)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    if source == "timm":
        import timm

        net = timm.create_model(name, pretrained=False)
    else:
        import torchvision

        net = torchvision.models.get_model(name, weights=None)
    net.eval()
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc:
        net(torch.zeros(1, 3, *size))
    return fc.get_total_flops() // 2, sum(p.numel() for p in net.parameters())


def real(name: str):
    """A named model with its input size: ``torchvision:NAME`` at 224, else timm's NAME at its
    config's size (skipped where the framework is not installed)."""
    if name.startswith("torchvision:"):
        tv = pytest.importorskip("torchvision")
        return getattr(tv.models, name.split(":")[1])(), (1, 3, 224, 224)
    timm = pytest.importorskip("timm")
    m = timm.create_model(name)
    return m, (1, *m.default_cfg["input_size"])
