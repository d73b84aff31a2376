"""Measure the seven counters on torchvision resnet18, resnet50, mobilenet_v3_large (and
mobilenet_v2 as a control) at 224, write measured_other_models.csv, and compare with the
FINDINGS.md per-layer-type formulas evaluated over element counts recorded by a shape trace.

    /work/notes/venv-tv/bin/python other_models.py            # measure (subprocess per counter) + predict
    /work/notes/venv-tv/bin/python other_models.py --predict  # predict only, from the saved CSV

The trace is only a shape recorder: for every leaf nn.Module call it records the module type,
input/output numel and the attributes the formulas need; a TorchFunctionMode records the
functional calls made *outside* leaf modules (F.adaptive_avg_pool2d, operator +, *, ...).
"""
import contextlib
import csv
import io
import logging
import subprocess
import sys
import types
import warnings
from collections import Counter
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.overrides import TorchFunctionMode

warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)
HERE = Path(__file__).resolve().parent
OUT = HERE / "measured_other_models.csv"
MODELS = ["resnet18", "resnet50", "mobilenet_v3_large", "mobilenet_v2"]
COUNTERS = ["ptflops", "ptflops_aten", "fvcore", "thop", "torchinfo", "calflops", "torch_fcm"]


def build(name):
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None).eval()


def measure(name, counter):
    model, x = build(name), torch.randn(1, 3, 224, 224)
    q = lambda f: (lambda: f())
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        if counter in ("ptflops", "ptflops_aten"):
            from ptflops import get_model_complexity_info
            return get_model_complexity_info(model, (3, 224, 224), as_strings=False, print_per_layer_stat=False,
                                             backend="pytorch" if counter == "ptflops" else "aten")[0]
        if counter == "fvcore":
            from fvcore.nn import FlopCountAnalysis
            a = FlopCountAnalysis(model, x)
            a.unsupported_ops_warnings(False)
            a.uncalled_modules_warnings(False)
            return a.total()
        if counter == "thop":
            from thop import profile
            return profile(model, inputs=(x,), verbose=False)[0]
        if counter == "torchinfo":
            from torchinfo import summary
            return summary(model, input_size=(1, 3, 224, 224), verbose=0).total_mult_adds
        if counter == "calflops":
            hf = types.ModuleType("calflops.flops_counter_hf")   # calflops/__init__ imports its HF entry point,
            hf.calculate_flops_hf = None                        # which needs transformers/accelerate: stub it
            sys.modules.setdefault("calflops.flops_counter_hf", hf)
            from calflops import calculate_flops
            return calculate_flops(model, input_shape=(1, 3, 224, 224), output_as_string=False,
                                   print_results=False, print_detailed=False)[1]
        if counter == "torch_fcm":
            from torch.utils.flop_counter import FlopCounterMode
            with FlopCounterMode(display=False) as f:
                model(x)
            return f.get_total_flops()


# ----------------------------------------------------------------------------- shape trace
def numel(t):
    return t.numel() if torch.is_tensor(t) else 0


