"""A per-op-class latency model, and the device profiles it is calibrated with.

Each layer L is in an *op class*, which its kind declares (the ``latency`` facet of
:mod:`mbcost.core.kinds`; :data:`CLASSES` maps each class to the constant that prices it), and,
for its activation, an *activation class* (:func:`act_class`); it then takes

    t_L = c[op class] · work_L  +  c[act class] · output elements_L
          + c_memory · bytes_L  +  c_overhead

and the network Σ_L t_L (batch 1, layers one after another). The ten constants
(:data:`CONSTANTS`), each a cost per unit in nanoseconds and each with one meaning:

- ``conv``, ``dwconv``, ``fc``: per mult-add of a dense conv, a depthwise conv, a fully
  connected layer (a rate: 1 / cost GMAC/s);
- ``relu``, ``hswish``, ``sigmoid``: per output element of a ReLU-like, a hard (h-swish,
  h-sigmoid) and an exp-based (sigmoid, swish, tanh, GELU) activation;
- ``add``, ``mul``: per output element of an elementwise add and mul (SE's scale);
- ``memory``: per byte read or written — every input map, the output map, the weights (the
  report's memory metrics, in the convention's dtypes: ``input_bytes + output_bytes +
  weight_bytes``); 1 / cost is a bandwidth in GB/s;
- ``overhead``: per timed layer (op dispatch).

The model is linear in its constants, so a fit is a non-negative least-squares problem
(:mod:`mbcost.analyses.latency`): fast, with one answer, and synthetic latencies made from known
constants give those constants back. A constant the data cannot separate from another fits to
0: its class then costs only its memory traffic and overhead (the profile says so).

A layer is *memory-bound* when its memory term is larger than its compute and activation terms.

**Classes a profile never saw.** A profile records the classes its fit data contained
(:attr:`Device.fitted`). A network with a class outside them (a future ``attention`` kind, a
swish network on a profile fitted on ReLU and h-swish networks) gets a warning that names the
class (:meth:`Device.warnings`); such layers are timed by their memory traffic and overhead
only, a lower bound, never by a guessed rate.

Profiles are data (``mbcost/analyses/devices/*.yaml``, :mod:`mbcost.analyses.latency` loads
them); one device has a profile per dtype it was measured in (:meth:`Device.at`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import UsageError
from .kinds import kind_of


@dataclass(frozen=True)
class Constant:
    """One constant of the model: its name (the class it prices), its unit and meaning."""

    name: str
    unit: str  # ns per unit of work
    meaning: str
    rate: str = ""  # the unit of 1 / cost, when it reads better as a rate (GMAC/s, GB/s)


CONSTANTS: tuple[Constant, ...] = (
    Constant("conv", "ns/MAC", "dense convolutions (standard, grouped, pointwise, transposed), per mult-add",
             "GMAC/s"),
    Constant("dwconv", "ns/MAC", "depthwise convolutions, per mult-add", "GMAC/s"),
    Constant("fc", "ns/MAC", "fully connected layers and 1×1 convs on a 1×1 map (matrix-vector at batch 1: "
             "classifiers, SE's squeeze and excite), per mult-add", "GMAC/s"),
    Constant("relu", "ns/element", "ReLU-like activations (relu, relu6, leaky_relu), per output element"),
    Constant("hswish", "ns/element", "hard activations (hswish, hsigmoid), per output element"),
    Constant("sigmoid", "ns/element", "exp-based activations (sigmoid, swish, tanh, gelu), per output element"),
    Constant("add", "ns/element", "elementwise add, per output element; a pool, per element of its windows"),
    Constant("mul", "ns/element", "elementwise mul (SE's scale), per output element"),
    Constant("memory", "ns/byte", "every byte read or written: input maps, output map, weights", "GB/s"),
    Constant("overhead", "ns/layer", "per timed layer (op dispatch)"),
)
NAMES: tuple[str, ...] = tuple(c.name for c in CONSTANTS)
INDEX = {n: i for i, n in enumerate(NAMES)}
COMPUTE = ("conv", "dwconv", "fc")  # the classes priced per mult-add
_MEMORY, _OVERHEAD = INDEX["memory"], INDEX["overhead"]
#: the largest cost a profile may give (ns per unit): finite times for any network the row cap
#: allows, and 1 / cost a finite rate
MAX_COST = 1e9
MIN_COST = 1e-9  # a positive cost below this is not representable as a rate worth printing
MIX_MARGIN = 0.05  # a class's share of a network's time beyond the fitted networks' by this warns

# the activation classes: which constant prices an activation, per output element
ACT_CLASSES = {"relu": "relu", "relu6": "relu", "leaky_relu": "relu",
               "hswish": "hswish", "hsigmoid": "hswish",
               "sigmoid": "sigmoid", "swish": "sigmoid", "tanh": "sigmoid", "gelu": "sigmoid"}

#: the op classes a kind may declare (its ``latency`` facet, :mod:`mbcost.core.kinds`), each
#: with the constant that prices its work (None: no constant of its own). A pool is priced by
#: the add constant, per element of its windows; ``act`` by its activation class alone;
#: ``copy`` moves data (memory and overhead only); ``free`` vanishes at inference. A class
#: outside this table (``opaque``, a future ``attention``) has no constant either, and every
#: profile warns about it (:meth:`Device.warnings`).
CLASSES: dict[str, str | None] = {"conv": "conv", "dwconv": "dwconv", "fc": "fc", "add": "add", "pool": "add",
                                  "mul": "mul", "act": None, "copy": None, "free": None}
# the op classes whose layer's act is part of the op's own cost (an SE gate on a matrix-vector,
# a pool or add's act field), or that have no act to price
_NO_ACT = ("fc", "add", "pool", "mul", "copy", "free")


def _elements(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def op_class(result) -> str:
    """The op class of a costed layer (a :class:`~mbcost.core.engine.LayerResult`): its kind's
    declared ``latency`` (:mod:`mbcost.core.kinds`; a conv with one group per input channel
    declares ``dwconv``, one on a 1×1 map ``fc``) — :data:`CLASSES` says what each costs."""
    return kind_of(result.layer).latency_class(result)


def priced_by(cls: str) -> str | None:
    """The constant an op class's work is priced by, or None (memory and overhead only)."""
    return CLASSES.get(cls)


