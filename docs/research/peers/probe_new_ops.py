"""What each FLOP counter reports for the transformer-era ops of issue 22 (and issue 28's upsample / deconv).

Each case is a tiny module with known shapes; each (counter, case) pair runs in a forked child of a process that
has imported only that counter, so a counter's global patching (ptflops, calflops patch F.* and torch.*) or a
failed run cannot leak into another measurement.

    python probe_new_ops.py --counter fvcore          # one counter, CSV rows on stdout
    python probe_new_ops.py --all --out new_ops.csv   # every counter, each in its own python process
    python probe_new_ops.py --list                    # the cases and their element counts

Counters: ptflops (backend 'pytorch'), ptflops-aten, fvcore, thop, torchinfo, calflops, flopcounter (torch's
FlopCounterMode, grad enabled, sdpa_kernel(SDPBackend.MATH), as issue 22 prescribes) and flopcounter-nograd
(FlopCounterMode under torch.no_grad() with the default SDPA backend) and flopcounter-grad-default (grad enabled,
default backend): diagnostics that show which of the two conditions matters, not profiles.

Cases whose name starts with timm_ need timm (and so torchvision: torch 2.14.1 here); without it they are
recorded as status 'skip'. calflops raises StopIteration on a model without parameters: that is recorded as
status 'crash', and the case is measured again with one dummy parameter (status 'ok-dummy-param').
Shapes: tokens (B=1, N=12, C=16); maps (1, 16, 6, 5); attention (1, h=2, N=12, d=8).
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import logging
import os
import subprocess
import sys
import traceback
import types
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.attention  # noqa: F401 - sdpa_kernel, SDPBackend

warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)
torch.set_num_threads(1)  # forked children: no OpenMP pool shared across fork

try:
    import timm  # noqa: F401
    from timm.layers import GELU as TimmGELU, GELUTanh as TimmGELUTanh, GroupNorm1, LayerNorm as TimmLayerNorm
    from timm.layers import LayerNorm2d, LayerScale, LayerScale2d
    from timm.layers.attention import Attention as TimmAttention
    HAVE_TIMM = True
except Exception:  # torch 2.13.0 venv: timm imports torchvision, which is not installable there
    HAVE_TIMM = False

B, N, C = 1, 12, 16
H, W = 6, 5
HEADS, D = 2, 8
COUNTERS = ["ptflops", "ptflops-aten", "fvcore", "thop", "torchinfo", "calflops", "flopcounter",
            "flopcounter-nograd", "flopcounter-grad-default"]


def numel(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


class Wrap(nn.Module):
    """forward(x) = fn(self, x); children, parameters and buffers given by name."""

    def __init__(self, fn, mods=None, params=None, buffers=None):
        super().__init__()
        self.fn = fn
        for k, m in (mods or {}).items():
            self.add_module(k, m)
        for k, p in (params or {}).items():
            self.register_parameter(k, nn.Parameter(p))
        for k, b in (buffers or {}).items():
            self.register_buffer(k, b)

    def forward(self, x):
        return self.fn(self, x)


def mod(m):
    return Wrap(lambda s, x: s.m(x), mods={"m": m})


def permuted(m):
    """ConvNeXt's channels-last LayerNorm on a map: permute → module → permute back."""
    return Wrap(lambda s, x: s.m(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), mods={"m": m})


TOK, MAP = (B, N, C), (B, C, H, W)
Q, ATT = (B, HEADS, N, D), (B, HEADS, N, N)
T_EL, M_EL, Q_EL, A_EL = numel(TOK), numel(MAP), numel(Q), numel(ATT)

# case name → (group, builder returning the module, input shape, element counts the rules are written over)
CASES: dict[str, tuple] = {}


def simple(name, group, shape, el, build, needs_timm=False):
    CASES[name] = (group, build, shape, el, needs_timm)


