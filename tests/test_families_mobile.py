"""MobileNetV4, EfficientNetV2-B0, RepViT-M0.9 and MobileOne-S0: integers derived by hand from the
formulas (the cross-check tier compares the whole networks with timm's modules), the width
relative to a row's input (`t:` on conv rows) and the stand-alone batch norm they need."""
import pytest
import yaml

import mbcost
from conftest import assert_one_line_error
from mbcost.core.spec import spec_from_document
from mbcost.core.yamlio import parse

TV = mbcost.PROFILES["torchvision"]


def costs(doc: dict, **kw):
    return mbcost.analyze(spec_from_document(parse(yaml.safe_dump(doc, sort_keys=False), "net.yaml")), **kw)


def block(report, prefix: str):
    """The layers of one block instance."""
    return [r for r in report.layers if r.name.startswith(prefix + ".")]


EXPANDING = {"input": {"resolution": 8, "channels": 20}, "width": {"rule": "make_divisible", "divisor": 8},
             "layers": [{"kind": "pwconv", "name": "e", "t": 3}, {"kind": "conv", "name": "f", "k": 3, "t": 0.5}]}


@pytest.mark.parametrize("alpha, widths", [("1", (40, 120, 64)), ("0.5", (24, 72, 40))])
def test_t_is_a_width_relative_to_the_rows_input(alpha, widths):
    # on the network's 20 input channels (never scaled): make_divisible(3·20 = 60) = 64, then 64/2 = 32
    assert (lambda r: (r["e"].layer.c, r["f"].layer.c))(costs(EXPANDING, alpha=alpha)) == (64, 32)
    # after a conv of c = 40, t multiplies its α-scaled width, and α is applied once:
    #   α = 1:   40;                       3·40 = 120; 120/2 = 60 → 64
    #   α = 0.5: make_divisible(20) = 24;  3·24 = 72;  72/2 = 36 → 40
    doc = {**EXPANDING, "layers": [{"kind": "conv", "name": "a", "c": 40}] + EXPANDING["layers"]}
    r = costs(doc, alpha=alpha)
    assert (r["a"].layer.c, r["e"].layer.c, r["f"].layer.c) == widths


def test_t_and_c_together_are_one_line(cli, tmp_path):
    f = tmp_path / "both.yaml"
    f.write_text(yaml.safe_dump({"input": {"resolution": 8, "channels": 8},
                                 "layers": [{"kind": "pwconv", "c": 16, "t": 2}]}))
    assert_one_line_error(cli("report", f), "give the output width as 'c' (channels) or 't'")


def test_a_standalone_batchnorm_counts_as_the_convention_counts_a_bn():
    doc = {"input": {"resolution": 4, "channels": 8},
           "layers": [{"kind": "conv", "name": "a", "c": 8, "k": 1}, {"kind": "conv", "name": "b", "c": 8, "k": 1,
                                                                      "from": "input"},
                      {"kind": "add", "from": ["a", "b"]}, {"kind": "batchnorm", "name": "bn", "act": "relu"}]}
    paper, tv = costs(doc), costs(doc, convention=TV)
    assert (paper["bn"].madds, paper["bn"].params, tv["bn"].params) == (0, 0, 2 * 8)
    assert tv["bn"].layer.act == "relu" and tv.params - paper.params == 2 * 8