def act_class(result, op: str | None = None) -> str | None:
    """The activation class of a layer's ``act`` (:data:`ACT_CLASSES`), or None when it costs
    nothing apart: linear, a pool or add's act field, or an activation on a matrix-vector
    layer's 1×1 output (an SE gate, V3's head), which is part of that layer's cost. An
    activation the model does not know is its own class (and gets a warning). ``op``: the
    layer's op class, when already known."""
    a = result.layer.act
    if a in ("linear", "", None) or (op or op_class(result)) in _NO_ACT:
        return None
    return ACT_CLASSES.get(a, a)


def _work(result, cls: str) -> int:
    """The units an op class's constant is per: mult-adds, the elements of a pool's windows,
    or output elements."""
    if priced_by(cls) in COMPUTE:
        return result.madds
    if cls == "pool":  # one add (or max) per element of every window
        L = result.layer
        if L.global_:
            return _elements(result.input_shapes[0])
        return _elements(result.output_shape) * L.k[0] * L.k[1]
    return _elements(result.output_shape)


def moved_bytes(result) -> int:
    """Bytes a layer reads and writes: every input map, the output map and its weights, in the
    report's dtypes (the memory metrics' ``input_bytes``, ``output_bytes``, ``weight_bytes``)."""
    return result.input_bytes + result.output_bytes + result.weight_bytes


def amounts(result) -> dict[str, int]:
    """What a layer does, per constant it pays: {constant: units}. Classes with no constant
    (copy, an unknown kind or activation) pay memory and overhead only; free layers nothing."""
    cls = op_class(result)
    if cls == "free":
        return {}
    out = {"memory": moved_bytes(result), "overhead": 1}
    constant = priced_by(cls)
    if constant is not None:
        out[constant] = _work(result, cls)
    a = act_class(result, cls)
    if a is not None and a in INDEX:
        out[a] = out.get(a, 0) + _elements(result.output_shape)
    return out


