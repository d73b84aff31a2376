"""mbcost convert: any model as an architecture YAML whose report is the model's, whose blocks are its
repeated modules and whose widths --alpha scales (mbcost/interop/yaml_out.py). The PyTorch and ONNX
sources are the cross-check tier's (tests/crosscheck/test_convert.py); here every built-in and
every kind's example network, which need neither."""
from fractions import Fraction

import pytest
import yaml

import mbcost
from mbcost.core.kinds import writable
from mbcost.core.locate import builtin_variants
from mbcost.core.spec import recognise_architecture, spec_from_document
from mbcost.core.yamlio import parse
from mbcost.interop.yaml_out import convert, structure, width_rule

from conftest import assert_one_line_error, kind_network

TV = mbcost.PROFILES["torchvision"]


def read_back(text: str):
    return spec_from_document(parse(text, "converted.yaml", recognise_architecture))


def per_layer(report):
    return [(r.output_shape, r.madds, r.params) for r in report.layers]


def _runs_times(name) -> bool:
    return any(L.times > 1 for L in mbcost.analyze(name).graph.layers)


TIMES = [n for n in builtin_variants() if n.startswith("faster_rcnn")]


@pytest.mark.parametrize("name", [n for n in builtin_variants() if n not in TIMES])
def test_every_built_in_round_trips_layer_for_layer(name):
    spec = mbcost.load(name)
    back = read_back(convert(spec).text)
    for conv in (mbcost.PAPER, TV):
        a, b = mbcost.analyze(spec, convention=conv), mbcost.analyze(back, convention=conv)
        assert (b.madds, b.params) == (a.madds, a.params)
        assert per_layer(b) == per_layer(a)
        assert structure(b.graph) == structure(a.graph)  # every field of every layer, wiring by position


@pytest.mark.parametrize("kind", [k for k in writable() if k not in ("opaque",)])
def test_every_kinds_example_network_round_trips(kind, tmp_path):
    f = tmp_path / f"{kind}.yaml"
    f.write_text(kind_network(kind))
    spec = mbcost.load(str(f))
    back = read_back(convert(spec).text)
    assert structure(mbcost.analyze(back).graph) == structure(mbcost.analyze(spec).graph)


def test_mobilenet_v2_widths_scale_as_the_built_in_at_every_probed_and_unprobed_alpha():
    # probed at 0.35, 0.5, 0.75 and 1.4, so each layer's width is written as the file rounds it:
    # the 1280-wide last conv is scale: up, and α scales the converted file as it does the built-in
    text = convert(mbcost.load("mobilenet_v2")).text
    back = read_back(text)
    assert "{kind: conv, name: conv2, c: 1280, scale: up}" in text
    for alpha in ("0.35", "0.5", "0.75", "1.4", "0.6", "1.3"):
        a = mbcost.analyze("mobilenet_v2", alpha=alpha, convention=TV)
        b = mbcost.analyze(back, alpha=alpha, convention=TV)
        assert (b.madds, b.params) == (a.madds, a.params), alpha


def test_repeated_stages_become_blocks_and_calls_with_n_that_depth_scales():
    text = convert(mbcost.load("mobilenet_v2")).text
    doc = yaml.safe_load(text)
    calls = [r for r in doc["layers"] if r["kind"] in doc["blocks"]]
    # Table 2's stages after their first block: 24 ×1, 32 ×2, 64 ×3, 96 ×2, 160 ×2 (block15-16: n = 2)
    assert [r.get("n", 1) for r in calls if r.get("n", 1) > 1] == [2, 3, 2, 2]
    assert {"name": "block8-block10", "n": 3} == {k: v for k, v in calls[5].items() if k in ("name", "n")}
    back = read_back(text)
    layers1 = len(mbcost.analyze(back).layers)
    layers2 = len(mbcost.analyze(back, depth=2).layers)
    # --depth 2 doubles each stated n: 2+3+2+2 = 9 more block instances of 4 layers (conv, dw, conv, add)
    assert layers2 - layers1 == 9 * 4


def test_layer_names_are_kept_and_instances_of_a_folded_call_are_numbered():
    back = mbcost.analyze(read_back(convert(mbcost.load("mobilenet_v2")).text))
    names = [r.name for r in back.layers]
    assert names[:3] == ["conv1", "block1.dw", "block1.project"]
    assert "block8-block10.2.dw" in names and names[-1] == "fc1"


