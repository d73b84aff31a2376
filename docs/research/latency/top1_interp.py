#!/usr/bin/env python3
"""How well can MobileNetV2 top-1 be interpolated from TF-slim's 22 published checkpoints?

Compares, by leave-one-out (LOO) error in top-1 points:
  A  top1 = a + b ln(MACs)                       (one curve through all 22)
  B  top1 = a + b ln(MACs) + c ln(MACs)^2
  C  top1 = a + b ln(MACs) + c ln(params)        (params carry width; MACs carry width*res^2)
  D  top1 = a + b ln(alpha) + c ln(res) + d ln(alpha)^2 + e ln(res)^2 + f ln(alpha) ln(res)
  G  bilinear in (alpha, res) on the published grid: alpha in {0.35,0.5,0.75,1.0} x res in
     {96,...,224}; LOO only for interior points, interpolating the removed point from its
     grid neighbours (average of the linear interpolations along alpha and along res).
  Glog  the same in (ln alpha, ln res).
  Note: removing a grid point doubles the spacing there, so G's LOO overstates the error of
  interpolating between published points (for smooth curvature, error ~ spacing^2: ~1/4).
MACs are the README's printed millions; ln(alpha), ln(res) use the checkpoint's nominal values.
"""
import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
rows = list(csv.DictReader(open(HERE / "tfslim_mobilenet_v2.csv")))
al = np.array([float(r["alpha"]) for r in rows])
rs = np.array([float(r["resolution"]) for r in rows])
mac = np.array([float(r["macs_m"]) for r in rows])
par = np.array([float(r["params_m"]) for r in rows])
t1 = np.array([float(r["top1"]) for r in rows])


def design(name, idx):
    lm, lp, la, lr = np.log(mac[idx]), np.log(par[idx]), np.log(al[idx]), np.log(rs[idx])
    one = np.ones_like(lm)
    return {
        "A": np.c_[one, lm],
        "B": np.c_[one, lm, lm ** 2],
        "C": np.c_[one, lm, lp],
        "D": np.c_[one, la, lr, la ** 2, lr ** 2, la * lr],
    }[name]


def loo_linear(name):
    n = len(t1)
    errs = []
    for i in range(n):
        keep = np.array([j for j in range(n) if j != i])
        coef, *_ = np.linalg.lstsq(design(name, keep), t1[keep], rcond=None)
        errs.append(float((design(name, np.array([i])) @ coef)[0] - t1[i]))
    coef, *_ = np.linalg.lstsq(design(name, np.arange(n)), t1, rcond=None)
    fit_err = design(name, np.arange(n)) @ coef - t1
    return np.array(errs), fit_err, coef


def loo_bilinear(log=False):
    grid_a = [0.35, 0.5, 0.75, 1.0]
    grid_r = [96, 128, 160, 192, 224]
    T = {(a, r): t for a, r, t in zip(al, rs, t1)}
    errs = []
    for ia in range(1, len(grid_a) - 1):
        for ir in range(1, len(grid_r) - 1):
            a, r = grid_a[ia], grid_r[ir]
            a0, a1 = grid_a[ia - 1], grid_a[ia + 1]
            r0, r1 = grid_r[ir - 1], grid_r[ir + 1]
            f = np.log if log else (lambda x: x)
            wa = (f(a) - f(a0)) / (f(a1) - f(a0))
            wr = (f(r) - f(r0)) / (f(r1) - f(r0))
            along_a = T[(a0, r)] + (T[(a1, r)] - T[(a0, r)]) * wa
            along_r = T[(a, r0)] + (T[(a, r1)] - T[(a, r0)]) * wr
            errs.append(0.5 * (along_a + along_r) - T[(a, r)])
    return np.array(errs)


def main():
    print(f"{'model':<6}{'k':>3}{'fit RMSE':>10}{'LOO RMSE':>10}{'LOO MAE':>9}{'LOO max':>9}   (top-1 points)")
    for name in "ABCD":
        e, f, coef = loo_linear(name)
        print(f"{name:<6}{len(coef):>3}{np.sqrt(np.mean(f**2)):>10.2f}{np.sqrt(np.mean(e**2)):>10.2f}"
              f"{np.mean(np.abs(e)):>9.2f}{np.max(np.abs(e)):>9.2f}   coef {np.round(coef, 3).tolist()}")
    for lbl, lg in (("G", False), ("Glog", True)):
        e = loo_bilinear(lg)
        print(f"{lbl:<6}{'-':>3}{'0':>10}{np.sqrt(np.mean(e**2)):>10.2f}{np.mean(np.abs(e)):>9.2f}"
              f"{np.max(np.abs(e)):>9.2f}   (6 interior grid points only; "
              f"{'ln alpha, ln res' if lg else 'alpha, res'})")
    # same 6 interior points under the parametric models, for a like-for-like comparison
    interior = [i for i in range(len(t1)) if al[i] in (0.5, 0.75) and rs[i] in (128, 160, 192)]
    for name in "ACD":
        e_all, _, _ = loo_linear(name)
        ei = e_all[interior]
        print(f"  {name} on the same 6 interior points: LOO RMSE {np.sqrt(np.mean(ei**2)):.2f}, "
              f"MAE {np.mean(np.abs(ei)):.2f}, max {np.max(np.abs(ei)):.2f}")
    # worst points of model A / C
    for name in "AC":
        e_all, _, _ = loo_linear(name)
        worst = np.argsort(-np.abs(e_all))[:4]
        print(f"  {name} worst LOO: " + ", ".join(
            f"{rows[i]['checkpoint']} {e_all[i]:+.2f}" for i in worst))


if __name__ == "__main__":
    main()
