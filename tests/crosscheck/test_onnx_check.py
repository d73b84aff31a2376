"""ONNX validation (issue 26, classes 1 and 3; mbcost/interop/onnx_check.py): malformed and
invalid models are one line and exit 2 naming the node or initializer, the field and what was
expected; control flow is refused, never dropped; split parts cannot collide with a node's
name; external data is never opened, the model's own folder included; a fuzz of truncated and
mutated generated models never exits 3 (only onnx, no torch: cheap)."""
from __future__ import annotations

import importlib.util
import os
import random
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto as T
from onnx import helper, numpy_helper
from onnx.external_data_helper import set_external_data

import mbcost
from mbcost.errors import MbcostError

_spec = importlib.util.spec_from_file_location("_suite_conftest", Path(__file__).parent.parent / "conftest.py")
_suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_suite)
assert_one_line_error = _suite.assert_one_line_error


def W(name, *dims, value=0.1):
    return numpy_helper.from_array(np.full(dims, value, np.float32), name)


def model(nodes, inits, x=(1, 3, 8, 8), out=None, opset=17):
    X = [helper.make_tensor_value_info("x", T.FLOAT, list(x))]
    Y = [helper.make_tensor_value_info(out or nodes[-1].output[0], T.FLOAT, None)]
    return helper.make_model(helper.make_graph(nodes, "g", X, Y, inits), opset_imports=[helper.make_opsetid("", opset)])


def conv(x="x", y="y", w="w", name="c", **kw):
    return helper.make_node("Conv", [x, w], [y], name=name, **{"pads": [1, 1, 1, 1], "kernel_shape": [3, 3], **kw})


def _short_weight():
    w = W("w", 4, 3, 3, 3)
    w.raw_data = w.raw_data[:10]
    return w


def _bad_utf8():
    n = helper.make_node("Conv", ["x", "w"], ["y"], name="c")
    n.attribute.append(helper.make_attribute("auto_pad", b"\xff\xfe"))
    return n


W4 = W("w", 4, 3, 3, 3)
INVALID = {  # the probes' examples: (nodes, initializers, opset), the line's tail
    "bn-one-input": (lambda: ([conv(), helper.make_node("BatchNormalization", ["y"], ["z"], name="bn")], [W4]),
                     "node 'bn' (BatchNormalization): expected 5 inputs, the node has 1"),
    "auto-pad-bogus": (lambda: ([helper.make_node("Conv", ["x", "w"], ["y"], name="c", auto_pad="BOGUS")], [W4]),
                       "node 'c' (Conv).auto_pad: expected one of NOTSET, SAME_UPPER, SAME_LOWER, VALID, got 'BOGUS'"),
    "output-padding": (lambda: ([helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="ct", strides=[2, 2],
                                                  output_padding=[2, 2])], [W("w", 3, 4, 3, 3)]),
                       "node 'ct' (ConvTranspose).output_padding: expected each smaller than the stride [2, 2] or "
                       "the dilation [1, 1], got [2, 2]"),
    "weight-3d": (lambda: ([helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [W("w", 4, 3, 3)]),
                  "node 'c' (Conv).input[1]: expected a 4-D weight"),
    "pads-of-2": (lambda: ([helper.make_node("Conv", ["x", "w"], ["y"], name="c", pads=[1, 1])], [W4]),
                  "node 'c' (Conv).pads: expected 4 integers ≥ 0 (mbcost costs 2-D maps), got [1, 1]"),
    "maxpool-no-kernel": (lambda: ([helper.make_node("MaxPool", ["x"], ["y"], name="mp")], []),
                          "node 'mp' (MaxPool): Required attribute 'kernel_shape' is missing"),
    "raw-data-short": (lambda: ([conv()], [_short_weight()]),
                       "initializer 'w': expected 432 bytes of data for dims [4, 3, 3, 3], the file holds 10"),
    "clip-vector": (lambda: ([conv(), helper.make_node("Clip", ["y", "lo", "hi"], ["z"], name="cl")],
                             [W4, W("lo", 2), W("hi", 2)]),
                    "node 'cl' (Clip).min: expected a scalar bound, 'lo' is [2]"),
    "no-outputs": (lambda: ([conv(), helper.make_node("Relu", ["y"], [], name="r")], [W4]),
                   "node 'r' (Relu): expected at least one output, the node has none"),
    "conv-one-input": (lambda: ([helper.make_node("Conv", ["x"], ["y"], name="c")], []),
                       "node 'c' (Conv): expected 2 to 3 inputs, the node has 1"),
    "gemm-one-input": (lambda: ([helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("Gemm", ["f"], ["y"], name="g")],
                                []), "node 'g' (Gemm): expected 2 to 3 inputs, the node has 1"),
    "attribute-not-utf8": (lambda: ([_bad_utf8()], [W4]), "node 'c' (Conv).auto_pad: expected UTF-8 text, got bytes"),
}


