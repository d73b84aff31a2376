#!/usr/bin/env python3
"""Reproduce what seven PyTorch FLOP/MAC counters print for torchvision's MobileNetV2, from
per-layer element counts derived analytically (no torch needed), and assert equality with
every integer of /work/shared/reference/peer_counts_torchvision_mobilenet_v2.csv.

    python3 /work/notes/peers/check.py            # exit 0 iff all 30 x 8 integers match
    PYTHONPATH=/work/main python3 check.py        # also derives every term from mbcost's report (if importable)
                                                  # and checks it equals ours

Each counter's total is a formula over these per-layer terms (see FINDINGS.md for the source):
  conv_w   k*k*(Cin/g)*Cout*Hout*Wout per conv           conv_b  Cout*Hout*Wout per conv with bias
  bn_el    C*H*W elements of each BatchNorm2d (in = out)  bn_ch   C channels of each BatchNorm2d
  act_el   elements of each activation module, by type (in = out)
  add_el   elements of each residual add (operator `+` in torchvision)
  gpool_in C*H*W input elements of the global average pool (functional F.adaptive_avg_pool2d in
           torchvision's MobileNetV2.forward)        gpool_out  C output elements
  fc_w     in*out of the Linear                      fc_b       out (Linear bias)
  drop_el  elements through Dropout (counted by nobody)
"""
from __future__ import annotations

import csv
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CSV = Path("/work/shared/reference/peer_counts_torchvision_mobilenet_v2.csv")