def test_dotted_names_inside_a_block_are_its_own(tmp_path):
    # a block whose rows have module-like names (conv.0.0) reads them, not a top-level namesake
    f = tmp_path / "dotted.yaml"
    f.write_text("input: {resolution: 8, channels: 4}\nblocks:\n  blk:\n    rows:\n"
                 "      - {kind: conv, name: conv.0.0, c: 4, k: 3}\n"
                 "      - {kind: conv, name: conv.1, c: 4}\n"
                 "      - {kind: add, name: add, from: [conv.0.0, conv.1]}\n"
                 "layers:\n  - {kind: conv, name: conv.0.0, c: 4}\n  - {kind: blk, name: b}\n"
                 "  - {kind: pool, global: true}\n  - {kind: fc, c: 2}\n")
    r = mbcost.analyze(str(f))
    assert r["b.add"].layer.inputs == ("b.conv.0.0", "b.conv.1")


def test_a_split_in_parts_follows_its_input_at_every_alpha(tmp_path):
    f = tmp_path / "parts.yaml"
    f.write_text("input: {resolution: 8, channels: 3}\nwidth: {rule: make_divisible, divisor: 8, min: 8}\n"
                 "layers:\n  - {kind: conv, c: 48}\n  - {kind: split, name: sp, parts: [1, 2]}\n"
                 "  - {kind: concat, from: [sp.0, sp.1]}\n  - {kind: pool, global: true}\n  - {kind: fc, c: 2}\n")
    assert mbcost.analyze(str(f))["sp"].layer.sizes == (16, 32)
    assert mbcost.analyze(str(f), alpha="0.5")["sp"].layer.sizes == (8, 16)  # 24 channels: 1/3 and 2/3


def test_split_parts_that_do_not_divide_and_sizes_with_parts_are_refused(cli, tmp_path):
    f = tmp_path / "bad.yaml"
    base = "input: {resolution: 8, channels: 3}\nlayers:\n  - {kind: conv, c: 10}\n  - {kind: split, name: sp, %s}\n" \
           "  - {kind: concat, from: [sp.0, sp.1]}\n  - {kind: pool, global: true}\n  - {kind: fc, c: 2}\n"
    f.write_text(base % "parts: [1, 2]")
    assert_one_line_error(cli("report", f), "parts [1, 2] do not divide the 10 input channels")
    f.write_text(base % "parts: [1, 1], sizes: [5, 5]")
    assert_one_line_error(cli("report", f), "not both")


def test_the_cli_writes_the_file_and_says_what_it_did(cli, tmp_path):
    out = tmp_path / "mv2.yaml"
    run = cli("convert", "mobilenet_v2", "-o", out, "--width-rule", "divisible8")
    assert run.code == 0, run.err
    assert run.out == ""
    assert "wrote" in run.err and "64 layers, 3 blocks" in run.err
    r = cli("report", out, "--alpha", "0.5", "--profile", "torchvision", "--format", "json")
    a = mbcost.analyze("mobilenet_v2", alpha="0.5", convention=TV)
    import json

    totals = json.loads(r.out)["totals"]
    assert (totals["madds"], totals["params"]) == (a.madds, a.params)


def test_stdout_without_output(cli):
    run = cli("convert", "resnet18")
    assert run.code == 0 and run.out.startswith("# ResNet") and "layers:" in run.out


@pytest.mark.parametrize("text, rule", [("floor", ("floor", 1, 1)), ("make_divisible", ("make_divisible", 8, 8)),
                                        ("divisible8", ("make_divisible", 8, 8)),
                                        ("divisible16", ("make_divisible", 16, 16))])
def test_width_rules(text, rule):
    r = width_rule(text)
    assert (r.rule, r.min, r.divisor) == rule


def test_the_width_rule_a_file_is_written_for_is_the_one_its_widths_round_by():
    # divisible16: MobileNetV2's 24-wide stage becomes 16 at α = 0.5 (12 → the nearest 16), not 8+8
    text = convert(mbcost.load("mobilenet_v2"), width_rule("divisible16")).text
    assert "width: {rule: make_divisible, divisor: 16, min: 16}" in text
    assert mbcost.analyze(read_back(text)).madds == mbcost.analyze("mobilenet_v2").madds


