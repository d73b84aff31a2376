"""What other FLOP counters count: each one's total as a formula over per-layer element counts.

ptflops, fvcore, thop, torchinfo, calflops and torch's FlopCounterMode all count a conv's
weight multiply-accumulates the way the papers do; they differ in what else they add — biases,
batch norm per element or per channel, some activations, pooling — and they print 300.8M,
314.2M, 320.3M or 327.5M for one MobileNetV2. A :class:`Profile` is one counter's rule as
coefficients on the counts of :mod:`mbcost.core.elements`:

    total = Σ over layers of  macs·W + bias·b + bn·BN + bn_channels·C_BN
                             + act[type]·activation elements + the layer kind's own terms

The first terms are what every layer may carry (weights, a bias, a BN, an activation), priced
here per counter. What a counter charges for a kind's own element counts — a pool's input
elements, an add's additions — is that kind's ``peers`` facet, declared with the kind in
:mod:`mbcost.core.kinds` (a pool's rule depends on how the code calls it, see below).

Never a lookup of totals: the same coefficients give every configuration of every network.
The rules were read from each counter's source and checked against measured totals (docs/peers.md
cites the files; tests/data holds the measurements).

Some counters see only ``nn.Module`` hooks (thop) or count a module and the functional call
inside it (ptflops), so a pool counts differently when the implementation calls
``F.adaptive_avg_pool2d`` instead of an ``nn.AdaptiveAvgPool2d`` module. An architecture file
does not say how some framework implements it; an :class:`Implementation` does. The default is
torchvision's usual one (modules for pools and activations, Python operators for residual adds
and gates); :data:`IMPLEMENTATIONS` records the exceptions by architecture name.

    >>> import mbcost
    >>> r = mbcost.analyze("mobilenet_v2")
    >>> {name: count(p, r).total for name, p in PEERS.items()}["thop"]   # W + 4·BN elements
    327486720
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable, Mapping

from ..errors import UsageError
from .elements import GENERIC, Elements, elements
from .kinds import KINDS

if TYPE_CHECKING:
    from .engine import Report

HOW = ("module", "functional")  # how an implementation calls a pool
ELEMENTWISE = ("operator", "call")  # `x + y` / `x * y`, or torch.add / torch.mul by name
COMPONENTS = ("weights", "bias", "bn", "act", "pool", "elementwise")

# How an implementation may call an op, where a counter tells the ways apart: op → {how: what it
# means}, the first the default. The vocabulary is issue 28's (mbcost.core.peers on that branch
# has every op's); here the ops timm's MobileNetV3 and EfficientNet families need.
CALLS: dict[str, dict[str, str]] = {
    "bn": {"module": "nn.BatchNorm2d (or 1d)",
           "norm_act": "timm's BatchNormAct2d: a BatchNorm2d subclass that holds its activation as a child"},
    "pool": {"module": "nn.AdaptiveAvgPool2d, nn.MaxPool2d, nn.AvgPool2d, … modules",
             "functional": "F.adaptive_avg_pool2d, F.max_pool2d, … called in forward",
             "mean": "x.mean(…) (a global average no counter charges)"},
    "fc": {"module": "nn.Linear on the flattened map",
           "subclass": "a subclass of nn.Linear (timm.layers.Linear, MobileNetV3's classifier in timm)"},
}


@dataclass(frozen=True)
class Implementation:
    """How a framework's code runs an architecture, where a counter can tell the difference.

    pool:        'module' (nn.AdaptiveAvgPool2d, nn.MaxPool2d, …) or 'functional'
                 (F.adaptive_avg_pool2d called in forward)
    elementwise: 'operator' (``x + y``, ``out += identity``, ``scale * x``) or 'call'
                 (torch.add / torch.mul by name, which ptflops patches)
    source:      what says so
    name:        the preset's name, which a converted file writes as ``implementation:``
    """

    pool: str = "module"
    elementwise: str = "operator"
    source: str = ("torchvision's ResNet and MobileNetV3 (and nn.Sequential models): pools and "
                   "activations are modules, residual adds and SE gates are Python operators")
    name: str = "torchvision"
    # op → how (CALLS) where it differs from the default; ``op.NAME`` applies to the layers whose
    # role is NAME or whose name has a part NAME (``pool.se``: a squeeze-excitation's pool)
    calls: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.pool not in HOW:
            raise UsageError(f"expected one of {', '.join(HOW)}, got {self.pool!r}", field="pool")
        if self.elementwise not in ELEMENTWISE:
            raise UsageError(f"expected one of {', '.join(ELEMENTWISE)}, got {self.elementwise!r}",
                             field="elementwise")
        for key, how in self.calls.items():
            if how not in CALLS.get(key.split(".", 1)[0], {}):
                raise UsageError(f"expected one of {', '.join(CALLS.get(key.split('.', 1)[0], CALLS))}, "
                                 f"got {how!r}", field=f"implementation.{key}")

    def how(self, op: str, e: Elements | None = None) -> str:
        """How the code calls ``op`` for the layer with element counts ``e``: the entry for its
        role or a part of its name, else the op's, else the default (a pool: ``pool``)."""
        if e is not None:
            for q in (e.role, *reversed(e.name.split("."))):
                if q and f"{op}.{q}" in self.calls:
                    return self.calls[f"{op}.{q}"]
        return self.calls.get(op) or (self.pool if op == "pool" else next(iter(CALLS[op])))


