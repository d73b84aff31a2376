"""ONNX out and in, against onnx.checker, onnxruntime and torch.onnx.export.

How parameters are counted for an imported model: each layer counts what its initializers
hold, as the convention says (weights always; biases with --bias; BN's γ, β with bn=2 …).
A training-mode export keeps BatchNormalization, so an import counts exactly as its YAML twin
under every profile. An eval-mode export folds each BN into its conv: the conv gains a bias
of N numbers and the BN's γ, β (2N under torchvision) are gone, so under the paper's
convention (weights only) the counts are the twin's exactly, and under torchvision they are
the twin's minus one number per BN channel — one folded bias per conv, the network's
definition. That is not the file's storage: torch's exporter deduplicates initializers of
equal value in eval mode (an untrained net's folded biases are all β − γ·μ/σ = 0, so every
conv of N channels has the same one) and writes each later copy as an Identity node of the
first. The importer reads a copy as the conv's own bias (a copy is not a tied weight: a
tensor read by two layers directly is, and counts once), so the imported count is the file's
distinct initializers plus those Identity copies — the unexplained gap of the first pass,
asserted exactly below.
"""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from torch import nn

import mbcost
from mbcost.core.locate import builtin_variants, variants_of

from mbcost.core.kinds import writable
from mbcost.interop.onnx_import import read

from _models import (TORCHVISION, assert_one_line_error, builds, distinct, export, imported, initializer_numel,
                     kind_network, marked, one_token)
from test_torch import FAMILY_DIR, GRAPHS, _id, _spec_of_text, buildable, settings_of, spec_of

SETTINGS = [(None, None), (0.75, 97)]


def imported_or_refused(spec, path):
    """The import of a generated graph's export, or None where it refuses one with sequences of
    one token (one_token): it may refuse those, naming the nodes, but must never count wrong."""
    if not one_token(spec):
        return imported(path, TORCHVISION)
    try:
        got = imported(path, TORCHVISION)
    except mbcost.MbcostError as e:
        assert "mbcost cannot cost" in str(e), e
        event("one token per sequence: refused, as documented")
        return None
    event("one token per sequence: imported")
    return got


CONFIGS = marked([(name, a, 128 if one_token(name, a, r) else r)
                  for name in builtin_variants() for a, r in settings_of(name, SETTINGS)], onnx_import=True)
# one variant of each family file (its others differ in widths only), at its own size or a small one
FAMILY_ONE = [f"{p}@{variants_of(p)[0]}" if variants_of(p) else str(p) for p in sorted(FAMILY_DIR.glob("*.yaml"))]
FAMILY_CONFIGS = [(arch, a, r) for arch in FAMILY_ONE for a, r in settings_of(arch, [(None, None)])]


def folding_loss(report) -> int:
    """What eval-mode folding removes from a torchvision-convention count: a BN of N channels
    (γ, β: 2N) becomes the conv's bias (N), and a conv that had a bias of its own (VGG-16-BN's)
    loses that one too: N per BN channel, plus N where the conv was biased."""
    # a batch norm on its own (after a join, or on a tensor read twice) has no conv to fold into
    return sum(r.layer.c * (2 if r.layer.bias else 1) for r in report.layers if r.layer.bn and r.layer.kind != "batchnorm")


def identity_copies(model: onnx.ModelProto) -> int:
    """Σ size of the Identity nodes that copy an initializer for a Conv to read: how torch's
    exporter writes the later ones of several equal initializers."""
    sizes = {i.name: int(np.prod(i.dims)) for i in model.graph.initializer}
    read = {t for n in model.graph.node if n.op_type in ("Conv", "Gemm") for t in n.input[1:]}
    return sum(sizes[n.input[0]] for n in model.graph.node
               if n.op_type == "Identity" and n.input[0] in sizes and n.output[0] in read)


