#!/usr/bin/env python3
"""Calibrated per-layer roofline latency model for MobileNets on a Pixel 1 big core (float).

    time = sum over layers L of  max(madds_L / rate_kind(L), bytes_L / bandwidth)
           + overhead * (number of layers)

fitted to the 22 Pixel-1 latencies of TF-slim's MobileNetV2 checkpoint table.

Inputs (all in this folder):
  layers.csv                 per-layer madds, params and shapes from mbcost (extract_layers.py)
  tfslim_mobilenet_v2.csv    the 22 published V2 checkpoints (fit targets)
  tfslim_mobilenet_v1.csv    the 16 V1 checkpoints (predicted; TF-slim publishes no latency)
  papers.csv                 V2 paper Table 4 and V3 paper Table 3 latencies (held out)

Conventions:
  bytes_L = 4 * (input activations + output activations + weights), fp32; a residual `add`
  reads two inputs. Weights are mbcost's "paper" parameters (batch norm folded, no biases).
  Layers = every layer mbcost lists (conv, dwconv, add, pool, fc): 64 for V2, 29 for V1.
  'conv' (the first 3x3 conv and every 1x1) and 'fc' use the standard rate; 'dwconv' its own.

Loss: least squares on log(predicted / published), i.e. relative error; parameters are fitted
in log space (all positive). LOO: refit without each of the 22 points, predict it.

Usage: python3 fit.py [--variant NAME] [--all] [--write-profile]
Needs numpy and scipy only.
"""
import argparse
import csv
import math
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

HERE = Path(__file__).resolve().parent
BYTES_PER_ELEM = 4  # fp32

# ----------------------------------------------------------------------------- data


def read_csv(name):
    with open(HERE / name, newline="") as f:
        return list(csv.DictReader(f))


def key(arch, alpha, res):
    return (arch, round(float(alpha), 4), int(res))


def load_layers():
    nets = {}
    for r in read_csv("layers.csv"):
        k = key(r["arch"], r["alpha"], r["resolution"])
        ih, iw, ic = int(r["in_h"]), int(r["in_w"]), int(r["in_c"])
        oh, ow, oc = int(r["out_h"]), int(r["out_w"]), int(r["out_c"])
        n_in = ih * iw * ic * (2 if r["kind"] == "add" else 1)
        nbytes = BYTES_PER_ELEM * (n_in + oh * ow * oc + int(r["params"]))
        nets.setdefault(k, []).append((r["name"], r["kind"], int(r["madds"]), nbytes))
    out = {}
    for k, ls in nets.items():
        out[k] = dict(
            names=[l[0] for l in ls],
            kind=np.array([l[1] for l in ls]),
            madds=np.array([l[2] for l in ls], dtype=float),
            bytes=np.array([l[3] for l in ls], dtype=float),
        )
    return out


# ----------------------------------------------------------------------------- model
# Parameters (natural units): rate_conv [GMAC/s], rate_dw [GMAC/s], bandwidth [GB/s],
# overhead [us per layer].  A variant fixes which of them are free; an absent rate_dw means
# rate_dw = rate_conv, an absent bandwidth means no memory term, an absent overhead means 0.

VARIANTS = {  # name -> free constants; "sum:" variants add the two terms instead of max()
    "macs":            ["rate_conv"],
    "macs+ovh":        ["rate_conv", "overhead"],
    "dw+ovh":          ["rate_conv", "rate_dw", "overhead"],
    "roofline":        ["rate_conv", "bandwidth"],
    "roofline+ovh":    ["rate_conv", "bandwidth", "overhead"],
    "roofline+dw":     ["rate_conv", "rate_dw", "bandwidth"],
    "roofline+dw+ovh": ["rate_conv", "rate_dw", "bandwidth", "overhead"],
    "sum:roofline":    ["rate_conv", "bandwidth"],
    "sum:roofline+dw+ovh": ["rate_conv", "rate_dw", "bandwidth", "overhead"],
}
CHOSEN = "roofline"  # the simplest variant with LOO MAPE <= 10% (see RESULTS.md)
UNITS = {"rate_conv": "GMAC/s", "rate_dw": "GMAC/s", "bandwidth": "GB/s", "overhead": "us/layer"}


