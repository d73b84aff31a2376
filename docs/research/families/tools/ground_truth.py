"""Ground truth from torchvision: params, per-layer modules, output shapes, FlopCounterMode/2.
Run with /work/notes/venv-tv/bin/python. Random weights, eval mode, batch 1, no download."""
import json, sys, csv, math
import torch, torchvision
from torch.utils.flop_counter import FlopCounterMode
from torchvision import models as M
from torchvision.models import get_model_weights

OUT = "/work/notes/families/ground_truth"
torch.manual_seed(0)

def meta_of(name):
    try:
        W = get_model_weights(name)
    except Exception:
        return None, None, None
    w = W.DEFAULT
    m = w.meta
    crop = None
    try:
        t = w.transforms()
        crop = t.crop_size[0] if hasattr(t, "crop_size") else None
    except Exception:
        pass
    return m.get("num_params"), m.get("_ops"), crop, str(w)

def leaf_records(model, x):
    recs = []
    hooks = []
    for name, mod in model.named_modules():
        if len(list(mod.children())) == 0:
            def hook(m, inp, out, name=name):
                shp = tuple(out.shape) if torch.is_tensor(out) else None
                ishp = tuple(inp[0].shape) if inp and torch.is_tensor(inp[0]) else None
                recs.append({"name": name, "type": type(m).__name__, "repr": repr(m),
                             "in": ishp, "out": shp,
                             "params": sum(p.numel() for p in m.parameters(recurse=False))})
            hooks.append(mod.register_forward_hook(hook))
    with torch.no_grad():
        model(x)
    for h in hooks: h.remove()
    return recs

def run(name, builder_kwargs=None, res=None, label=None, variant=""):
    builder_kwargs = builder_kwargs or {}
    nparams_meta, ops_meta, crop, wname = (meta_of(name) + (None,))[:4] if False else _meta(name)
    model = M.get_model(name, weights=None, **builder_kwargs).eval()
    r = res or crop or 224
    x = torch.randn(1, 3, r, r)
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    fc = FlopCounterMode(display=False)
    with torch.no_grad(), fc:
        y = model(x)
    flops = fc.get_total_flops()
    per_op = {str(k): int(v) for k, v in fc.get_flop_counts().get("Global", {}).items()}
    recs = leaf_records(model, x)
    # per-leaf MACs: recompute per conv/linear from shapes (analytic, same as flop counter)
    for rc in recs:
        mod = dict(model.named_modules())[rc["name"]]
        if isinstance(mod, torch.nn.Conv2d):
            kh, kw = mod.kernel_size
            rc["macs"] = rc["out"][1] * rc["out"][2] * rc["out"][3] * (mod.in_channels // mod.groups) * kh * kw
        elif isinstance(mod, torch.nn.Linear):
            rc["macs"] = mod.in_features * mod.out_features
        else:
            rc["macs"] = 0
    leaf_macs = sum(rc["macs"] for rc in recs)
    lab = label or name
    out = {"model": name, "variant": variant, "label": lab, "builder_kwargs": {k: str(v) for k, v in builder_kwargs.items()},
           "resolution": r, "params": params, "buffers": buffers,
           "flopcounter_flops": flops, "flopcounter_madds": flops // 2 if flops % 2 == 0 else flops / 2,
           "leaf_macs_sum": leaf_macs, "per_op": per_op,
           "meta_num_params": nparams_meta, "meta_gflops": ops_meta, "weights": wname, "crop": crop,
           "output_shape": list(y.shape) if torch.is_tensor(y) else str(type(y)),
           "layers": recs}
    with open(f"{OUT}/{lab}.json", "w") as f:
        json.dump(out, f, indent=1)
    with open(f"{OUT}/{lab}.txt", "w") as f:
        f.write(f"# {lab}: torchvision {torchvision.__version__} {name} {builder_kwargs} at {r}x{r}\n")
        f.write(f"# params {params}  flopcounter FLOPs {flops}  /2 = {flops/2}  leaf-MAC sum {leaf_macs}\n")
        f.write(f"# meta num_params {nparams_meta} _ops {ops_meta} ({wname})\n")
        for rc in recs:
            f.write(f"{rc['name']:40s} {rc['type']:18s} in={rc['in']} out={rc['out']} params={rc['params']} macs={rc['macs']}  {rc['repr']}\n")
    print(lab, r, params, flops / 2, leaf_macs, nparams_meta, ops_meta, flush=True)
    return out

def _meta(name):
    try:
        W = get_model_weights(name)
    except Exception:
        return None, None, None, None
    w = W.DEFAULT
    m = w.meta
    crop = None
    try:
        t = w.transforms()
        crop = t.crop_size[0]
    except Exception:
        pass
    return m.get("num_params"), m.get("_ops"), crop, str(w)

JOBS = []
def job(*a, **k): JOBS.append((a, k))

job("mobilenet_v3_large"); job("mobilenet_v3_small")
for b in range(8): job(f"efficientnet_b{b}")
for a in ["0_5", "0_75", "1_0", "1_3"]: job(f"mnasnet{a}")
for a in ["x0_5", "x1_0", "x1_5", "x2_0"]: job(f"shufflenet_v2_{a}")
job("resnet18"); job("resnet50"); job("vgg16"); job("vgg16_bn")
job("googlenet", {"aux_logits": False, "init_weights": True}, label="googlenet")
job("googlenet", {"aux_logits": True, "init_weights": True}, label="googlenet_aux")
job("squeezenet1_0"); job("squeezenet1_1"); job("alexnet")

if __name__ == "__main__":
    rows = []
    only = sys.argv[1:]
    for a, k in JOBS:
        lab = k.get("label") or a[0]
        if only and lab not in only: continue
        try:
            rows.append(run(*a, **k))
        except Exception as e:
            print("FAIL", lab, repr(e), flush=True)
    with open(f"{OUT}/summary.json", "w") as f:
        json.dump([{k: v for k, v in r.items() if k != "layers"} for r in rows], f, indent=1)

def extra():
    # torchvision's own width_mult rule at 0.75 (no published weights)
    run("mobilenet_v3_large", {"width_mult": 0.75}, label="mobilenet_v3_large_w0.75", variant="0.75")
    run("mobilenet_v3_small", {"width_mult": 0.75}, label="mobilenet_v3_small_w0.75", variant="0.75")