def trace(name):
    """Leaf-module events and out-of-module functional events of one forward pass."""
    model, x = build(name), torch.randn(1, 3, 224, 224)
    events, depth = [], [0]

    def pre(m, inp):
        depth[0] += 1

    def post(m, inp, out):
        depth[0] -= 1
        e = dict(kind=type(m).__name__, inp=numel(inp[0]), out=numel(out))
        if isinstance(m, nn.Conv2d):
            e.update(w=m.weight.numel() * out.shape[2] * out.shape[3], b=numel(out) if m.bias is not None else 0)
        elif isinstance(m, nn.Linear):
            e.update(w=m.in_features * m.out_features, b=m.out_features if m.bias is not None else 0)
        elif isinstance(m, nn.BatchNorm2d):
            e.update(affine=m.affine, ch=m.num_features)
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            e.update(kernel=(inp[0].shape[2] * inp[0].shape[3]) // (out.shape[2] * out.shape[3]))
        events.append(e)

    for m in model.modules():
        if not any(m.children()):
            m.register_forward_pre_hook(pre)
            m.register_forward_hook(post)

    class Fn(TorchFunctionMode):
        def __torch_function__(self, func, types_, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            if depth[0] == 0:
                nm = getattr(func, "__name__", str(func))
                if nm not in ("__get__", "__set__", "dim", "size", "shape", "numel"):
                    events.append(dict(kind="fn:" + nm, inp=numel(args[0]) if args else 0,
                                       out=numel(out) if torch.is_tensor(out) else 0))
            return out

    with torch.no_grad(), Fn():
        model(x)
    return events


# ----------------------------------------------------------------------------- formulas
ACT_PT_HOOK = {"ReLU", "ReLU6", "PReLU", "ELU", "LeakyReLU", "GELU"}       # ptflops MODULES_MAPPING, output numel
ACT_PT_FUNC = {"ReLU", "PReLU", "ELU", "GELU", "SiLU"}                      # module forward calls a patched F.* (input numel)
POOL_MODS = {"MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"}


def predict(events):
    p = Counter()
    for e in events:
        k = e["kind"]
        if k == "Conv2d":
            for c in COUNTERS:
                p[c] += e["w"]
            for c in ("ptflops", "ptflops_aten", "torchinfo"):
                p[c] += e["b"]
        elif k == "Linear":
            for c in COUNTERS:
                p[c] += e["w"]
            for c in ("ptflops", "ptflops_aten", "torchinfo"):
                p[c] += e["b"]
        elif k == "BatchNorm2d":
            f = 2 if e["affine"] else 1
            p["ptflops"] += f * e["inp"]
            p["fvcore"] += f * e["inp"]          # eval mode
            p["thop"] += 2 * f * e["inp"]
            p["torchinfo"] += 2 * e["ch"] if e["affine"] else 0
        elif k in ACT_PT_HOOK | ACT_PT_FUNC:
            p["ptflops"] += (e["out"] if k in ACT_PT_HOOK else 0) + (e["inp"] if k in ACT_PT_FUNC else 0)
        elif k in POOL_MODS:
            p["ptflops"] += 2 * e["inp"]                       # module hook + patched F.*pool* inside forward
            if k == "AdaptiveAvgPool2d":
                p["fvcore"] += e["inp"]                        # aten::adaptive_avg_pool2d, input numel
                p["thop"] += (e["kernel"] + 1) * e["out"]      # count_adap_avgpool: (kernel adds + 1 div) per output
            if k == "AvgPool2d":
                p["thop"] += e["out"]
        elif k in ("fn:adaptive_avg_pool2d",):
            p["ptflops"] += e["inp"]
            p["fvcore"] += e["inp"]
        elif k in ("fn:relu", "fn:relu6", "fn:silu", "fn:gelu", "fn:elu", "fn:max_pool2d", "fn:avg_pool2d"):
            p["ptflops"] += e["inp"]
        # fn:add / fn:mul here are torchvision's operators `x + y` / `scale * input` (the trace sees them as
        # Tensor.add / Tensor.mul): ptflops patches the attributes torch.add / Tensor.add / torch.mul / Tensor.mul,
        # not Tensor.__add__ / __mul__, so the operators cost 0 (probe_modules.csv: add_operator, mul_operator_bcast).
        # A model calling torch.add(x, y) by name would add the broadcast output numel to ptflops.
        # Hardswish, Hardsigmoid, Sigmoid, Dropout, Identity, fn:__add__/__iadd__/__mul__, flatten: 0 everywhere
    p["torch_fcm"] *= 2
    return p


def terms(events):
    """Per-layer-type element sums, as FINDINGS.md names them."""
    t = Counter()
    for e in events:
        k = e["kind"]
        if k == "Conv2d":
            t["conv_w"] += e["w"]; t["conv_b"] += e["b"]
        elif k == "Linear":
            t["fc_w"] += e["w"]; t["fc_b"] += e["b"]
        elif k == "BatchNorm2d":
            t["bn_el"] += e["inp"]; t["bn_ch"] += e["ch"]
        elif k == "AdaptiveAvgPool2d":
            t["apool_mod_in"] += e["inp"]; t["apool_mod_out"] += e["out"]
        elif k.startswith("fn:"):
            t[k.replace("fn:", "op_") + "_el"] += e["out"]
        else:
            t[k + "_in"] += e["inp"]
    return t


def main():
    if "--one" in sys.argv:
        name, counter = sys.argv[2], sys.argv[3]
        try:
            print(int(measure(name, counter)))
        except Exception as e:
            print("ERR:" + type(e).__name__)
        return 0
    measured = {}
    if "--predict" in sys.argv and OUT.exists():
        for r in csv.reader(OUT.open()):
            if r and not r[0].startswith("#") and r[0] != "model":
                measured[r[0]] = dict(zip(["params"] + COUNTERS, r[2:]))
    else:
        for m in MODELS:
            row = {"params": str(sum(p.numel() for p in build(m).parameters()))}
            for c in COUNTERS:
                out = subprocess.run([sys.executable, __file__, "--one", m, c], capture_output=True, text=True)
                row[c] = (out.stdout.strip().splitlines() or ["ERR"])[-1]
            measured[m] = row
            print(m, row, flush=True)
        import importlib.metadata as md
        v = {p: md.version(p) for p in ["torch", "torchvision", "ptflops", "fvcore", "thop", "torchinfo", "calflops"]}
        with OUT.open("w", newline="") as f:
            f.write("# Measured by /work/notes/peers/other_models.py: torchvision models, weights=None, eval, batch 1, 3x224x224, 1000 classes.\n")
            f.write("# Versions: " + ", ".join(f"{k} {x}" for k, x in v.items())
                    + ". ptflops = backend 'pytorch' (default); ptflops_aten = backend 'aten'; fvcore = FlopCountAnalysis.total();"
                      " thop = profile()[0]; torchinfo = summary().total_mult_adds; calflops = MACs; torch_fcm = FlopCounterMode total FLOPs (2 x MACs).\n")
            w = csv.writer(f)
            w.writerow(["model", "res", "params"] + COUNTERS)
            for m, row in measured.items():
                w.writerow([m, 224, row["params"]] + [row[c] for c in COUNTERS])
    ok = True
    for m in MODELS:
        ev = trace(m)
        pr = predict(ev)
        kinds = Counter(e["kind"] for e in ev)
        print(f"\n{m}: traced kinds {dict(kinds)}")
        print(f"  terms {dict(sorted(terms(ev).items()))}")
        for c in COUNTERS:
            meas = measured[m][c]
            good = meas.lstrip("-").isdigit() and int(meas) == pr[c]
            ok &= good
            print(f"  {c:13s} measured {meas:>14s} predicted {pr[c]:>14d} {'OK' if good else 'DIFF ' + (str(int(meas) - pr[c]) if meas.lstrip('-').isdigit() else '')}")
    print("\nALL MATCH" if ok else "\nSOME DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
