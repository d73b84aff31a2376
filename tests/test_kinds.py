"""The kind registry: every kind has every facet (or says why not), its numbers come from one
formula, and a kind registered from outside the package — the toy below — works in every
command with nothing else touched."""
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import mbcost
from conftest import assert_one_line_error, kind_network
from mbcost.core import elements as el
from mbcost.core.kind import INTEROP_FACETS, LAYER_FACETS, ROW_FACETS, Counting, Factor, Kind, generic
from mbcost.core.kinds import KINDS, primitives, writable
from mbcost.core.peers import PEERS
from mbcost.interop.onnx_export import EXPORTERS
from mbcost.interop.onnx_import import KINDS_READ
from mbcost.interop.yaml_out import WRITERS

ROOT = Path(__file__).resolve().parent.parent


def facets_of(kind: Kind) -> tuple[str, ...]:
    """The facets a kind must have: a row's if a file may write it, a primitive's if the engine
    costs it, and an interop handle per format for a primitive."""
    need = ROW_FACETS if kind.writable or "read" not in kind.unsupported else ()
    if kind.primitive:
        need += LAYER_FACETS + INTEROP_FACETS
    return need


# the ONNX tables importable without onnx; the PyTorch builders are checked in the cross-check
# tier (tests/crosscheck/test_torch.py), where torch is installed
HANDLES = {"onnx_export": EXPORTERS, "onnx_import": KINDS_READ, "yaml": WRITERS}


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_has_every_facet_or_says_why_not(name):
    k = KINDS[name]
    assert k.name == name and k.summary
    assert k.writable or k.primitive, f"{name} is neither written in files nor costed"
    for facet in facets_of(k):
        if facet in k.unsupported:
            assert len(k.unsupported[facet]) > 10, f"{name}: say why it has no {facet}"
            continue
        if facet in HANDLES:
            assert name in HANDLES[facet], f"{name} has no {facet} handle and no reason in 'unsupported'"
        elif facet == "peers":  # every counter says what it charges for the kind, citing its source
            assert k.peers is not None and set(PEERS) <= set(k.peers), f"{name}: every profile must have a rule"
            for p, charge in k.peers.items():
                assert charge.says and charge.source, f"{name}: {p}'s rule says nothing or cites nothing"
        elif facet not in INTEROP_FACETS:
            assert getattr(k, facet) is not None, f"{name} lacks {facet} and gives no reason"
    # a reason for a facet the kind has is stale
    assert not {f for f in k.unsupported if f not in INTEROP_FACETS and getattr(k, f, None) is not None}


def test_every_counts_field_is_an_elements_field_and_macs_is_never_restated():
    fields = set(el.FIELDS)
    for k in KINDS.values():
        assert set(k.counts) <= fields, k.name
        assert "macs" not in k.counts, f"{k.name}: mult-adds come from its factor, never from its element rule"


def test_the_interop_tables_name_only_registered_primitives():
    assert set(EXPORTERS) <= set(primitives())
    assert set(KINDS_READ) <= set(primitives())
    assert set(WRITERS) <= set(primitives())


@pytest.mark.parametrize("name", writable())
def test_every_kinds_example_costs_and_its_elements_agree_with_it(name, tmp_path):
    f = tmp_path / f"{name}.yaml"
    f.write_text(kind_network(name))
    r = mbcost.analyze(f)
    for layer in r.layers:
        e = el.elements(layer)
        assert e.macs == layer.madds, layer.name  # the element counts' mult-adds are the layer's
        own = KINDS[layer.layer.kind].elements(layer)
        assert set(own) <= set(KINDS[layer.layer.kind].counts), layer.name
        assert e.kind == layer.layer.kind


@pytest.mark.parametrize("name", primitives())
def test_every_kinds_latency_class_is_one_the_model_prices_or_warns_on(name, tmp_path):
    """A kind's ``latency`` names a class of core/latency.py's CLASSES, or a class of its own
    named for it (opaque's), which is timed by memory and overhead only and which every profile
    names in a warning."""
    from mbcost.analyses.latency import load_device
    from mbcost.core.latency import CLASSES, amounts, op_class

    if KINDS[name].writable:
        f = tmp_path / f"{name}.yaml"
        f.write_text(kind_network(name))
        layers = [r for r in mbcost.analyze(f).layers if r.layer.kind == name]
    else:  # opaque: what --allow-unknown keeps of an imported op
        r = mbcost.analyze("mobilenet_v1").layers[1]
        layers = [dataclasses.replace(r, layer=dataclasses.replace(r.layer, kind=name, op="NonMaxSuppression",
                                                                             act="linear"))]
    assert layers
    pixel1 = load_device("pixel1")
    for r in layers:
        cls = op_class(r)
        if cls not in CLASSES:  # a class of its own, named for the kind (never a stale or misspelt one)
            assert cls == name, f"{name}: latency class {cls!r} is none of {', '.join(CLASSES)}"
            assert set(amounts(r)) == {"memory", "overhead"}, f"{name}: a class with no constant got a rate"
            assert any(f"without {cls} layers" in w and "no constant" in w for w in pixel1.warnings([r])), \
                f"{name}: its class {cls!r} is neither one the model prices nor warned about"