# 1. LayerNorm ------------------------------------------------------------------------------------------------
LN_T = {"numel": T_EL, "C": C, "rows": B * N}
LN_M = {"numel": M_EL, "C": C, "rows": B * H * W}
simple("ln_tokens_affine", "layernorm", TOK, LN_T, lambda: mod(nn.LayerNorm(C)))
simple("ln_tokens_noaffine", "layernorm", TOK, LN_T, lambda: mod(nn.LayerNorm(C, elementwise_affine=False)))
simple("ln_tokens_weight_only", "layernorm", TOK, LN_T, lambda: mod(nn.LayerNorm(C, bias=False)))
simple("ln_map_permute_affine", "layernorm", MAP, LN_M, lambda: permuted(nn.LayerNorm(C)))
simple("ln_map_permute_noaffine", "layernorm", MAP, LN_M, lambda: permuted(nn.LayerNorm(C, elementwise_affine=False)))
simple("F.layer_norm_affine", "layernorm", TOK, LN_T,
       lambda: Wrap(lambda s, x: F.layer_norm(x, (C,), s.w, s.b), params={"w": torch.ones(C), "b": torch.zeros(C)}))
simple("F.layer_norm_noaffine", "layernorm", TOK, LN_T,
       lambda: Wrap(lambda s, x: F.layer_norm(x, (C,))))
simple("timm_LayerNorm2d_affine", "layernorm", MAP, LN_M, lambda: mod(LayerNorm2d(C)), True)
simple("timm_LayerNorm2d_noaffine", "layernorm", MAP, LN_M, lambda: mod(LayerNorm2d(C, affine=False)), True)
simple("timm_LayerNorm_tokens_affine", "layernorm", TOK, LN_T, lambda: mod(TimmLayerNorm(C)), True)
simple("timm_LayerNorm_permute_affine", "layernorm", MAP, LN_M, lambda: permuted(TimmLayerNorm(C)), True)

# 2. GroupNorm ------------------------------------------------------------------------------------------------
GN = {"numel": M_EL, "C": C}
simple("gn4_affine", "groupnorm", MAP, GN, lambda: mod(nn.GroupNorm(4, C)))
simple("gn4_noaffine", "groupnorm", MAP, GN, lambda: mod(nn.GroupNorm(4, C, affine=False)))
simple("gn1_affine", "groupnorm", MAP, GN, lambda: mod(nn.GroupNorm(1, C)))
simple("F.group_norm_affine", "groupnorm", MAP, GN,
       lambda: Wrap(lambda s, x: F.group_norm(x, 4, s.w, s.b), params={"w": torch.ones(C), "b": torch.zeros(C)}))
simple("timm_GroupNorm1_affine", "groupnorm", MAP, GN, lambda: mod(GroupNorm1(C)), True)

# 3. Linear on tokens -----------------------------------------------------------------------------------------
CO = 24
LIN_T = {"W": N * C * CO, "bias_el": N * CO, "params_w": C * CO, "params_b": CO, "out": N * CO, "rows": N}
LIN_M = {"W": H * W * C * CO, "bias_el": H * W * CO, "params_w": C * CO, "params_b": CO, "out": H * W * CO,
         "rows": H * W}
simple("linear_tokens_bias", "linear", TOK, LIN_T, lambda: mod(nn.Linear(C, CO)))
simple("linear_tokens_nobias", "linear", TOK, LIN_T, lambda: mod(nn.Linear(C, CO, bias=False)))
simple("linear_channels_last_map_bias", "linear", (B, H, W, C), LIN_M, lambda: mod(nn.Linear(C, CO)))
simple("F.linear_tokens_bias", "linear", TOK, LIN_T,
       lambda: Wrap(lambda s, x: F.linear(x, s.w, s.b), params={"w": torch.randn(CO, C), "b": torch.zeros(CO)}))
simple("linear_2d_bias_control", "linear", (B, C), {"W": C * CO, "bias_el": CO, "params_w": C * CO, "params_b": CO,
                                                     "out": CO, "rows": 1}, lambda: mod(nn.Linear(C, CO)))