def assert_round_trip(arch, alpha, resolution, tmp_path):
    net = distinct(mbcost.torch.build(arch, alpha=alpha, resolution=resolution))
    paper = mbcost.analyze(arch, alpha=alpha, resolution=resolution)
    tv = mbcost.analyze(arch, alpha=alpha, resolution=resolution, convention=TORCHVISION)

    folded = export(net, net.input_size, tmp_path / "eval.onnx")
    read_once = read(tmp_path / "eval.onnx")  # the file read once, costed under both conventions
    got = mbcost.analyze(read_once)
    assert (got.madds, got.params) == (paper.madds, paper.params)
    got_tv = mbcost.analyze(read_once, convention=TORCHVISION)
    # one folded bias of N per BN of N channels (γ, β: 2N, and any bias the conv had), so one
    # number per BN channel fewer, two where the conv had a bias; the file stores the distinct
    # values once and the equal ones as Identity copies
    assert got_tv.params == tv.params - folding_loss(tv) == initializer_numel(folded) + identity_copies(folded)

    # a training-mode BN needs more than one value per channel: not on a 1×1 map at batch 1
    # (MobileNetV4's head BN runs after the global pool), so such a network checks its eval export
    if any(r.layer.bn and r.output_shape[:2] == (1, 1) for r in tv.layers):
        return
    export(net, net.input_size, tmp_path / "train.onnx", train=True)
    got_tv = imported(tmp_path / "train.onnx", TORCHVISION)
    assert (got_tv.madds, got_tv.params) == (tv.madds, tv.params)
    assert got_tv.layers[-1].output_shape == tv.layers[-1].output_shape


@pytest.mark.parametrize("arch, alpha, resolution", CONFIGS)
def test_torch_onnx_export_imports_with_the_twins_counts(arch, alpha, resolution, tmp_path):
    assert_round_trip(arch, alpha, resolution, tmp_path)


@pytest.mark.parametrize("arch, alpha, resolution", FAMILY_CONFIGS, ids=[f"{_id(a)}-{r}" for a, _, r in FAMILY_CONFIGS])
def test_family_networks_round_trip_through_torch_onnx_export(arch, alpha, resolution, tmp_path):
    assert_round_trip(arch, alpha, resolution, tmp_path)


_EXPORTS = [(name, 160 if builds(name, None, 160) else 784) for name in builtin_variants()] + \
    [(arch, r or 160) for arch, _, r in FAMILY_CONFIGS]
EXPORTS = marked(_EXPORTS, ids=[f"{_id(a)}-{r}" for a, r in _EXPORTS])


@pytest.mark.parametrize("arch, resolution", EXPORTS)
def test_mbcost_export_is_valid_runs_and_reads_back(arch, resolution, cli, tmp_path):
    out = tmp_path / "net.onnx"
    run = cli("export", arch, "--to", "onnx", "-o", out, "--resolution", resolution)
    assert run.code == 0, run.err
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    report = mbcost.analyze(arch, resolution=resolution, convention=TORCHVISION)
    # node names are mbcost's layer names (BN, activations and a pattern's inner nodes follow
    # as <layer>/bn, <layer>/relu, <layer>/reshape…)
    assert [r.name for r in report.layers] == [n.name for n in model.graph.node if "/" not in n.name]
    ys = ort.InferenceSession(str(out)).run(None, {"input": np.zeros((1, 3, resolution, resolution), np.float32)})
    by_name = {r.name: r for r in report.layers}
    outputs = report.graph.outputs or (report.layers[-1].name,)

    def flat(name):  # an fc's output, or an element-wise join of fc outputs (EfficientFormer's logits)
        L = by_name[name].layer
        return L.kind == "fc" or L.kind in ("add", "act") and all(flat(i) for i in L.inputs)

    for y, name in zip(ys, outputs, strict=True):  # N×C, or N×C×H×W where no fc comes last
        h, w, c = by_name[name].output_shape
        assert y.shape == ((1, c) if flat(name) else (1, c, h, w)), name
    back = cli("report", out, "--profile", "torchvision", "-f", "json").json()
    assert (back["totals"]["madds"], back["totals"]["params"], back["partial"]) == \
        (report.madds, report.params, False)
    assert [L["name"] for L in back["layers"]] == [r.name for r in report.layers]


