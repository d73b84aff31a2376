"""Every built-in config, the family networks of docs/research/families, and property-generated
graphs of every kind, built as torch modules: PyTorch's own counts must be mbcost's.

- Σ p.numel() of mbcost.torch.build(...) == params under --profile torchvision (BN's γ and β
  are parameters, running statistics are buffers; biases where the layers have them);
- FlopCounterMode's total / 2 == mult-adds (it counts 2 FLOPs per multiply-add of convs,
  transposed convs and linears, nothing for BN, activations, pools, adds, muls, concat, split,
  shuffle and resizes — as the papers do);
- every layer's output shape (N×C×H×W) == mbcost's H×W×C, TF 'same' padding included (a
  flattened map is N×(H·W·C), S sequences of T tokens (N·S)×T×C, attention scores
  (N·S)×heads×T_q×T_kv).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import mbcost
from mbcost.core.locate import builtin_variants, variants_of
from mbcost.core.spec import spec_from_document
from mbcost.core.yamlio import parse

from mbcost.core.graph import Scores, Tokens
from mbcost.core.kinds import writable

from _models import FULL, TORCHVISION, builds, kind_network, marked, planned, torch_counts

# α None is a variant's own; 0.75 at an odd size (TF 'same' pads asymmetric every other layer);
# in full (_models.FULL), α at 0.5 and above 1 (MobileNetV2's last conv only scales above) too
SETTINGS = [(None, None), (0.75, 97)] + ([(0.5, 160), (1.4, 128)] if FULL else [])
# a network above this many mult-adds at its own size (VGG16, EfficientNet-B3…B7) is checked at
# one small resolution only, so the tier stays within minutes on two cores
LARGE = 2_000_000_000
SMALL = [(None, 64)]


def settings_of(arch, full=SETTINGS) -> list:
    """The settings to check ``arch`` at: the small one for a large network, and only those the
    engine builds (it refuses ShuffleNet V1 g = 2 at α = 0.5, LR-ASPP below 784 pixels)."""
    chosen = SMALL if planned(arch).madds > LARGE else full
    return [(a, r) for a, r in chosen if builds(arch, a, r)] or [(None, None)]


CONFIGS = marked([(name, a, r) for name in builtin_variants() for a, r in settings_of(name)])

# the research family files (the networks the built-in configs of the families issue will be),
# each variant at its own α and resolution
FAMILY_DIR = Path(__file__).resolve().parents[2] / "docs" / "research" / "families"
FAMILIES = [f"{p}@{v}" if v else str(p) for p in sorted(FAMILY_DIR.glob("*.yaml"))
            for v in (variants_of(p) or (None,))]
FAMILY_CONFIGS = [(arch, a, r) for arch in FAMILIES for a, r in settings_of(arch, [(None, None)])]


def nchw(shape, dims: int) -> tuple[int, ...]:
    """The torch shape of an mbcost tensor at N = 1 (mbcost.interop.torch's layouts)."""
    if isinstance(shape, Scores):
        rows, nkv, heads = shape
        seqs = shape.query[1] if isinstance(shape.query, Tokens) else 1
        return (seqs, heads, rows // seqs, nkv)
    if isinstance(shape, Tokens):
        t, seqs, c = shape
        return (seqs, t, c) if dims == 3 else (1, t * seqs * c)
    h, w, c = shape
    return (1, c, h, w) if dims == 4 else (1, h * w * c)


def assert_agrees(arch, alpha=None, resolution=None):
    net = mbcost.torch.build(arch, alpha=alpha, resolution=resolution)
    report = mbcost.analyze(arch, alpha=alpha, resolution=resolution, convention=TORCHVISION)
    madds, params, outs = torch_counts(net, net.input_size)
    assert (madds, params) == (report.madds, report.params)
    for r in report.layers:
        got = tuple(outs[r.name].shape)
        assert got == nchw(r.output_shape, len(got)), r.name
    return report


def _id(arch):
    return Path(str(arch)).name


@pytest.mark.parametrize("arch, alpha, resolution", CONFIGS)
def test_builtin_config_counts_equal_pytorchs(arch, alpha, resolution):
    assert_agrees(arch, alpha, resolution)


@pytest.mark.parametrize("arch, alpha, resolution", FAMILY_CONFIGS, ids=[
    f"{_id(a)}-{r}" for a, _, r in FAMILY_CONFIGS])
def test_family_network_counts_equal_pytorchs(arch, alpha, resolution):
    assert_agrees(arch, alpha, resolution)


def test_the_family_networks_are_torchvisions():
    # docs/research/families/GROUND_TRUTH.csv: Σ numel of torchvision's own models; the build of
    # the twin file must have exactly as many parameters (BN, biases, SE convs, aux heads)
    import csv

    rows = list(csv.DictReader(open(FAMILY_DIR / "GROUND_TRUTH.csv")))
    checked = 0
    for row in rows:
        if not row["yaml"] or row["model"].startswith(("efficientnet_b", "vgg")) and row["model"] != "efficientnet_b0":
            continue  # written, but large; their counts are the engine's (test_family_network_counts…)
        arch = f"{FAMILY_DIR / row['yaml']}" + (f"@{row['yaml_variant']}" if row["yaml_variant"] else "")
        net = mbcost.torch.build(arch)
        assert sum(p.numel() for p in net.parameters()) == int(row["torchvision_params"]), arch
        checked += 1
    assert checked >= 20
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


# --- property-generated graphs of every kind -------------------------------------------------

CH = st.sampled_from([4, 8, 12, 16])
ACTS = st.sampled_from(["relu", "relu6", "linear", "hswish", "hsigmoid", "sigmoid", "swish", "gelu",
                        "tanh", "leaky_relu"])
PADDING = st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 2), st.lists(st.integers(0, 2),
                                                                                     min_size=2, max_size=2))


