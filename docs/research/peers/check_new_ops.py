"""The rules of NEW_OPS.md as code, checked against every measured row (no torch needed).

    python3 check_new_ops.py new_ops.csv            # check every row
    python3 check_new_ops.py --table new_ops.csv    # the measured values as NEW_OPS.md's appendix table

Each rule is a formula over the element counts the probe recorded for the case (the CSV's `elements` column);
a rule may look at how the case calls the op (module, functional, operator, by-name method), which is the part an
architecture file cannot say. Exit 0 when every measured value equals its prediction.
"""
from __future__ import annotations

import csv
import json
import sys

NO_GRAD_COUNTERS = {"thop", "torchinfo", "flopcounter-nograd"}  # they run the model under torch.no_grad()


def layernorm(c, name, e):
    n, C = e["numel"], e["C"]
    weight = "noaffine" not in name
    bias = weight and "weight_only" not in name
    exact_nn = name.startswith("ln_")  # an nn.LayerNorm instance; timm's LayerNorm/LayerNorm2d are subclasses
    module = exact_nn or name.startswith("timm_")
    return {
        "ptflops": n if exact_nn else 0,  # bn_flops_counter_hook: LayerNorm has no `.affine`, so ×1 always
        "fvcore": (5 if weight else 4) * n,
        "thop": ((4 if weight else 2) * n) if exact_nn else 0,
        "torchinfo": (C * weight + C * bias) if module else 0,  # γ, β numel × batch
    }.get(c, 0)


def groupnorm(c, name, e):
    n, C = e["numel"], e["C"]
    affine = "noaffine" not in name
    exact_nn = name.startswith("gn")
    return {
        "ptflops": (2 if affine else 1) * n if exact_nn else 0,  # GroupNorm has `.affine`
        "fvcore": (5 if affine else 4) * n,
        "torchinfo": 2 * C if affine and not name.startswith("F.") else 0,
    }.get(c, 0)


def linear(c, name, e):
    bias = "nobias" not in name
    functional = name.startswith("F.")
    W, b = e["W"], e["bias_el"] if bias else 0
    return {
        "ptflops": 0 if functional else W + b,  # F.linear is not patched
        "ptflops-aten": W + b,
        "fvcore": W,
        "thop": 0 if functional else W,
        "torchinfo": 0 if functional else e["params_w"] + (e["params_b"] if bias else 0),  # × batch, not × tokens
        "calflops": W,
    }.get(c, 2 * W if c.startswith("flopcounter") else 0)


def matmul(c, name, e):
    m = e["macs"]
    by_name = any(s in name for s in ("torch.matmul", "Tensor.matmul", "torch.bmm"))
    return {
        "ptflops": m if by_name else 0,  # `@` and einsum are not patched
        "ptflops-aten": m,
        "fvcore": m,
        "calflops": m if ("torch.matmul" in name or "Tensor.matmul" in name) else 0,  # bmm patch commented out
    }.get(c, 2 * m if c.startswith("flopcounter") else 0)


def sdpa(c, name, e):
    core = e["qk_macs"] + e["av_macs"]
    math = "math" in name
    if c == "flopcounter":
        return 2 * core  # measured under sdpa_kernel(MATH)
    if c in ("flopcounter-nograd", "flopcounter-grad-default"):
        return 2 * core if math else 0  # CPU's _scaled_dot_product_flash_attention_for_cpu has no formula
    return core if (c == "ptflops-aten" and math) else 0


def mha(c, name, e):
    if name.startswith("timm_Attention"):
        return timm_attention(c, name, e)
    nw = "need_weights=True" in name
    grad = name.rsplit("_", 1)[1]
    fast = grad == "force-nograd" or (grad == "as-called" and c in NO_GRAD_COUNTERS)
    proj = e["in_proj"] + e["out_proj"]
    bias = e["in_bias"] + e["out_bias"]
    core = e["qk"] + e["av"]
    hook = e["q"] + proj + bias + core + e["attn"]  # multihead_attention_counter_hook
    if c == "ptflops":
        return hook + (0 if fast or not nw else core + e["attn"])  # + patched torch.bmm ×2 and F.softmax
    if fast:
        return 0
    return {
        "ptflops-aten": proj + bias + (core if nw else 0),
        "fvcore": proj + (core if nw else 0),
        "calflops": proj,
        "flopcounter": 2 * (proj + core),
        "flopcounter-nograd": 2 * (proj + (core if nw else 0)),
        "flopcounter-grad-default": 2 * (proj + (core if nw else 0)),
    }.get(c, 0)


def timm_attention(c, name, e):
    fused = name.endswith("_fused")
    proj = e["qkv"] + e["proj"]
    bias = e["qkv_bias"] + e["proj_bias"]
    core = e["qk"] + e["av"]
    return {
        "ptflops": e["q"] + core + e["attn"],  # timm_attention_counter_hook only: qkv and proj are not summed
        "ptflops-aten": proj + bias + (0 if fused else core),
        "fvcore": proj + (0 if fused else core),
        "thop": proj,
        "torchinfo": e["params"],  # qkv and proj: (weight + bias numel) × batch, not × tokens
        "calflops": proj,
        "flopcounter": 2 * (proj + core),
        "flopcounter-nograd": 2 * (proj + (0 if fused else core)),
        "flopcounter-grad-default": 2 * (proj + (0 if fused else core)),
    }.get(c, 0)


