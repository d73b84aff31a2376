"""What other FLOP counters count: each one's total as a formula over per-layer element counts.

ptflops, fvcore, thop, torchinfo, calflops and torch's FlopCounterMode all count a conv's
weight multiply-accumulates the way the papers do; they differ in what else they add — biases,
batch norm per element or per channel, some activations, pooling — and they print 300.8M,
314.2M, 320.3M or 327.5M for one MobileNetV2. A :class:`Profile` is one counter's rule as
coefficients on the counts of :mod:`mbcost.core.elements`:

    total = Σ over layers of  macs·W + bias·b + bn·BN + bn_channels·C_BN
                             + act[type]·activation elements + the layer kind's own terms

The first terms are what every layer may carry (weights, a bias, a BN, an activation), priced
here per counter. What a counter charges for a layer of each kind — a pool's input elements,
a layer norm's elements, a transposed conv's weights per output position — is that kind's
``peers`` facet (:class:`mbcost.core.kind.Charge`), declared with the kind in
:mod:`mbcost.core.kinds`, with the counter's source line.

Never a lookup of totals: the same coefficients give every configuration of every network.
The rules were read from each counter's source and checked against measured totals (docs/peers.md
cites the files; tests/data holds the measurements; the cross-check tier measures them live).

**How the code calls each op.** Some counters see only ``nn.Module`` hooks of exact types
(thop), count a module and the functional call inside it (ptflops), or see only the aten ops a
call dispatches to (fvcore, FlopCounterMode) — so a pool counts differently when the code calls
``F.adaptive_avg_pool2d`` instead of an ``nn.AdaptiveAvgPool2d`` module, a layer norm when it is
timm's ``LayerNorm2d`` (a subclass) instead of ``nn.LayerNorm``, a matmul when it is written
``a @ b`` instead of ``torch.matmul(a, b)``. An architecture file does not say how some
framework implements it; an :class:`Implementation` does: for each op of :data:`CALLS`, how the
code calls it. :data:`PRESETS` hold torchvision's and timm's, family by family, with the
source files that say so; a file names its own (``implementation: timm.convnext``, or a mapping
of op → how), and so will an imported model (issue 23).

    >>> import mbcost
    >>> r = mbcost.analyze("mobilenet_v2")
    >>> {name: count(p, r).total for name, p in PEERS.items()}["thop"]   # W + 4·BN elements
    327486720
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..errors import UsageError
from .elements import Elements, elements
from .fields import did_you_mean
from .kinds import KINDS
from .kinds._peers import ATTENTION_ROLES

if TYPE_CHECKING:
    from .engine import Report

COMPONENTS = ("weights", "bias", "bn", "norm", "act", "pool", "elementwise", "softmax", "resize", "attention")

# How an implementation may call each op that some counter tells apart: op → {how: what it
# means}; the first is the default (torchvision's usual, else the commonest PyTorch idiom).
CALLS: dict[str, dict[str, str]] = {
    "act": {"module": "an nn.ReLU, nn.GELU, … module",
            "functional": "F.relu, F.gelu, … called in forward, or a module class no counter registers "
                          "that calls one (timm's GELU)"},
    "bn": {"module": "nn.BatchNorm2d (or 1d)",
           "norm_act": "timm's BatchNormAct2d: a BatchNorm2d subclass that holds its activation as a child"},
    "pool": {"module": "nn.AdaptiveAvgPool2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool1d, … modules",
             "functional": "F.adaptive_avg_pool2d, F.max_pool2d, … called in forward",
             "mean": "x.mean(…) (a global average no counter charges)"},
    "conv": {"module": "nn.Conv2d", "subclass": "a subclass of nn.Conv2d (timm's Conv2dSame, which timm's tf_ "
                                                "models use where TF's 'same' padding depends on the input: stride > 1)"},
    "fc": {"module": "nn.Linear on the flattened map",
           "subclass": "a subclass of nn.Linear (timm.layers.Linear, MobileNetV3's and V4's classifier in timm)",
           "pooled": "nn.Linear after an nn.AdaptiveAvgPool2d to the size the map already has (torchvision's "
                     "AlexNet, 6×6, and VGG, 7×7)"},
    "add": {"operator": "x + y, out += identity", "call": "torch.add(x, y) or x.add(y)"},
    "mul": {"operator": "x * y", "call": "torch.mul(x, y) or x.mul(y), y broadcast to x's rank"},
    "layerscale": {"operator": "x * γ or x.mul_(γ) (timm's LayerScale, torchvision's CNBlock)",
                   "call": "x.mul(γ) with γ of x's rank (timm's ConvNeXtBlock: γ.reshape(1, -1, 1, 1))"},
    "pos_embed": {"operator": "x + pos_embed", "call": "torch.add(x, pos_embed)"},
    "attn_bias": {"operator": "attn + bias[:, idx]", "call": "torch.add(attn, bias)"},
    "layernorm": {"module": "nn.LayerNorm itself",
                  "subclass": "a subclass of nn.LayerNorm (timm's LayerNorm and LayerNorm2d, torchvision's "
                              "LayerNorm2d)",
                  "functional": "F.layer_norm called in forward"},
    "groupnorm": {"module": "nn.GroupNorm itself", "subclass": "a subclass of nn.GroupNorm (timm's GroupNorm1)",
                  "functional": "F.group_norm called in forward"},
    "linear": {"module": "nn.Linear", "subclass": "a subclass of nn.Linear (timm.layers.Linear)", "conv": "a 1×1 nn.Conv2d (timm's ConvMlp, MobileNetV4's attention)",
               "functional": "F.linear called in forward (nn.MultiheadAttention's projections)",
               "view": "nn.Linear on a non-contiguous view (x.flatten(2).transpose(1, 2) or x.permute(0, 2, 3, 1) "
                          "straight from a map): torch's linear runs mm + add instead of addmm"},
    "matmul": {"operator": "a @ b", "matmul": "torch.matmul(a, b) or a.matmul(b)", "bmm": "torch.bmm(a, b)",
               "einsum": "torch.einsum", "sdpa": "inside F.scaled_dot_product_attention"},
    "softmax": {"method": "x.softmax(dim) or torch.softmax", "module": "nn.Softmax", "functional": "F.softmax",
                "sdpa": "inside F.scaled_dot_product_attention"},
    "upsample": {"functional": "F.interpolate", "module": "nn.Upsample",
                 "subclass": "nn.UpsamplingNearest2d or nn.UpsamplingBilinear2d"},
    "attention": {"rows": "its ops called as the other entries say",
                  "mha": "nn.MultiheadAttention, need_weights=False (its projections are F.linear, its "
                         "products one F.scaled_dot_product_attention)",
                  "timm": "timm.models.vision_transformer.Attention (nn.Linear qkv and proj)"},
}

# The layers an ``attention`` row emits (their roles), and what its implementation implies for
# them unless the implementation says otherwise: nn.MultiheadAttention projects with F.linear
# and fuses the products; timm's Attention fuses them (F.scaled_dot_product_attention).
ATTENTION_CALLS = {"rows": {}, "mha": {"linear": "functional", "matmul": "sdpa", "softmax": "sdpa"},
                   "timm": {"matmul": "sdpa", "softmax": "sdpa"}}


def _check_calls(calls: Mapping[str, str], where: str = "implementation") -> None:
    for key, how in calls.items():
        op = key.split(".", 1)[0]
        if op not in CALLS:
            raise UsageError(f"no op {op!r} (expected one of {', '.join(CALLS)}, or op.NAME for the layers "
                             f"with that role or name part)", field=f"{where}.{key}")
        if how not in CALLS[op]:
            raise UsageError(f"expected one of {', '.join(CALLS[op])}, got {how!r}", field=f"{where}.{key}")


@dataclass(frozen=True)
class Implementation:
    """How a framework's code runs an architecture, where a counter can tell the difference.

    calls:  op → how (:data:`CALLS`), for the ops that differ from the default; ``op.NAME``
            (``pool.se``, ``layernorm.norm``, ``bn.kv_down``) applies to the layers whose role
            is NAME or whose name has a part NAME (``res2.blocks.1.norm``), to a pool of that
            type (``pool.global_avg``) or an activation of that kind (``act.gelu``), and
            ``op.strided`` to the layers of stride > 1
    source: what says so (the framework's files)
    """

    name: str = "torchvision"
    calls: Mapping[str, str] = field(default_factory=dict)
    source: str = ("torchvision's ResNet and MobileNetV3 (and nn.Sequential models): pools and "
                   "activations are modules, residual adds and SE gates are Python operators")

    def __post_init__(self) -> None:
        _check_calls(self.calls)

    def how(self, op: str, e: Elements | None = None, *more: str) -> str:
        """How the code calls ``op`` for the layer with element counts ``e``: the most specific
        entry that names it (its role, a part of its name, ``more``: its pool type or activation),
        then what its attention's implementation implies, then the op's entry, then the default."""
        calls = self.calls
        if e is not None:
            for q in (e.role, *reversed(e.name.split(".")), *more, "strided" if e.strided else ""):
                if q and f"{op}.{q}" in calls:
                    return calls[f"{op}.{q}"]
            if e.role in ATTENTION_ROLES and op in ("linear", "matmul", "softmax"):
                implied = ATTENTION_CALLS[self.how("attention")].get(op)
                if implied:
                    return implied
        return calls.get(op) or next(iter(CALLS[op]))

    def with_calls(self, name: str, source: str, **calls: str) -> "Implementation":
        return Implementation(name, {**self.calls, **calls}, source)

    def to_dict(self) -> dict:
        return {"name": self.name, "calls": dict(self.calls), "source": self.source}


TORCHVISION = Implementation()
_TIMM = Implementation("timm", {
    "bn": "norm_act", "pool.se": "mean", "act.gelu": "functional", "layernorm": "subclass",
    "groupnorm": "subclass", "attention": "timm", "softmax": "method", "upsample": "functional"},
    "timm 1.0.31: ConvNormAct and the EfficientNet builder's blocks normalise with BatchNormAct2d "
    "(layers/norm_act.py); SqueezeExcite pools with x.mean((2, 3)) (models/_efficientnet_blocks.py); "
    "'gelu' is timm's GELU, which calls F.gelu (layers/activations.py); LayerNorm, LayerNorm2d and "
    "GroupNorm1 subclass torch's (layers/norm.py); vision_transformer.Attention; x.softmax(dim=-1)")


def _preset(base: Implementation, name: str, source: str, calls: Mapping[str, str]) -> Implementation:
    return Implementation(name, {**base.calls, **calls}, source)


# The implementations of torchvision's and timm's families, by the module that builds them.
PRESETS: dict[str, Implementation] = {p.name: p for p in (
    TORCHVISION,
    _preset(TORCHVISION, "torchvision.mobilenetv2",
            "torchvision 0.29 models/mobilenetv2.py: MobileNetV2._forward_impl calls "
            "nn.functional.adaptive_avg_pool2d(x, (1, 1)); ReLU6 modules; `x + self.conv(x)`",
            {"pool.global_avg": "functional"}),
    _preset(TORCHVISION, "torchvision.googlenet",
            "torchvision 0.29 models/googlenet.py: BasicConv2d.forward calls F.relu(x, inplace=True)",
            {"act": "functional"}),
    _preset(TORCHVISION, "torchvision.mnasnet",
            "torchvision 0.29 models/mnasnet.py: MNASNet.forward pools with x.mean([2, 3])",
            {"pool.global_avg": "mean"}),
    _preset(TORCHVISION, "torchvision.shufflenetv2",
            "torchvision 0.29 models/shufflenetv2.py: ShuffleNetV2._forward_impl pools with x.mean([2, 3]); "
            "the stem's max pool is an nn.MaxPool2d",
            {"pool.global_avg": "mean"}),
    _preset(TORCHVISION, "torchvision.alexnet",
            "torchvision 0.29 models/alexnet.py: AlexNet.avgpool, an nn.AdaptiveAvgPool2d((6, 6)) before the "
            "classifier, the identity at 224", {"fc": "pooled"}),
    _preset(TORCHVISION, "torchvision.vgg",
            "torchvision 0.29 models/vgg.py: VGG.avgpool, an nn.AdaptiveAvgPool2d((7, 7)) before the "
            "classifier, the identity at 224", {"fc": "pooled"}),
    _preset(TORCHVISION, "torchvision.convnext",
            "torchvision 0.29 models/convnext.py: CNBlock permutes to channels-last for an nn.LayerNorm "
            "and nn.Linear, nn.GELU; `self.layer_scale * …`; the stem, the downsamplers and the head "
            "normalise with LayerNorm2d, a subclass of nn.LayerNorm",
            {"layernorm": "subclass", "layernorm.norm": "module"}),
    _preset(TORCHVISION, "torchvision.vision_transformer",
            "torchvision 0.29 models/vision_transformer.py: EncoderBlock calls "
            "nn.MultiheadAttention(…, batch_first=True)(x, x, x, need_weights=False); "
            "partial(nn.LayerNorm, eps=1e-6); MLPBlock's nn.GELU; `input + self.pos_embedding`",
            {"attention": "mha"}),
    _TIMM,
    _preset(_TIMM, "timm.efficientnet",
            "timm 1.0.31 models/efficientnet.py and _efficientnet_blocks.py (EfficientNet, MnasNet): the "
            "blocks normalise with BatchNormAct2d; SqueezeExcite pools with x.mean((2, 3), keepdim=True); "
            "the head pools with SelectAdaptivePool2d (nn.AdaptiveAvgPool2d)", {}),
    _preset(_TIMM, "timm.tf_efficientnet",
            "timm 1.0.31 models/efficientnet.py, the tf_ models (TensorFlow's weights and padding): as "
            "timm.efficientnet, and their strided convs are Conv2dSame, which pads by the input size "
            "(layers/padding.py is_static_pad, layers/create_conv2d.py create_conv2d_pad)",
            {"conv.strided": "subclass"}),
    _preset(_TIMM, "timm.mobilenetv3",
            "timm 1.0.31 models/mobilenetv3.py (MobileNetV3, MobileNetV4) on _efficientnet_blocks.py: "
            "BatchNormAct2d, SqueezeExcite's x.mean((2, 3)), a timm.layers.Linear classifier; "
            "MultiQueryAttention2d (layers/attention2d.py) projects with 1×1 nn.Conv2d, normalises its "
            "K/V downsampling with nn.BatchNorm2d and fuses the products (F.scaled_dot_product_attention)",
            {"fc": "subclass", "linear": "conv", "bn.kv_down": "module", "attention": "rows", "matmul": "sdpa",
             "softmax": "sdpa"}),
    _preset(_TIMM, "timm.convnext",
            "timm 1.0.31 models/convnext.py: LayerNorm2d (and timm's LayerNorm in the Linear MLP); "
            "`x.mul(self.gamma.reshape(1, -1, 1, 1))`; ConvMlp's 1×1 nn.Conv2d; timm's GELU",
            {"layerscale": "call", "linear": "conv"}),
    _preset(_TIMM, "timm.vision_transformer",
            "timm 1.0.31 models/vision_transformer.py: timm's LayerNorm, Attention (fused), Mlp with "
            "nn.GELU, `x + pos_embed`",
            {"act.gelu": "module"}),
    _preset(_TIMM, "timm.mobilevit",
            "timm 1.0.31 models/mobilevit.py: ConvNormAct (BatchNormAct2d) convs; vision_transformer.Block "
            "transformers with nn.LayerNorm and nn.SiLU; F.interpolate(…, mode='bilinear') resizes",
            {"layernorm": "module"}),
    _preset(_TIMM, "timm.efficientformer",
            "timm 1.0.31 models/efficientformer.py: nn.BatchNorm2d, nn.GELU and nn.LayerNorm modules; "
            "Pooling's nn.AvgPool2d; Attention writes `q @ k.transpose(-2, -1)`, `attn.softmax(dim=-1)`, "
            "`attn @ v`; LayerScale `x * gamma`; the head averages the tokens with x.mean(dim=1)",
            {"bn": "module", "act.gelu": "module", "layernorm": "module", "attention": "rows", "matmul": "operator",
             "pool.tokens_avg": "mean"}),
    _preset(_TIMM, "timm.repvit",
            "timm 1.0.31 models/repvit.py (reparameterized): nn.GELU, SqueezeExcite's x.mean((2, 3)), "
            "the head's x.mean((2, 3))",
            {"act.gelu": "module", "pool": "mean"}),
    _preset(_TIMM, "timm.byobnet",
            "timm 1.0.31 models/byobnet.py (MobileOne, reparameterized): nn.ReLU modules, "
            "SelectAdaptivePool2d (nn.AdaptiveAvgPool2d)", {}),
)}


def preset(name: str, field: str = "implementation") -> Implementation:
    if not isinstance(name, str) or name not in PRESETS:
        raise UsageError(f"expected one of {', '.join(PRESETS)}, got {name!r}", field=field)
    return PRESETS[name]


# What an imported model's code may come from: the frameworks with presets, any other torch
# module, and an ONNX file (whose code is not known); UNKNOWN names an implementation not known
FRAMEWORKS = ("torchvision", "timm", "torch", "onnx")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Origin:
    """Where an imported model's code came from: the framework (one of :data:`FRAMEWORKS`), the
    Python module that defines its class (``timm.models.efficientnet``) and the model's name."""

    framework: str
    module: str = ""
    model: str = ""

    @property
    def family(self) -> str:
        """FRAMEWORK.MODULE: torchvision.mobilenetv2, timm.efficientnet (the defining module's last part)."""
        return f"{self.framework}.{self.module.rsplit('.', 1)[-1]}" if self.module else self.framework


def implementation_for(origin: Origin) -> Implementation:
    """The implementation of the code a model came from: the preset of its family (the module
    that builds it), else its framework's usual one, saying the family has no preset; an ONNX
    file or a module of no known framework: torchvision's usual one, saying it is assumed."""
    if origin.family in PRESETS:
        return PRESETS[origin.family]
    if origin.framework in PRESETS:
        base = PRESETS[origin.framework]
        return Implementation(origin.family, base.calls, f"no preset for {origin.family} yet: assumed "
                                                          f"{base.name}'s usual code ({base.source})")
    what = {"onnx": "an ONNX file does not say how its code calls each op"}.get(
        origin.framework, f"{origin.module or 'its module'} is no framework mbcost has presets for")
    return Implementation(UNKNOWN, TORCHVISION.calls, f"{what}: assumed torchvision's usual code ({TORCHVISION.source})")


def implementation_named(name: Any, field: str = "implementation") -> Implementation:
    """A file's ``implementation: NAME``: a preset, or FRAMEWORK.MODULE of a family with no preset
    yet (what ``mbcost convert`` writes of a model it imported), or ``unknown``."""
    if isinstance(name, str) and name in PRESETS:
        return PRESETS[name]
    framework, _, module = name.partition(".") if isinstance(name, str) else ("", "", "")
    if name != UNKNOWN and (framework not in FRAMEWORKS or not module.isidentifier()):
        hint = did_you_mean(name, (*PRESETS, UNKNOWN)) if isinstance(name, str) else None
        raise UsageError(f"got {name!r}; " + (f"did you mean {hint!r}?" if hint else
                         f"expected a preset ({', '.join(PRESETS)}), FRAMEWORK.MODULE ({', '.join(FRAMEWORKS)}) or "
                         f"{UNKNOWN}"), field=field)
    if name == UNKNOWN:
        return Implementation(UNKNOWN, TORCHVISION.calls, "the file says its code is not known: assumed "
                                                          f"torchvision's usual code ({TORCHVISION.source})")
    return implementation_for(Origin(framework, f"{framework}.{module}"))


def implementation_from(value: Any, field: str = "implementation") -> Implementation:
    """A file's ``implementation``: a preset's name, or a mapping of op → how (on top of
    ``preset:``, the default's otherwise; ``source:`` says what the file describes)."""
    if isinstance(value, str):
        return implementation_named(value, field)
    if not isinstance(value, dict):
        raise UsageError(f"expected a preset name ({', '.join(PRESETS)}) or a mapping of op → how", field=field)
    calls = {str(k): v for k, v in value.items() if k not in ("preset", "source")}
    for k, v in calls.items():
        if not isinstance(v, str):
            raise UsageError(f"expected how the code calls {k} (one of {', '.join(CALLS.get(k.split('.')[0], ()))})",
                             field=f"{field}.{k}")
    base = preset(value.get("preset", "torchvision"), f"{field}.preset")
    source = value.get("source", f"as the file says, on {base.name}'s")
    if not isinstance(source, str):
        raise UsageError("expected a sentence saying what code the file describes", field=f"{field}.source")
    _check_calls(calls, field)
    return Implementation(f"{base.name}+file" if calls else base.name, {**base.calls, **calls}, source)


def implementation_of(report: "Report", pool: str | None = None,
                      implementation: Implementation | None = None) -> Implementation:
    """The implementation a count assumes: ``implementation`` if given, else the one the network
    carries (its file's, or the model's it was imported from), else torchvision's usual one; with
    ``pool`` overriding how its pools are called."""
    base = implementation or getattr(report.graph, "implementation", None) or TORCHVISION
    if pool is None:
        return base
    if pool not in CALLS["pool"]:
        raise UsageError(f"expected one of {', '.join(CALLS['pool'])}, got {pool!r}", field="--pool")
    calls = {k: v for k, v in base.calls.items() if k.split(".")[0] != "pool"}
    return Implementation(f"{base.name}, pools {pool}", {**calls, "pool": pool}, f"{base.source}; pools set by --pool")


@dataclass(frozen=True)
class Profile:
    """One counter's rule: coefficients on each element count.

    bn, bn_channels: per batch-norm element and channel, by how the BN is called (CALLS["bn"]);
          an int is the same for every way
    act:  per activation element, by how it is called and by activation; ``None`` when the
          counter has no activation op at all (every activation counts 0). An activation missing
          from a table is an error, not a guess.
    needs_parameters: the counter crashes on a module without parameters (this says how)

    What it charges for a layer of each kind is the kind's ``peers[name]`` (nothing at all
    with ``kinds=False``).
    """

    name: str
    tool: str
    reads: str
    unit: str = "madds"  # madds | flops
    macs: int = 1
    bias: int = 0
    bn: int | Mapping[str, int] = 0
    bn_channels: int | Mapping[str, int] = 0
    act: Mapping[str, Mapping[str, int]] | None = None
    source: str = ""
    kinds: bool = True  # False: it charges nothing for any kind's own counts (the papers' count)
    needs_parameters: str = ""

    def terms(self, e: Elements, impl: Implementation) -> list["Term"]:
        """What this counter adds for one layer, term by term (zero terms left out)."""
        own = [Term(*t) for t in self.kind_rule(e.kind)(e, impl)]
        replaced = {t.component for t in own} & {"weights", "bias"}
        bn_how = impl.how("bn", e)
        out = [Term("weights", "W", self.macs, e.macs), Term("bias", "bias", self.bias, e.bias),
               Term("bn", "BN", _by(self.bn, bn_how), e.bn),
               Term("bn", "BN channels", _by(self.bn_channels, bn_how), e.bn_channels)]
        out = [t for t in out if t.component not in replaced]
        if e.act:
            out.append(Term("act", e.act, self.act_coefficient(e.act, impl.how("act", e, e.act)), e.act_elements))
        return [t for t in out + own if t.coefficient and t.elements]

    def kind_rule(self, kind: str):
        """What this counter charges for a layer of ``kind`` beyond the generic terms."""
        k = KINDS.get(kind)
        if not self.kinds or k is None:
            return _nothing
        if k.peers is None or self.name not in k.peers:
            why = k.unsupported.get("peers", f"mbcost.core.kinds.{kind} has no rule for it")
            raise UsageError(f"what {self.name} counts for a {kind} layer is not known ({why})", field="--profile")
        return k.peers[self.name].terms

    def act_coefficient(self, act: str, how: str = "module") -> int:
        if self.act is None:
            return 0
        table = self.act[how]
        if act not in table:
            raise UsageError(f"what {self.name} counts for a {act} activation is not known "
                             f"(known: {', '.join(sorted(table))})", field="--profile")
        return table[act]


def _by(coefficient: int | Mapping[str, int], how: str) -> int:
    return coefficient if isinstance(coefficient, int) else coefficient[how]


def _nothing(e: Elements, impl: "Implementation") -> list:
    return []


@dataclass(frozen=True)
class Term:
    component: str  # one of COMPONENTS
    label: str  # 'W', 'BN', 'relu6', 'global_avg pool in', …
    coefficient: int
    elements: int

    @property
    def count(self) -> int:
        return self.coefficient * self.elements


@dataclass(frozen=True)
class Count:
    """A counter's total on one network, and what it is made of; ``crash`` says why the counter
    gives no total at all on this network (then there are no terms)."""

    profile: Profile
    implementation: Implementation
    terms: tuple[Term, ...]  # summed over layers, one per label, in first-seen order
    per_layer: tuple[int, ...]  # the counter's count for each layer, in order
    crash: str = ""

    @property
    def total(self) -> int | None:
        return None if self.crash else sum(t.count for t in self.terms)

    @property
    def components(self) -> dict[str, int]:
        out = dict.fromkeys(COMPONENTS, 0)
        for t in self.terms:
            out[t.component] += t.count
        return out

    def formula(self) -> str:
        """'W + bias + 2·BN + relu6 + global_avg pool in': what this total includes."""
        if self.crash:
            return f"no total: {self.crash}"
        out = ""
        for t in self.terms:
            k = abs(t.coefficient)
            out += (" − " if t.coefficient < 0 else " + ") + (f"{k}·" if k != 1 else "") + t.label
        return out.removeprefix(" + ")


def module_parameters(report: "Report") -> int:
    """Σ numel of the module the network describes: its parameters under torchvision's
    convention (BN's γ and β, every bias), whatever convention the report was costed under."""
    from .conventions import PROFILES
    from .cost import factor_of

    tv = PROFILES["torchvision"]
    if report.convention == tv:
        return report.params
    total = 0
    for r in report.layers:
        f = factor_of(r.layer, [s[2] for s in r.input_shapes], tv)
        h, w, _ = r.input_shapes[0] if f.area == "in" else r.output_shape
        total += f.at(h * w)[1]
    return total


def count(profile: Profile, report: "Report", implementation: Implementation | None = None) -> Count:
    """``profile``'s total on an analysed network (its own implementation unless given)."""
    impl = implementation or implementation_of(report)
    if profile.needs_parameters and module_parameters(report) == 0:
        return Count(profile, impl, (), (), crash=profile.needs_parameters)
    return count_elements(profile, layer_elements(report), impl)


def layer_elements(report: "Report") -> list[Elements]:
    """Each layer's element counts, and what only the graph says: a linear that reads a map's
    tokens straight from the flattening (``x.flatten(2).transpose(1, 2)``, a strided view unless
    the map is one position or one channel) reads a view (``Elements.view``)."""
    views = {r.name for r in report.layers if r.layer.kind == "tokens" and r.layer.k == (1, 1)
             and r.input_shapes[0][0] * r.input_shapes[0][1] > 1 and r.input_shapes[0][2] > 1}
    out = []
    for r in report.layers:
        e = elements(r)
        if r.layer.kind == "linear" and r.layer.inputs[0] in views:
            e = replace(e, view=True)
        out.append(e)
    return out


def count_elements(profile: Profile, layers: Iterable[Elements], implementation: Implementation) -> Count:
    """``profile``'s total over per-layer element counts, however they were obtained."""
    summed: dict[tuple[str, str, int], int] = {}
    per_layer = []
    for e in layers:
        ts = profile.terms(e, implementation)
        per_layer.append(sum(t.count for t in ts))
        for t in ts:
            key = (t.component, t.label, t.coefficient)
            summed[key] = summed.get(key, 0) + t.elements
    # in the order of COMPONENTS (weights, bias, bn, …), each in first-seen order within it
    keys = sorted(summed, key=lambda key: COMPONENTS.index(key[0]))
    return Count(profile, implementation, tuple(Term(c, lab, k, summed[c, lab, k]) for c, lab, k in keys),
                 tuple(per_layer))


ALL_ACTS = ("relu", "relu6", "leaky_relu", "gelu", "swish", "hswish", "hsigmoid", "sigmoid", "tanh")
ZERO_ACTS = {"module": dict.fromkeys(ALL_ACTS, 0), "functional": dict.fromkeys(ALL_ACTS, 0)}

PEERS: dict[str, Profile] = {p.name: p for p in (
    Profile(
        "ptflops", "ptflops 0.7.5, backend 'pytorch' (the default)",
        "get_model_complexity_info(model, (3, H, W))[0]",
        # conv_flops_counter_hook adds C_out·H·W for a bias (pytorch_ops.py:85-88), linear's hook
        # `out` per row (:41); bn_flops_counter_hook: numel, ×2 when `affine` (:51-57), looked up
        # by exact type (pytorch_engine.py:311-314), so timm's BatchNormAct2d counts nothing
        bias=1, bn={"module": 2, "norm_act": 0},
        act={
            # relu_flops_counter_hook (output numel, pytorch_ops.py:30-32) for ReLU, PReLU, ELU,
            # LeakyReLU, ReLU6 and GELU modules (:277-281, 323-324); patch_functional wraps F.relu,
            # F.prelu, F.elu, F.relu6, F.gelu and F.silu (pytorch_engine.py:348-390), so a module
            # whose forward calls one of those counts twice: ReLU and GELU 2; ReLU6 calls
            # F.hardtanh and LeakyReLU F.leaky_relu (not patched), 1; SiLU is no hooked module, but
            # F.silu is patched, 1; Hardswish, Hardsigmoid, Sigmoid, Tanh neither
            "module": {"relu": 2, "relu6": 1, "leaky_relu": 1, "gelu": 2, "swish": 1,
                       "hswish": 0, "hsigmoid": 0, "sigmoid": 0, "tanh": 0},
            # called in forward: the patched functions once (F.relu6 is patched, F.leaky_relu,
            # F.hardswish, F.hardsigmoid, torch.sigmoid, torch.tanh are not)
            "functional": {"relu": 1, "relu6": 1, "leaky_relu": 0, "gelu": 1, "swish": 1,
                           "hswish": 0, "hsigmoid": 0, "sigmoid": 0, "tanh": 0}},
        source="ptflops/pytorch_engine.py, ptflops/pytorch_ops.py"),
    Profile(
        "ptflops-aten", "ptflops 0.7.5, backend 'aten'",
        "get_model_complexity_info(model, (3, H, W), backend='aten')[0]",
        # ATEN_OPS_MAPPING (aten_ops.py:109-116): mm, matmul, addmm (+ bias, :51-52), bmm and
        # convolution (+ C_out·H·W bias, :93-94) only
        bias=1,
        source="ptflops/aten_engine.py, ptflops/aten_ops.py"),
    Profile(
        "fvcore", "fvcore 0.1.5.post20221221, FlopCountAnalysis",
        "FlopCountAnalysis(model, x).total()",
        # batchnorm_flop_jit in eval: input numel × 2 when affine (jit_handles.py:251-258), for any
        # module or function that reaches aten::batch_norm (flop_count.py:36)
        bn=2,
        source="fvcore/nn/flop_count.py (_DEFAULT_SUPPORTED_OPS), fvcore/nn/jit_handles.py"),
    Profile(
        "thop", "thop 0.1.1.post2209072238, profile()",
        "profile(model, inputs=(x,))[0]",
        # count_normalization: 2·numel, ×2 when affine (vision/basic_hooks.py:60-69,
        # vision/calc_func.py:43-45), registered for nn.BatchNorm1d/2d by exact type (profile.py:
        # 29-31, 180-188); conv and linear never count a bias (calc_func.py:28-34, 90-91)
        bn={"module": 4, "norm_act": 0},
        # zero_ops for ReLU, ReLU6 (profile.py:38-39); LeakyReLU's count_relu is 0 (basic_hooks.py:
        # 90-95); the others are not registered; a function is no module
        act=ZERO_ACTS,
        source="thop/profile.py (register_hooks), thop/vision/basic_hooks.py, thop/vision/calc_func.py"),
    Profile(
        "torchinfo", "torchinfo 1.8.0, summary()",
        "summary(model, (1, 3, H, W)).total_mult_adds",
        # parameters, not activations: a leaf module's `weight`/`bias` numel × output H·W for a
        # class named *Conv*, × the output's batch dimension otherwise (layer_info.py:226-245),
        # summed over leaf modules (model_statistics.py:31-33): a BN counts its γ and β, 2·C; timm's
        # BatchNormAct2d has children (its act, drop), so it is no leaf and counts nothing
        bias=1, bn_channels={"module": 2, "norm_act": 0},
        source="torchinfo/layer_info.py (LayerInfo.calculate_macs), torchinfo/model_statistics.py"),
    Profile(
        "calflops", "calflops 0.3.2, calculate_flops() MACs",
        "calculate_flops(model, (1, 3, H, W), output_as_string=False)[1]",
        # only _conv_flops_compute, _conv_trans_flops_compute, _linear_flops_compute, matmul,
        # addmm and baddbmm return MACs (pytorch_ops.py:37-40, 83-171, 274-317); the bias goes into
        # FLOPs only
        needs_parameters="calflops raises StopIteration on a module without parameters "
                         "(calflops/flops_counter.py:121, next(model.parameters()))",
        source="calflops/pytorch_ops.py, calflops/calculate_pipline.py, calflops/utils.py"),
    Profile(
        "flopcounter", "torch 2.14.1, torch.utils.flop_counter.FlopCounterMode",
        "FlopCounterMode(display=False) … .get_total_flops()",
        # conv_flop and addmm_flop: 2 per multiply-accumulate, no bias (flop_counter.py)
        unit="flops", macs=2,
        source="torch/utils/flop_counter.py"),
)}

# What a term's label means, for the notes under a comparison (other labels are an activation's
# name or a pool's type)
LABELS = {
    "W": "weight multiply-accumulates", "bias": "bias additions", "BN": "batch-norm elements",
    "BN channels": "batch-norm channels", "W_out": "a transposed conv's weights × its output positions",
    "W/g": "a transposed conv's mult-adds / its groups", "P": "a module's parameters × its batch (once per "
    "sequence of tokens)", "norm": "normalised elements", "softmax": "softmax elements",
    "softmax rows": "softmax rows", "q": "query elements (an attention hook's scaling)",
    "fc in": "the classifier's input elements",
}


def profile(name: str) -> Profile:
    if name not in PEERS:
        raise UsageError(f"expected one of {', '.join(PEERS)}, got {name!r}", field="--profile")
    return PEERS[name]
