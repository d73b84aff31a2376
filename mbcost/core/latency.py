"""A per-layer roofline latency model, and the device profiles it is calibrated with.

Each layer L takes

    t_L = max(madds_L / rate(kind_L), bytes_L / bandwidth) + overhead

and the network Σ t_L (batch 1, layers run one after another). Four constants at most:
``rate_conv`` (GMAC/s, standard and pointwise convs and the classifier), ``rate_dw`` (GMAC/s,
depthwise convs, which run far below a device's peak), ``bandwidth`` (GB/s) and ``overhead``
(µs per layer). A layer is *memory-bound* when its bytes term is the larger.

``bytes_L = dtype_bytes · (input elements + output elements + weights)``: every input map is
read once (an add reads both operands), the output written once, each weight read once;
weights are the layer's parameters under the report's convention. This is the one place mbcost
computes moved bytes; it belongs with the memory metrics (activation and weight bytes) when
those land, and should then read them.

Profiles are data (``mbcost/analyses/devices/*.yaml``, :mod:`mbcost.analyses.latency` loads
them); ``pixel1`` is fitted to TF-slim's 22 published MobileNetV2 latencies.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UsageError
from .kinds import kind_of


@dataclass(frozen=True)
class Device:
    """A calibrated device: the four roofline constants (rates in GMAC/s, bandwidth in GB/s,
    overhead in µs per layer) and the bytes per activation/weight element."""

    name: str
    rate_conv: float
    rate_dw: float
    bandwidth: float
    overhead: float = 0.0
    dtype_bytes: int = 4
    description: str = ""
    source: str = ""  # where the profile came from (the YAML file)
    quality: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        for k in ("rate_conv", "rate_dw", "bandwidth"):
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and v > 0 and v < float("inf")):
                raise ValueError(f"{k} must be a finite number > 0, got {v!r}")
        if not (isinstance(self.overhead, (int, float)) and 0 <= self.overhead < float("inf")):
            raise ValueError(f"overhead must be a finite number ≥ 0, got {self.overhead!r}")

    def rate(self, result) -> float:
        """The rate of the layer's latency class (its kind's ``latency`` facet)."""
        rate = RATES.get(latency_class(result))
        if rate is None:
            raise UsageError(f"layer {result.layer.name}: the {self.name} profile has no rate for its "
                             f"latency class {latency_class(result)!r}", field="--device")
        return getattr(self, rate)

    def compute_ms(self, result) -> float:
        return result.madds / (self.rate(result) * 1e6)  # GMAC/s = 10⁶ MAC/ms

    def memory_ms(self, result) -> float:
        return moved_bytes(result, self.dtype_bytes) / (self.bandwidth * 1e6)  # GB/s = 10⁶ B/ms

    def layer_ms(self, result) -> float:
        return max(self.compute_ms(result), self.memory_ms(result)) + self.overhead / 1000

    def memory_bound(self, result) -> bool:
        return self.memory_ms(result) > self.compute_ms(result)


# latency class → the constant its mult-adds run at. Dense convs and the classifier run at the
# conv rate, depthwise convs at their own; 'memory' kinds have no mult-adds (only bytes move).
# An activation-activation matmul (attention's Q·Kᵀ and A·V) is a dense product: timed at the
# conv rate, which no published mobile latency has yet separated from it.
RATES = {"conv": "rate_conv", "fc": "rate_conv", "depthwise": "rate_dw", "matmul": "rate_conv",
         "memory": "rate_conv"}


def latency_class(result) -> str:
    """The layer's latency class, as its kind declares it (:mod:`mbcost.core.kinds`)."""
    return kind_of(result.layer).latency_class(result)


def is_depthwise(result) -> bool:
    """A depthwise conv: kind dwconv, or a conv with one group per input channel."""
    return latency_class(result) == "depthwise"


def _elements(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def moved_bytes(result, dtype_bytes: int = 4) -> int:
    """Bytes a layer reads and writes: every input map, the output map, and its weights."""
    data = result.input_shapes[:len(result.input_shapes) - result.layer.shape_only]  # not a like: reference
    return dtype_bytes * (sum(_elements(s) for s in data) + _elements(result.output_shape) + result.params)