def unpack(names, theta):
    p = dict(zip(names, np.exp(theta)))
    p.setdefault("rate_dw", p["rate_conv"])
    p.setdefault("bandwidth", math.inf)
    p.setdefault("overhead", 0.0)
    return p


def layer_times_ms(net, p):
    """(compute ms, memory ms) per layer."""
    rate = np.where(net["kind"] == "dwconv", p["rate_dw"], p["rate_conv"]) * 1e9
    t_c = net["madds"] / rate * 1e3
    t_m = net["bytes"] / (p["bandwidth"] * 1e9) * 1e3
    return t_c, t_m


def predict_ms(net, p, additive=False):
    t_c, t_m = layer_times_ms(net, p)
    t_l = t_c + t_m if additive else np.maximum(t_c, t_m)
    return float(t_l.sum() + p["overhead"] * 1e-3 * len(t_c))


def is_additive(variant):
    return variant.startswith("sum:")


START = {"rate_conv": [1.0, 2.5, 6.0], "rate_dw": [0.3, 1.0, 3.0],
         "bandwidth": [1.0, 4.0, 15.0], "overhead": [5.0, 30.0, 150.0]}


def fit(names, nets, targets, additive=False):
    """Least squares on log(pred/obs); a small grid of starts (the max() makes it piecewise)."""
    def resid(theta):
        p = unpack(names, theta)
        return np.array([math.log(predict_ms(n, p, additive) / t) for n, t in zip(nets, targets)])

    best = None
    grids = np.array(np.meshgrid(*[START[n] for n in names])).reshape(len(names), -1).T
    for x0 in grids:
        r = least_squares(resid, np.log(x0), method="trf", x_scale=1.0, max_nfev=4000)
        if best is None or r.cost < best.cost:
            best = r
    return unpack(names, best.x), best


def mape(pred, obs):
    pred, obs = np.asarray(pred), np.asarray(obs)
    return float(np.mean(np.abs(pred - obs) / obs) * 100)


# ----------------------------------------------------------------------------- report


def evaluate(variant, layers, v2, verbose=True):
    names, add = VARIANTS[variant], is_additive(variant)
    nets = [layers[key("mobilenet_v2", r["alpha"], r["resolution"])] for r in v2]
    obs = np.array([float(r["pixel1_cpu_ms"]) for r in v2])
    p, _ = fit(names, nets, obs, add)
    pred = np.array([predict_ms(n, p, add) for n in nets])
    loo = []
    for i in range(len(nets)):
        keep = [j for j in range(len(nets)) if j != i]
        pi, _ = fit(names, [nets[j] for j in keep], obs[keep], add)
        loo.append(predict_ms(nets[i], pi, add))
    loo = np.array(loo)
    return dict(variant=variant, params=p, pred=pred, obs=obs, loo=loo,
                fit_mape=mape(pred, obs), loo_mape=mape(loo, obs),
                loo_max=float(np.max(np.abs(loo - obs) / obs) * 100))


