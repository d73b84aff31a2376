"""The metric registry: what mbcost can count, named once.

A :class:`Metric` reads an exact integer off anything that carries the counts — a layer's
result, a whole report, a sweep point, one side of a diff — by the attribute that holds its
base count. Report columns, sweep columns, ``check``'s ``max_<metric>`` limits, ``diff``'s
deltas and the JSON/CSV fields iterate ``METRICS``, so a new metric (activation memory, weight
bytes, latency) is one entry here plus the attribute that computes it.

FLOPs are derived here and nowhere else: one mult-add is a multiply and an add, 2 FLOPs.

    >>> import mbcost
    >>> r = mbcost.analyze("mobilenet_v1")
    >>> [(m.name, m.of(r)) for m in METRICS.values()]
    [('madds', 568740352), ('flops', 1137480704), ('params', 4209088), ('latency', None), ('peak_memory', 4816896), ('weights', 16836352)]

Memory metrics are bytes in the convention's dtypes (fp32 by default; docs/memory.md): on a
layer, ``peak_memory`` is the activation memory alive while it runs; on a network, the
largest of those (a max, not a sum — the sweep computes it per configuration).
"""
from __future__ import annotations

from dataclasses import dataclass

from .conventions import Convention


@dataclass(frozen=True)
class Metric:
    """name: the key in JSON, CSV and budgets (``max_madds``); label: a column header;
    noun: the word in sentences; base: the attribute holding the exact count; times: the
    factor from that count (FLOPs = 2 × mult-adds); unit: '' for counts, 'B' for bytes;
    field: the key in JSON and CSV when it differs from ``name`` (budgets and ``check``'s
    flags use ``name``: ``max_peak_memory``; JSON says ``peak_activation_bytes``)."""

    name: str
    label: str
    noun: str
    base: str
    times: int = 1
    unit: str = ""
    description: str = ""
    key: str = ""  # the JSON/CSV field when it differs from the name ('latency_ms')
    needs: str = ""  # what must be given for it to exist: 'device' for latency; '' always counted

    def of(self, counted):
        """The exact value on a layer result, report, sweep point or diff side; None for a
        metric that needs what was not given (latency without a device)."""
        value = getattr(counted, self.base, None)
        return None if value is None else value * self.times

    @property
    def field(self) -> str:
        return self.key or self.name

    @property
    def flag(self) -> str:
        return "--max-" + self.name.replace("_", "-")


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("madds", "mult-adds", "mult-adds", "madds",
           description="multiply-accumulates of weights with inputs (the papers' MAdds)"),
    Metric("flops", "FLOPs", "FLOPs", "madds", times=2,
           description="floating-point operations, 2 per mult-add"),
    Metric("params", "params", "parameters", "params",
           description="weights, plus biases and batch norm as the convention counts them"),
    Metric("latency", "latency", "latency", "latency_ms", unit="ms", key="latency_ms", needs="device",
           description="time on a device latency profile (--device), milliseconds"),
    Metric("peak_memory", "live act. B", "bytes of peak activation memory", "peak_activation_bytes",
           unit="B", key="peak_activation_bytes",
           description="activation bytes alive at once, the largest over the execution order"),
    Metric("weights", "weights B", "bytes of weights", "weight_bytes", unit="B", key="weight_bytes",
           description="parameters × the weight dtype's bytes"),
)}

COUNTS: dict[str, Metric] = {n: m for n, m in METRICS.items() if not m.needs}  # exact integers, always there


def present(counted) -> tuple[Metric, ...]:
    """The metrics ``counted`` carries: the counts, and latency when it was timed on a device."""
    return tuple(m for m in METRICS.values() if not m.needs or m.of(counted) is not None)


def compute(convention: Convention) -> Metric:
    """The compute metric a convention reports: FLOPs under ``flops``, else mult-adds."""
    return METRICS["flops" if convention.flops else "madds"]


def shown(convention: Convention) -> tuple[Metric, ...]:
    """The metrics a table shows by default under a convention: its compute metric, params,
    and the two memory metrics."""
    return (compute(convention), METRICS["params"], METRICS["peak_memory"], METRICS["weights"])
