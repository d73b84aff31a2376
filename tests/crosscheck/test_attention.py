"""Transformer-era blocks as timm and torchvision write them, against their YAML twins and
through torch.onnx.export (issue 22): Σ p.numel() and FlopCounterMode / 2 (grad enabled, the
math attention backend) are the twin's parameters and mult-adds under --profile torchvision,
and the export imports with the twin's mult-adds and — where no BN folds — its parameters.

The modules are transcriptions in plain torch.nn of timm's Attention (fused SDPA and explicit),
torchvision's EncoderBlock (nn.MultiheadAttention), timm's MultiQueryAttention2d (MobileNetV4's
Mobile MQA), ConvNeXt's block, MobileViT's block (unfolded patches) and a LeViT-style attention
bias, so the tier needs torch alone; the real models are checked too where timm and
torchvision are installed.
"""
from __future__ import annotations

import warnings

import onnx
import pytest
import torch
import yaml
from torch import nn
from torch.nn import functional as F

import mbcost
from mbcost.core.elements import elements
from mbcost.core.spec import spec_from_document
from mbcost.core.yamlio import parse

from _models import TORCHVISION, assert_one_line_error, bn_folding_loss, export, imported, torch_counts
from _models import real as _real


def twin_spec(doc: dict):
    return spec_from_document(parse(yaml.safe_dump(doc, sort_keys=False), "twin.yaml"))


def twin(doc: dict) -> mbcost.Report:
    return mbcost.analyze(twin_spec(doc), convention=TORCHVISION)


def assert_imports_as_its_twin(net: nn.Module, size, want: mbcost.Report, tmp_path, opset: int | None = None,
                               train: bool = False):
    madds, params, _ = torch_counts(net, size)
    assert (madds, params) == (want.madds, want.params)
    path = tmp_path / "m.onnx"
    if opset is None:
        export(net, size, path, train=train)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(net.eval(), torch.zeros(size), str(path), dynamo=False, opset_version=opset)
    got = imported(path, TORCHVISION)
    assert (got.madds, got.params) == (want.madds, want.params - (0 if train else bn_folding_loss(net)))
    return got


# --- ViT: timm's Attention and torchvision's EncoderBlock, one twin --------------------------

VIT = {
    "input": {"resolution": 32, "channels": 3}, "classes": 10,
    "blocks": {"encoder": {"params": ["heads"], "rows": [
        {"kind": "layernorm", "name": "norm1"},
        {"kind": "attention", "name": "attn", "heads": "heads"},
        {"kind": "add", "name": "res1", "from": ["attn.proj", "in"]},
        {"kind": "layernorm", "name": "norm2"},
        {"kind": "mlp", "name": "mlp", "ratio": 4},
        {"kind": "add", "name": "res2", "from": ["mlp.fc2", "res1"]}]}},
    "layers": [{"kind": "patch_embed", "name": "patch", "c": 64, "patch": 8}, {"kind": "cls_token"},
               {"kind": "pos_embed"}, {"kind": "encoder", "heads": 4, "n": 2}, {"kind": "layernorm"},
               {"kind": "pool", "global": True, "op": "token"}, {"kind": "fc"}],
}
# 32×32 in 8×8 patches: 16 tokens and the class token, N = 17, C = 64, 4 heads of 16
#   patch 8·8·3·64 = 12,288 at 4·4; per encoder qkv 17·64·192, Q·Kᵀ and A·V 17·17·64 each,
#   proj 17·64·64, mlp 2·17·64·256; classifier 64·10 (tests/test_transformers.py derives it)
VIT_MADDS = 196_608 + 2 * (208_896 + 2 * 18_496 + 69_632 + 557_056) + 640


class TimmAttention(nn.Module):
    """timm.models.vision_transformer.Attention: one qkv Linear, heads by reshape and permute,
    F.scaled_dot_product_attention (fused) or q·scale @ kᵀ, softmax, @ v (explicit)."""

    def __init__(self, dim: int, heads: int, fused: bool):
        super().__init__()
        self.heads, self.fused, self.scale = heads, fused, (dim // heads) ** -0.5
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        if self.fused:
            x = F.scaled_dot_product_attention(q, k, v)
        else:
            x = ((q * self.scale) @ k.transpose(-2, -1)).softmax(-1) @ v
        return self.proj(x.transpose(1, 2).reshape(b, n, c))


class TimmBlock(nn.Module):
    def __init__(self, dim: int, heads: int, fused: bool, gelu: str):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.attn = TimmAttention(dim, heads, fused)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(approximate=gelu), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TorchvisionBlock(nn.Module):
    """torchvision.models.vision_transformer.EncoderBlock: nn.MultiheadAttention (batch first)."""

    def __init__(self, dim: int, heads: int, fused: bool, gelu: str):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(approximate=gelu), nn.Dropout(0.0),
                                 nn.Linear(4 * dim, dim), nn.Dropout(0.0))

    def forward(self, x):
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = x + y
        return x + self.mlp(self.ln_2(x))