def classes(result) -> tuple[str, ...]:
    """The classes a layer is timed by, as a profile's ``fitted`` records them: the constant
    its op class is priced by (a pool's is ``add``), or the op class itself when it has none
    (``copy``, ``opaque``) — but ``act`` and ``free``, which have no work of their own — and
    its activation class, if any."""
    op = op_class(result)
    a = act_class(result, op)
    return tuple(c for c in (priced_by(op) or op, a) if c is not None and c not in ("act", "free"))


# the classes a constant prices: what a profile's fit can have measured
_PRICED = frozenset(c for c in CLASSES.values() if c is not None) | frozenset(ACT_CLASSES.values())


@dataclass(frozen=True)
class Device:
    """One calibrated profile: a device measured in one dtype with one software build.

    ``costs`` are the :data:`CONSTANTS` in order (ns per unit, ≥ 0). ``fitted`` names the
    classes the fit data contained. ``interval`` is the profile's error on families not fitted
    (the mean absolute leave-one-family-out error, in %), the ± every prediction carries
    (``interval_basis`` says what was left out). Predictions are for ``build``; ``builds``
    gives the factor of each other build its data came from (the same network measured with
    an older TensorFlow Lite was slower). ``siblings`` are the device's profiles in other dtypes.
    """

    name: str
    costs: tuple[float, ...]
    dtype: str = "fp32"
    fitted: frozenset = frozenset()
    shares: tuple[float, ...] = ()  # per constant: the largest share of a fitted network's time it took
    interval: float | None = None
    interval_basis: str = "families not fitted"
    build: str = ""
    builds: tuple[tuple[str, float], ...] = ()
    variant: str = "per-class"
    base: str = ""  # the profile a scaled variant scales ('pixel1 fp32')
    description: str = ""
    source: str = ""  # where the profile came from (the YAML file)
    unpublished: str = ""  # why the device has no profile in other dtypes
    quality: dict = field(default_factory=dict, compare=False)
    siblings: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self):
        if len(self.costs) != len(CONSTANTS):
            raise ValueError(f"expected {len(CONSTANTS)} costs ({', '.join(NAMES)}), got {len(self.costs)}")
        for c, v in zip(CONSTANTS, self.costs):
            check_cost(c.name, v)

    def cost(self, name: str) -> float:
        return self.costs[INDEX[name]]

    def rate(self, name: str) -> float | None:
        """1 / cost in the constant's rate unit (GMAC/s, GB/s), or None when it costs nothing."""
        v = self.cost(name)
        return 1 / v if v > 0 else None

    # --- timing --------------------------------------------------------------------------------

    def terms_ms(self, result) -> tuple[float, float, float]:
        """(compute + activation, memory, overhead) of one layer, in ms: :func:`amounts` priced,
        written out because a sweep with --device calls it for every layer of every network."""
        cls = op_class(result)
        if cls == "free":
            return 0.0, 0.0, 0.0
        c = self.costs
        constant = priced_by(cls)
        work = c[INDEX[constant]] * _work(result, cls) if constant is not None else 0.0
        a = act_class(result, cls)
        j = INDEX.get(a) if a is not None else None
        if j is not None:
            work += c[j] * _elements(result.output_shape)
        return work / 1e6, c[_MEMORY] * moved_bytes(result) / 1e6, c[_OVERHEAD] / 1e6  # ns → ms

    def layer_ms(self, result) -> float:
        work, memory, overhead = self.terms_ms(result)
        return work + memory + overhead

    def memory_bound(self, result) -> bool:
        work, memory, _ = self.terms_ms(result)
        return memory > work

    def build_factor(self, build: str | None) -> float:
        """How much longer a network takes with ``build`` than with the profile's own."""
        if not build or build == self.build:
            return 1.0
        for b, f in self.builds:
            if b == build:
                return f
        raise UsageError(f"{self.name} {self.dtype} has no build {build!r}; it has "
                         f"{', '.join([self.build] + [b for b, _ in self.builds if b != self.build])}",
                         field="build")

    # --- what it can say -----------------------------------------------------------------------

    def at(self, convention) -> Device:
        """The device's profile for the convention's dtypes (activations and weights alike), or
        a usage error saying there is none — never a float profile quietly used for int8."""
        act, weights = convention.act_dtype, convention.weight_dtype
        if act == weights == self.dtype:
            return self
        if act == weights and act in self.siblings:
            return self.siblings[act]
        have = ", ".join(sorted({self.dtype, *self.siblings}))
        what = act if act == weights else f"activations {act} with weights {weights}"
        why = (f": {self.unpublished}" if self.unpublished else
               f"; measure in {act} and fit one with mbcost latency fit --dtype {act}" if act == weights else "")
        raise UsageError(f"{self.name} has no latency profile for {what}{why} (its profiles: {have})", field="--dtype")

    def warnings(self, layers) -> list[str]:
        """One line per class in ``layers`` the profile's fit never saw, naming it."""
        seen: dict[str, list[str]] = {}
        for r in layers:
            for c in classes(r):
                if c not in self.fitted:
                    seen.setdefault(c, []).append(r.name)
        out = []
        for c, names in seen.items():
            head = f"{self.name} {self.dtype} was fitted on networks without {c} layers ({len(names)} here, " \
                   f"e.g. {names[0]})"
            if c in _PRICED and self.cost(c) > 0:  # a profile written by hand: its constant, never measured
                unit = CONSTANTS[INDEX[c]].unit
                out.append(f"{head}: they are timed at its {c} constant ({self.cost(c):g} {unit}), which no "
                           f"network of its fit measured")
                continue
            priced = "its cost was never measured" if c in _PRICED else "the model has no constant for it"
            out.append(f"{head}: {priced}; they are timed by memory traffic and overhead only, so the latency is a "
                       f"lower bound")
        return out + self._mix(layers)

    def _mix(self, layers) -> list[str]:
        """A warning per constant that takes a larger share of this network's time than of any
        network the profile was fitted on (by more than MIX_MARGIN): an extrapolation the
        interval does not cover (ResNet's and VGG's dense convs on a profile of mobile networks)."""
        if not self.shares:
            return []
        t = [0.0] * len(CONSTANTS)
        for r in layers:
            for name, units in amounts(r).items():
                t[INDEX[name]] += self.costs[INDEX[name]] * units
        total = sum(t)
        out = []
        for c, x, seen in zip(CONSTANTS, t, self.shares):
            if total > 0 and seen > 0 and x / total > seen + MIX_MARGIN:
                out.append(f"{c.name} takes {x / total:.0%} of this network's time on {self.name} {self.dtype}, more "
                           f"than in any network it was fitted on ({seen:.0%}): an extrapolation that "
                           f"{self.interval_text or 'its error'} does not cover")
        return out

    @property
    def interval_text(self) -> str:
        """'±6.0% on families not fitted', or '' without an interval."""
        return "" if self.interval is None else f"±{self.interval:.1f}% on {self.interval_basis}"


def check_cost(name: str, value) -> float:
    """A constant as a profile may give it: a finite number, 0 or between MIN_COST and MAX_COST."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or \
            value < 0 or value > MAX_COST or 0 < value < MIN_COST:
        raise ValueError(f"{name} must be 0 or a number from {MIN_COST:g} to {MAX_COST:g} ns per unit, "
                         f"got {value!r}")
    return float(value)


def require_device(value, field: str = "device") -> Device | None:
    """``value`` if it is a :class:`Device` (or None), else one clear error naming the parameter,
    as a CLI flag's would: ``analyze(..., device=3)`` used to fail deep in the engine with an
    AttributeError. A built-in's name or a profile's path is read by the front door
    (:func:`mbcost.analyze`, :func:`mbcost.sweep_grid`), which the core cannot reach."""
    if value is None or isinstance(value, Device):
        return value
    shown = repr(value) if isinstance(value, (str, int, float)) and len(repr(value)) <= 40 \
        else f"a value of type {type(value).__name__}"
    raise UsageError("expected a device profile: a built-in name such as 'pixel1', a profile .yaml path, "
                     f"or a Device (mbcost.load_device), got {shown}", field=field)