TORCHVISION = Implementation()

# Architectures whose torchvision implementation departs from the default, by architecture name.
IMPLEMENTATIONS: dict[str, Implementation] = {
    "mobilenet_v2": Implementation(
        pool="functional",
        source="torchvision 0.29 models/mobilenetv2.py: MobileNetV2._forward_impl calls "
               "nn.functional.adaptive_avg_pool2d(x, (1, 1)); ReLU6 modules; `x + self.conv(x)`",
        name="torchvision.mobilenetv2"),
}

_TIMM_BLOCKS = ("timm 1.0.31 models/_efficientnet_blocks.py and layers/norm_act.py: every conv is normalised by "
                "BatchNormAct2d (a BatchNorm2d subclass; its activation a child module), SqueezeExcite pools with "
                "x.mean((2, 3), keepdim=True)")
# timm's families by the module that builds them (issue 28's branch has the rest of timm's)
TIMM = {p.name: p for p in (
    Implementation(name="timm.efficientnet", calls={"bn": "norm_act", "pool.se": "mean"},
                   source=f"{_TIMM_BLOCKS}; models/efficientnet.py (EfficientNet, MnasNet, MixNet, FBNet): the "
                          "head's SelectAdaptivePool2d is an nn.AdaptiveAvgPool2d, its classifier an nn.Linear"),
    Implementation(name="timm.mobilenetv3", calls={"bn": "norm_act", "pool.se": "mean", "fc": "subclass"},
                   source=f"{_TIMM_BLOCKS}; models/mobilenetv3.py (MobileNetV3, LCNet): the head's "
                          "SelectAdaptivePool2d is an nn.AdaptiveAvgPool2d, its classifier a timm.layers.Linear"),
)}

# The implementations by name (a converted file's ``implementation:``, an imported model's origin):
# FRAMEWORK for a framework's usual code, FRAMEWORK.MODULE for the module that builds a family.
PRESETS: dict[str, Implementation] = {p.name: p for p in (TORCHVISION, *IMPLEMENTATIONS.values(), *TIMM.values())}
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Origin:
    """Where an imported model's code came from: the framework ('torchvision', 'timm', 'torch' for
    any other module, 'onnx' for a file whose code is not known), the Python module that defines
    its class (``timm.models.efficientnet``) and the model's name (``tf_efficientnet_b0``)."""

    framework: str
    module: str = ""
    model: str = ""

    @property
    def family(self) -> str:
        """FRAMEWORK.MODULE: torchvision.mobilenetv2, timm.efficientnet (the defining module's last part)."""
        return f"{self.framework}.{self.module.rsplit('.', 1)[-1]}" if self.module else self.framework


def implementation_for(origin: Origin) -> Implementation:
    """The implementation of the code an imported model came from: the preset of its family
    (the module that builds it), else of its framework, else — an ONNX file, a module of no known
    framework — torchvision's usual one, saying it is assumed. The one place where an origin
    meets the presets (issue 28 fills them)."""
    for name in (origin.family, origin.framework):
        if name in PRESETS:
            return PRESETS[name]
    what = {"onnx": "an ONNX file does not say how its code calls each op",
            "torch": f"{origin.module or 'its module'} is no framework mbcost has presets for"}.get(
        origin.framework, f"no preset for {origin.family} yet")
    return replace(TORCHVISION, name=UNKNOWN if origin.framework in ("onnx", "torch") else origin.family,
                   source=f"{what}: assumed torchvision's usual one ({TORCHVISION.source})")