class ViT(nn.Module):
    """A ViT as timm and torchvision write it: patch conv, flatten and transpose to tokens, the
    class token concatenated, position embeddings added, blocks, a norm, the class token out."""

    def __init__(self, block, fused: bool = False, gelu: str = "none", dim: int = 64, heads: int = 4):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 8, 8)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 17, dim))
        self.blocks = nn.Sequential(*(block(dim, heads, fused, gelu) for _ in range(2)))
        self.norm, self.head = nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


@pytest.mark.parametrize("block", [TimmBlock, TorchvisionBlock])
@pytest.mark.parametrize("fused", [False, True])
def test_a_vit_imports_as_its_twin(block, fused, tmp_path):
    want = twin(VIT)
    assert want.madds == VIT_MADDS
    got = assert_imports_as_its_twin(ViT(block, fused), (1, 3, 32, 32), want, tmp_path)
    kinds = [r.layer.kind for r in got.layers]
    assert kinds.count("matmul") == 4 and kinds.count("layernorm") == 5 and kinds.count("cls_token") == 1
    # Softmax is costed (its per-element work), not passed over: 4 heads × 17 × 17 per encoder
    softmax = [r for r in got.layers if r.layer.kind == "softmax"]
    assert [elements(r).softmax for r in softmax] == [4 * 17 * 17] * 2


def test_an_imported_vit_is_costed_at_its_own_resolution_only(cli, tmp_path):
    # its position embedding holds one vector per token of a 32×32 input: at 64×64 it would need
    # 65, which the file does not have
    export(ViT(TimmBlock), (1, 3, 32, 32), tmp_path / "vit.onnx")
    assert cli("report", tmp_path / "vit.onnx", "-f", "json").json()["totals"]["madds"] == VIT_MADDS
    assert_one_line_error(cli("report", tmp_path / "vit.onnx", "--resolution", "64"), "--resolution",
                          "holds position embeddings of its own 32×32 input's positions")


@pytest.mark.parametrize("opset, gelu", [(13, "none"), (17, "tanh")])
def test_older_exports_layer_norm_and_gelu_patterns_import_alike(opset, gelu, tmp_path):
    # opset 13 has no LayerNormalization: torch writes ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add; below
    # opset 20 GELU is x·½·(1 + erf(x/√2)), or its tanh approximation
    got = assert_imports_as_its_twin(ViT(TimmBlock, gelu=gelu), (1, 3, 32, 32), twin(VIT), tmp_path, opset=opset)
    assert [r.layer.act for r in got.layers if r.layer.kind == "linear" and r.layer.act != "linear"] == ["gelu"] * 2
    assert sum(r.layer.kind == "layernorm" for r in got.layers) == 5
    assert all(n.op_type != "LayerNormalization" for n in onnx.load(str(tmp_path / "m.onnx")).graph.node) \
        or opset >= 17


# --- MobileNetV4's Mobile MQA: timm's MultiQueryAttention2d ------------------------------------

