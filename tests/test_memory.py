"""Activation memory: peaks derived by hand from the liveness rule (docs/memory.md).

When a step runs, alive are its inputs, its outputs and every earlier tensor (the network input
included) a later step still reads; the peak is the largest sum. Sizes are H·W·C elements."""
from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

import yaml

import mbcost
from mbcost.core.graph import Graph, Layer
from mbcost.core.spec import spec_from_document
from mbcost.core.yamlio import parse
from mbcost.core.memory import best_order, evaluate, plan, timeline

from conftest import assert_one_line_error

FP32, FP16, INT8 = 4, 2, 1


@pytest.mark.parametrize("arch, alpha, R, elements, layer", [
    # V1: the peak is block1.pw, reading dw1's 32α channels and writing 64α, both at (R/2)²
    # (conv1's 3·R² + 32α·(R/2)² and every later pair are smaller)
    ("mobilenet_v1", 1, 224, (32 + 64) * 112**2, "block1.pw"),
    ("mobilenet_v1", 1, 160, (32 + 64) * 80**2, "block1.pw"),
    ("mobilenet_v1", 0.5, 224, (16 + 32) * 112**2, "block1.pw"),
    ("mobilenet_v1", 0.5, 160, (16 + 32) * 80**2, "block1.pw"),
    # V2: block2.dw, the expanded 6·16α channels at (R/2)² in and at (R/4)² out:
    # α = 1: 96·(R/2)² + 96·(R/4)² (block2.expand's (16 + 96)·(R/2)² is less)
    ("mobilenet_v2", 1, 224, 96 * 112**2 + 96 * 56**2, "block2.dw"),
    ("mobilenet_v2", 1, 160, 96 * 80**2 + 96 * 40**2, "block2.dw"),
    # α = 0.5: block1.project has make_divisible(8) = 8 channels, expanded ×6 to 48
    ("mobilenet_v2", 0.5, 224, 48 * 112**2 + 48 * 56**2, "block2.dw"),
    ("mobilenet_v2", 0.5, 160, 48 * 80**2 + 48 * 40**2, "block2.dw"),
])
def test_peak_of_mobilenets(cli, arch, alpha, R, elements, layer):
    r = mbcost.analyze(arch, alpha=alpha, resolution=R)
    assert (r.peak_activation_bytes, r.peak_layer.name) == (elements * FP32, layer)
    d = cli("report", arch, "--alpha", str(alpha), "--resolution", str(R), "--dtype", "fp16",
            "--format", "json").json()
    assert d["totals"]["peak_activation_bytes"] == elements * FP16
    assert d["totals"]["weight_bytes"] == r.params * FP16
    assert d["memory"]["peak_layer"] == layer and d["memory"]["best_order"]["exact"] is True
    # a chain with shortcuts has one topological order: the best order is the file's
    assert d["memory"]["best_order"]["peak_activation_bytes"] == elements * FP16


def test_per_layer_bytes(cli):
    d = cli("report", "mobilenet_v2", "--act-dtype", "int8", "--weight-dtype", "fp16", "--format", "json").json()
    conv1 = d["layers"][0]
    # conv1: 224²×3 in, 112²×32 out, 3·3·3·32 = 864 weights
    assert (conv1["output_elements"], conv1["output_bytes"], conv1["input_bytes"], conv1["weight_bytes"]) == \
        (112 * 112 * 32, 112 * 112 * 32 * INT8, 224 * 224 * 3 * INT8, 864 * FP16)
    assert conv1["peak_activation_bytes"] == (224 * 224 * 3 + 112 * 112 * 32) * INT8
    assert conv1["alive"] == ["input", "conv1"]


SKIP = """\
name: long_skip
input: {resolution: 32, channels: 3}
layers:
  - {kind: conv, c: 8, k: 1, name: a}
  - {kind: conv, c: 16, k: 1}
  - {kind: conv, c: 16, k: 1}
  - {kind: conv, c: 8, k: 1}
  - {kind: add, from: a}
"""


def test_long_lived_skip_connection(tmp_path, cli):
    f = tmp_path / "skip.yaml"
    f.write_text(SKIP)
    r = mbcost.analyze(f)
    # per step, in channels at 32²: a: 3 + 8 = 11; b: a 8 + b 16 = 24; c: b 16 + c 16 + a 8 = 40
    # (a is kept for the add); d: c 16 + d 8 + a 8 = 32; add: d 8 + a 8 + out 8 = 24
    assert [x.peak_activation_bytes for x in r.layers] == [n * 32 * 32 * FP32 for n in (11, 24, 40, 32, 24)]
    assert r.peak_activation_bytes == 40 * 32 * 32 * FP32
    assert r.peak_layer.alive == ("a", r.layers[1].name, r.layers[2].name)
    # the sweep gives the same peak at other resolutions: 40·R²·4 B
    g = mbcost.sweep_grid(f, alphas=[1], resolutions=[16, 32])
    assert [p.peak_activation_bytes for p in g] == [40 * 16 * 16 * FP32, 40 * 32 * 32 * FP32]
    ok = cli("check", str(f), "--max-peak-memory", f"{40 * 32 * 32 * FP32}")
    assert ok.code == 0