@pytest.mark.parametrize("case", INVALID)
def test_an_invalid_model_is_one_line_naming_the_node_and_field(cli, tmp_path, case):
    make, says = INVALID[case]
    nodes, inits = make()
    m = model(nodes, inits, out=None if nodes[-1].output else "y")
    f = tmp_path / f"{case}.onnx"
    onnx.save(m, f)
    for argv in (["report", f], ["check", f, "--max-madds", "1G"], ["verify", f]):
        assert_one_line_error(cli(*argv), f"error: {f}: {says}")


def _branching(op: str):
    """A conv, then a conv of 16·4·9 weights on 8×8 inside a subgraph of ``op``, whose only
    explicit input is a constant (the outer-scope x is read inside)."""
    inner = helper.make_graph([conv("y", "t", "w2", name="inner")], "body", [],
                              [helper.make_tensor_value_info("t", T.FLOAT, None)])
    if op == "If":
        other = helper.make_graph([helper.make_node("Identity", ["y"], ["e"])], "else", [],
                                  [helper.make_tensor_value_info("e", T.FLOAT, None)])
        node = helper.make_node("If", ["cond"], ["z"], name="branch", then_branch=inner, else_branch=other)
        consts = [numpy_helper.from_array(np.array(True), "cond")]
    else:  # a Loop of one trip
        body = helper.make_graph([conv("y", "t", "w2", name="inner"), helper.make_node("Identity", ["c_in"], ["c_out"])],
                                 "body", [helper.make_tensor_value_info("i", T.INT64, []),
                                          helper.make_tensor_value_info("c_in", T.BOOL, [])],
                                 [helper.make_tensor_value_info("c_out", T.BOOL, []),
                                  helper.make_tensor_value_info("t", T.FLOAT, None)])
        node = helper.make_node("Loop", ["trip", "cond"], ["z"], name="branch", body=body)
        consts = [numpy_helper.from_array(np.array(1, np.int64), "trip"), numpy_helper.from_array(np.array(True), "cond")]
    return model([conv(), node], [W4, W("w2", 16, 4, 3, 3)] + consts, out="z")


@pytest.mark.parametrize("op", ["If", "Loop"])
def test_a_subgraph_is_refused_never_dropped(cli, tmp_path, op):
    """The inner conv's 8²·16·4·9 = 36,864 mult-adds were missing from an exit-0 report."""
    f = tmp_path / "branch.onnx"
    onnx.save(_branching(op), f)
    line = assert_one_line_error(cli("report", f), f"error: {f}: node 'branch' ({op}).",
                                 "holds a subgraph (control flow); mbcost costs one straight-line graph")
    assert "inner" not in line  # the subgraph's contents are not echoed
    assert_one_line_error(cli("report", f, "--allow-unknown"), f"error: {f}: node 'branch' ({op}).")


def test_a_node_named_like_a_split_part_is_kept_apart(tmp_path):
    """A Relu named 'sp.1' on the first part of Split 'sp': the concat reads the Relu and the
    split's second part (8×8×2 each), which the colliding name mis-wired to the Relu twice."""
    nodes = [conv(), helper.make_node("Split", ["y"], ["a", "b"], name="sp", axis=1, num_outputs=2),
             helper.make_node("Relu", ["a"], ["ra"], name="sp.1"),
             helper.make_node("Concat", ["ra", "b"], ["z"], name="cat", axis=1)]
    f = tmp_path / "collide.onnx"
    onnx.save(model(nodes, [W4], opset=18), f)
    r = mbcost.analyze(f)
    assert [L.name for L in r.layers] == ["c", "sp", "sp.1_", "cat"]
    assert r["cat"].layer.inputs == ("sp.1_", "sp.1") and r["sp.1_"].layer.inputs == ("sp.0",)
    assert (r.madds, r.params) == (8 * 8 * 4 * 3 * 9, 4 * 3 * 9)