class MobileMQA(nn.Module):
    """timm.layers.MultiQueryAttention2d (no query strides): q a 1×1 conv to h·d_k, K and V each a
    3×3 /2 depthwise conv + BN then a 1×1 conv to one head, o a 1×1 conv; multi-query."""

    def __init__(self, dim: int, heads: int, kd: int, vd: int, fused: bool):
        super().__init__()
        self.heads, self.kd, self.vd, self.fused, self.scale = heads, kd, vd, fused, kd ** -0.5
        self.query = nn.Conv2d(dim, heads * kd, 1, bias=False)

        def kv(d):
            return nn.Sequential(nn.Conv2d(dim, dim, 3, 2, 1, groups=dim, bias=False), nn.BatchNorm2d(dim),
                                 nn.Conv2d(dim, d, 1, bias=False))

        self.key, self.value = kv(kd), kv(vd)
        self.output = nn.Conv2d(heads * vd, dim, 1, bias=False)

    def forward(self, x):
        b, c, h, w = x.shape
        q = self.query(x).reshape(b, self.heads, self.kd, -1).transpose(-1, -2)
        k = self.key(x).reshape(b, self.kd, -1).transpose(1, 2).unsqueeze(1)
        v = self.value(x).reshape(b, self.vd, -1).transpose(1, 2).unsqueeze(1)
        if self.fused:
            o = F.scaled_dot_product_attention(q, k, v)
        else:
            o = ((q * self.scale) @ k.transpose(-1, -2)).softmax(-1) @ v
        o = o.transpose(1, 2).reshape(b, h, w, -1).permute(0, 3, 1, 2)
        return self.output(o)


MQA = {"input": {"resolution": 14, "channels": 64}, "batch_norm": True,
       "layers": [{"kind": "attention", "name": "mqa", "heads": 4, "key_dim": 16, "value_dim": 16,
                   "multi_query": True, "kv_stride": 2, "qkv_bias": False, "proj_bias": False}]}


@pytest.mark.parametrize("fused", [False, True])
def test_mobile_mqa_imports_as_its_twin(fused, tmp_path):
    # tests/test_transformers.py: 2,991,744 mult-adds; 4,096 + 2·576 + 2·1,024 + 4,096 weights and
    # the two depthwise convs' BNs (2·64 each); an eval export folds each BN into a bias of 64
    want = twin(MQA)
    assert (want.madds, want.params) == (2_991_744, 11_392 + 256)
    got = assert_imports_as_its_twin(MobileMQA(64, 4, 16, 16, fused), (1, 64, 14, 14), want, tmp_path)
    scores = next(r for r in got.layers if r.layer.kind == "matmul" and r.layer.op == "qk")
    assert scores.output_shape == (196, 49, 4)  # one K/V head, read by 4 query heads


# --- ConvNeXt's block: channels-last LayerNorm, Linear, layer scale --------------------------

class ConvNeXtBlock(nn.Module):
    """timm's ConvNeXtBlock (conv_mlp = False): 7×7 depthwise, permute to N×H×W×C, LayerNorm,
    Linear 4C, GELU, Linear C, γ, permute back, + the input."""

    def __init__(self, dim: int):
        super().__init__()
        self.conv_dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))

    def forward(self, x):
        y = self.conv_dw(x).permute(0, 2, 3, 1)
        y = self.mlp(self.norm(y)).mul(self.gamma)
        return x + y.permute(0, 3, 1, 2)


CONVNEXT = {"input": {"resolution": 14, "channels": 32}, "layers": [
    {"kind": "dwconv", "k": 7, "bias": True, "act": "linear", "name": "dw"}, {"kind": "layernorm"},
    {"kind": "linear", "c": 128, "act": "gelu"}, {"kind": "linear", "c": 32}, {"kind": "layerscale", "name": "ls"},
    {"kind": "add", "from": ["ls", "input"]}]}


def test_a_convnext_block_imports_as_its_twin(tmp_path):
    # 14×14×32: dw 49·32·196 = 307,328; two linears 2·196·32·128 = 1,605,632 mult-adds;
    # params 49·32 + 32, LayerNorm 64, linears 4,096 + 128 and 4,096 + 32, γ 32
    want = twin(CONVNEXT)
    assert (want.madds, want.params) == (307_328 + 1_605_632, 1_600 + 64 + 4_224 + 4_128 + 32)
    got = assert_imports_as_its_twin(ConvNeXtBlock(32), (1, 32, 14, 14), want, tmp_path)
    assert [r.layer.kind for r in got.layers] == ["dwconv", "layernorm", "linear", "linear", "layerscale", "add"]


# --- MobileViT's block: attention within the unfolded patches --------------------------------

