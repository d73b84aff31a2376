"""The published record: every number the papers and frameworks print, recomputed.

The values themselves live in ``published.yaml`` (package data) with the citation of each;
this module loads them into :class:`Entry` records, recomputes each with
:func:`mbcost.analyze` under the entry's counting convention, and compares our exact count
with the printed digits the way the sources round: a printed value matches when our count,
in the printed unit, truncated or rounded half-up to the printed number of decimals equals
it. A digit we cannot match carries an ``explained`` reason in the data file; an explained
entry that starts to match is *stale*, so the explanations cannot rot unnoticed.

    >>> from mbcost.analyses.reproduce import load_published, reproduce
    >>> outcomes = reproduce(load_published())
    >>> [o.entry.label for o in outcomes if o.failed]
    []
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.conventions import PROFILES, Convention
from ..errors import MbcostError, UsageError, Where
from ..core.multipliers import fmt_alpha, parse_alpha, parse_resolution, parse_rho
from ..core.locate import builtin_variants
from ..core.fields import Fields
from ..core.yamlio import Document, describe, field_path, parse, read_text

if TYPE_CHECKING:
    from ..core.engine import Report

QUANTITIES = ("madds", "params", "madds_share", "params_share", "channels", "memory", "latency")
UNITS: dict[str, int] = {"1": 1, "K": 10**3, "M": 10**6, "G": 10**9}
DEFAULT_UNITS = {"madds": "M", "params": "M", "channels": "1", "memory": "K", "latency": "ms"}
_PRINTED = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?", re.ASCII)  # 569 · 4.24 · 4,253,864

_SOURCE_KEYS = ("citation", "url", "digits")
_TABLE_KEYS = ("source", "table", "architecture", "convention", "units", "note", "rows", "device", "build")
_ROW_KEYS = ("label", "type", "architecture", "alpha", "resolution", "rho", "layers", "map",
             "unavailable", "convention", "units", "note", "explained", "device", "build",
             "output_stride", "scales", "flip") + QUANTITIES
_MEMORY_KEYS = ("act_dtype", "weight_dtype", "chunks")
_CONVENTION_KEYS = ("name", "profile", "bn", "bias", "classes", "flops") + _MEMORY_KEYS


class PublishedDataError(MbcostError):
    """The published-numbers file is malformed (exit 2, with file:line:col)."""


@dataclass(frozen=True)
class Source:
    key: str
    citation: str
    url: str = ""
    digits: str = ""  # how the printed digits were obtained (read in the file, transcription…)


@dataclass(frozen=True)
class Entry:
    """One printed number and everything needed to recompute it."""

    source: Source
    table: str
    label: str
    architecture: str
    alpha: Fraction | None  # None: the architecture's (a variant's) own, e.g. efficientnet_b3's 1.2
    resolution: int | None
    rho: Fraction | None
    convention: Convention
    quantity: str  # madds | params | madds_share | params_share | channels | memory
    printed: str  # the digits exactly as printed, e.g. "0.30", "4,253,864"
    unit: str  # 1 | K | M | G | %
    layer_type: str | None = None  # for shares: a row of the V1 paper's Table 2
    layers: tuple[str, ...] | None = None  # count only these layers (a single-layer table)
    explained: str | None = None  # why the printed digits cannot be matched
    feature_map: int | None = None  # channels / memory: the H = W of the maps counted (None: all)
    note: str | None = None  # about this row
    table_note: str | None = None  # about every row of its table (e.g. why this convention)
    device: str | None = None  # latency: the device profile that predicts it (docs/latency.md)
    build: str | None = None  # latency: the software build its source measured with
    output_stride: int | None = None  # DeepLab's output stride (the backbone's strides past it dilated)
    scales: tuple[Fraction, ...] | None = None  # multi-scale inference: the sum over these input scales
    flip: bool = False  # … and their mirrored copies (the V2 paper's Table 7 "MF")
    where: Where = field(default_factory=Where, compare=False)  # the printed value's place in the data file

    @property
    def id(self) -> str:
        return f"{self.source.key}/{self.table.split(':')[0]}/{self.label}/{self.quantity}"


@dataclass(frozen=True)
class Outcome:
    """An entry recomputed: our exact count and how it compares with the printed digits."""

    entry: Entry
    value: int | None  # our exact count (for a share, the layer type's count); None: not computable
    total: int | None  # for a share, the network's total
    scaled: Fraction  # ``value`` in the printed unit (a percentage for shares)
    match: str | None  # 'truncated', 'rounded', 'truncated or rounded', or None
    resolution: tuple[int, int]  # the input size analysed (the file's own if the entry gives none)
    alpha: Fraction = Fraction(1)  # the width analysed (the variant's own if the entry gives none)

    @property
    def status(self) -> str:
        """ok · explained (a known, documented mismatch) · unexplained · stale (explained
        but matching now: the explanation is out of date)."""
        if self.match:
            return "stale" if self.entry.explained else "ok"
        return "explained" if self.entry.explained else "unexplained"

    @property
    def failed(self) -> bool:
        return self.status in ("unexplained", "stale")


# --- comparing with printed digits ------------------------------------------------------------

def printed_value(printed: str) -> tuple[int, int]:
    """'4.24' → (424, 2): the printed digits as an integer and the number of decimals."""
    text = printed.strip()
    if not _PRINTED.fullmatch(text):
        raise ValueError(f"expected printed digits such as 569, 4.24 or 4,253,864, got {printed!r}")
    whole, _, frac = text.replace(",", "").partition(".")
    return int(whole + frac), len(frac)


def printed_match(exact: Fraction, printed: str, placeholder_zeros: bool = False) -> str | None:
    """How ``printed`` follows from the exact value, if it does: truncated, rounded half-up, or
    both (the sources do either, and print no more than they keep). With
    ``placeholder_zeros`` an integer's trailing zeros hold places, not digits, down to two
    significant figures: "1600" is 16xx rounded to hundreds, "200" is 2xx to tens (the V2
    paper's Table 3 keeps two figures; never one, which would let 150 pass for 200)."""
    digits, decimals = printed_value(printed)
    x = exact * 10**decimals
    if placeholder_zeros and not decimals and digits:
        while digits % 10 == 0 and digits >= 100:
            digits, x = digits // 10, x / 10
    floor, rounded = math.floor(x), math.floor(x + Fraction(1, 2))
    if digits == floor and digits == rounded:
        return "truncated or rounded"
    if digits == floor:
        return "truncated"
    if digits == rounded:
        return "rounded"
    return None


def decimal_text(x: Fraction, decimals: int) -> str:
    """An exact value as a decimal, truncated (never rounded up past the printed digits)."""
    n = math.floor(x * 10**decimals)
    return f"{n // 10**decimals}.{n % 10**decimals:0{decimals}d}" if decimals else str(n)


# --- recomputing ------------------------------------------------------------------------------

class _Reports:
    """analyze() once per (architecture, α, resolution, convention, output stride, scales): most
    entries share one. An entry with ``scales`` gets a :class:`~mbcost.analyses.multiscale.MultiScale`."""

    def __init__(self):
        self._cache: dict[tuple, Any] = {}

    def get(self, e: Entry):
        key = (e.architecture, e.alpha, e.resolution, e.rho, e.convention, e.output_stride, e.scales, e.flip)
        if key not in self._cache:
            from ..core.engine import load

            spec = load(e.architecture, output_stride=e.output_stride) if e.output_stride else e.architecture
            if e.scales:
                from .multiscale import multiscale

                self._cache[key] = multiscale(spec, e.scales, e.flip, alpha=e.alpha, resolution=e.resolution,
                                              rho=e.rho, convention=e.convention)
            else:
                from ..core.engine import analyze  # the engine only once a value is costed

                self._cache[key] = analyze(spec, alpha=e.alpha, resolution=e.resolution, rho=e.rho,
                                           convention=e.convention)
        return self._cache[key]


def counted_layers(entry: Entry, report: Report) -> tuple:
    """The layers an entry's ``layers:`` names — a layer, or a block instance (``head1``: all of
    head1's layers, SSD's prediction layers on one map) — in the report's order, each once."""
    missing = [n for n in entry.layers
               if not any(r.name == n or r.name.startswith(n + ".") for r in report.layers)]
    if missing:
        raise PublishedDataError(f"{report.architecture} has no layer {missing[0]!r}, nor a block of that name",
                                 field="layers", where=entry.where)
    return tuple(r for r in report.layers
                 if any(r.name == n or r.name.startswith(n + ".") for n in entry.layers))


def materialised(report: Report) -> list[tuple[str, tuple[int, int, int]]]:
    """The tensors that exist whole: every tensor (the input included) but the chunks of
    the bottlenecks the convention computes in chunks (core/memory.py)."""
    from ..core.memory import plan

    chunked = {t for s in plan(report.graph, report.convention.chunks).steps for t in s.chunked}
    shapes = [("input", report.graph.input_shape)] + [(r.name, r.output_shape) for r in report.layers]
    return [(n, s) for n, s in shapes if n not in chunked]


def check_memory(entry: Entry, report: Report) -> Outcome:
    """The V2 paper's Table 3 measure: among the tensors materialised on maps of side
    ``feature_map`` (all maps when None), the most channels, or the largest tensor's bytes."""
    from ..core.memory import DTYPES

    tensors = [s for _, s in materialised(report)
               if entry.feature_map is None or s[0] == s[1] == entry.feature_map]
    if not tensors:
        raise PublishedDataError(f"{report.architecture} has no {entry.feature_map}×{entry.feature_map} map",
                                 field="map", where=entry.where)
    if entry.quantity == "channels":
        value = max(c for _, _, c in tensors)
    else:
        value = max(h * w * c for h, w, c in tensors) * DTYPES[entry.convention.act_dtype]
    scaled = Fraction(value, UNITS[entry.unit])
    return Outcome(entry, value, None, scaled,
                   printed_match(scaled, entry.printed, placeholder_zeros=entry.quantity == "memory"),
                   report.resolution, report.alpha)


def check_latency(entry: Entry, report: Report) -> Outcome:
    """A published latency against the entry's device profile, at its source's build: it
    matches when within the profile's interval (its error on families left out of its fit)."""
    if not entry.device:
        raise PublishedDataError("a latency needs 'device' (a built-in profile, e.g. pixel1)", field="device",
                                 where=entry.where)
    device = _device(entry.device).at(report.convention)
    try:
        factor = device.build_factor(entry.build)
    except UsageError as exc:
        raise PublishedDataError(exc.message, field="build", where=entry.where) from None
    ms = factor * sum(device.layer_ms(r) for r in report.layers)
    printed = Fraction(entry.printed.replace(",", ""))
    within = device.interval is not None and abs(Fraction(ms) / printed - 1) * 100 <= Fraction(device.interval)
    return Outcome(entry, ms, None, Fraction(ms), f"within ±{device.interval:g}%" if within else None,
                   report.resolution, report.alpha)


@lru_cache(maxsize=None)
def _device(name: str):
    """A built-in device profile, read once per process (every latency row of a table shares one)."""
    from .latency import load_device

    return load_device(name, flag="device")


def check(entry: Entry, reports: _Reports | None = None) -> Outcome:
    """Recompute one entry and compare it with its printed digits."""
    if not entry.architecture:  # a network mbcost cannot build: explained, never matched
        return Outcome(entry, None, None, Fraction(0), None, (0, 0))
    report = (reports or _Reports()).get(entry)
    if entry.scales:  # the sum over the scales (and flips); one network's parameters
        value = report.madds * (2 if entry.convention.flops else 1) if entry.quantity == "madds" else report.params
        scaled = Fraction(value, UNITS[entry.unit])
        return Outcome(entry, value, None, scaled, printed_match(scaled, entry.printed),
                       report.reports[report.scales.index(1)].resolution if 1 in report.scales
                       else report.reports[0].resolution, report.reports[0].alpha)
    if entry.quantity in ("channels", "memory"):
        return check_memory(entry, report)
    if entry.quantity == "latency":
        return check_latency(entry, report)
    layers = report.layers if entry.layers is None else counted_layers(entry, report)
    madds = sum(r.madds for r in layers) * (2 if entry.convention.flops else 1)
    params = sum(r.params for r in layers)
    total = None
    if entry.quantity in ("madds", "params"):
        value = madds if entry.quantity == "madds" else params
        scaled = Fraction(value, UNITS[entry.unit])
    else:
        kinds = {k.type: k for k in report.by_kind()}
        if entry.layer_type not in kinds:
            raise PublishedDataError(f"{report.architecture} has no layer type {entry.layer_type!r} "
                                     f"(it has {', '.join(kinds)})", field="type", where=entry.where)
        k = kinds[entry.layer_type]
        value, total = (k.madds, madds) if entry.quantity == "madds_share" else (k.params, params)
        scaled = Fraction(100 * value, total or 1)
    return Outcome(entry, value, total, scaled, printed_match(scaled, entry.printed), report.resolution,
                   report.alpha)


def reproduce(entries: list[Entry]) -> list[Outcome]:
    reports = _Reports()
    return [check(e, reports) for e in entries]


def select(entries: list[Entry], source: str | None) -> list[Entry]:
    """Entries whose source key or citation contains ``source`` (case-insensitive)."""
    if not source:
        return entries
    s = source.casefold()
    return [e for e in entries if s in e.source.key.casefold() or s in e.source.citation.casefold()]


# --- loading the data file --------------------------------------------------------------------

def default_path() -> Path:
    return Path(__file__).with_name("published.yaml")


def load_published(path: str | Path | None = None) -> list[Entry]:
    """Every printed number in the data file (the packaged one by default), in file order."""
    p = Path(path) if path is not None else default_path()
    doc = parse(read_text(p), str(path) if path is not None else "published.yaml")
    return _Loader(doc, p.parent).entries()


def _words(f: Fields, key: str, default=None) -> str | None:
    """A non-empty string with its line breaks and runs of spaces folded (citations wrap)."""
    value = f.text(key, default)
    return value if value is default else " ".join(value.split())


class _Loader:
    """The published-numbers file, read with the one typed reader (:class:`Fields`)."""

    def __init__(self, doc: Document, base: Path):
        self.doc, self.base = doc, base

    def fields(self, path: tuple, allowed: tuple[str, ...]) -> Fields:
        return Fields(self.doc, path, field_path("", path), allowed, error=PublishedDataError)

    def fail(self, path: tuple, message: str, *, key: bool = False):
        """A value that is no mapping's own (a row's architecture, a printed number) is wrong."""
        raise PublishedDataError(message, field=field_path("", path) or None, where=self.doc.where(path, key=key))

    def entries(self) -> list[Entry]:
        top = self.fields((), ("sources", "tables"))
        for k in ("sources", "tables"):
            if not top.has(k):
                top.fail((), f"missing {k!r}")
        sources = self.sources(top.data["sources"])
        if not isinstance(top.data["tables"], list) or not top.data["tables"]:
            top.fail_key("tables", "expected a non-empty list of tables")
        out: list[Entry] = []
        for i in range(len(top.data["tables"])):
            out.extend(self.table(("tables", i), sources))
        return out

    def sources(self, data: Any) -> dict[str, Source]:
        if not isinstance(data, dict) or not data:
            self.fail(("sources",), "expected a mapping of source keys to citations")
        out = {}
        for key in data:
            m = self.fields(("sources", key), _SOURCE_KEYS)
            if not m.has("citation"):
                m.fail(m.path, "missing 'citation'")
            optional = {f: _words(m, f) for f in ("url", "digits") if m.has(f)}
            out[key] = Source(key, _words(m, "citation"), **optional)
        return out

    def table(self, path: tuple, sources: dict[str, Source]) -> list[Entry]:
        t = self.fields(path, _TABLE_KEYS)
        for k in ("source", "table", "rows"):
            if not t.has(k):
                t.fail(path, f"missing {k!r}")
        if not isinstance(t.data["source"], str) or t.data["source"] not in sources:
            t.fail_key("source", f"unknown source {t.data['source']!r}; expected one of {', '.join(sources)}")
        source = sources[t.data["source"]]
        title = _words(t, "table")
        if not isinstance(t.data["rows"], list) or not t.data["rows"]:
            t.fail_key("rows", "expected a non-empty list of rows")
        out = []
        for j in range(len(t.data["rows"])):
            out.extend(self.row(path + ("rows", j), t, source, title))
        return out

    def row(self, path: tuple, table: Fields, source: Source, title: str) -> list[Entry]:
        f = self.fields(path, _ROW_KEYS)
        r, tpath = f.data, table.path

        def pick(key):  # a row's own value, else its table's, with the path it came from
            return (r[key], path + (key,)) if key in r else (table.data.get(key), tpath + (key,))

        arch, apath = pick("architecture")
        unavailable = _words(f, "unavailable")
        if unavailable is not None:
            arch = ""  # printed values of a network with no built-in config: each is explained
        elif arch is None:
            f.fail(path, "missing 'architecture' (on the row or its table)")
        else:
            arch = self.architecture(apath, arch)
        conv_value, cpath = pick("convention")
        convention = self.convention(cpath, conv_value if conv_value is not None else "paper")
        alpha = self.number(path + ("alpha",), r["alpha"], parse_alpha) if "alpha" in r else None
        rho = self.number(path + ("rho",), r["rho"], parse_rho) if "rho" in r else None
        resolution = self.number(path + ("resolution",), r["resolution"], parse_resolution) \
            if "resolution" in r else None
        if rho is not None and resolution is not None:
            f.fail_key("rho", "give either resolution or rho, not both")
        layers = None
        if "layers" in r:
            if not isinstance(r["layers"], list) or not r["layers"] or \
                    not all(isinstance(x, str) for x in r["layers"]):
                f.fail_key("layers", "expected a non-empty list of layer names")
            layers = tuple(r["layers"])
        units = dict(DEFAULT_UNITS)
        for holder, upath in ((table, tpath + ("units",)), (f, path + ("units",))):
            if not holder.has("units"):
                continue
            m = self.fields(upath, ("madds", "params", "memory"))
            for q, unit in m.data.items():
                if str(unit) not in UNITS:
                    m.fail_key(q, f"expected a unit among {', '.join(UNITS)}, got {describe(unit)}")
                units[q] = str(unit)
        explained = r.get("explained", {})
        if not isinstance(explained, dict):
            f.fail_key("explained", "expected a mapping {quantity: reason}")
        for q in explained:
            if q not in r or q not in QUANTITIES:
                f.fail(path + ("explained", q), f"explains {q!r}, which this row does not print", key=True)
        quantities = [q for q in QUANTITIES if q in r]
        if not quantities:
            f.fail(path, f"no printed value (one of {', '.join(QUANTITIES)})")
        layer_type = _words(f, "type")
        if any(q.endswith("_share") for q in quantities) and layer_type is None:
            f.fail(path, "a share needs 'type' (e.g. \"Conv 1×1\")")
        note = _words(f, "note")
        device = _words(f, "device") or _words(table, "device")  # a row's own, else its table's
        build = _words(f, "build") or _words(table, "build")
        table_note = _words(table, "note")
        label = _words(f, "label") or layer_type or arch
        feature_map = self.number(path + ("map",), r["map"], parse_resolution) if "map" in r else None
        stride, scales, flip = self.inference(f, quantities, layers)
        reasons = self.fields(path + ("explained",), tuple(explained)) if explained else None
        out = []
        for q in quantities:
            printed = self.printed(path + (q,), r[q])
            if unavailable is not None:
                why = unavailable
            else:
                why = _words(reasons, q) if reasons is not None and q in explained else None
            out.append(Entry(
                source=source, table=title, label=label, architecture=arch, alpha=alpha,
                resolution=resolution, rho=rho, convention=convention, quantity=q, printed=printed,
                unit="%" if q.endswith("_share") else units[q], layer_type=layer_type, layers=layers,
                explained=why, note=note, table_note=table_note, where=self.doc.where(path + (q,)),
                feature_map=feature_map, device=device, build=build, output_stride=stride, scales=scales,
                flip=flip,
            ))
        return out

    def inference(self, f: Fields, quantities: list[str], layers) -> tuple:
        """A row's ``output_stride``, ``scales`` and ``flip`` (DeepLab's inference settings)."""
        from ..core.spec import OUTPUT_STRIDES

        stride = f.integer("output_stride", None, hi=1024)
        if stride is not None and stride not in OUTPUT_STRIDES:
            f.fail_key("output_stride", f"expected one of {', '.join(map(str, OUTPUT_STRIDES))}, got {stride}")
        scales = None
        if f.has("scales"):
            from .multiscale import parse_scales

            value = f.data["scales"]
            text = ",".join(map(str, value)) if isinstance(value, list) else value
            try:
                scales = parse_scales(text)
            except UsageError as exc:
                f.fail_key("scales", exc.message)
            other = [q for q in quantities if q not in ("madds", "params")] + (["layers"] if layers else [])
            if other:
                f.fail_key("scales", f"a multi-scale row prints mult-adds and params only, not {other[0]}")
        flip = bool(f.boolean("flip", False))
        if flip and scales is None:
            f.fail_key("flip", "flip doubles a multi-scale sum: give 'scales' too (e.g. [1])")
        return stride, scales, flip

    def printed(self, path: tuple, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            hint = f" (quote it so its digits survive: \"{value}\")" if isinstance(value, float) else ""
            self.fail(path, f"expected the printed digits as a string, got {describe(value)}{hint}")
        try:
            printed_value(str(value))
        except ValueError as exc:
            self.fail(path, str(exc))
        return str(value)

    def number(self, path: tuple, value: Any, parse_fn):
        try:
            return parse_fn(value)
        except MbcostError as exc:
            self.fail(path, exc.message)

    def architecture(self, path: tuple, name: Any) -> str:
        if not isinstance(name, str) or not name.strip():
            self.fail(path, f"expected a non-empty string, got {describe(name)}")
        name = " ".join(name.split())
        if name in builtin_variants():  # a file (mobilenet_v2) or a file's variant (efficientnet_b3)
            return name
        candidate = self.base / name
        if candidate.is_file():
            return str(candidate)
        self.fail(path, f"no built-in architecture or file {name!r} (built-ins: {', '.join(builtin_variants())})")

    def convention(self, path: tuple, value: Any) -> Convention:
        if isinstance(value, str):
            if value not in PROFILES:
                self.fail(path, f"expected a profile ({', '.join(PROFILES)}) or a mapping, got {value!r}")
            return PROFILES[value]
        m = self.fields(path, _CONVENTION_KEYS)
        base = m.choice("profile", tuple(PROFILES), "paper")
        name = _words(m, "name", base)
        try:  # Convention validates bn, bias, classes and flops itself
            return replace(PROFILES[base], name=name,
                           **{k: m.data[k] for k in ("bn", "bias", "classes", "flops") + _MEMORY_KEYS if m.has(k)})
        except UsageError as exc:
            m.fail_key(exc.field, exc.message)



# --- machine-readable form --------------------------------------------------------------------

def outcome_dict(o: Outcome) -> dict[str, Any]:
    e = o.entry
    c = e.convention
    return {
        "id": e.id,
        "status": o.status,
        "source": e.source.key,
        "citation": e.source.citation,
        "table": e.table,
        "label": e.label,
        "architecture": e.architecture,
        "alpha": fmt_alpha(o.alpha),
        "resolution": (None if not e.architecture else
                       o.resolution[0] if o.resolution[0] == o.resolution[1] else list(o.resolution)),
        "map": e.feature_map,
        "rho": None if e.rho is None else fmt_alpha(e.rho),
        "layers": list(e.layers) if e.layers else None,
        "output_stride": e.output_stride,
        "scales": [fmt_alpha(s) for s in e.scales] if e.scales else None,
        "flip": e.flip,
        "convention": c.to_dict(),
        "quantity": e.quantity,
        "device": e.device,
        "type": e.layer_type,
        "published": e.printed,
        "unit": e.unit,
        "ours": o.value,
        "ours_total": o.total,
        "ours_in_unit": None if o.value is None else decimal_text(o.scaled, printed_value(e.printed)[1] + 4),
        "match": o.match,
        "explained": e.explained,
        "note": " ".join(n for n in (e.table_note, e.note) if n) or None,
    }


@dataclass(frozen=True)
class Summary:
    matched: int
    explained: int
    unexplained: int
    stale: int

    @property
    def ok(self) -> bool:
        return not (self.unexplained or self.stale)


def summarize(outcomes: list[Outcome]) -> Summary:
    n = {s: sum(o.status == s for o in outcomes) for s in ("ok", "explained", "unexplained", "stale")}
    return Summary(n["ok"], n["explained"], n["unexplained"], n["stale"])


def results_dict(outcomes: list[Outcome]) -> dict[str, Any]:
    """The JSON of ``mbcost reproduce``: a summary and one record per printed value."""
    s = summarize(outcomes)
    return {"summary": {"matched": s.matched, "explained": s.explained, "unexplained": s.unexplained,
                        "stale": s.stale, "ok": s.ok},
            "entries": [outcome_dict(o) for o in outcomes]}