# 4. activation-activation matmul, SDPA, MultiheadAttention ----------------------------------------------------
MM_QK = {"macs": HEADS * N * N * D, "out": A_EL}  # q·kᵀ: (1,2,12,8)·(1,2,8,12)
MM_AV = {"macs": HEADS * N * N * D, "out": Q_EL}  # attn·v: (1,2,12,12)·(1,2,12,8)
KT = lambda: torch.randn(B, HEADS, D, N)  # noqa: E731
V = lambda: torch.randn(B, HEADS, N, D)  # noqa: E731
simple("matmul_qk_operator", "matmul", Q, MM_QK, lambda: Wrap(lambda s, x: x @ s.kt, buffers={"kt": KT()}))
simple("matmul_qk_torch.matmul", "matmul", Q, MM_QK, lambda: Wrap(lambda s, x: torch.matmul(x, s.kt), buffers={"kt": KT()}))
simple("matmul_qk_Tensor.matmul", "matmul", Q, MM_QK, lambda: Wrap(lambda s, x: x.matmul(s.kt), buffers={"kt": KT()}))
simple("matmul_qk_transpose_operator", "matmul", Q, MM_QK,
       lambda: Wrap(lambda s, x: x @ s.k.transpose(-2, -1), buffers={"k": V()}))
simple("matmul_av_operator", "matmul", ATT, MM_AV, lambda: Wrap(lambda s, x: x @ s.v, buffers={"v": V()}))
simple("matmul_av_torch.matmul", "matmul", ATT, MM_AV, lambda: Wrap(lambda s, x: torch.matmul(x, s.v), buffers={"v": V()}))
BMM = {"macs": HEADS * N * N * D, "out": HEADS * N * N}
simple("bmm_torch.bmm", "matmul", (HEADS, N, D), BMM,
       lambda: Wrap(lambda s, x: torch.bmm(x, s.kt), buffers={"kt": torch.randn(HEADS, D, N)}))
simple("bmm_operator_3d", "matmul", (HEADS, N, D), BMM,
       lambda: Wrap(lambda s, x: x @ s.kt, buffers={"kt": torch.randn(HEADS, D, N)}))
simple("einsum_qk", "matmul", Q, MM_QK,
       lambda: Wrap(lambda s, x: torch.einsum("bhnd,bhmd->bhnm", x, s.k), buffers={"k": V()}))

SDPA = {"qk_macs": HEADS * N * N * D, "av_macs": HEADS * N * N * D, "attn": A_EL, "q": Q_EL}


def sdpa(math: bool):
    def fn(s, x):
        ctx = torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH) if math else contextlib.nullcontext()
        with ctx:
            return F.scaled_dot_product_attention(x, s.k, s.v)
    return lambda: Wrap(fn, buffers={"k": V(), "v": V()})


simple("sdpa_default_backend", "sdpa", Q, SDPA, sdpa(False))
simple("sdpa_math_backend", "sdpa", Q, SDPA, sdpa(True))

# nn.MultiheadAttention(16, 2, batch_first=True), self-attention on (1, 12, 16):
# in_proj 12·16·48 = 9216 (+ bias 576), QKᵀ 2·12·12·8 = 2304, AV 2304, out_proj 12·16·16 = 3072 (+ bias 192)
MHA = {"in_proj": N * C * 3 * C, "in_bias": N * 3 * C, "qk": HEADS * N * N * D, "av": HEADS * N * N * D,
       "attn": A_EL, "out_proj": N * C * C, "out_bias": N * C, "q": N * C, "params_w": 4 * C * C,
       "params_b": 4 * C}


def mha(need_weights: bool, grad: str):
    """grad: 'as-called' (the counter's own grad mode), 'force-grad' (torch.enable_grad() inside forward: the slow
    path for every counter) or 'force-nograd' (torch.no_grad() inside forward: the fast path when eval)."""
    ctx = {"as-called": contextlib.nullcontext, "force-grad": torch.enable_grad, "force-nograd": torch.no_grad}[grad]

    def fn(s, x):
        with ctx():
            return s.m(x, x, x, need_weights=need_weights)[0]
    return lambda: Wrap(fn, mods={"m": nn.MultiheadAttention(C, HEADS, batch_first=True)})


for nw in (False, True):
    for g in ("as-called", "force-grad", "force-nograd"):
        simple(f"mha_need_weights={nw}_{g}", "mha", TOK, MHA, mha(nw, g))