def _external(tmp_path, name: str, small: bool):
    """A conv whose weight (432 values), or a Clip bound (one value), is stored in ``name`` in
    the model's own folder."""
    if small:
        m = model([conv(), helper.make_node("Clip", ["y", "lo"], ["z"], name="cl")],
                  [W4, numpy_helper.from_array(np.array(0, np.float32), "lo")])
        t = m.graph.initializer[1]
    else:
        m = model([conv()], [W4])
        t = m.graph.initializer[0]
    set_external_data(t, name)
    t.ClearField("raw_data")
    t.data_location = T.EXTERNAL
    f = tmp_path / "ext.onnx"
    onnx.save(m, f)
    return f


def test_external_data_in_the_models_own_folder_is_never_opened(cli, tmp_path):
    """The decision (issue 26): external data is never read, wherever it points. A weight stored
    outside is costed from the dims the file holds; '.env' here is a FIFO, so opening it would
    block the test (a watchdog fails it instead of hanging)."""
    os.mkfifo(tmp_path / ".env")
    f = _external(tmp_path, ".env", small=False)
    done = []
    t = threading.Thread(target=lambda: done.append(cli("report", f, "-f", "json")), daemon=True)
    t.start()
    t.join(30)
    if not done:  # unblock the reader, then fail
        with open(tmp_path / ".env", "wb") as w:
            w.write(b"x")
        pytest.fail("the external data file was opened")
    assert done[0].code == 0, done[0].err
    import json
    totals = json.loads(done[0].out)["totals"]
    assert (totals["madds"], totals["params"]) == (8 * 8 * 4 * 3 * 9, 4 * 3 * 9)


def test_a_small_initializer_stored_outside_is_refused_without_reading_it(cli, tmp_path):
    secret = tmp_path / ".env"
    secret.write_bytes(b"\x00\x00\x80\x3f" + b"TOKEN=abcdefgh" * 4)
    f = _external(tmp_path, ".env", small=True)
    line = assert_one_line_error(cli("report", f), f"error: {f}: initializer 'lo': its values are stored outside the "
                                 "file ('.env'), which mbcost never reads")
    assert "TOKEN" not in line


# --- 3. a fuzz of truncated and mutated generated models: exit 0 or 2, never 3 -------------------