@pytest.mark.parametrize("rule", ["divisible0", "divisible", "round", "divisible8x"])
def test_a_bad_width_rule_is_one_line_and_writes_nothing(cli, tmp_path, rule):
    out = tmp_path / "x.yaml"
    assert_one_line_error(cli("convert", "mobilenet_v2", "-o", out, "--width-rule", rule), "--width-rule")
    assert not out.exists()


def test_a_bad_model_never_clobbers_the_output(cli, tmp_path):
    out = tmp_path / "x.yaml"
    out.write_text("kept")
    assert_one_line_error(cli("convert", "mobilenet_v9", "-o", out), "unknown architecture")
    assert out.read_text() == "kept"
    assert_one_line_error(cli("convert", "torchvision:", "-o", out), "torchvision: needs a model name")
    assert out.read_text() == "kept"


def test_a_variant_is_written_at_its_own_settings():
    spec = mbcost.load("efficientnet_b3")
    back = read_back(convert(spec).text)
    a = mbcost.analyze(spec)
    assert a.alpha == Fraction(6, 5)
    b = mbcost.analyze(back)  # α = 1 in the converted file is b3's own widths
    assert (b.madds, b.params, b.resolution) == (a.madds, a.params, a.resolution)


def test_module_names_from_the_exporters_scopes():
    # (no torch needed: the names are read from the scope paths torch.onnx.export writes)
    from mbcost.interop.torch_import import module_names

    names = module_names(["/features/features.3/conv/conv.0/conv.0.0/Conv",
                          "/features/features.3/conv/conv.2/Conv",
                          "/features/features.3/Add",
                          "/blocks/blocks.0/attn/MatMul", "/blocks/blocks.0/attn/MatMul_1",
                          "/blocks/blocks.0/attn/qkv/MatMul", "/head/Gemm", "plain"])
    assert list(names.values()) == [
        "features.3.conv.0.0", "features.3.conv.2",
        # features.3 holds layers of its submodules: its own add is features.3.add, not features.3,
        # so a block's prefix is never also a layer's whole name
        "features.3.add",
        "blocks.0.attn.mat_mul", "blocks.0.attn.mat_mul_1", "blocks.0.attn.qkv", "head", "plain"]


def test_an_fc_scales_with_alpha_only_when_its_row_says_so(cli, tmp_path):
    # torchvision's MobileNetV3 scales its hidden classifier layer: adjust_channels(1280) =
    # _make_divisible(1280·α, 8), 640 at α = 0.5; a plain fc's c stays what it says
    f = tmp_path / "head.yaml"
    f.write_text("input: {resolution: 4, channels: 8}\nwidth: {rule: make_divisible, divisor: 8, min: 8}\n"
                 "layers:\n  - {kind: conv, c: 16}\n  - {kind: pool, global: true}\n"
                 "  - {kind: fc, name: hidden, c: 1280, scale: true, act: hswish}\n"
                 "  - {kind: fc, name: plain, c: 100}\n  - {kind: fc, name: out, c: 10}\n")
    r = mbcost.analyze(str(f), alpha="0.5")
    assert [r[n].layer.c for n in ("hidden", "plain", "out")] == [640, 100, 10]
    assert r["hidden"].madds == 8 * 640  # the pooled 16·0.5 = 8 channels in
    back = read_back(convert(mbcost.load(str(f))).text)
    assert mbcost.analyze(back, alpha="0.5")["hidden"].layer.c == 640
    f.write_text("input: {resolution: 4, channels: 8}\nclasses: 10\nlayers:\n  - {kind: pool, global: true}\n"
                 "  - {kind: fc, scale: true}\n")
    assert_one_line_error(cli("report", f), "scale", "give 'c' too")


@pytest.mark.parametrize("name", TIMES)
def test_a_block_run_times_n_is_refused_not_written_once(name, cli, tmp_path):
    # Faster-RCNN's box classifier runs once per proposal (times: 300): written once it would
    # count 1/300 of that work, so convert says it cannot, in one line, and writes nothing
    assert _runs_times(name)
    out = tmp_path / "frcnn.yaml"
    run = cli("convert", name, "-o", out)
    assert run.code == 2 and "runs 300 times per inference" in run.err and not out.exists(), run.err
    assert len(run.err.splitlines()) == 1