def implementation_named(name: str, field: str = "implementation") -> Implementation:
    """A file's ``implementation:`` — a preset's name (what ``mbcost convert`` writes) — or, for a
    name no preset has (a family without one yet, 'unknown'), what :func:`implementation_for` says
    of it."""
    if not isinstance(name, str) or not name:
        raise UsageError(f"expected the name of an implementation ({', '.join(PRESETS)}, or FRAMEWORK.MODULE)",
                         field=field)
    if name in PRESETS:
        return PRESETS[name]
    framework, _, module = name.partition(".")
    return implementation_for(Origin(framework if name != UNKNOWN else "torch", module and f"{framework}.{module}"))


def implementation_of(architecture: str, pool: str | None = None, base: Implementation | None = None
                      ) -> Implementation:
    """The implementation a count assumes: ``base`` (what the network says of itself: its file's
    ``implementation:``, or the model it was imported from), else the recorded one for this
    architecture, else the default; with ``pool`` overriding how its pools are called."""
    base = base or IMPLEMENTATIONS.get(architecture, TORCHVISION)
    if pool is None or pool == base.pool:
        return base
    try:
        return Implementation(pool=pool, elementwise=base.elementwise, source="set by --pool", name=base.name,
                              calls={k: v for k, v in base.calls.items() if k.split(".")[0] != "pool"})
    except UsageError as exc:
        raise UsageError(exc.message, field="--pool") from None


@dataclass(frozen=True)
class Profile:
    """One counter's rule: coefficients on each element count.

    act:  per activation element, by activation; ``None`` when the counter has no activation
          op at all (every activation counts 0). An activation missing from a table is an
          error, not a guess.

    What it charges for a layer kind's own counts is the kind's ``peers[name]`` (nothing at all
    with ``kinds=False``).
    """

    name: str
    tool: str
    reads: str
    unit: str = "madds"  # madds | flops
    macs: int = 1
    bias: int = 0
    bn: int = 0
    bn_channels: int = 0
    act: Mapping[str, int] | None = None
    source: str = ""
    kinds: bool = True  # False: it charges nothing for any kind's own counts (the papers' count)
    # it hooks modules by exact type (``type(m) in MAPPING``): a subclass (timm's BatchNormAct2d,
    # timm.layers.Linear) is not counted at all
    exact_types: bool = False

    def terms(self, e: Elements, impl: Implementation) -> list["Term"]:
        """What this counter adds for one layer, term by term (zero terms left out)."""
        unseen_fc = self.exact_types and e.kind == "fc" and impl.how("fc", e) == "subclass"
        unseen_bn = self.exact_types and impl.how("bn", e) == "norm_act"
        out = [Term("weights", "W", self.macs, e.macs * (not unseen_fc)),
               Term("bias", "bias", self.bias, e.bias * (not unseen_fc)),
               Term("bn", "BN", self.bn, e.bn * (not unseen_bn)),
               Term("bn", "BN channels", self.bn_channels, e.bn_channels * (not unseen_bn))]
        if e.act:
            out.append(Term("act", e.act, self.act_coefficient(e.act), e.act_elements))
        out += [Term(*t) for t in self.kind_rule(e.kind)(e, impl)]
        return [t for t in out if t.coefficient and t.elements]

    def kind_rule(self, kind: str):
        """What this counter charges for a layer kind's own element counts."""
        k = KINDS.get(kind)
        if not self.kinds or k is None or not set(k.counts) - set(GENERIC):  # nothing of its own to price
            return _nothing
        if k.peers is None or self.name not in k.peers:
            why = k.unsupported.get("peers", f"mbcost.core.kinds.{kind} has no rule for it")
            raise UsageError(f"what {self.name} counts for a {kind} layer is not known ({why})", field="--profile")
        return k.peers[self.name]

    def act_coefficient(self, act: str) -> int:
        if self.act is None:
            return 0
        if act not in self.act:
            raise UsageError(f"what {self.name} counts for a {act} activation is not known "
                             f"(known: {', '.join(sorted(self.act))})", field="--profile")
        return self.act[act]


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
    """A counter's total on one network, and what it is made of."""

    profile: Profile
    implementation: Implementation
    terms: tuple[Term, ...]  # summed over layers, one per label, in first-seen order
    per_layer: tuple[int, ...]  # the counter's count for each layer, in order

    @property
    def total(self) -> int:
        return sum(t.count for t in self.terms)

    @property
    def components(self) -> dict[str, int]:
        out = dict.fromkeys(COMPONENTS, 0)
        for t in self.terms:
            out[t.component] += t.count
        return out

    def formula(self) -> str:
        """'W + bias + 2·BN + relu6 + global_avg pool in': what this total includes."""
        return " + ".join((f"{t.coefficient}·" if t.coefficient != 1 else "") + t.label for t in self.terms)