class MobileViTBlock(nn.Module):
    """timm's MobileVitBlock: conv 3×3 and 1×1, unfold into 2×2 patches ((N·4)×T×C, timm's
    reshapes), a transformer block, LayerNorm, fold, conv 1×1, concat the input, conv 3×3."""

    def __init__(self, c: int, d: int):
        super().__init__()

        def cbs(m, n, k):
            return nn.Sequential(nn.Conv2d(m, n, k, padding=k // 2, bias=False), nn.BatchNorm2d(n), nn.SiLU())

        self.conv_kxk, self.conv_1x1 = cbs(c, c, 3), nn.Conv2d(c, d, 1, bias=False)
        self.norm1, self.norm2, self.norm = (nn.LayerNorm(d) for _ in range(3))
        self.attn = TimmAttention(d, 2, fused=False)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.SiLU(), nn.Linear(2 * d, d))
        self.conv_proj, self.conv_fusion = cbs(d, c, 1), cbs(2 * c, c, 3)

    def forward(self, x):
        shortcut = x
        x = self.conv_1x1(self.conv_kxk(x))
        b, c, h, w = x.shape
        nh, nw = h // 2, w // 2
        x = x.reshape(b * c * nh, 2, nw, 2).transpose(1, 2)
        x = x.reshape(b, c, nh * nw, 4).transpose(1, 3).reshape(b * 4, nh * nw, -1)
        x = x + self.attn(self.norm1(x))
        x = self.norm(x + self.mlp(self.norm2(x)))
        x = x.contiguous().view(b, 4, nh * nw, -1)
        x = x.transpose(1, 3).reshape(b * c * nh, nw, 2, 2)
        x = x.transpose(1, 2).reshape(b, c, h, w)
        return self.conv_fusion(torch.cat((shortcut, self.conv_proj(x)), 1))


MOBILEVIT = {"input": {"resolution": 16, "channels": 16}, "batch_norm": True, "layers": [
    {"kind": "conv", "c": 16, "k": 3, "act": "swish"}, {"kind": "conv", "c": 32, "bn": False, "name": "c1x1"},
    {"kind": "tokens", "patch": 2, "name": "t"}, {"kind": "layernorm"}, {"kind": "attention", "heads": 2, "name": "a"},
    {"kind": "add", "from": ["a.proj", "t"], "name": "r1"}, {"kind": "layernorm"},
    {"kind": "mlp", "ratio": 2, "act": "swish", "name": "m"}, {"kind": "add", "from": ["m.fc2", "r1"]},
    {"kind": "layernorm"}, {"kind": "map", "like": "c1x1"}, {"kind": "conv", "c": 16, "act": "swish", "name": "proj"},
    {"kind": "concat", "from": ["input", "proj"]}, {"kind": "conv", "c": 16, "k": 3, "act": "swish"}]}


def test_a_mobilevit_block_imports_as_its_twin(tmp_path):
    want = twin(MOBILEVIT)
    # the 16×16 map in 2×2 patches: 4 sequences of 64 tokens, each attending within itself:
    # Q·Kᵀ 4 · 64·64 · 32 = 524,288 mult-adds, where one sequence of 256 tokens would be 4×
    assert want["a.scores"].madds == 4 * 64 * 64 * 32
    got = assert_imports_as_its_twin(MobileViTBlock(16, 32), (1, 16, 16, 16), want, tmp_path)
    tokens = next(r for r in got.layers if r.layer.kind == "tokens")
    assert (tokens.layer.k, tokens.output_shape) == ((2, 2), (64, 4, 32))
    assert next(r for r in got.layers if r.layer.kind == "map").output_shape == (16, 16, 32)


# --- LeViT-style attention: a bias table per head and relative offset ------------------------

class BiasedAttention(nn.Module):
    """timm's LeViT Attention without its BNs: one qkv Linear split per head into q, k (16) and
    v (32), scores + attention_biases[:, idx], softmax, @ v, hardswish, proj."""

    def __init__(self, dim: int = 64, heads: int = 4, res: int = 7):
        super().__init__()
        self.heads, self.scale = heads, 16 ** -0.5
        self.qkv = nn.Linear(dim, heads * (16 + 16 + 32), bias=False)
        self.proj = nn.Sequential(nn.Hardswish(), nn.Linear(heads * 32, dim, bias=False))
        pos = torch.stack(torch.meshgrid(torch.arange(res), torch.arange(res), indexing="ij")).flatten(1)
        rel = (pos[..., :, None] - pos[..., None, :]).abs()
        self.attention_biases = nn.Parameter(torch.zeros(heads, res * res))
        self.register_buffer("attention_bias_idxs", rel[0] * res + rel[1], persistent=False)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, self.heads, -1).split([16, 16, 32], dim=3)
        q, k, v = q.permute(0, 2, 1, 3), k.permute(0, 2, 3, 1), v.permute(0, 2, 1, 3)
        attn = (q @ k) * self.scale + self.attention_biases[:, self.attention_bias_idxs]
        return self.proj((attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, -1))