@pytest.mark.parametrize("kind", writable())
def test_every_kinds_example_round_trips_through_both_exporters(kind, cli, tmp_path):
    # tests/test_kinds.py's network of each kind: mbcost's export passes the checker, runs in
    # onnxruntime and reads back with every count and layer name; torch.onnx.export of its
    # build reads back with its mult-adds, and its parameters by the eval-mode rule (one
    # number fewer per BN channel, each BN folded into the conv before it)
    spec = _spec_of_text(kind_network(kind))
    tv = mbcost.analyze(spec, convention=TORCHVISION)
    f = tmp_path / "net.yaml"
    f.write_text(kind_network(kind))
    out = tmp_path / "net.onnx"
    assert cli("export", f, "--to", "onnx", "-o", out).code == 0
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    (y,) = ort.InferenceSession(str(out)).run(None, {"input": np.zeros((1, 8, 16, 16), np.float32)})
    assert y.shape == (1, 10)
    back = cli("report", out, "--profile", "torchvision", "-f", "json").json()
    assert (back["totals"]["madds"], back["totals"]["params"], back["partial"]) == (tv.madds, tv.params, False)
    assert [L["name"] for L in back["layers"]] == [r.name for r in tv.layers]
    net = mbcost.torch.build(spec)
    export(net, net.input_size, tmp_path / "eval.onnx")
    got = imported(tmp_path / "eval.onnx", TORCHVISION)
    assert (got.madds, got.params) == (tv.madds, tv.params - folding_loss(tv))
    assert [r.layer.kind for r in got.layers if r.layer.kind == kind] != [] or kind in FOLDED_AWAY, kind


# the kinds an import of the torch build reads as others: a composite's layers (their own
# kinds), a pwconv's conv, a standalone act folded into the layer before it, a dropout or flatten
# an fc reads as a view; the example's linear on a map, a 1×1 Conv2d, is a conv; its map row
# follows a tokens row, whose Transposes torch's exporter cancels (a Reshape remains)
FOLDED_AWAY = {"pwconv", "separable", "bottleneck", "mbconv", "se", "patch_embed", "mlp", "attention", "act",
               "dropout", "flatten", "linear", "map"}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(GRAPHS)
def test_generated_graphs_round_trip_through_torch_onnx_export(tmp_path_factory, graph):
    # a non-global avg pool with TF's asymmetric 'same' window is built as pad → pool ÷ pool of
    # ones, which exports as Pad/AveragePool/Div: the importer reads ONNX's AveragePool (pads
    # excluded from the mean), not that pattern — known limitation, left out here
    if any(r["kind"] == "pool" and r.get("op") == "avg" and r.get("padding", "same") == "same"
           and not r.get("global") or r.get("kv_down") == "pool" and r.get("kv_stride", 1) > 1 for r in graph[0]):
        event("TF-style avg pool: skipped")
        return
    spec = spec_of(graph)
    if not buildable(spec):
        return
    tv = mbcost.analyze(spec, convention=TORCHVISION)
    # a training-mode BN needs more than one value per channel: not on a 1×1 map at batch 1
    if any(r.layer.bn and r.output_shape[:2] == (1, 1) for r in tv.layers):
        event("BN on a 1×1 map: skipped")
        return
    event("round-tripped")
    net = mbcost.torch.build(spec)
    path = tmp_path_factory.mktemp("g") / "g.onnx"
    export(net, net.input_size, path, train=True)
    got = imported_or_refused(spec, path)
    if got is None:
        return
    assert (got.madds, got.params) == (tv.madds, tv.params)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(GRAPHS)
def test_generated_graphs_round_trip_through_mbcosts_export(tmp_path_factory, graph):
    # mbcost's own writer (BN kept, TF pads explicit): valid, runs, reads back with every count
    from mbcost.interop.onnx_export import to_onnx

    spec = spec_of(graph)
    if not buildable(spec):
        return
    event("round-tripped")
    tv = mbcost.analyze(spec, convention=TORCHVISION)
    model = to_onnx(tv)
    path = tmp_path_factory.mktemp("g") / "g.onnx"
    path.write_bytes(model.SerializeToString())
    h, w, c = tv.graph.input_shape
    ort.InferenceSession(str(path)).run(None, {"input": np.zeros((1, c, h, w), np.float32)})
    got = imported_or_refused(spec, path)
    if got is None:
        return
    assert (got.madds, got.params) == (tv.madds, tv.params)


# --- models written in plain torch.nn, as torchvision writes them ----------------------------