def fmt_params(p, names):
    return ", ".join(f"{n} = {p[n]:.4g} {UNITS[n]}" for n in names)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default=None, help="one of " + ", ".join(VARIANTS))
    ap.add_argument("--all", action="store_true", help="compare every variant (LOO for each)")
    ap.add_argument("--write-profile", action="store_true", help="rewrite pixel1.yaml")
    a = ap.parse_args(argv)

    layers = load_layers()
    v2 = read_csv("tfslim_mobilenet_v2.csv")
    v1 = read_csv("tfslim_mobilenet_v1.csv")

    if a.all or a.variant is None:
        print("variant comparison (fit on 22 TF-slim V2 Pixel-1 latencies; MAPE in %)")
        print("held-out columns: V2 paper Table 4 rows, published V1 113 / V2 75 / V2(1.4) 143 ms")
        print(f"{'variant':<18}{'k':>3}{'fit MAPE':>10}{'LOO MAPE':>10}{'LOO max':>9}"
              f"{'V1':>7}{'V2':>6}{'V2 1.4':>8}  constants")
        for v in VARIANTS:
            res = evaluate(v, layers, v2)
            t4 = [predict_ms(layers[key(ar, al, 224)], res["params"], is_additive(v))
                  for ar, al in (("mobilenet_v1", 1.0), ("mobilenet_v2", 1.0), ("mobilenet_v2", 1.4))]
            print(f"{v:<18}{len(VARIANTS[v]):>3}{res['fit_mape']:>10.2f}{res['loo_mape']:>10.2f}"
                  f"{res['loo_max']:>9.1f}{t4[0]:>7.1f}{t4[1]:>6.1f}{t4[2]:>8.1f}  "
                  f"{fmt_params(res['params'], VARIANTS[v])}")
        print()
    chosen = a.variant or CHOSEN
    res = evaluate(chosen, layers, v2)
    p, names, add = res["params"], VARIANTS[chosen], is_additive(chosen)
    print(f"chosen variant: {chosen}")
    print(f"fitted constants: {fmt_params(p, names)}")
    print(f"fit MAPE {res['fit_mape']:.2f}%   LOO MAPE {res['loo_mape']:.2f}%   "
          f"LOO max {res['loo_max']:.1f}%")
    print()
    print(f"{'checkpoint':<24}{'MMACs':>7}{'published':>10}{'fit':>8}{'err%':>7}{'LOO':>8}{'err%':>7}")
    for r, pr, lo, ob in zip(v2, res["pred"], res["loo"], res["obs"]):
        print(f"{r['checkpoint']:<24}{r['macs_m']:>7}{ob:>10.1f}{pr:>8.1f}{(pr/ob-1)*100:>+7.1f}"
              f"{lo:>8.1f}{(lo/ob-1)*100:>+7.1f}")

    print()
    print("held out: V2 paper Table 4 (Pixel 1, TF-Lite, 2018) and V3 paper Table 3 (newer TFLite)")
    held = [("V2 paper T4: MobileNetV1", "mobilenet_v1", 1.0, 224, 113.0),
            ("V2 paper T4: MobileNetV2", "mobilenet_v2", 1.0, 224, 75.0),
            ("V2 paper T4: MobileNetV2 (1.4)", "mobilenet_v2", 1.4, 224, 143.0),
            ("V3 paper T3: V2 1.0", "mobilenet_v2", 1.0, 224, 64.0),
            ("V3 paper T3: V2 0.35", "mobilenet_v2", 0.35, 224, 16.6)]
    for label, arch, al, rs, ms in held:
        pr = predict_ms(layers[key(arch, al, rs)], p, add)
        print(f"  {label:<32} published {ms:>6.1f} ms   predicted {pr:>6.1f} ms   "
              f"({(pr/ms-1)*100:+.1f}%)")

    print()
    print("TF-slim MobileNetV1 checkpoints (no published latency): predicted ms")
    for r in v1:
        n = layers[key("mobilenet_v1", r["alpha"], r["resolution"])]
        print(f"  {r['checkpoint']:<24} {predict_ms(n, p, add):6.1f}")

    if math.isfinite(p["bandwidth"]) and not add:
        print()
        print("memory-bound layers (bytes/bandwidth > madds/rate) under the fitted profile:")
        for arch, al, rs in [("mobilenet_v2", 1.0, 224), ("mobilenet_v2", 0.35, 96),
                             ("mobilenet_v2", 1.4, 224), ("mobilenet_v1", 1.0, 224)]:
            n = layers[key(arch, al, rs)]
            t_c, t_m = layer_times_ms(n, p)
            mb = t_m > t_c
            kinds = {}
            for kd, m in zip(n["kind"], mb):
                if m:
                    kinds[kd] = kinds.get(kd, 0) + 1
            tot = np.maximum(t_c, t_m).sum()
            share = np.maximum(t_c, t_m)[mb].sum() / tot * 100
            print(f"  {arch} {al} {rs}: {mb.sum()}/{len(mb)} layers memory-bound "
                  f"({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}); "
                  f"{share:.0f}% of roofline time")
            mbn = [nm for nm, m, kd in zip(n["names"], mb, n["kind"]) if m and kd in ("conv", "dwconv")]
            if mbn:
                print(f"      memory-bound conv/dwconv: {', '.join(mbn)}")
        # across all 22 V2 checkpoints: which kinds
        tally = {}
        for r in v2:
            n = layers[key("mobilenet_v2", r["alpha"], r["resolution"])]
            t_c, t_m = layer_times_ms(n, p)
            for kd, m in zip(n["kind"], t_m > t_c):
                a_, b_ = tally.get(kd, (0, 0))
                tally[kd] = (a_ + int(m), b_ + 1)
        print("  over all 22 V2 checkpoints: " + ", ".join(
            f"{k} {m}/{t}" for k, (m, t) in sorted(tally.items())))

    if a.write_profile:
        write_profile(chosen, res)
    return res


