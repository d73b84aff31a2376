"""Run FLOP counters on many torch modules, each in a forked child: ``python _counters.py
COUNTER[,COUNTER…]`` reads a JSON list of cases on stdin and writes {counter: {case id: {"value": n}
or {"crash": why}}} on stdout.

Every counter runs in a child forked for it and the case: ptflops, thop and calflops patch
torch.nn.functional and torch.Tensor methods globally, and a run that fails half-way leaves them
patched (calflops raises StopIteration on a module without parameters after patching, and never
unpatches: NEW_OPS.md "Crashes"), so one run's patches, hooks and failures die with its child.
The process only imports the counters and builds each case's module once, before the forks.

A case is {"id": …, "build": [source, name, options], "input": [C, H, W]}:
- ["torchvision", model name, keyword arguments of torchvision.models.get_model];
- ["timm", model name, {"reparameterize": bool}] (timm.utils.model.reparameterize_model: the deploy form);
- ["case", function name in _peer_cases, {}]: a ported unit-test module.

How each counter is called is how its README calls it, batch 1, eval mode; FlopCounterMode with
grad enabled and the math attention backend (the profile's reading, docs/peers.md).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback
import types
import warnings
from pathlib import Path

COUNTERS = ("ptflops", "ptflops-aten", "fvcore", "thop", "torchinfo", "calflops", "flopcounter")


def import_counter(counter: str):
    if counter.startswith("ptflops"):
        from ptflops import get_model_complexity_info
        return get_model_complexity_info
    if counter == "fvcore":
        from fvcore.nn import FlopCountAnalysis
        return FlopCountAnalysis
    if counter == "thop":
        from thop import profile
        return profile
    if counter == "torchinfo":
        from torchinfo import summary
        return summary
    if counter == "calflops":
        # calflops/__init__.py imports its Hugging Face entry point, which needs transformers (not a
        # dependency of calflops); calculate_flops itself does not use it
        hf = types.ModuleType("calflops.flops_counter_hf")
        hf.calculate_flops_hf = None
        sys.modules.setdefault("calflops.flops_counter_hf", hf)
        from calflops import calculate_flops
        return calculate_flops
    if counter == "flopcounter":
        from torch.utils.flop_counter import FlopCounterMode
        return FlopCounterMode
    raise SystemExit(f"unknown counter {counter!r}; expected one of {', '.join(COUNTERS)}")


def build(spec):
    import torch

    source, name, options = spec
    torch.manual_seed(0)
    if source == "torchvision":
        import torchvision

        return torchvision.models.get_model(name, weights=None, **options)
    if source == "timm":
        import timm

        net = timm.create_model(name, pretrained=False)
        if options.get("reparameterize"):
            from timm.utils.model import reparameterize_model

            net = reparameterize_model(net.eval())
        return net
    if source == "case":
        sys.path.insert(0, str(Path(__file__).parent))
        import _peer_cases

        return _peer_cases.CASES[name].module()
    raise SystemExit(f"unknown source {source!r}")


def measure(counter: str, api, model, x) -> int:
    """The counter's total as its README reads it (MACs; FlopCounterMode: FLOPs)."""
    import torch

    model.eval()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if counter in ("ptflops", "ptflops-aten"):
            v = api(model, tuple(x.shape[1:]), input_constructor=lambda _: x, as_strings=False,
                    print_per_layer_stat=False, backend="pytorch" if counter == "ptflops" else "aten")[0]
            if v is None:  # ptflops catches the exception, prints it and returns None
                lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
                raise RuntimeError("ptflops returned None: " + " | ".join(lines[:1] + lines[-1:]))
        elif counter == "fvcore":
            a = api(model, x)
            a.unsupported_ops_warnings(False)
            a.uncalled_modules_warnings(False)
            v = a.total()
        elif counter == "thop":
            v = api(model, inputs=(x,), verbose=False)[0]
        elif counter == "torchinfo":
            v = api(model, input_data=[x], verbose=0).total_mult_adds
        elif counter == "calflops":
            v = api(model, args=[x], output_as_string=False, print_results=False, print_detailed=False)[1]
        else:
            from torch.nn.attention import SDPBackend, sdpa_kernel

            with torch.enable_grad(), sdpa_kernel(SDPBackend.MATH), api(display=False) as f:
                model(x)
            v = f.get_total_flops()
    value = float(v)
    if not value.is_integer():
        raise RuntimeError(f"a non-integer total {value}")
    return int(value)


def in_child(fn) -> dict:
    """fn() in a forked child: its patching and its failures die with it."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            res = {"value": fn()}
        except BaseException as e:  # noqa: BLE001 - a crash is what the counter does on this model
            tb = traceback.extract_tb(e.__traceback__)
            where = f" at {Path(tb[-1].filename).parent.name}/{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
            first = str(e).splitlines()[0] if str(e) else ""
            res = {"crash": f"{type(e).__name__}{': ' + first if first else ''}{where}"}
        with os.fdopen(w, "w") as f:
            f.write(json.dumps(res))
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data) if data else {"crash": "the child died without a result"}


def run(counters: list[str], cases: list[dict]) -> dict:
    """{counter: {case id: result}}. Each case's module is built once, here, and each counter runs
    on it in a child of its own: the built-ins' weight initialisation (VGG-16's 138M numbers) was
    half of each counter's run when every counter built them again."""
    import torch

    torch.set_num_threads(1)
    apis = {counter: import_counter(counter) for counter in counters}
    # the frameworks are imported here, once, before the forks: imported in each child they cost
    # 1–2 s per case (timm's import alone), four fifths of a counter's run on the built-ins
    for source in sorted({case["build"][0] for case in cases} & {"torchvision", "timm"}):
        __import__(source)
    # and FlopCounterMode run once on a toy module: its first use imports and registers its
    # machinery (about 1 s), which a child would otherwise pay for every case. It is a dispatch
    # mode that leaves nothing behind; the others patch torch while they run, so only children run them
    if "flopcounter" in apis:
        measure("flopcounter", apis["flopcounter"], torch.nn.Linear(1, 1), torch.zeros(1, 1))

    out = {counter: {} for counter in counters}
    for case in cases:
        net, x = build(case["build"]), torch.zeros(1, *case["input"])
        for counter, api in apis.items():
            out[counter][case["id"]] = in_child(lambda: measure(counter, api, net, x))
    return out


if __name__ == "__main__":
    json.dump(run(sys.argv[1].split(","), json.load(sys.stdin)), sys.stdout)