def _base():
    """conv → BN → Clip(0, 6) → Split → (dwconv, Relu) → Concat → MaxPool → GAP → Flatten → Gemm."""
    bn = [W("g", 4, value=1), W("b", 4, value=0), W("mu", 4, value=0), W("var", 4, value=1)]
    nodes = [conv(), helper.make_node("BatchNormalization", ["y", "g", "b", "mu", "var"], ["yb"], name="bn"),
             helper.make_node("Clip", ["yb", "lo", "hi"], ["y6"], name="clip"),
             helper.make_node("Split", ["y6"], ["p", "q"], name="sp", axis=1, split=[2, 2]),
             helper.make_node("Conv", ["p", "wd"], ["pd"], name="dw", group=2, kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["q"], ["qr"], name="r"),
             helper.make_node("Concat", ["pd", "qr"], ["cat"], name="cat", axis=1),
             helper.make_node("MaxPool", ["cat"], ["mp"], name="mp", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("GlobalAveragePool", ["mp"], ["gap"], name="gap"),
             helper.make_node("Flatten", ["gap"], ["fl"], name="fl"),
             helper.make_node("Gemm", ["fl", "wf", "bf"], ["out"], name="fc", transB=1)]
    inits = [W4, *bn, numpy_helper.from_array(np.array(0, np.float32), "lo"),
             numpy_helper.from_array(np.array(6, np.float32), "hi"), W("wd", 2, 1, 3, 3), W("wf", 10, 4), W("bf", 10)]
    return model(nodes, inits, opset=11)


BASE = _base()
OPS = ["Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "Relu", "Clip", "Split", "Concat", "MaxPool",
       "AveragePool", "GlobalAveragePool", "Flatten", "Add", "Mul", "Pad", "Resize", "Reshape", "If", "Loop", "Range"]


def _mutate(rnd: random.Random, m: onnx.ModelProto) -> None:
    """One structural mutation of the kinds the probes used."""
    g = m.graph
    node = rnd.choice(list(g.node))
    init = rnd.choice(list(g.initializer))
    what = rnd.randrange(12)
    if what == 0 and len(node.input):
        del node.input[rnd.randrange(len(node.input))]
    elif what == 1 and len(node.attribute):
        del node.attribute[rnd.randrange(len(node.attribute))]
    elif what == 2 and len(node.attribute):
        a = node.attribute[rnd.randrange(len(node.attribute))]
        if a.type == onnx.AttributeProto.INTS:
            del a.ints[:]
            a.ints.extend(rnd.choice([[], [1], [1, 1], [0, 0, 0], [-1, 2], [1, 1, 1, 1, 1, 1], [10**9, 1]]))
        elif a.type == onnx.AttributeProto.INT:
            a.i = rnd.choice([0, -1, 3, 10**9, 2**62])
        elif a.type == onnx.AttributeProto.STRING:
            a.s = rnd.choice([b"", b"BOGUS", b"\xff", b"SAME_UPPER"])
    elif what == 3:
        node.op_type = rnd.choice(OPS)
    elif what == 4:
        init.raw_data = init.raw_data[:rnd.randrange(len(init.raw_data) + 1)]
    elif what == 5:
        del init.dims[:]
        init.dims.extend(rnd.choice([[], [1], [4, 3, 3], [0, 3, 3, 3], [4, 3, 3, 3, 1], [2, 2]]))
    elif what == 6:
        del node.output[:]
    elif what == 7:
        node.input.append(rnd.choice(["x", "y", "nowhere", "", init.name]))
    elif what == 8:
        node.name = rnd.choice(["", "sp.0", "sp.1", "input", "x", "\x1b]0;t\x07", node.name * 2])
    elif what == 9:
        g.node.insert(0, onnx.NodeProto.FromString(node.SerializeToString()))  # out of order, or twice
    elif what == 10:
        init.data_type = rnd.choice([T.INT64, T.UINT8, T.STRING, T.FLOAT16, T.BOOL, 0])
    else:
        node.attribute.append(helper.make_attribute(rnd.choice(["axis", "group", "pads", "kernel_shape", "split"]),
                                                    rnd.choice([0, 1, -7, [1, 2], [3, 3, 3, 3]])))


def _outcome(path) -> str:
    """What every command sees: a report, or one MbcostError (exit 2); anything else is exit 3."""
    try:
        r = mbcost.analyze(path)
        return f"ok {r.madds}"
    except MbcostError as exc:
        assert "\n" not in str(exc).strip(), str(exc)
        return "refused"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), mutations=st.integers(1, 3))
def test_mutated_models_are_a_result_or_one_error(tmp_path, seed, mutations):
    rnd = random.Random(seed)
    m = onnx.ModelProto.FromString(BASE.SerializeToString())
    for _ in range(mutations):
        _mutate(rnd, m)
    f = tmp_path / "m.onnx"
    f.write_bytes(m.SerializeToString())
    _outcome(f)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4))
def test_truncated_and_corrupted_bytes_are_a_result_or_one_error(tmp_path, cut, flips):
    data = bytearray(BASE.SerializeToString())
    for at, byte in flips:
        data[int(at * (len(data) - 1))] = byte
    f = tmp_path / "t.onnx"
    f.write_bytes(bytes(data[:max(1, int(cut * len(data)))]))
    _outcome(f)


def test_the_base_model_imports_with_its_counts():
    """The fuzz's seed is a model mbcost costs: conv 8²·4·27 + dw 8²·2·9 + fc 4·10 mult-adds."""
    f = Path(os.environ.get("TMPDIR", "/tmp")) / f"base-{os.getpid()}.onnx"
    onnx.save(BASE, f)
    try:
        r = mbcost.analyze(f)
    finally:
        f.unlink()
    assert r.madds == 64 * 4 * 27 + 64 * 2 * 9 + 40