# ---------------------------------------------------------------- torchvision MobileNetV2 shapes
def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """torchvision.models._utils._make_divisible (TF-slim's rule)."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


@dataclass
class Layer:
    kind: str                 # conv | bn | act | add | gpool | dropout | linear
    c_in: int = 0
    c_out: int = 0
    k: int = 1
    groups: int = 1
    h_in: int = 0
    h_out: int = 0
    bias: bool = False
    affine: bool = True
    act: str = ""             # activation type, e.g. relu6
    functional: bool = False  # op called as a function / tensor operator, not through an nn.Module

    @property
    def in_el(self) -> int:
        return self.c_in * self.h_in * self.h_in

    @property
    def out_el(self) -> int:
        return self.c_out * self.h_out * self.h_out


def torchvision_mobilenet_v2(alpha: float, res: int, classes: int = 1000) -> list[Layer]:
    """Layers executed by torchvision.models.mobilenet_v2(width_mult=alpha) on a 1x3xres x res
    input, in order, with their shapes (torchvision 0.29 mobilenetv2.py)."""
    L: list[Layer] = []

    def conv_bn(cin: int, cout: int, k: int, s: int, g: int, h: int, act: bool) -> int:
        ho = (h + 2 * ((k - 1) // 2) - k) // s + 1
        L.append(Layer("conv", cin, cout, k, g, h, ho, bias=False))  # Conv2dNormActivation: bias = norm_layer is None
        L.append(Layer("bn", cout, cout, h_in=ho, h_out=ho))
        if act:
            L.append(Layer("act", cout, cout, h_in=ho, h_out=ho, act="relu6"))  # nn.ReLU6(inplace=True) module
        return ho

    c = make_divisible(32 * alpha)
    last = make_divisible(1280 * max(1.0, alpha))     # torchvision: last channel never shrinks below 1280
    h = conv_bn(3, c, 3, 2, 1, res, True)
    for t, co, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                        (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        co = make_divisible(co * alpha)
        for i in range(n):
            st = s if i == 0 else 1
            hid = int(round(c * t))                   # InvertedResidual: hidden_dim = int(round(inp * t))
            if t != 1:
                h = conv_bn(c, hid, 1, 1, 1, h, True)
            h = conv_bn(hid, hid, 3, st, hid, h, True)
            h = conv_bn(hid, co, 1, 1, 1, h, False)   # linear bottleneck: Conv2d + BatchNorm2d, no activation
            if st == 1 and c == co:
                L.append(Layer("add", co, co, h_in=h, h_out=h, functional=True))  # `return x + self.conv(x)`
            c = co
    h = conv_bn(c, last, 1, 1, 1, h, True)
    L.append(Layer("gpool", last, last, h_in=h, h_out=1, functional=True))  # nn.functional.adaptive_avg_pool2d
    L.append(Layer("dropout", last, last, h_in=1, h_out=1))                # classifier[0] nn.Dropout(0.2)
    L.append(Layer("linear", last, classes, bias=True, h_in=1, h_out=1))   # classifier[1] nn.Linear
    return L


# ---------------------------------------------------------------- per-layer element counts
def terms(layers: list[Layer]) -> Counter:
    t: Counter = Counter()
    for l in layers:
        if l.kind == "conv":
            t["conv_w"] += l.k * l.k * (l.c_in // l.groups) * l.c_out * l.h_out * l.h_out
            t["conv_b"] += l.out_el if l.bias else 0
            t["conv_params"] += l.k * l.k * (l.c_in // l.groups) * l.c_out + (l.c_out if l.bias else 0)
        elif l.kind == "bn":
            t["bn_el" if l.affine else "bn_el_noaffine"] += l.out_el
            t["bn_ch"] += l.c_out if l.affine else 0
        elif l.kind == "act":
            t[f"act_el:{l.act}"] += l.out_el
        elif l.kind == "add":
            t["add_el"] += l.out_el
        elif l.kind == "gpool":
            t["gpool_in" if l.functional else "gpool_mod_in"] += l.in_el
            t["gpool_out" if l.functional else "gpool_mod_out"] += l.c_out
        elif l.kind == "dropout":
            t["drop_el"] += l.out_el
        elif l.kind == "linear":
            t["fc_w"] += l.c_in * l.c_out
            t["fc_b"] += l.c_out if l.bias else 0
    return t


# ---------------------------------------------------------------- the counters' formulas
def params(t):
    return t["conv_params"] + t["fc_w"] + t["fc_b"] + 2 * t["bn_ch"]


def ptflops_pytorch(t):
    # module hooks: conv w+b, BN 2x (affine), ReLU6 output numel, Linear in*out+out;
    # functional patch: F.adaptive_avg_pool2d input numel. Residual `+` (Tensor.__add__) and Dropout: 0.
    return (t["conv_w"] + t["conv_b"] + 2 * t["bn_el"] + t["bn_el_noaffine"] + t["act_el:relu6"]
            + t["gpool_in"] + t["fc_w"] + t["fc_b"])


def ptflops_aten(t):
    # aten.convolution (+ bias Cout*HW) and aten.addmm (+ bias) only.
    return t["conv_w"] + t["conv_b"] + t["fc_w"] + t["fc_b"]


def fvcore(t):
    # aten::_convolution (no bias), aten::batch_norm eval: numel x (2 affine | 1),
    # aten::adaptive_avg_pool2d: input numel, aten::linear: in*out (no bias). Everything else 0.
    return t["conv_w"] + 2 * t["bn_el"] + t["bn_el_noaffine"] + t["gpool_in"] + t["fc_w"]


def thop(t):
    # module hooks: conv (never bias), BN 2*numel x2 if affine, Linear in*out; ReLU6/Dropout zero_ops;
    # functional adaptive_avg_pool2d and `+` invisible.
    return t["conv_w"] + 4 * t["bn_el"] + 2 * t["bn_el_noaffine"] + t["fc_w"]


def torchinfo(t):
    # leaf modules' parameters named weight/bias: Conv* x output H*W, others x batch (=1).
    return t["conv_w"] + t["conv_b"] + 2 * t["bn_ch"] + t["fc_w"] + t["fc_b"]


def calflops_macs(t):
    # MACs only from F.conv*, F.linear (no bias), matmul/addmm; every other op has 0 MACs.
    return t["conv_w"] + t["fc_w"]


def torch_fcm(t):
    # FlopCounterMode: aten.convolution 2*MACs (no bias), aten.addmm 2*m*k*n (no bias); the CSV holds FLOPs.
    return 2 * (t["conv_w"] + t["fc_w"])


FORMULAS = {"params": params, "ptflops": ptflops_pytorch, "ptflops_aten": ptflops_aten, "fvcore": fvcore,
            "thop": thop, "torchinfo": torchinfo, "calflops": calflops_macs, "torch_fcm": torch_fcm}


MBCOST_V2 = Path("/work/main/configs/mobilenet_v2.yaml")   # path, not the builtin name: the name lookup is mid-refactor


def terms_from_mbcost(alpha: float, res: int):
    """The same terms read (read-only) from mbcost's per-layer report, or None if mbcost is not importable."""
    try:
        import mbcost  # noqa: PLC0415
        arch = str(MBCOST_V2) if MBCOST_V2.exists() else "mobilenet_v2"
        r = mbcost.analyze(arch, alpha=alpha, resolution=res, convention=mbcost.PROFILES["torchvision"])
    except Exception:  # mbcost is being refactored; never fail the check on it
        return None
    el = lambda shape: shape[0] * shape[1] * shape[2]      # mbcost shapes are (H, W, C)
    t: Counter = Counter()
    for x in r.layers:
        l, o = x.layer, x.output_shape
        if l.kind in ("conv", "dwconv"):
            t["conv_w"] += x.madds
            t["conv_b"] += el(o) if l.bias else 0
            t["conv_params"] += x.madds // (o[0] * o[1]) + (l.c if l.bias else 0)
            if l.bn:
                t["bn_el"] += el(o)
                t["bn_ch"] += l.c
            if l.act != "linear":
                t[f"act_el:{l.act}"] += el(o)
        elif l.kind == "add":
            t["add_el"] += el(o)
        elif l.kind == "pool":   # torchvision pools with nn.functional.adaptive_avg_pool2d
            t["gpool_in"] += el(x.input_shape)
            t["gpool_out"] += el(o)
        elif l.kind == "fc":
            t["fc_w"] += x.madds
            t["fc_b"] += l.c if l.bias else 0
            t["drop_el"] += el(x.input_shape)   # mbcost has no dropout row; torchvision's Dropout sits before the fc
    t["_mbcost_params"] = r.params
    return t