def branching_graph() -> tuple[Graph, dict[str, int]]:
    """x → (b1 → b2) and (a1 → a2) → concat, written with branch b first. Built directly as a
    core Graph (the YAML cannot express concat yet); the elements are given by hand."""
    L = lambda name, *inputs: Layer(name, "concat" if name == "cat" else "conv", 1, inputs)  # noqa: E731
    layers = (L("b1", "input"), L("b2", "b1"), L("a1", "input"), L("a2", "a1"), L("cat", "a2", "b2"))
    g = Graph("branches", "test", Fraction(1), (1, 1), (1, 1, 100), layers)
    return g, {"input": 100, "a1": 50, "a2": 10, "b1": 40, "b2": 30, "cat": 40}


def test_concat_of_branches_file_order_and_best_order():
    g, size = branching_graph()
    p = evaluate(plan(g), size)
    # file order: b1: x 100 + b1 40 = 140; b2: x + b1 + b2 30 = 170 (x waits for a1);
    # a1: x + b2 + a1 50 = 180; a2: b2 30 + a1 50 + a2 10 = 90; cat: b2 + a2 + cat 40 = 80
    assert p.live == (140, 170, 180, 90, 80)
    assert (p.elements, p.layers, p.alive) == (180, ("a1",), ("input", "b2", "a1"))
    # best: the branch that ends small first: a1 150, a2 x + a1 + a2 = 160, b1 x + a2 + b1 = 150,
    # b2 a2 + b1 + b2 = 80, cat 80 → 160
    best = best_order(g, size)
    assert (best.order, best.peak, best.exact) == (("a1", "a2", "b1", "b2", "cat"), 160, True)


def test_best_order_is_the_least_over_every_topological_order():
    g, size = branching_graph()
    names = [x.name for x in g.layers]
    deps = {x.name: {i for i in x.inputs if i != "input"} for x in g.layers}
    peaks = [evaluate(plan(g, order=o), size).elements for o in itertools.permutations(names)
             if all(deps[n] <= set(o[:i]) for i, n in enumerate(o))]
    assert len(peaks) == 6 and min(peaks) == best_order(g, size).peak == 160


def test_best_order_falls_back_to_greedy_past_the_state_cap():
    g, size = branching_graph()
    b = best_order(g, size, max_states=3)
    assert b.exact is False and len(b.order) == 5 and b.peak >= 160


def test_chunked_bottleneck(cli):
    # V2 §6.2 with N = 6 chunks: block2 (expand 16 → 96, dw /2, project → 24) is one step holding
    # its input 16·112², its output 24·56² and one chunk ⌈96/6⌉ = 16 of the expanded and
    # depthwise tensors, 16·(112² + 56²): 526,848 elements, the network's largest step
    d = cli("report", "mobilenet_v2", "--bottleneck-chunks", "6", "--format", "json").json()
    expected = 16 * 112**2 + 24 * 56**2 + 16 * (112**2 + 56**2)
    assert d["totals"]["peak_activation_bytes"] == expected * FP32
    assert d["memory"]["peak_layer"] == "block2.expand"
    assert d["convention"]["bottleneck_chunks"] == 6
    # one chunk per channel, N ≥ n: ⌈96/N⌉ = 1 channel of each
    one = cli("report", "mobilenet_v2", "--bottleneck-chunks", "1000", "--format", "json").json()
    assert one["totals"]["peak_activation_bytes"] < expected * FP32


@pytest.mark.parametrize("args, message", [
    (["--dtype", "fp8"], "--dtype: expected one of fp32, fp16, bf16, int8, got 'fp8'"),
    (["--act-dtype", "x"], "--act-dtype: expected one of fp32"),
    (["--bottleneck-chunks", "-1"], "--bottleneck-chunks: expected 0 (whole tensors) or a number of chunks"),
])
def test_bad_memory_flags(cli, args, message):
    assert_one_line_error(cli("report", "mobilenet_v2", *args), message)


def test_diff_reports_memory_deltas(cli):
    d = cli("diff", "mobilenet_v1", "mobilenet_v2", "--format", "json").json()
    # peaks from test_peak_of_mobilenets: V1 96·112², V2 96·(112² + 56²), 4 B each
    # the delta is V2's extra 96·56² elements
    assert d["totals"]["peak_activation_bytes"] == {"a": 96 * 112**2 * FP32, "b": 96 * (112**2 + 56**2) * FP32,
                                                    "delta": 96 * 56**2 * FP32}
    assert d["totals"]["weight_bytes"]["delta"] == (3_469_760 - 4_209_088) * FP32


