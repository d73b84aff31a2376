"""The counters' own unit-test cases as torch modules, one per case of tests/data/peer_cases.yaml
(which holds the same networks as architecture files, and the counters' totals on them).

Written from the counters' test suites (read, not copied): ptflops tests/common_test.py,
thop tests/test_conv2d.py, test_matmul.py and test_relu.py, fvcore tests/test_flop_count.py,
torchinfo tests/fixtures/models.py. Every case runs at batch 1 (mbcost costs one sample), so
where a counter's test uses a larger batch the totals here are the counter's own at batch 1,
measured by tests/crosscheck/_counters.py, not its test's constant. What a case leaves out of
its test's module is said in its ``note`` in the YAML.

Only torch is imported: the counters' processes (tests/crosscheck/_counters.py) import this
module by name, each in a venv of its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Case:
    module: Callable[[], nn.Module]
    input: tuple[int, ...]  # without the batch dimension


class Lambda(nn.Module):
    """A module whose forward is a function of its input (a functional call in forward)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class ToTokens(nn.Module):
    """(B, C, H, W) → (B, H·W, C), as ViT's patch embedding flattens: no counter charges it."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.flatten(2).transpose(1, 2))


class ThreeNet(nn.Module):
    """fvcore's ThreeNet: a 1×1 conv, a global average pool (a module), two Linears."""

    def __init__(self, input_dim: int, conv_dim: int, linear_dim: int):
        super().__init__()
        self.conv = nn.Conv2d(input_dim, conv_dim, 1, 1)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear1 = nn.Linear(conv_dim, linear_dim)
        self.linear2 = nn.Linear(linear_dim, 1)

    def forward(self, x):
        return self.linear2(self.linear1(torch.flatten(self.pool(self.conv(x)), 1)))


class SingleInputNet(nn.Module):
    """torchinfo's SingleInputNet (an MNIST net): its pools and ReLUs are functional calls. The
    last F.log_softmax is left out (mbcost has no log-softmax kind)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d(0.3)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        return self.fc2(F.relu(self.fc1(x)))


class RecursiveNet(nn.Module):
    """torchinfo's RecursiveNet: one Conv2d(64, 64, 3, 1, 1) applied six times."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(64, 64, 3, 1, 1)

    def forward(self, x):
        for _ in range(6):
            x = self.conv1(x)
        return x


class ReuseLinear(nn.Module):
    """torchinfo's ReuseLinear: one nn.Linear(10, 10) in an nn.Sequential four times, each
    followed by an nn.ReLU(inplace=True)."""

    def __init__(self):
        super().__init__()
        linear = nn.Linear(10, 10)
        self.model = nn.Sequential(*[m for _ in range(4) for m in (linear, nn.ReLU(True))])

    def forward(self, x):
        return self.model(x)


class SharedModuleInNestedList(nn.Module):
    """torchinfo's SharedModuleInNestedList: three blocks of two nn.Linear(4, 4), one nn.ReLU
    instance after each of the six."""

    def __init__(self):
        super().__init__()
        act = nn.ReLU()
        self.blocks = nn.ModuleList([nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)]) for _ in range(3)])
        self.act = act

    def forward(self, x):
        for block in self.blocks:
            for layer in block:
                x = self.act(layer(x))
        return x