@st.composite
def rows(draw):
    """A random network as rows: every primitive and composite kind, wired by name (branches,
    joins of two or three, gates, split/shuffle), with dilation, integer padding, groups,
    depth multipliers, ceil-mode pools and the whole range of activations."""
    out = [{"kind": "conv", "c": draw(CH), "k": draw(st.sampled_from([1, 3, 5])), "s": draw(st.sampled_from([1, 2]))}]
    c = out[0]["c"]
    names = iter(f"t{i}" for i in range(1000))
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["conv", "dwconv", "separable", "bottleneck", "mbconv", "se", "pool",
                                     "add", "branches", "gate", "shuffle", "deconv", "upsample", "act",
                                     "dropout", "linear", "norm", "attention", "transformer"]))
        if kind == "conv":
            g = draw(st.sampled_from([g for g in (1, 2, 4) if c % g == 0]))
            n = draw(CH.filter(lambda n: n % g == 0))
            row = {"kind": "conv", "c": n, "k": draw(st.sampled_from([1, 3, [1, 3]])),
                   "s": draw(st.sampled_from([1, 2])), "groups": g, "d": draw(st.sampled_from([1, 1, 2])),
                   "bias": draw(st.booleans()), "act": draw(ACTS), "padding": draw(PADDING)}
            out.append(row)
            c = n
        elif kind == "dwconv":
            mult = draw(st.sampled_from([1, 1, 2]))
            out.append({"kind": "dwconv", "k": draw(st.sampled_from([3, 5])), "s": draw(st.sampled_from([1, 2])),
                        "d": draw(st.sampled_from([1, 2])), "padding": draw(PADDING), "multiplier": mult,
                        "bn": draw(st.booleans()), "act": draw(ACTS)})
            c *= mult
        elif kind == "separable":
            c = draw(CH)
            out.append({"kind": "separable", "c": c, "s": draw(st.sampled_from([1, 2]))})
        elif kind == "bottleneck":
            c2 = draw(st.sampled_from([c, draw(CH)]))
            out.append({"kind": "bottleneck", "t": draw(st.sampled_from([1, 2, 6])), "c": c2,
                        "n": draw(st.integers(1, 2)), "s": draw(st.sampled_from([1, 2]))})
            c = c2
        elif kind == "mbconv":
            c2 = draw(st.sampled_from([c, draw(CH)]))
            row = {"kind": "mbconv", "t": draw(st.sampled_from([1, 3, 6])), "c": c2, "k": draw(st.sampled_from([3, 5])),
                   "s": draw(st.sampled_from([1, 2])), "act": draw(ACTS)}
            if draw(st.booleans()):
                row.update(se=0.25, se_gate=draw(st.sampled_from(["hsigmoid", "sigmoid"])))
            out.append(row)
            c = c2
        elif kind == "se":
            out.append({"kind": "se", "se": draw(st.sampled_from([0.25, 0.5]))})
        elif kind == "pool":
            k = draw(st.sampled_from([2, 3]))
            out.append({"kind": "pool", "op": draw(st.sampled_from(["avg", "max"])), "k": k,
                        "s": draw(st.sampled_from([1, 2])), "ceil": draw(st.booleans()),
                        "padding": draw(st.sampled_from(["same", "valid", 0, 1][: 4 if k == 3 else 3]))})
        elif kind == "add":  # a residual, or a join of three
            x, a = next(names), next(names)
            out.append({"kind": "conv", "c": c, "k": 1, "name": x})
            out.append({"kind": "conv", "c": c, "k": 3, "name": a})
            joined = [a, x]
            if draw(st.booleans()):
                b = next(names)
                out.append({"kind": "dwconv", "k": 3, "from": x, "name": b})
                joined.append(b)
            out.append({"kind": "add", "from": joined, "act": draw(st.sampled_from(["linear", "relu"]))})
        elif kind == "branches":  # an Inception module: 1×1, 3×3 (dilated), pool → 1×1, concatenated
            x, b1, b2, b3 = (next(names) for _ in range(4))
            out.append({"kind": "act", "act": "relu", "name": x})
            n1, n2, d = draw(CH), draw(CH), draw(st.sampled_from([1, 2]))
            out += [{"kind": "conv", "c": n1, "from": x, "name": b1},
                    {"kind": "conv", "c": n2, "k": 3, "d": d, "padding": draw(st.sampled_from(["same", d])),
                     "from": x, "name": b2}]
            joined = [b1, b2]
            if draw(st.booleans()):
                p = next(names)
                out += [{"kind": "pool", "op": "max", "k": 3, "s": 1, "padding": 1, "from": x, "name": p},
                        {"kind": "conv", "c": 4, "name": b3}]
                joined.append(b3)
                c = n1 + n2 + 4
            else:
                c = n1 + n2
            out.append({"kind": "concat", "from": joined})
        elif kind == "gate":  # x · σ(conv x), a full-map gate
            x, g = next(names), next(names)
            out.append({"kind": "act", "act": "relu6", "name": x})
            out.append({"kind": "conv", "c": c, "act": draw(st.sampled_from(["sigmoid", "hsigmoid"])), "bias": True,
                        "name": g})
            out.append({"kind": "mul", "from": [x, g]})
        elif kind == "shuffle":  # ShuffleNetV2's unit: split, one half through, concat, shuffle
            if c % 2:
                continue
            sp, pw = next(names), next(names)
            out += [{"kind": "split", "sizes": [c // 2, c // 2], "name": sp},
                    {"kind": "conv", "c": c // 2, "from": f"{sp}.1"},
                    {"kind": "dwconv", "k": 3, "padding": 1, "act": "linear"},
                    {"kind": "conv", "c": c // 2, "name": pw},
                    {"kind": "concat", "from": [f"{sp}.0", pw]},
                    {"kind": "shuffle", "groups": draw(st.sampled_from([2, 4] if c % 4 == 0 else [2]))}]
        elif kind == "deconv":
            s = draw(st.sampled_from([1, 2]))
            n = draw(CH)
            g = draw(st.sampled_from([g for g in (1, 2) if c % g == 0 and n % g == 0]))
            k = draw(st.sampled_from([2, 3, 4]))
            out.append({"kind": "deconv", "c": n, "k": k, "s": s, "groups": g,
                        "padding": draw(st.integers(0, (k - 1) // 2)),
                        "output_padding": draw(st.integers(0, s - 1)), "bias": draw(st.booleans())})
            c = n
        elif kind == "upsample":
            row = {"kind": "upsample", "mode": draw(st.sampled_from(["nearest", "bilinear"]))}
            if draw(st.booleans()):
                row["scale"] = 2
            else:
                row["size"] = draw(st.sampled_from([12, [10, 14]]))
            out.append(row)
        elif kind == "act":
            out.append({"kind": "act", "act": draw(ACTS.filter(lambda a: a != "linear"))})
        elif kind == "linear":  # on a map: a 1×1 conv's cost
            c = draw(CH)
            out.append({"kind": "linear", "c": c, "bias": draw(st.booleans()), "bn": draw(st.booleans()),
                        "act": draw(ACTS)})
        elif kind == "norm":  # the norms, layer scale and a softmax on a map
            out.append(draw(st.sampled_from([{"kind": "layernorm", "affine": draw(st.booleans())},
                                             {"kind": "groupnorm", "groups": draw(st.sampled_from([1, 2, 4]))},
                                             {"kind": "layerscale"}, {"kind": "softmax"}])))
        elif kind == "attention":  # on a map (MobileNetV4's Mobile MQA, EfficientFormerV2)
            out.append(_attention(draw, c, kv=True))
            c = out[-1].get("c", c)
        elif kind == "transformer":  # tokens (or MobileViT's unfolded patches), a block, back to a map
            x, t, a, m = (next(names) for _ in range(4))
            out.append({"kind": "dropout", "name": x})
            out.append({"kind": "tokens", "name": t, **({"patch": 2} if draw(st.booleans()) else {})})
            out += [{"kind": "layernorm"}, {**_attention(draw, c, out=False), "name": a},
                    {"kind": "add", "from": [f"{a}.proj", t], "name": f"{a}r"}, {"kind": "layernorm"},
                    {"kind": "mlp", "name": m, "ratio": draw(st.sampled_from([1, 2])), "act": draw(ACTS)},
                    {"kind": "add", "from": [f"{m}.fc2", f"{a}r"]}]
            if draw(st.booleans()):
                out.append(draw(st.sampled_from([{"kind": "layerscale"}, {"kind": "groupnorm", "groups": 2},
                                                 {"kind": "linear", "c": c, "bn": True}])))
            out.append({"kind": "map", "like": x})
        else:
            out.append({"kind": "dropout", "p": 0.2})
    if draw(st.booleans()):  # ViT's head: class token, position embedding, attention, the class token out
        out += [{"kind": "tokens"}, {"kind": "cls_token", "tokens": draw(st.sampled_from([1, 2]))}, {"kind": "pos_embed"},
                {"kind": "layernorm"}, _attention(draw, c), {"kind": "pool", "global": True,
                                                             "op": draw(st.sampled_from(["token", "avg", "max"]))}]
    else:
        out.append({"kind": "pool", "op": draw(st.sampled_from(["avg", "max"])), "global": True})
    if draw(st.booleans()):
        out += [{"kind": "flatten"}, {"kind": "dropout"}, {"kind": "fc", "c": draw(st.sampled_from([5, 10]))}]
    return out


def _attention(draw, c: int, kv: bool = False, out: bool = True) -> dict:
    """An attention row on c channels: heads that divide it (or a key width), multi-query, K/V
    downsampling (on a map: ``kv``), an attention bias table, an act before the projection, an
    output width of its own (``out``; not where a residual adds it back)."""
    h = draw(st.sampled_from([h for h in (1, 2, 4) if c % h == 0]))
    row = {"kind": "attention", "heads": h, "qkv_bias": draw(st.booleans()), "proj_bias": draw(st.booleans())}
    if draw(st.booleans()):
        row.update(key_dim=draw(st.sampled_from([2, 4])), value_dim=draw(st.sampled_from([2, 4, 8])))
    if draw(st.booleans()) and h > 1:
        row["multi_query"] = True
    if kv and draw(st.booleans()):
        row.update(kv_stride=2, kv_down=draw(st.sampled_from(["dwconv", "conv", "pool"])))
    if draw(st.booleans()):
        row["offsets"] = draw(st.sampled_from([3, 7]))
    if draw(st.booleans()):
        row["act"] = "hswish"
    if out and draw(st.booleans()):
        row["c"] = draw(CH)
    return row


GRAPHS = st.tuples(rows(), st.integers(16, 41), st.booleans())


def buildable(spec) -> bool:
    """False for a graph whose map shrinks below 1×1 at its resolution (not a model), or whose
    patches do not tile its map, or whose attention scores would take hundreds of MB; any other
    error is the generator's bug and fails the test."""
    try:
        report = mbcost.analyze(spec)
    except mbcost.MbcostError as e:
        if not any(why in str(e) for why in ("shrinks below 1×1", "a transposed conv output", "patches do not tile")):
            raise
        event("shrinks below 1×1: skipped")
        return False
    if any(isinstance(r.output_shape, Scores) and r.output_shape[0] * r.output_shape[1] > 1 << 20 for r in report.layers):
        event("attention over more than 2²⁰ query-key pairs (upsampled maps): skipped, for the tier's memory")
        return False
    return True


def spec_of(graph):
    layers, res, bn = graph
    return _spec(yaml.safe_dump(layers, default_flow_style=True).strip(), res,
                 extra=f"batch_norm: {str(bn).lower()}\n")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(GRAPHS)
def test_generated_graphs_count_as_pytorch_does(graph):
    spec = spec_of(graph)
    if not buildable(spec):
        return
    event("built and compared")
    assert_agrees(spec)


@pytest.mark.parametrize("kind", writable())
def test_every_kinds_example_builds_with_its_counts(kind):
    # tests/test_kinds.py's network of each kind (its example on 16×16×8, a pool, a classifier)
    assert_agrees(_spec_of_text(kind_network(kind)))


def _spec_of_text(text: str):
    return spec_from_document(parse(text, "generated.yaml"))


def test_every_primitive_kind_has_a_pytorch_builder_or_says_why_not():
    # the main tier checks every other facet (tests/test_kinds.py); the builders import torch
    from mbcost.core.kinds import KINDS, primitives
    from mbcost.interop.torch import BUILDERS

    assert set(BUILDERS) <= set(primitives())
    missing = [k for k in primitives() if k not in BUILDERS and "torch" not in KINDS[k].unsupported]
    assert missing == []