def softmax(c, name, e):
    if c == "ptflops":
        return e["numel"] if name in ("softmax_module", "F.softmax") else 0
    if c == "thop":
        return e["rows"] * (3 * e["n"] - 1) if name == "softmax_module" else 0
    return 0


def act(c, name, e):
    if c != "ptflops" or name == "hardswish_module":
        return 0
    return 2 * e["numel"] if name.startswith("gelu_module") else e["numel"]  # hook + patched F.gelu


def layerscale(c, name, e):
    if c != "ptflops" or not any(s in name for s in ("Tensor.mul_C11", "Tensor.mul", "torch.mul", "mul_reshape")):
        return 0
    if name.endswith("Tensor.mul_"):
        return 0  # the in-place method is not patched
    # _elementwise_tensor_flops_hook pairs dims from the left: a (C,) or (C,1,1) γ gives C × numel (B = 1)
    return e["numel"] if "reshape" in name else e["C"] * e["numel"]


def embed(c, name, e):
    if c == "ptflops" and "torch.add" in name:
        return e["numel"]
    if c == "torchinfo" and name == "attn_bias_leaf_param_attention_biases":
        return 2 * e["params"]  # a leaf's parameter whose name contains 'bias': numel × prod(out[:2]) = ×(1·h)
    return 0


def tokens(c, name, e):
    if name == "token_avgpool1d_module":
        return {"ptflops": 2 * e["numel"], "thop": e["numel"] + e["out"]}.get(c, 0)
    return 0


def upsample(c, name, e):
    out = e["out"]
    bilinear = "bilinear" in name.lower()
    nn_upsample = name.startswith("upsample_module")
    module = nn_upsample or name.startswith("Upsampling")
    return {
        "ptflops": (2 if nn_upsample else 1) * out,  # hook (nn.Upsample only) + patched F.interpolate
        "fvcore": (4 if bilinear else 1) * out,
        "thop": ((11 if bilinear else 1) * out) if module else 0,
    }.get(c, 0)


def deconv(c, name, e):
    bias = e["bias_el"] if name.endswith("_bias") and "nobias" not in name else 0
    g = 2 if "_g2_" in name else 1
    return {
        "ptflops": e["W_in"] + bias,
        "ptflops-aten": e["W_in"] + bias,
        "fvcore": e["W_in"],
        "thop": e["W_out"],
        "torchinfo": e["W_out"] + bias,
        "calflops": e["W_in"] // g,  # out_channels = weight.shape[1] = C_out/g, then // groups again
    }.get(c, 2 * e["W_in"] if c.startswith("flopcounter") else 0)


RULES = {f.__name__: f for f in (layernorm, groupnorm, linear, matmul, sdpa, mha, softmax, act, layerscale, embed,
                                 tokens, upsample, deconv)}


TABLE_COUNTERS = ["ptflops", "ptflops-aten", "fvcore", "thop", "torchinfo", "calflops", "flopcounter",
                  "flopcounter-nograd", "flopcounter-grad-default"]


def table(path: str) -> None:
    """case × counter, from the rows of the newest torch in the file (a superset: it has timm)."""
    rows = list(csv.DictReader(open(path)))
    newest = max(r["torch"] for r in rows)
    cells: dict[str, dict[str, str]] = {}
    for r in rows:
        if r["torch"] == newest:
            mark = "†" if r["status"] == "ok-dummy-param" else ""
            cells.setdefault(r["case"], {"group": r["group"]})[r["counter"]] = (
                r["value"] + mark if r["status"].startswith("ok") else r["status"])
    print("| case | group | ptflops | aten | fvcore | thop | torchinfo | calflops | FCM | FCM no_grad | FCM grad, "
          "default SDPA |")
    print("|" + "---|" * (len(TABLE_COUNTERS) + 2))
    for name, c in cells.items():
        print(f"| `{name}` | {c['group']} | " + " | ".join(c.get(k, "") for k in TABLE_COUNTERS) + " |")


def main(paths: list[str]) -> int:
    if paths and paths[0] == "--table":
        table(paths[1])
        return 0
    bad = n = skipped = 0
    for p in paths:
        for r in csv.DictReader(open(p)):
            if not r["status"].startswith("ok"):
                skipped += 1
                continue
            n += 1
            want = RULES[r["group"]](r["counter"], r["case"], json.loads(r["elements"]))
            if float(r["value"]) != want:
                bad += 1
                print(f"{p}: {r['counter']} {r['case']}: measured {r['value']}, rule says {want}")
    print(f"{n - bad}/{n} measured values equal their rule ({skipped} rows skipped: no timm / crash)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