@pytest.mark.parametrize("vectorised", [False, True])
def test_peak_grid_in_bytes_is_exact_past_int64(vectorised):
    # The sweep's peak in bytes, with sizes no file can reach: 2⁴⁰ channels on 2³⁰-pixel maps
    # are 2⁷⁰ elements per tensor, × 4 bytes — past 2⁶³ − 1, so the matrix product must switch
    # to Python integers and still equal evaluate() at every resolution (and ×4 exactly).
    from mbcost.core.expand import expand
    from mbcost.core.memory import area_classes, evaluate, peak_grid, plan
    from mbcost.core.spec import load_spec

    pl = plan(expand(load_spec("mobilenet_v2")))
    tensors = {t for s in pl.steps for t in s.alive}
    areas = [{t: 2**30 for t in tensors}, {t: 2**10 + len(t) for t in tensors}]  # two area classes at R₂
    channels = {t: 2**40 + i for i, t in enumerate(sorted(tensors))}
    got = peak_grid(pl, area_classes(pl, areas, vectorised), channels, times=4)
    want = [4 * evaluate(pl, {t: a[t] * channels[t] for t in tensors}).elements for a in areas]
    assert [int(v) for v in got] == want and want[0] > 2**63


def test_timeline_of_both_orders():
    # what the HTML report's memory timeline draws: the live memory of every step, in bytes
    g, size = branching_graph()
    file_order = timeline(g, size, times=FP16)
    # the file order's steps, as derived above: 140, 170, 180, 90, 80 elements
    assert [(s.layers, n) for s, n in file_order] == \
        [(("b1",), 280), (("b2",), 340), (("a1",), 360), (("a2",), 180), (("cat",), 160)]
    assert file_order[2][0].alive == ("input", "b2", "a1")
    # the best order's: a1 150, a2 160, b1 150, b2 80, cat 80; its largest is best_order's peak
    best = best_order(g, size)
    steps = timeline(g, size, order=best.order)
    assert [n for _, n in steps] == [150, 160, 150, 80, 80] and max(n for _, n in steps) == best.peak
    assert steps[1][0].alive == ("input", "a1", "a2")


def test_timeline_peak_is_the_reports_with_fused_steps():
    # chunked bottlenecks are one step each; the timeline's largest step is the report's peak
    r = mbcost.analyze("mobilenet_v2", convention=mbcost.PAPER.with_(chunks=6, act_dtype="fp16"))
    steps = timeline(r.graph, r.tensor_elements(), chunks=6, times=FP16)
    assert max(n for _, n in steps) == r.peak_activation_bytes == (16 * 112**2 + 24 * 56**2 + 16 * (112**2 + 56**2)) * FP16
    # block 1 (t = 1) fuses with conv1 as its expansion (docs/memory.md), block 2 on its own
    assert [s.layers for s, _ in steps[:2]] == [("conv1", "block1.dw", "block1.project"),
                                               ("block2.expand", "block2.dw", "block2.project")]
    assert len(steps) == len(r.layers) - 2 * 17  # 17 bottlenecks, three layers each, one step each


def test_every_heads_output_is_alive_until_the_end():
    # input 8×8×4 → a (1×1, 4) → h1 (1×1, 2, an output) and b (1×1, 4) → h2 (1×1, 2, an output).
    # Elements: input 256, a 256, h1 128, b 256, h2 128. In the file's order a, h1, b, h2:
    #   a:  input, a              512
    #   h1: a, h1                 384   (input read last by a)
    #   b:  a, h1, b              640   (h1 is an output: held to the end; a read last here)
    #   h2: h1, b, h2             512
    # The peak is 640 elements at b, 2,560 B in fp32; were h1 dropped once made, it would be 512.
    doc = {"input": {"resolution": 8, "channels": 4},
           "layers": [{"kind": "conv", "name": "a", "c": 4}, {"kind": "conv", "name": "h1", "c": 2},
                      {"kind": "conv", "name": "b", "c": 4, "from": "a"}, {"kind": "conv", "name": "h2", "c": 2}],
           "outputs": ["h1", "h2"]}
    spec = spec_from_document(parse(yaml.safe_dump(doc, sort_keys=False), "heads.yaml"))
    r = mbcost.analyze(spec)
    assert [x.peak_activation_bytes // 4 for x in r.layers] == [512, 384, 640, 512]
    assert r["b"].alive == ("a", "h1", "b") and r["h2"].alive == ("h1", "b", "h2")
    assert (r.peak_layer.name, r.peak_activation_bytes) == ("b", 2_560)
    # no order does better (h1 and h2 must both be held at the end, a until its last reader)
    assert r.best_order().peak == 640
    # the sweep's memory is the same plan's
    assert mbcost.sweep_grid(spec, alphas=[1], resolutions=None).points[0].peak_activation_bytes == 2_560