def write_profile(variant, res):
    p, names = res["params"], VARIANTS[variant]
    desc = {
        "rate_conv": "compute rate of standard and pointwise (1x1) convolutions and the classifier",
        "rate_dw": "compute rate of depthwise convolutions",
        "bandwidth": "effective memory bandwidth for fp32 activations + weights",
        "overhead": "fixed cost per layer (op dispatch, im2col/packing, small-tensor inefficiency)",
    }
    lines = [
        "# Fitted latency profile; generated by fit.py --write-profile (do not hand-edit numbers).",
        "name: pixel1-bigcore-tflite-fp32",
        "description: >-",
        "  Google Pixel 1, one large (Kryo) core, TensorFlow Lite, float32, batch 1.",
        "  Per-layer roofline: time = sum_L max(madds_L / rate(kind_L), bytes_L / bandwidth)",
        "  + overhead * n_layers, bytes_L = 4 * (input + output activations + weights).",
        "source:",
        "  targets: >-",
        "    22 'Mobile CPU (ms) Pixel 1' latencies of the float MobileNetV2 checkpoints,",
        "    tensorflow/models research/slim/nets/mobilenet/README.md",
        "    @ 60c28f91c1a69098fa8d69e4430705981fc4e132 (tfslim_mobilenet_v2.csv)",
        "  layer_costs: mbcost (paper convention) at commit 9f3fb74, via extract_layers.py",
        "  fit: least squares on log(predicted/published), fit.py",
        f"variant: {variant}",
        "conventions:",
        "  dtype_bytes: 4",
        "  bytes: input activations (two inputs for add) + output activations + weights",
        "  layers_counted: every mbcost layer (conv, dwconv, add, pool, fc)",
        "  rate_kinds: {conv: rate_conv, fc: rate_conv, dwconv: rate_dw}",
        "constants:",
    ]
    for n in ["rate_conv", "rate_dw", "bandwidth", "overhead"]:
        lines += [f"  {n}:"]
        if n in names:
            lines += [f"    value: {p[n]:.4g}", f"    unit: {UNITS[n]}", "    fitted: true"]
        else:
            eff = {"rate_dw": "same as rate_conv", "bandwidth": "null  # no memory term",
                   "overhead": "0"}[n]
            lines += [f"    value: {p['rate_conv']:.4g}" if n == "rate_dw" else f"    value: {eff}",
                      f"    unit: {UNITS[n]}", "    fitted: false  # not a free constant in this variant"]
        lines += [f"    meaning: {desc[n]}"]
    lines += [
        "quality:",
        f"  fit_mape_percent: {res['fit_mape']:.2f}",
        f"  loo_mape_percent: {res['loo_mape']:.2f}",
        f"  loo_max_abs_error_percent: {res['loo_max']:.1f}",
        "  n_points: 22",
    ]
    (HERE / "pixel1.yaml").write_text("\n".join(lines) + "\n")
    print(f"\nwrote {HERE / 'pixel1.yaml'}")


if __name__ == "__main__":
    main(sys.argv[1:])