LEVIT = {"input": {"resolution": 7, "channels": 64}, "layers": [
    {"kind": "tokens"}, {"kind": "attention", "name": "a", "heads": 4, "key_dim": 16, "value_dim": 32,
                         "offsets": 49, "act": "hswish", "qkv_bias": False, "proj_bias": False}]}


class LeViTLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = BiasedAttention()

    def forward(self, x):
        return self.attn(x.flatten(2).transpose(1, 2))


def test_an_attention_bias_table_imports_as_its_twin(tmp_path):
    # 49 tokens of 64, 4 heads: qkv 49·64·256, Q·Kᵀ 49·49·64, A·V 49·49·128, proj 49·128·64;
    # the table 4 × 49 parameters (its index a buffer)
    want = twin(LEVIT)
    assert want.madds == 49 * 64 * 256 + 49 * 49 * 64 + 49 * 49 * 128 + 49 * 128 * 64
    assert want["a.bias"].params == 4 * 49
    got = assert_imports_as_its_twin(LeViTLike(), (1, 64, 7, 7), want, tmp_path)
    assert [r.layer.extra for r in got.layers if r.layer.kind == "attn_bias"] == [49]


# --- PoolFormer's and EfficientFormer's GroupNorm(1, C), pool − x, layer scale ---------------

class PoolFormerBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.norm1, self.norm2 = nn.GroupNorm(1, dim), nn.GroupNorm(1, dim)
        self.pool = nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        self.ls1, self.ls2 = nn.Parameter(torch.ones(dim)), nn.Parameter(torch.ones(dim))
        self.mlp = nn.Sequential(nn.Conv2d(dim, 4 * dim, 1), nn.GELU(), nn.Conv2d(4 * dim, dim, 1))

    def forward(self, x):
        y = self.norm1(x)
        x = x + self.ls1.view(-1, 1, 1) * (self.pool(y) - y)
        return x + self.ls2.view(-1, 1, 1) * self.mlp(self.norm2(x))


POOLFORMER = {"input": {"resolution": 8, "channels": 16}, "layers": [
    {"kind": "groupnorm", "groups": 1, "name": "n1"}, {"kind": "pool", "op": "avg", "k": 3, "s": 1},
    {"kind": "add", "from": ["pool1", "n1"]}, {"kind": "layerscale"}, {"kind": "add", "from": ["layerscale1", "input"],
                                                                      "name": "r1"},
    {"kind": "groupnorm", "groups": 1}, {"kind": "conv", "c": 64, "bias": True, "act": "gelu"},
    {"kind": "conv", "c": 16, "bias": True}, {"kind": "layerscale"}, {"kind": "add", "from": ["layerscale2", "r1"]}]}


def test_group_norm_pool_minus_x_and_layer_scale_import_as_their_twin(tmp_path):
    # torch writes GroupNorm as Reshape → InstanceNormalization → Reshape → Mul → Add (2·16
    # parameters each, the instance norm's fixed 1 and 0 none); pool(x) − x is one operation
    # per element, an add
    got = assert_imports_as_its_twin(PoolFormerBlock(16), (1, 16, 8, 8), twin(POOLFORMER), tmp_path)
    assert [r.layer.kind for r in got.layers].count("groupnorm") == 2
    assert [(r.layer.groups, r.params) for r in got.layers if r.layer.kind == "groupnorm"] == [(1, 32)] * 2


def test_instance_norm_is_a_group_norm_of_one_channel_a_group(tmp_path):
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.InstanceNorm2d(8, affine=True), nn.ReLU())
    want = twin({"input": {"resolution": 8, "channels": 3}, "layers": [
        {"kind": "conv", "c": 8, "k": 3, "bias": True}, {"kind": "groupnorm", "groups": 8}, {"kind": "act", "act": "relu"}]})
    got = assert_imports_as_its_twin(net, (1, 3, 8, 8), want, tmp_path)
    assert [r.layer.groups for r in got.layers if r.layer.kind == "groupnorm"] == [8]


# --- the older kinds on tokens: the same counts through every path ----------------------------

