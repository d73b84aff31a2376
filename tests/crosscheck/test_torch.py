"""Every built-in config, and property-generated graphs of today's kinds, built as torch
modules: PyTorch's own counts must be mbcost's.

- Σ p.numel() of mbcost.torch.build(...) == params under --profile torchvision (BN's γ and β
  are parameters, running statistics are buffers; biases where the layers have them);
- FlopCounterMode's total / 2 == mult-adds (it counts 2 FLOPs per multiply-add of convs and
  linears, nothing for BN, activations, pools and adds — as the papers do);
- every layer's output shape (N×C×H×W) == mbcost's H×W×C, TF 'same' padding included.
"""
from __future__ import annotations

import pytest
import torch
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import mbcost
from mbcost.core.spec import builtin_names, spec_from_document
from mbcost.core.yamlio import parse

from _models import TORCHVISION, torch_counts

# α below, at and above 1 (MobileNetV2's last conv only scales above), resolutions with odd
# sizes (TF 'same' pads asymmetric every other layer) and small ones
SETTINGS = [(1, 224), (0.5, 160), (0.75, 97), (1.4, 128)]
CONFIGS = [(name, a, r) for name in builtin_names() for a, r in SETTINGS]


def nchw(shape) -> tuple[int, ...]:
    h, w, c = shape
    return (1, c, h, w)


def assert_agrees(arch, alpha=1, resolution=None):
    net = mbcost.torch.build(arch, alpha=alpha, resolution=resolution)
    report = mbcost.analyze(arch, alpha=alpha, resolution=resolution, convention=TORCHVISION)
    madds, params, outs = torch_counts(net, net.input_size)
    assert (madds, params) == (report.madds, report.params)
    for r in report.layers:
        got = tuple(outs[r.name].shape)
        assert got == (nchw(r.output_shape) if len(got) == 4 else (1, r.output_shape[2])), r.name
    return report


@pytest.mark.parametrize("arch, alpha, resolution", CONFIGS)
def test_builtin_config_counts_equal_pytorchs(arch, alpha, resolution):
    assert_agrees(arch, alpha, resolution)


def test_mobilenet_v2_is_torchvisions_parameter_count():
    # torchvision.models.mobilenet_v2() has 3,504,872 parameters (its model card); so must the build
    assert sum(p.numel() for p in mbcost.torch.build("mobilenet_v2").parameters()) == 3_504_872


def test_same_padding_is_tensorflows():
    # a 3×3 /2 conv on a 4×4 map of ones, weights 1: TF 'same' pads (0, 1) — one zero row and
    # column after, none before — so the top-left output sums a full 3×3 window (9), the
    # bottom-right one 2×2 real pixels (4); torchvision's symmetric pad 1 would give 4 and 9
    net = mbcost.torch.build(_spec("[{kind: conv, c: 1, k: 3, s: 2, name: c, act: linear}]", 4, channels=1))
    conv = next(m for m in net.layers["c"] if isinstance(m, torch.nn.Conv2d))
    torch.nn.init.ones_(conv.weight)
    y = net(torch.ones(1, 1, 4, 4))
    assert y[0, 0].tolist() == [[9.0, 6.0], [6.0, 4.0]]


def _spec(rows: str, resolution: int, channels: int = 3, extra: str = ""):
    text = f"name: g\ninput: {{resolution: {resolution}, channels: {channels}}}\n{extra}layers: {rows}\n"
    return spec_from_document(parse(text, "generated.yaml"))


# --- property-generated graphs of today's kinds ---------------------------------------------

CH = st.sampled_from([4, 8, 12, 16])


@st.composite
def rows(draw):
    out = [{"kind": "conv", "c": draw(CH), "k": draw(st.sampled_from([1, 3, 5])), "s": draw(st.sampled_from([1, 2]))}]
    c = out[0]["c"]
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["conv", "dwconv", "separable", "bottleneck", "pool", "add"]))
        if kind == "conv":
            g = draw(st.sampled_from([g for g in (1, 2, 4) if c % g == 0]))
            n = draw(CH.filter(lambda n: n % g == 0))
            row = {"kind": "conv", "c": n, "k": draw(st.sampled_from([1, 3, [1, 3]])),
                   "s": draw(st.sampled_from([1, 2])), "groups": g,
                   "bias": draw(st.booleans()), "act": draw(st.sampled_from(["relu", "relu6", "linear"])),
                   "padding": draw(st.sampled_from(["same", "valid"])) if draw(st.booleans()) else "same"}
            if row["padding"] == "valid":
                row["k"] = 1
            c = n
        elif kind == "dwconv":
            row = {"kind": "dwconv", "k": draw(st.sampled_from([3, 5])), "s": draw(st.sampled_from([1, 2])),
                   "bn": draw(st.booleans())}
        elif kind == "separable":
            c = draw(CH)
            row = {"kind": "separable", "c": c, "s": draw(st.sampled_from([1, 2]))}
        elif kind == "bottleneck":
            c2 = draw(st.sampled_from([c, draw(CH)]))
            row = {"kind": "bottleneck", "t": draw(st.sampled_from([1, 2, 6])), "c": c2,
                   "n": draw(st.integers(1, 2)), "s": draw(st.sampled_from([1, 2]))}
            c = c2
        elif kind == "pool":
            row = {"kind": "pool", "op": draw(st.sampled_from(["avg", "max"])),
                   "k": draw(st.sampled_from([2, 3])), "s": draw(st.sampled_from([1, 2]))}
        else:
            name = f"keep{i}"
            out.append({"kind": "conv", "c": c, "k": 1, "name": name})
            row = {"kind": "add", "from": name}
            out.append({"kind": "conv", "c": c, "k": 3})
        out.append(row)
    out.append({"kind": "pool", "op": draw(st.sampled_from(["avg", "max"])), "global": True})
    if draw(st.booleans()):
        out.append({"kind": "fc", "c": draw(st.sampled_from([5, 10]))})
    return out


GRAPHS = st.tuples(rows(), st.integers(16, 41), st.booleans())


def spec_of(graph):
    layers, res, bn = graph
    return _spec(yaml.safe_dump(layers, default_flow_style=True).strip(), res,
                 extra=f"batch_norm: {str(bn).lower()}\n")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(GRAPHS)
def test_generated_graphs_count_as_pytorch_does(graph):
    spec = spec_of(graph)
    try:
        mbcost.analyze(spec)
    except mbcost.MbcostError:  # a map shrinking below 1×1 at this resolution: not a model
        event("shrinks below 1×1: skipped")
        return
    event("built and compared")
    assert_agrees(spec)