def count(profile: Profile, report: "Report", implementation: Implementation | None = None) -> Count:
    """``profile``'s total on an analysed network (its own implementation unless given)."""
    own = getattr(getattr(report, "graph", None), "implementation", None)  # its file's, or its source's
    impl = implementation or implementation_of(report.architecture, base=own)
    return count_elements(profile, [elements(r) for r in report.layers], impl)


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

PEERS: dict[str, Profile] = {p.name: p for p in (
    Profile(
        "ptflops", "ptflops 0.7.5, backend 'pytorch' (the default)",
        "get_model_complexity_info(model, (3, H, W))[0]",
        bias=1, bn=2,
        # relu_flops_counter_hook counts output numel for ReLU, ReLU6, LeakyReLU, ELU, GELU, PReLU;
        # count_functional patches F.relu, F.gelu, F.silu, … so a module whose forward calls a patched
        # function is counted twice (ReLU, GELU), ReLU6 (F.hardtanh) and LeakyReLU once, SiLU once
        # (only F.silu); Hardswish, Hardsigmoid, Sigmoid, Tanh: neither hooked nor patched.
        act={"relu": 2, "relu6": 1, "leaky_relu": 1, "gelu": 2, "swish": 1,
             "hswish": 0, "hsigmoid": 0, "sigmoid": 0, "tanh": 0},
        # start_flops_count: `type(module) in MODULES_MAPPING`, and F.linear is not patched
        exact_types=True,
        source="ptflops/pytorch_engine.py, ptflops/pytorch_ops.py"),
    Profile(
        "ptflops-aten", "ptflops 0.7.5, backend 'aten'",
        "get_model_complexity_info(model, (3, H, W), backend='aten')[0]",
        bias=1,  # ATEN_OPS_MAPPING: convolution (+ C_out·H·W bias) and addmm (+ bias) only
        source="ptflops/aten_engine.py, ptflops/aten_ops.py"),
    Profile(
        "fvcore", "fvcore 0.1.5.post20221221, FlopCountAnalysis",
        "FlopCountAnalysis(model, x).total()",
        bn=2,  # batchnorm_flop_jit in eval: input numel × 2 (affine)
        source="fvcore/nn/flop_count.py (_DEFAULT_SUPPORTED_OPS), fvcore/nn/jit_handles.py"),
    Profile(
        "thop", "thop 0.1.1.post2209072238, profile()",
        "profile(model, inputs=(x,))[0]",
        bn=4,  # calculate_norm: 2·numel, ×2 again when affine; conv and linear never count a bias
        # zero_ops: ReLU, ReLU6; LeakyReLU's count_relu is 0; the others are not registered
        act=dict.fromkeys(ALL_ACTS, 0),
        exact_types=True,  # profile.add_hooks: m_type = type(m); `m_type in register_hooks`
        source="thop/profile.py (register_hooks), thop/vision/basic_hooks.py, thop/vision/calc_func.py"),
    Profile(
        "torchinfo", "torchinfo 1.8.0, summary()",
        "summary(model, (1, 3, H, W)).total_mult_adds",
        # parameters, not activations: weight/bias numel × output H·W for a Conv*, × batch otherwise,
        # so a BN counts its γ and β: 2·C
        bias=1, bn_channels=2,
        source="torchinfo/layer_info.py (LayerInfo.calculate_macs), torchinfo/model_statistics.py"),
    Profile(
        "calflops", "calflops 0.3.2, calculate_flops() MACs",
        "calculate_flops(model, (1, 3, H, W), output_as_string=False)[1]",
        # only _conv_flops_compute, _linear_flops_compute, matmul and addmm return MACs; the bias goes
        # into FLOPs only
        source="calflops/pytorch_ops.py, calflops/calculate_pipline.py, calflops/utils.py"),
    Profile(
        "flopcounter", "torch 2.14.1, torch.utils.flop_counter.FlopCounterMode",
        "FlopCounterMode(display=False) … .get_total_flops()",
        unit="flops", macs=2,  # conv_flop and addmm_flop: 2 per multiply-accumulate, no bias
        source="torch/utils/flop_counter.py"),
)}


def profile(name: str) -> Profile:
    if name not in PEERS:
        raise UsageError(f"expected one of {', '.join(PEERS)}, got {name!r}", field="--profile")
    return PEERS[name]