def cbr(m, n, k=3, s=1, g=1, act=True):
    layers = [nn.Conv2d(m, n, k, s, (k - 1) // 2, groups=g, bias=False), nn.BatchNorm2d(n)]
    return nn.Sequential(*layers, *([nn.ReLU6()] if act else []))


class InvertedResidual(nn.Module):
    def __init__(self, m, n, s, t):
        super().__init__()
        h = m * t
        self.res = s == 1 and m == n
        self.conv = nn.Sequential(*([cbr(m, h, 1)] if t != 1 else []), cbr(h, h, 3, s, h), cbr(h, n, 1, act=False))

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


class TorchvisionMobileNetV2(nn.Module):
    """torchvision.models.MobileNetV2 (α = 1), transcribed: symmetric padding 1, ReLU6,
    Dropout before the classifier."""

    SETTING = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
               (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self):
        super().__init__()
        blocks, m = [cbr(3, 32, 3, 2)], 32
        for t, c, n, s in self.SETTING:
            for i in range(n):
                blocks.append(InvertedResidual(m, c, s if i == 0 else 1, t))
                m = c
        blocks.append(cbr(m, 1280, 1))
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


def test_a_torchvision_style_mobilenet_v2_imports_as_its_yaml_twin(tmp_path):
    net = TorchvisionMobileNetV2()
    assert sum(p.numel() for p in net.parameters()) == 3_504_872  # torchvision's published count
    export(net, (1, 3, 224, 224), tmp_path / "train.onnx", train=True)
    export(net, (1, 3, 224, 224), tmp_path / "eval.onnx")
    twin = mbcost.analyze("mobilenet_v2", convention=TORCHVISION)
    got = imported(tmp_path / "train.onnx", TORCHVISION)
    assert (got.madds, got.params) == (twin.madds, twin.params) == (300_774_272, 3_504_872)
    paper = mbcost.analyze("mobilenet_v2")
    got = imported(tmp_path / "eval.onnx")
    assert (got.madds, got.params) == (paper.madds, paper.params)


class BasicBlock(nn.Module):
    def __init__(self, m, n, s):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(m, n, 3, s, 1, bias=False), nn.BatchNorm2d(n), nn.ReLU(),
                                  nn.Conv2d(n, n, 3, 1, 1, bias=False), nn.BatchNorm2d(n))
        self.down = nn.Sequential(nn.Conv2d(m, n, 1, s, bias=False), nn.BatchNorm2d(n)) \
            if s != 1 or m != n else nn.Identity()
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + self.down(x))


class ResNet18(nn.Module):
    """torchvision.models.resnet18, transcribed (its projection shortcuts are 1×1 /2 convs)."""

    def __init__(self):
        super().__init__()
        layers, m = [], 64
        for n, s in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [BasicBlock(m, n, s), BasicBlock(n, n, 1)]
            m = n
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def resnet18_by_formula():
    """ResNet-18 at 224² from the conv formula D_K²·M·N·D_F² (weights D_K²·M·N):
    stem 7×7 3→64 at 112²; stage i (N = 64·2^i, D_F = 56/2^i) has two blocks of two 3×3 convs
    (the first conv of stages 2–4 reads M = N/2) plus, in stages 2–4, a 1×1 /2 projection
    N/2→N; fc 512·1000 (+1000 bias). BN: 2 per channel of every conv's output (torchvision)."""
    convs = [(7, 3, 64, 112)]
    for i, n in enumerate((64, 128, 256, 512)):
        f, m = 56 >> i, n if i == 0 else n // 2
        convs += [(3, m, n, f), (3, n, n, f), (3, n, n, f), (3, n, n, f)]
        if i:
            convs.append((1, m, n, f))
    madds = sum(k * k * m * n * f * f for k, m, n, f in convs) + 512 * 1000
    weights = sum(k * k * m * n for k, m, n, _ in convs) + 512 * 1000
    bn = sum(n for _, _, n, _ in convs)
    return madds, weights, weights + 1000 + 2 * bn


def test_a_resnet18_imports_with_its_counts_by_formula(tmp_path):
    # ResNet's projection shortcuts are not expressible in today's YAML (issue 11's `from`),
    # so its twin is the formula; torchvision publishes 11,689,512 parameters and 1.81 GMACs
    madds, weights, tv_params = resnet18_by_formula()
    net = ResNet18()
    assert sum(p.numel() for p in net.parameters()) == tv_params == 11_689_512
    export(net, (1, 3, 224, 224), tmp_path / "train.onnx", train=True)
    got = imported(tmp_path / "train.onnx", TORCHVISION)
    assert (got.madds, got.params) == (madds, tv_params) == (1_814_073_344, 11_689_512)
    export(net, (1, 3, 224, 224), tmp_path / "eval.onnx")
    got = imported(tmp_path / "eval.onnx")
    assert (got.madds, got.params) == (madds, weights)