# timm's Attention (qkv Linear + proj Linear): fused = F.sdpa, unfused = q*scale, q@kᵀ, softmax, attn@v
TATT = {"qkv": N * C * 3 * C, "qkv_bias": N * 3 * C, "qk": HEADS * N * N * D, "av": HEADS * N * N * D,
        "attn": A_EL, "proj": N * C * C, "proj_bias": N * C, "q": N * C, "params": C * 3 * C + 3 * C + C * C + C}


def timm_attention(fused: bool):
    def build():
        a = TimmAttention(C, num_heads=HEADS, qkv_bias=True)
        a.fused_attn = fused
        return mod(a)
    return build


simple("timm_Attention_fused", "mha", TOK, TATT, timm_attention(True), True)
simple("timm_Attention_unfused", "mha", TOK, TATT, timm_attention(False), True)

# 5. Softmax --------------------------------------------------------------------------------------------------
SM = {"numel": A_EL, "rows": A_EL // N, "n": N}
simple("softmax_module", "softmax", ATT, SM, lambda: mod(nn.Softmax(dim=-1)))
simple("F.softmax", "softmax", ATT, SM, lambda: Wrap(lambda s, x: F.softmax(x, dim=-1)))
simple("Tensor.softmax", "softmax", ATT, SM, lambda: Wrap(lambda s, x: x.softmax(dim=-1)))
simple("torch.softmax", "softmax", ATT, SM, lambda: Wrap(lambda s, x: torch.softmax(x, dim=-1)))

# 6. GELU (and Hardswish, LeViT's attention activation) ------------------------------------------------------------
ACT = {"numel": T_EL}
simple("gelu_module", "act", TOK, ACT, lambda: mod(nn.GELU()))
simple("gelu_module_tanh", "act", TOK, ACT, lambda: mod(nn.GELU(approximate="tanh")))
simple("F.gelu", "act", TOK, ACT, lambda: Wrap(lambda s, x: F.gelu(x)))
simple("F.gelu_tanh", "act", TOK, ACT, lambda: Wrap(lambda s, x: F.gelu(x, approximate="tanh")))
simple("timm_GELU", "act", TOK, ACT, lambda: mod(TimmGELU()), True)
simple("timm_GELUTanh", "act", TOK, ACT, lambda: mod(TimmGELUTanh()), True)
simple("hardswish_module", "act", TOK, ACT, lambda: mod(nn.Hardswish()))

# 7. Layer scale ----------------------------------------------------------------------------------------------
LS_T = {"numel": T_EL, "C": C}
LS_M = {"numel": M_EL, "C": C}
G = lambda *s: {"gamma": torch.full(s, 1e-5)}  # noqa: E731
simple("ls_tokens_operator", "layerscale", TOK, LS_T, lambda: Wrap(lambda s, x: x * s.gamma, params=G(C)))
simple("ls_tokens_Tensor.mul", "layerscale", TOK, LS_T, lambda: Wrap(lambda s, x: x.mul(s.gamma), params=G(C)))
simple("ls_tokens_Tensor.mul_", "layerscale", TOK, LS_T, lambda: Wrap(lambda s, x: x.clone().mul_(s.gamma), params=G(C)))
simple("ls_tokens_torch.mul", "layerscale", TOK, LS_T, lambda: Wrap(lambda s, x: torch.mul(x, s.gamma), params=G(C)))
simple("ls_map_operator_C11", "layerscale", MAP, LS_M, lambda: Wrap(lambda s, x: x * s.gamma, params=G(C, 1, 1)))
simple("ls_map_Tensor.mul_C11", "layerscale", MAP, LS_M, lambda: Wrap(lambda s, x: x.mul(s.gamma), params=G(C, 1, 1)))
simple("ls_map_convnext_mul_reshape", "layerscale", MAP, LS_M,  # timm ConvNeXtBlock: x.mul(gamma.reshape(1,-1,1,1))
       lambda: Wrap(lambda s, x: x.mul(s.gamma.reshape(1, -1, 1, 1)), params=G(C)))
simple("timm_LayerScale", "layerscale", TOK, LS_T, lambda: mod(LayerScale(C)), True)
simple("timm_LayerScale_inplace", "layerscale", TOK, LS_T, lambda: mod(LayerScale(C, inplace=True)), True)
simple("timm_LayerScale2d", "layerscale", MAP, LS_M, lambda: mod(LayerScale2d(C)), True)

# 8. position embedding, class token, attention bias ------------------------------------------------------------
simple("pos_embed_add_operator", "embed", TOK, {"numel": T_EL, "params": T_EL},
       lambda: Wrap(lambda s, x: x + s.pos_embed, params={"pos_embed": torch.zeros(1, N, C)}))
simple("pos_embed_torch.add", "embed", TOK, {"numel": T_EL, "params": T_EL},
       lambda: Wrap(lambda s, x: torch.add(x, s.pos_embed), params={"pos_embed": torch.zeros(1, N, C)}))
simple("cls_token_cat", "embed", TOK, {"numel": T_EL + C, "params": C},
       lambda: Wrap(lambda s, x: torch.cat((s.cls_token.expand(x.shape[0], -1, -1), x), dim=1),
                    params={"cls_token": torch.zeros(1, 1, C)}))
simple("vit_cls_then_pos", "embed", TOK, {"numel": (N + 1) * C, "params": C + (N + 1) * C},
       lambda: Wrap(lambda s, x: torch.cat((s.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + s.pos_embed,
                    params={"cls_token": torch.zeros(1, 1, C), "pos_embed": torch.zeros(1, N + 1, C)}))


def attn_bias(param_name: str, with_child: bool):
    idx = torch.randint(0, N, (N, N))

    def fn(s, x):
        x = s.child(x) if with_child else x
        return x + getattr(s, param_name)[:, s.idxs]
    return lambda: Wrap(fn, mods={"child": nn.Identity()} if with_child else None,
                        params={param_name: torch.zeros(HEADS, N)}, buffers={"idxs": idx})


AB = {"numel": A_EL, "params": HEADS * N}
simple("attn_bias_leaf_param_attention_biases", "embed", ATT, AB, attn_bias("attention_biases", False))
simple("attn_bias_leaf_param_table", "embed", ATT, AB, attn_bias("table", False))
simple("attn_bias_nonleaf_param_attention_biases", "embed", ATT, AB, attn_bias("attention_biases", True))

# 9. token pooling and reshapes -------------------------------------------------------------------------------
simple("cls_token_pool_x[:,0]", "tokens", TOK, {"numel": T_EL, "out": C}, lambda: Wrap(lambda s, x: x[:, 0]))
simple("token_mean_x.mean(1)", "tokens", TOK, {"numel": T_EL, "out": C}, lambda: Wrap(lambda s, x: x.mean(1)))
simple("token_avgpool1d_module", "tokens", (B, C, N), {"numel": T_EL, "out": C},  # Swin's head (NLC → NCL)
       lambda: mod(nn.AdaptiveAvgPool1d(1)))
simple("map_to_tokens_flatten_transpose", "tokens", MAP, {"numel": M_EL},
       lambda: Wrap(lambda s, x: x.flatten(2).transpose(1, 2)))
simple("tokens_to_map_transpose_reshape", "tokens", (B, H * W, C), {"numel": M_EL},
       lambda: Wrap(lambda s, x: x.transpose(1, 2).reshape(B, C, H, W)))
simple("heads_reshape_permute", "tokens", (B, N, 3 * C), {"numel": 3 * T_EL},
       lambda: Wrap(lambda s, x: x.reshape(B, N, 3, HEADS, D).permute(2, 0, 3, 1, 4).contiguous()))

# 10. upsampling and transposed convolutions ------------------------------------------------------------------
UP = {"in": M_EL, "out": 4 * M_EL}
simple("upsample_module_nearest_x2", "upsample", MAP, UP, lambda: mod(nn.Upsample(scale_factor=2, mode="nearest")))
simple("upsample_module_bilinear_x2", "upsample", MAP, UP, lambda: mod(nn.Upsample(scale_factor=2, mode="bilinear")))
simple("upsample_module_bilinear_x2_align", "upsample", MAP, UP,
       lambda: mod(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)))
simple("upsample_module_nearest_size", "upsample", MAP, UP, lambda: mod(nn.Upsample(size=(2 * H, 2 * W))))
simple("UpsamplingBilinear2d_x2", "upsample", MAP, UP, lambda: mod(nn.UpsamplingBilinear2d(scale_factor=2)))
simple("UpsamplingNearest2d_x2", "upsample", MAP, UP, lambda: mod(nn.UpsamplingNearest2d(scale_factor=2)))
simple("F.interpolate_nearest_x2", "upsample", MAP, UP,
       lambda: Wrap(lambda s, x: F.interpolate(x, scale_factor=2, mode="nearest")))
simple("F.interpolate_bilinear_x2", "upsample", MAP, UP,
       lambda: Wrap(lambda s, x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)))
simple("F.interpolate_nearest_size", "upsample", MAP, UP,
       lambda: Wrap(lambda s, x: F.interpolate(x, size=(2 * H, 2 * W), mode="nearest")))
simple("F.interpolate_bilinear_size", "upsample", MAP, UP,
       lambda: Wrap(lambda s, x: F.interpolate(x, size=(2 * H, 2 * W), mode="bilinear", align_corners=False)))


def deconv_el(cout, k, g, hout, wout):
    w = C * (cout // g) * k * k  # weight numel (C_in, C_out/g, k, k)
    return {"W_in": w * H * W, "W_out": w * hout * wout, "bias_el": cout * hout * wout, "params_w": w,
            "params_b": cout, "out": cout * hout * wout}


simple("deconv_k2s2_nobias", "deconv", MAP, deconv_el(8, 2, 1, 12, 10),
       lambda: mod(nn.ConvTranspose2d(C, 8, 2, 2, bias=False)))
simple("deconv_k2s2_bias", "deconv", MAP, deconv_el(8, 2, 1, 12, 10), lambda: mod(nn.ConvTranspose2d(C, 8, 2, 2)))
simple("deconv_k3s2p1op1_bias", "deconv", MAP, deconv_el(8, 3, 1, 12, 10),
       lambda: mod(nn.ConvTranspose2d(C, 8, 3, 2, padding=1, output_padding=1)))
simple("deconv_k4s2p1_g2_nobias", "deconv", MAP, deconv_el(8, 4, 2, 12, 10),
       lambda: mod(nn.ConvTranspose2d(C, 8, 4, 2, padding=1, groups=2, bias=False)))
simple("deconv_k3s1p1_bias", "deconv", MAP, deconv_el(8, 3, 1, 6, 5),
       lambda: mod(nn.ConvTranspose2d(C, 8, 3, 1, padding=1)))


# --- running a counter ----------------------------------------------------------------------------------------
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
        # calflops/__init__ imports its Hugging Face entry point (transformers) at top level; stub that submodule
        hf = types.ModuleType("calflops.flops_counter_hf")
        hf.calculate_flops_hf = None
        sys.modules.setdefault("calflops.flops_counter_hf", hf)
        from calflops import calculate_flops
        return calculate_flops
    if counter.startswith("flopcounter"):
        from torch.utils.flop_counter import FlopCounterMode
        return FlopCounterMode
    raise SystemExit(f"unknown counter {counter!r}; expected one of {', '.join(COUNTERS)}")


def measure(counter: str, api, model: nn.Module, x: torch.Tensor):
    """(value, detail) as the counter reports it; raises on a crash."""
    model.eval()
    out = io.StringIO()
    detail = ""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        if counter in ("ptflops", "ptflops-aten"):
            v = api(model, tuple(x.shape[1:]), input_constructor=lambda _: x, as_strings=False,
                    print_per_layer_stat=False, backend="pytorch" if counter == "ptflops" else "aten")[0]
            if v is None:  # ptflops catches the exception, prints it and returns None
                lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
                raise RuntimeError("ptflops returned None: " + " | ".join(lines[:2] + lines[-1:]))
        elif counter == "fvcore":
            a = api(model, x)
            a.unsupported_ops_warnings(False)
            a.uncalled_modules_warnings(False)
            v = a.total()
            detail = json.dumps({"by_operator": dict(a.by_operator()), "unsupported": dict(a.unsupported_ops())})
        elif counter == "thop":
            v = api(model, inputs=(x,), verbose=False)[0]
        elif counter == "torchinfo":
            v = api(model, input_data=[x], verbose=0).total_mult_adds
        elif counter == "calflops":
            v = api(model, args=[x], output_as_string=False, print_results=False, print_detailed=False)[1]
        elif counter == "flopcounter":
            with torch.enable_grad(), torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
                with api(display=False) as f:
                    model(x)
            v = f.get_total_flops()
            detail = json.dumps({str(k): int(n) for k, n in f.get_flop_counts()["Global"].items()})
        elif counter in ("flopcounter-nograd", "flopcounter-grad-default"):
            with torch.no_grad() if counter == "flopcounter-nograd" else torch.enable_grad():
                with api(display=False) as f:
                    model(x)
            v = f.get_total_flops()
            detail = json.dumps({str(k): int(n) for k, n in f.get_flop_counts()["Global"].items()})
    return v, detail


def run_case(counter: str, api, name: str, dummy: bool = False) -> dict:
    group, build, shape, el, needs_timm = CASES[name]
    torch.manual_seed(0)
    model = build()
    if dummy:
        model.register_parameter("calflops_dummy", nn.Parameter(torch.zeros(1)))
    x = torch.randn(*shape)
    v, detail = measure(counter, api, model, x)
    value = float(v)
    return {"value": int(value) if value.is_integer() else value, "detail": detail}


def in_child(fn, timeout=300) -> dict:
    """fn() in a forked child: its patching and failures die with it."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            res = {"status": "ok", **fn()}
        except BaseException as e:  # noqa: BLE001 - a crash is a measurement
            tb = traceback.extract_tb(e.__traceback__)
            where = f"{os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
            res = {"status": "crash", "message": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                                                 f" (at {where})"}
        with os.fdopen(w, "w") as f:
            f.write(json.dumps(res))
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data) if data else {"status": "crash", "message": "child died without a result"}


FIELDS = ["torch", "timm", "counter", "case", "group", "value", "status", "message", "elements", "detail"]


def run_counter(counter: str, names: list[str], writer) -> None:
    api = import_counter(counter)
    env = {"torch": torch.__version__, "timm": HAVE_TIMM}
    for name in names:
        group, _, _, el, needs_timm = CASES[name]
        row = {**env, "counter": counter, "case": name, "group": group, "elements": json.dumps(el)}
        if needs_timm and not HAVE_TIMM:
            writer.writerow({**row, "status": "skip", "message": "timm not importable"})
            continue
        res = in_child(lambda: run_case(counter, api, name))
        if res["status"] == "crash" and counter == "calflops" and "StopIteration" in res["message"]:
            first = res["message"]
            res = in_child(lambda: run_case(counter, api, name, dummy=True))
            if res["status"] == "ok":
                res = {**res, "status": "ok-dummy-param", "message": "bare model: " + first}
        writer.writerow({**row, **res})
        sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counter", choices=COUNTERS)
    ap.add_argument("--all", action="store_true", help="every counter, each in its own python process")
    ap.add_argument("--case", action="append", help="only these cases (repeatable)")
    ap.add_argument("--out", help="CSV file (default stdout)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--no-header", action="store_true", help="rows only (used by --all for its children)")
    a = ap.parse_args()
    names = a.case or list(CASES)
    if a.list:
        for n in names:
            print(n, CASES[n][0], CASES[n][2], CASES[n][3], sep="\t")
        return
    out = open(a.out, "w", newline="") if a.out else sys.stdout
    writer = csv.DictWriter(out, FIELDS)
    if not a.no_header:
        writer.writeheader()
    if a.all:
        for counter in COUNTERS:
            args = [sys.executable, __file__, "--counter", counter, "--no-header"]
            for n in a.case or []:
                args += ["--case", n]
            p = subprocess.run(args, capture_output=True, text=True)
            if p.returncode:
                print(f"{counter}: exit {p.returncode}: {p.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            out.write(p.stdout)
            out.flush()
            print(f"{counter}: done", file=sys.stderr)
    elif a.counter:
        run_counter(a.counter, names, writer)
    else:
        ap.error("give --counter NAME, --all or --list")


if __name__ == "__main__":
    main()