TOKEN_ROWS = {
    # MobileViT's 4 sequences of 16 tokens flattened into one vector per image, or read by an fc
    "flatten": [{"kind": "tokens", "patch": 2}, {"kind": "flatten"}, {"kind": "fc", "c": 5}],
    "fc": [{"kind": "tokens", "patch": 2}, {"kind": "fc", "c": 5}],
    # a pooled map gating every token of its image's sequences, a shuffle, a split and concat
    "gate": [{"kind": "conv", "c": 8, "name": "m"}, {"kind": "pool", "global": True, "name": "g"},
             {"kind": "tokens", "from": "m", "patch": 2, "name": "t"}, {"kind": "mul", "from": ["t", "g"]},
             {"kind": "shuffle", "groups": 2}, {"kind": "split", "sizes": [4, 4], "name": "sp"},
             {"kind": "concat", "from": ["sp.1", "sp.0"]}, {"kind": "pool", "global": True, "op": "max"}],
    # one K/V head of 4 for 4 query heads, values of 2, a softmax over channels, a token mean
    "multi_query": [{"kind": "tokens"}, {"kind": "attention", "heads": 4, "multi_query": True, "key_dim": 4,
                                         "value_dim": 2}, {"kind": "softmax"}, {"kind": "pool", "global": True}],
}


@pytest.mark.parametrize("case", list(TOKEN_ROWS))
def test_older_kinds_on_tokens_count_alike_everywhere(case, tmp_path):
    from mbcost.interop.onnx_export import to_onnx

    doc = {"input": {"resolution": 8, "channels": 8}, "layers": TOKEN_ROWS[case]}
    want, net = twin(doc), mbcost.torch.build(twin_spec(doc))
    madds, params, _ = torch_counts(net, net.input_size)
    (tmp_path / "own.onnx").write_bytes(to_onnx(want).SerializeToString())
    own = imported(tmp_path / "own.onnx", TORCHVISION)
    export(net, net.input_size, tmp_path / "torch.onnx")
    theirs = imported(tmp_path / "torch.onnx", TORCHVISION)
    assert (madds, params) == (own.madds, own.params) == (theirs.madds, theirs.params) == (want.madds, want.params)


# --- what is still refused, loudly -------------------------------------------------------------

class Scaled(nn.Module):
    def forward(self, x):
        return torch.erf(x) * 3.0


def test_an_op_mbcost_does_not_cost_is_named_never_free(cli, tmp_path):
    # an Erf outside the GELU pattern, and a scale by a constant that no attention reads
    export(Scaled(), (1, 3, 8, 8), tmp_path / "e.onnx")
    assert_one_line_error(cli("report", tmp_path / "e.onnx"), "2 nodes mbcost cannot cost", "Erf (node /Erf: unknown op)",
                          "Mul (")


# --- the real models, where timm and torchvision are installed ------------------------------


# measured with torch 2.14.1, timm 1.0.31, torchvision 0.29.1: mult-adds FlopCounterMode / 2,
# params Σ numel (minus the eval-mode folding of BNs into convs)
REAL = ["deit_tiny_patch16_224",  # 1,253,683,200; 5,717,416
        "torchvision:vit_b_16",  # 17,563,828,224; 86,567,656 (11.27 G where MHA's fast path is not counted)
        "convnext_atto",  # 547,332,480; 3,695,520
        "mobilevit_xxs",  # 407,364,096; 1,272,024 − 2,056
        "efficientformer_l1",  # 1,291,284,736; 12,289,928 − 2 · 15,960 (its convs have biases)
        "tiny_vit_5m_224",  # 1,261,843,840; windowed attention with bias tables, Conv2d_BN folded
        "mobilenetv4_conv_small", "ghostnetv2_100",  # 186,005,568; 167,048,288 (GhostNetV2's Slices, Resize)
        "tf_efficientnetv2_b0"]  # 528,186,752 (TF 'same' pads computed through chains of Shape nodes)


@pytest.mark.parametrize("name", REAL)
def test_real_transformer_era_models_import_with_their_counts(name, tmp_path):
    net, size = _real(name)
    madds, params, _ = torch_counts(net, size)
    export(net, size, tmp_path / "m.onnx")
    got = imported(tmp_path / "m.onnx", TORCHVISION)
    assert (got.madds, got.params, got.graph.unknown) == (madds, params - bn_folding_loss(net), ())
    # and as the paper's convention counts them: the weights alone, every norm's γ and β kept
    assert imported(tmp_path / "m.onnx").madds == madds