def main() -> int:
    rows = [r for r in csv.reader(CSV.open()) if r and not r[0].startswith("#")]
    header, data = rows[0], rows[1:]
    cols = header[2:]
    assert set(cols) == set(FORMULAS), (cols, list(FORMULAS))
    bad = checked = 0
    mb = Counter()
    for r in data:
        alpha, res = float(r[0]), int(r[1])
        t = terms(torchvision_mobilenet_v2(alpha, res))
        for col, val in zip(cols, r[2:]):
            got = FORMULAS[col](t)
            checked += 1
            if got != int(val):
                bad += 1
                print(f"MISMATCH alpha={alpha} res={res} {col}: csv {val} formula {got} (diff {int(val) - got})")
        tm = terms_from_mbcost(alpha, res)
        if tm is None:
            mb["mbcost not importable: skipped"] += 1
            continue
        same = {k: v for k, v in t.items() if v} == {k: v for k, v in tm.items() if v and k != "_mbcost_params"}
        same &= tm["_mbcost_params"] == params(t)
        mb["identical terms and params" if same else "DIFFERENT"] += 1
        if not same:
            bad += 1
            print(f"mbcost terms differ at alpha={alpha} res={res}: ours {dict(t)} mbcost {dict(tm)}")
    print(f"{len(data)} configurations x {len(cols)} columns = {checked} integers; mismatches: {bad}")
    print("mbcost per-layer terms (mbcost.analyze on configs/mobilenet_v2.yaml, torchvision profile) vs ours:", dict(mb))
    t = terms(torchvision_mobilenet_v2(1.0, 224))
    print("alpha=1.0 res=224 terms:", {k: v for k, v in sorted(t.items())})
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