def test_docs_format_names_every_kind():
    text = (ROOT / "docs" / "format.md").read_text()
    assert [k for k in writable() if f"`{k}`" not in text] == []


# --- a kind registered from outside: every command works on it ------------------------------------

@dataclass(frozen=True)
class ToyArgs:
    """A per-channel scale γ: C weights, one product per element."""


def _toy_read(f) -> ToyArgs:
    return ToyArgs()


def _toy_expand(ex, row) -> None:
    (name,) = ex.repeat_names(row, "toy")
    ex.emit(name, "toy", ex.cur)


def _toy_factor(layer, m, conv) -> Factor:
    """γ ⊙ x: C·H·W mult-adds (one per element) and C weights."""
    return Factor(m[0], m[0])


def toy_kind() -> Kind:
    return Kind("toy", "a per-channel scale γ (the test's own kind)", read=_toy_read, expand=_toy_expand, example={},
                shape=lambda layer, inputs: inputs[0], factor=_toy_factor, elements=lambda r: {},
                label=lambda layer: "Toy scale", latency="mul", counting=Counting(work="one product per element"),
                peers={p: generic("the test's toy: the counters see a conv", "W") for p in PEERS},
                unsupported={"torch": "the test's toy has no module", "onnx_export": "the test's toy has no ONNX op",
                             "onnx_import": "no ONNX op makes it", "yaml": "the test's toy has no row to write"})


@pytest.fixture
def toy(monkeypatch, tmp_path):
    monkeypatch.setitem(KINDS, "toy", toy_kind())
    # conv 3×3 /2 to 16 channels on 16×16×8 (8×8 out: 9·8·16·64 = 73,728 mult-adds, 1,152 weights),
    # the toy (16·8·8 = 1,024 mult-adds, 16 weights), global pool, fc 16 → 10 (160 and 160)
    f = tmp_path / "toy.yaml"
    f.write_text(yaml.safe_dump({"input": {"resolution": 16, "channels": 8}, "layers": [
        {"kind": "conv", "c": 16, "k": 3, "s": 2}, {"kind": "toy", "name": "gamma"},
        {"kind": "pool", "global": True}, {"kind": "fc", "c": 10}]}, sort_keys=False))
    return f


def test_a_toy_kind_registered_from_a_test_runs_through_every_command(cli, toy, tmp_path):
    madds, params = 73_728 + 1_024 + 160, 1_152 + 16 + 160
    r = cli("report", toy, "--format", "json").json()
    assert (r["totals"]["madds"], r["totals"]["params"]) == (madds, params)
    gamma = next(x for x in r["layers"] if x["name"] == "gamma")
    assert (gamma["kind"], gamma["type"], gamma["madds"], gamma["elements"]["macs"]) == ("toy", "Toy scale", 1_024, 1_024)
    table = cli("report", toy).out
    assert "Toy scale" in table and "gamma" in table
    for fmt in ("csv", "md", "latex"):
        assert cli("report", toy, "--format", fmt).code == 0
    # the sweep's fast path reads the same factor: at α = 1 and 32×32 (4× the areas)
    s = cli("sweep", toy, "--resolution", "16,32", "--format", "json").json()
    assert [p["madds"] for p in s["rows"]] == [madds, 4 * (73_728 + 1_024) + 160]
    v = cli("verify", toy, "--format", "json")
    assert v.code == 0 and "gamma" in json.dumps(v.json()["unchecked"])
    assert cli("check", toy, "--max-madds", str(madds)).code == 0
    assert cli("check", toy, "--max-madds", str(madds - 1)).code == 1
    c = cli("compare", toy, "--format", "json").json()
    assert {p["profile"]: p["total"] for p in c["profiles"]}["flopcounter"] == 2 * madds
    d = cli("diff", toy, "--alpha-b", "0.5", "--format", "json")
    assert d.code == 0
    assert cli("report", toy, "--device", "pixel1").code == 0
    assert cli("report", toy, "--depth", "2").code == 0
    # a format it has no handle for says so, with the kind's reason, and writes nothing
    out = tmp_path / "toy.onnx"
    run = cli("export", toy, "-o", out)  # said before onnx is needed, so the same without it
    assert_one_line_error(run, "mbcost export: 'toy' has no ONNX exporter yet: the test's toy has no ONNX op")
    assert not out.exists()


def test_compare_refuses_a_kind_whose_counter_rules_are_unknown(cli, toy, monkeypatch):
    # a kind without a rule for every counter is refused by compare with the reason it gives, never
    # counted as if the counters charged nothing for it
    monkeypatch.setitem(KINDS, "toy", Kind(**{**toy_kind().__dict__, "peers": None,
                                              "unsupported": {**toy_kind().unsupported, "peers": "being measured"}}))
    assert_one_line_error(cli("compare", toy), "--profile", "what ptflops counts for a toy layer is not known "
                                                            "(being measured)")


def test_a_kind_without_a_facet_fails_the_completeness_test(monkeypatch):
    broken = toy_kind()
    monkeypatch.setitem(KINDS, "toy", Kind(**{**broken.__dict__, "label": None}))
    with pytest.raises(AssertionError, match="toy lacks label"):
        test_every_kind_has_every_facet_or_says_why_not("toy")