# --- what the importer refuses, and --allow-unknown ------------------------------------------

def _swish_model(path):
    """conv → x·sigmoid(x) (swish, read as the conv's activation) → an op nobody knows → global pool."""
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.zeros((8, 3, 3, 3), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="c1", pads=[1, 1, 1, 1]),
             helper.make_node("Sigmoid", ["c"], ["s"], name="sig"),
             helper.make_node("Mul", ["c", "s"], ["m"], name="mul"),
             helper.make_node("Frobnicate", ["m"], ["f"], name="frob", domain="custom"),
             helper.make_node("GlobalAveragePool", ["f"], ["y"], name="gap")]
    g = helper.make_graph(nodes, "swish", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 1, 1])], initializer=[w],
                          value_info=[helper.make_tensor_value_info("f", TensorProto.FLOAT, [1, 8, 8, 8])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("custom", 1)]),
              str(path))


def test_ops_mbcost_cannot_cost_are_all_listed_with_exit_2(cli, tmp_path):
    _swish_model(tmp_path / "s.onnx")
    line = assert_one_line_error(cli("report", tmp_path / "s.onnx"), "1 node mbcost cannot cost",
                                 "Frobnicate (node frob: unknown op)", "--allow-unknown")
    assert line.startswith(f"error: {tmp_path / 's.onnx'}: ")


@pytest.mark.parametrize("argv", [["report", "{m}", "--allow-unknown", "-f", "json"],
                                  ["--allow-unknown", "report", "{m}", "-f", "json"]])
def test_allow_unknown_costs_the_rest_and_says_partial(cli, tmp_path, argv):
    _swish_model(tmp_path / "s.onnx")
    run = cli(*[a.format(m=tmp_path / "s.onnx") for a in argv])
    assert run.code == 0, run.err
    d = run.json()
    # only the conv counts: 3·3·3·8 weights, at 8×8 outputs
    assert (d["totals"]["madds"], d["totals"]["params"]) == (3 * 3 * 3 * 8 * 8 * 8, 3 * 3 * 3 * 8)
    assert (d["partial"], d["not_costed"]) == (True, ["Frobnicate"])
    assert [(L["name"], L["activation"]) for L in d["layers"]][:1] == [("c1", "swish")]
    table = cli("report", tmp_path / "s.onnx", "--allow-unknown")
    assert "PARTIAL, not costed: Frobnicate" in table.out.splitlines()[0]
    # the flag lasts one invocation
    assert cli("report", tmp_path / "s.onnx").code == 2


def test_an_imported_model_has_fixed_widths(cli, tmp_path):
    cli("export", "mobilenet_v1", "-o", tmp_path / "v1.onnx")
    assert_one_line_error(cli("report", tmp_path / "v1.onnx", "--alpha", "0.5"), "--alpha", "α must be 1")


def test_a_shared_initializer_counts_once(tmp_path):
    from onnx import TensorProto, helper, numpy_helper

    # one 3×3 8→8 weight read by two convs: 576 parameters, not 1152; mult-adds twice 576·8·8
    w = numpy_helper.from_array(np.zeros((8, 8, 3, 3), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], name="a", pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["a", "w"], ["b"], name="b", pads=[1, 1, 1, 1])]
    g = helper.make_graph(nodes, "tied", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 8, 8])],
                          [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 8, 8, 8])], initializer=[w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "t.onnx"))
    r = imported(tmp_path / "t.onnx")
    assert (r.madds, r.params) == (2 * 576 * 64, 576)


def test_a_one_patch_stage_is_refused_not_guessed(cli, tmp_path):
    # MobileViT at 64: the last stage's 2×2 map is one 2×2 patch, so each of its 4 sequences
    # holds one token; the traced export's Reshape to (4, 1, C) has no axis the importer can
    # tell from the map's positions. It refuses (one line, the nodes named), never a wrong count
    net = distinct(mbcost.torch.build("mobilevit", resolution=64))
    export(net, net.input_size, tmp_path / "eval.onnx")
    assert_one_line_error(cli("report", tmp_path / "eval.onnx"), "mbcost cannot cost",
                          "first node /mvit5_transformer_1_attn_scores/MatMul: the batch axes of its queries hold positions")
    assert one_token("mobilevit", resolution=64) and not one_token("mobilevit", resolution=128)