class GroupNormCall(nn.Module):
    """fvcore's TestFlopCountHandles.test_group_norm: F.group_norm with the module's own γ, β
    (named so that torchinfo, which charges parameters named weight/bias, sees a functional call)."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.groups = groups
        self.w = nn.Parameter(torch.ones(channels))
        self.b = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return F.group_norm(x, self.groups, self.w, self.b)


class SharedLinear(nn.Module):
    """One nn.Linear(16, 16) called three times on 12 tokens, an nn.ReLU after the second call
    (tests/test_weights.py's THREE)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = x.flatten(2).transpose(1, 2)
        return self.fc(self.relu(self.fc(self.fc(x))))


class LayerNormSub(nn.LayerNorm):
    """A subclass of nn.LayerNorm, as timm's LayerNorm and LayerNorm2d are: counters that look
    modules up by exact type (ptflops, thop) do not see it."""


class Attention(nn.Module):
    """Pre-norm multi-head self-attention on tokens, written out as timm's Attention writes its
    unfused path: one qkv Linear, Q·Kᵀ, softmax, A·V, proj; ``matmul`` and ``softmax`` say how the
    products and the softmax are called."""

    def __init__(self, dim: int = 16, heads: int = 2, matmul: str = "operator", softmax: str = "method"):
        super().__init__()
        self.heads, self.scale, self.how = heads, (dim // heads) ** -0.5, (matmul, softmax)
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        x = self.norm(x.flatten(2).transpose(1, 2))
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        matmul, softmax = self.how
        if matmul == "sdpa":
            o = F.scaled_dot_product_attention(q, k, v)
        else:
            mm = torch.matmul if matmul == "matmul" else (lambda a, b: a @ b)
            a = mm(q, k.transpose(-2, -1)) * self.scale
            a = self.softmax(a) if softmax == "module" else F.softmax(a, -1) if softmax == "functional" \
                else a.softmax(dim=-1)
            o = mm(a, v)
        return self.proj(o.transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    """LayerNorm → Linear(16, 64) → GELU (an nn.GELU module, or F.gelu) → Linear(64, 16) on tokens."""

    def __init__(self, functional: bool = False):
        super().__init__()
        self.norm, self.fc1, self.fc2 = nn.LayerNorm(16), nn.Linear(16, 64), nn.Linear(64, 16)
        self.functional, self.act = functional, nn.GELU()

    def forward(self, x):
        x = self.fc1(self.norm(x.flatten(2).transpose(1, 2)))
        # F.gelu looked up at the call, as code calls it: ptflops patches the name F.gelu
        return self.fc2(F.gelu(x) if self.functional else self.act(x))


def _conv(*args, **kw) -> Callable[[], nn.Module]:
    return lambda: nn.Sequential(nn.Conv2d(*args, **kw))


def _deconv(*args, **kw) -> Callable[[], nn.Module]:
    return lambda: nn.Sequential(nn.ConvTranspose2d(*args, **kw))


CASES: dict[str, Case] = {
    # ptflops tests/common_test.py, TestOperations
    "ptflops_conv": Case(_conv(3, 2, 3, bias=True), (3, 224, 224)),
    "ptflops_conv_t": Case(lambda: nn.ConvTranspose2d(3, 2, 3, stride=(2, 2), bias=True), (3, 224, 224)),
    "ptflops_fc": Case(lambda: nn.Sequential(nn.Linear(3, 2, bias=True)), (3,)),
    "ptflops_fc_multidim": Case(lambda: nn.Sequential(nn.Linear(3, 2, bias=False)), (4, 5, 3)),
    "ptflops_interpolate_size": Case(
        lambda: Lambda(lambda x: F.interpolate(input=x, size=(20, 20), mode="bilinear", align_corners=False)),
        (3, 10, 10)),
    "ptflops_interpolate_scale": Case(lambda: Lambda(lambda x: F.interpolate(x, scale_factor=2, mode="bilinear")),
                                      (3, 10, 10)),
    "ptflops_ten_matmul": Case(lambda: Lambda(lambda x: x.matmul(x.t())), (10,)),
    # thop tests/test_conv2d.py, test_matmul.py, test_relu.py
    "thop_conv2d_no_bias": Case(_conv(3, 12, kernel_size=(5, 5), stride=1, padding=1, bias=False), (3, 32, 32)),
    "thop_conv2d": Case(_conv(3, 12, kernel_size=(5, 5), stride=1, padding=1, bias=True), (3, 32, 32)),
    "thop_linear": Case(lambda: nn.Linear(100, 200), (100,)),
    "thop_relu": Case(lambda: nn.ReLU(), (100,)),
    # fvcore tests/test_flop_count.py, TestFlopCountAnalysis.test_conv (its 2-d cases), test_linear,
    # test_batchnorm, test_threeNet; TestFlopCountHandles.test_group_norm, test_upsample
    "fvcore_conv2d": Case(_conv(10, 3, 3, 1, 1), (10, 15, 15)),
    "fvcore_conv2d_stride2": Case(_conv(10, 6, 3, 2, 1), (10, 20, 20)),
    "fvcore_conv2d_groups": Case(_conv(16, 8, 5, 1, 2, groups=4), (16, 15, 15)),
    "fvcore_conv2d_groups_out": Case(_conv(16, 8, 3, 1, 1, groups=8), (16, 15, 15)),
    "fvcore_deconv2d": Case(_deconv(10, 3, 3, 1, 1), (10, 15, 15)),
    "fvcore_deconv2d_stride2": Case(_deconv(10, 3, 3, 2, 1), (10, 15, 15)),
    "fvcore_deconv2d_stride3_op2": Case(_deconv(10, 3, 3, 3, 1, output_padding=2), (10, 15, 15)),
    "fvcore_linear": Case(lambda: nn.Linear(10, 20), (10,)),
    "fvcore_linear_3d": Case(lambda: nn.Linear(10, 20), (5, 10)),
    "fvcore_batchnorm2d": Case(lambda: nn.BatchNorm2d(10), (10, 5, 5)),
    "fvcore_threenet": Case(lambda: ThreeNet(2, 5, 3), (2, 10, 10)),
    "fvcore_group_norm": Case(lambda: GroupNormCall(2, 2), (2, 2, 2)),
    "fvcore_upsample": Case(lambda: Lambda(lambda x: F.interpolate(x, None, 2, "bilinear", False)), (2, 2, 2)),
    # torchinfo tests/fixtures/models.py
    "torchinfo_linear_model": Case(lambda: nn.Sequential(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 128),
                                                         nn.ReLU(), nn.Linear(128, 1)), (128,)),
    "torchinfo_single_input": Case(SingleInputNet, (1, 28, 28)),
    "torchinfo_recursive": Case(RecursiveNet, (64, 28, 28)),
    "torchinfo_reuse_linear": Case(ReuseLinear, (10,)),
    "torchinfo_shared_relu_nested": Case(SharedModuleInNestedList, (4,)),
    # the ops whose rules differ by how the code calls them (docs/research/peers, NEW_OPS.md):
    # upsampling by mode and call, norms, the attention core, GELU, a grouped transposed conv
    "ops_upsample_module_nearest": Case(lambda: nn.Upsample(scale_factor=2), (16, 6, 5)),
    "ops_upsample_module_bilinear": Case(lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (16, 6, 5)),
    "ops_upsampling_bilinear2d": Case(lambda: nn.UpsamplingBilinear2d(scale_factor=2), (16, 6, 5)),
    "ops_interpolate_nearest": Case(lambda: Lambda(lambda x: F.interpolate(x, scale_factor=2)), (16, 6, 5)),
    "ops_layernorm_tokens": Case(lambda: ToTokens(nn.LayerNorm(16)), (16, 3, 4)),
    "ops_layernorm_subclass": Case(lambda: ToTokens(LayerNormSub(16)), (16, 3, 4)),
    "ops_groupnorm_module": Case(lambda: nn.GroupNorm(4, 16), (16, 6, 5)),
    "ops_attention_operator_method": Case(lambda: Attention(matmul="operator", softmax="method"), (16, 3, 4)),
    "ops_attention_matmul_module": Case(lambda: Attention(matmul="matmul", softmax="module"), (16, 3, 4)),
    "ops_attention_matmul_functional": Case(lambda: Attention(matmul="matmul", softmax="functional"), (16, 3, 4)),
    "ops_attention_sdpa": Case(lambda: Attention(matmul="sdpa"), (16, 3, 4)),
    "ops_mlp_gelu_module": Case(lambda: Mlp(functional=False), (16, 3, 4)),
    "ops_mlp_gelu_functional": Case(lambda: Mlp(functional=True), (16, 3, 4)),
    "ops_deconv_groups": Case(_deconv(16, 8, 4, 2, 1, groups=2, bias=False), (16, 6, 5)),
    # issue 28's acceptance: one Linear called three times (weights: in the format)
    "shared_linear_3x": Case(SharedLinear, (16, 3, 4)),
}
