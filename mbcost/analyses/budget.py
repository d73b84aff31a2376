"""Budgets: limits on mult-adds, FLOPs and parameters, and the check against them.

A :class:`Budget` is one architecture at one (α, resolution, convention) with one or more
:class:`Limit` s. :func:`check` costs each and returns :class:`Outcome` records; rendering
(text, JSON, Markdown, JUnit) lives in :mod:`mbcost.render.check` and :mod:`mbcost.render.junit`.

Limits are inclusive (a count equal to its limit passes) and each names its unit:
``max_madds`` limits mult-adds, ``max_flops`` limits FLOPs (= 2 × mult-adds) and
``max_params`` parameters; nothing reinterprets a limit (the CLI refuses ``--max-madds``
with ``--flops`` as ambiguous).

A budgets file (docs/ci.md) lists several budgets::

    budgets:
      - arch: mobilenet_v2          # built-in name, or a path relative to this file
        alpha: 1.0
        max_madds: 301M
        max_params: 3.5M
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

from ..core.engine import Report, analyze
from ..core.latency import Device
from ..core.metrics import METRICS as REGISTRY
from ..core.conventions import PAPER, PROFILES, Convention
from .diff import ArchDiff, LayerDelta, diff_reports
from ..errors import MbcostError, SpecError, UsageError, Where
from ..core.multipliers import fmt_alpha, input_resolution, parse_alpha, parse_depth, parse_resolution, parse_rho
from ..core.fields import Fields
from ..core.locate import read_model
from ..core.spec import ArchSpec, load_spec, recognise_architecture, recognise_file, spec_from_document
from ..core.yamlio import describe, digits, parse, read_text

METRICS = tuple(REGISTRY)  # every metric of the registry can be limited: max_madds, max_params…
METRIC_NAMES = {m.name: m.noun for m in REGISTRY.values()}

# --- sizes ------------------------------------------------------------------------------------

SIZE_EXAMPLES = "300M, 3.5M, 1.2G, 750K, 300e6 or 300_000_000"
BYTES_EXAMPLES = "5MB, 2MiB, 400KB, 1.5GB or 6000000"
_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_BINARY = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
# digits with single underscores between them (as in Python), or 1,234,567 grouping as we print it;
# sizes in bytes may end in B, with a decimal (KB = 1000 B) or binary (KiB = 1024 B) prefix
_SIZE = re.compile(r"(?P<num>(?:\d+(?:_\d+)*|\d{1,3}(?:,\d{3})+)(?:\.\d+(?:_\d+)*)?(?:[eE][+-]?\d+)?)"
                   r"\s*(?P<suffix>[kKmMgGtT]?)(?P<binary>i?)(?P<bytes>B?)")
MAX_SIZE = 10**24  # far beyond any network


def parse_size(value: object, field: str | None = None, where: Where | None = None, unit: str = "") -> int:
    """A count as people write it — ``300M``, ``3.5M``, ``1.2G``, ``750K``, ``300e6``,
    ``300_000_000`` — as an exact int. Decimal arithmetic, never binary floats, so ``1.1M``
    is 1,100,000 and not 1,100,000.0000000002; a size that is not a whole number is an error.

    With ``unit="B"`` (a limit in bytes) the size may also end in B: ``400KB`` is 400,000 B
    and ``2MiB`` 2,097,152 B (SI prefixes are powers of 1000, IEC's Ki, Mi, Gi of 1024); a
    count (mult-adds, parameters) refuses both, so ``--max-params 3MB`` is an error."""
    examples = BYTES_EXAMPLES if unit == "B" else SIZE_EXAMPLES

    def fail(message: str):
        raise UsageError(message.replace(SIZE_EXAMPLES, examples), field=field, where=where)

    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        fail(f"expected a size like {SIZE_EXAMPLES}, got {describe(value)}")
    if isinstance(value, int):
        if digits(value) > 64:  # str() of it would be refused past 4,300 digits
            fail(f"{describe(value)} is too large (at most {MAX_SIZE:.0e})")
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)  # YAML's 3.5e+8: the shortest decimal that round-trips
    else:
        text = str(value).strip()
    if len(text) > 64:
        fail(f"expected a size like {SIZE_EXAMPLES}, got a {len(text)}-character value")
    if text.startswith("-"):
        fail(f"expected a size ≥ 0, got {text!r}")
    m = _SIZE.fullmatch(text)
    if not m or (m["binary"] and not m["suffix"]):
        fail(f"expected a size like {SIZE_EXAMPLES}, got {text!r}")
    if (m["bytes"] or m["binary"]) and unit != "B":
        fail(f"expected a size like {SIZE_EXAMPLES}: a count, not bytes (B is for memory limits), "
             f"got {text!r}")
    try:
        number = Decimal(m["num"].replace("_", "").replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        fail(f"expected a size like {SIZE_EXAMPLES}, got {text!r}")
    # bound the exponent before building the exact value: 1e999999999 would be a huge integer
    if number and number.adjusted() > 30:
        fail(f"{text!r} is too large (at most {MAX_SIZE:.0e})")
    if number.as_tuple().exponent < -30:
        fail(f"expected a whole number, got {text!r}")
    exact = Fraction(number) * (_BINARY if m["binary"] else _SUFFIX)[m["suffix"].lower()]
    if exact.denominator != 1:
        fail(f"expected a whole number, got {text!r}" + (f" = {float(exact):,}" if m["suffix"] else ""))
    if exact > MAX_SIZE:
        fail(f"{text!r} is too large (at most {MAX_SIZE:.0e})")
    return int(exact)


# --- budgets ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limit:
    metric: str  # madds | flops | params
    value: int


@dataclass(frozen=True)
class Budget:
    """One architecture at one (α, resolution, convention), and its limits."""

    name: str  # what messages call it: the budgets file's ``name``, else ``arch`` as written
    arch: str | Path | ArchSpec
    limits: tuple[Limit, ...]
    alpha: Fraction | None = None  # None: the file's (a variant's) own, else 1
    resolution: int | None = None
    rho: Fraction | None = None
    convention: Convention = PAPER
    baseline: str | Path | ArchSpec | None = None  # a previous version of ``arch``
    depth: Fraction | None = None
    where: Where = field(default_factory=Where)  # the entry in the budgets file
    device: Device | None = None  # the latency profile, for max_latency
    # a partial result (an imported model's ops not costed, --allow-unknown) is judged on what is
    # costed only when this says so; else the check cannot say the model is within budget (exit 2)
    allow_partial: bool = False


@dataclass(frozen=True)
class Outcome:
    """One metric of one budget against its limit."""

    metric: str
    count: int | float  # latency is milliseconds, the counts exact integers
    limit: int | float

    @property
    def ok(self) -> bool:
        return self.count <= self.limit

    @property
    def over(self) -> int:
        """How far above the limit: > 0 over budget, ≤ 0 the headroom left."""
        return self.count - self.limit

    @property
    def over_ratio(self) -> Fraction | None:
        """``over`` as a fraction of the limit (None for a limit of 0)."""
        return Fraction(self.over) / Fraction(self.limit) if self.limit else None


@dataclass(frozen=True)
class BudgetResult:
    budget: Budget
    report: Report
    outcomes: tuple[Outcome, ...]
    baseline: ArchDiff | None = None  # baseline → current, when the budget names one

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes) and not self.unjudged

    @property
    def partial(self) -> bool:
        """The counts leave out ops mbcost does not cost (an import with --allow-unknown)."""
        return self.report.partial

    @property
    def unjudged(self) -> bool:
        """Partial, and not allowed to be (``allow_partial``): no verdict, exit 2."""
        return self.partial and not self.budget.allow_partial

    @property
    def not_costed(self) -> str:
        """What the counts leave out: 'LayerNormalization ×12, Mul ×12' ('' if nothing)."""
        return self.report.not_costed

    @property
    def label(self) -> str:
        """The budget's name and the settings that make it unique: 'mobilenet_v2 (α 1.0, 224×224)';
        a partial result says so: 'net.onnx (α 1.0, 224×224, PARTIAL)'."""
        r = self.report
        extra = ("" if r.convention.name == "paper" else f", {r.convention.name}") + (", PARTIAL" if self.partial else "")
        return f"{self.budget.name} (α {fmt_alpha(r.alpha)}, {r.resolution[0]}×{r.resolution[1]}{extra})"

    def grew_most(self, metric: str, n: int = 5) -> list[tuple[LayerDelta, int]]:
        """The layers whose ``metric`` grew most since the baseline, largest first, each
        with its growth in that metric's unit."""
        if self.baseline is None:
            return []
        grown = self.baseline.grew_most(REGISTRY[metric].base, n)
        return [(d, in_unit(d.delta, metric)) for d in grown]

    def baseline_delta(self, metric: str) -> int | None:
        """Current − baseline total, in ``metric``'s unit."""
        return None if self.baseline is None else in_unit(self.baseline.delta, metric)


@dataclass(frozen=True)
class CheckRun:
    results: tuple[BudgetResult, ...]
    source: str | None = None  # the budgets file, when there is one

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def unjudged(self) -> list[BudgetResult]:
        """The partial results no verdict is given on (``allow_partial`` not set): exit 2."""
        return [r for r in self.results if r.unjudged]

    @property
    def exit_code(self) -> int:
        """0 within budget, 1 over, 2 partial results not allowed (their verdict unknown)."""
        return 2 if self.unjudged else 0 if self.ok else 1

    def unjudged_line(self) -> str:
        """One line for stderr: which results are partial and what they leave out."""
        parts = [f"{r.budget.name} (not costed: {r.not_costed})" for r in self.unjudged]
        return (f"PARTIAL, so not checked: {'; '.join(parts)}: the counts leave those ops out; "
                "--allow-partial (allow_partial: true in a budgets entry) checks what is costed")

    @property
    def outcomes(self) -> list[tuple[BudgetResult, Outcome]]:
        return [(r, o) for r in self.results for o in r.outcomes]

    @property
    def failures(self) -> list[tuple[BudgetResult, Outcome]]:
        return [(r, o) for r, o in self.outcomes if not o.ok]


def parse_limits(limits: dict[str, object], convention: Convention,
                 field=lambda metric: f"max_{metric}") -> tuple[Limit, ...]:
    """{metric: size} → Limits, in the registry's order. A limit's unit is in its name, so
    under a FLOPs convention a mult-add limit is ambiguous and refused; ``field`` names the
    value in messages (the CLI passes its flags)."""
    for metric in limits:
        if metric not in REGISTRY:
            raise UsageError(f"unknown metric {metric!r}; expected one of {', '.join(REGISTRY)}",
                             field=field(metric) if metric in REGISTRY else "limits")
    if convention.flops and "madds" in limits:
        raise UsageError("the convention counts FLOPs (2 × mult-adds): give the limit as FLOPs "
                         f"({field('flops')}), or count mult-adds", field=field("madds"))
    return tuple(Limit(m, parse_ms(limits[m], field(m)) if REGISTRY[m].unit == "ms" else parse_size(limits[m], field(m), unit=REGISTRY[m].unit))
                 for m in REGISTRY if m in limits)


MIN_MS, MAX_MS = 1e-6, 1e9  # a nanosecond to eleven days: every limit's overshoot then has a finite percentage


def parse_ms(value: object, field: str | None = None, where: Where | None = None) -> float:
    """A latency limit in milliseconds: 30, 33.5, '33.5ms', from a nanosecond (1e-06) to 1e9
    (1e-320 passed, and its overshoot as a percentage of the limit overflowed: exit 3)."""
    text = str(value).strip() if not isinstance(value, bool) and isinstance(value, (int, float, str)) else None
    if text is not None and len(text) <= 30:
        text = text[:-2].strip() if text.lower().endswith("ms") else text
        try:
            ms = float(text)
        except ValueError:
            ms = None
        if ms is not None and MIN_MS <= ms < MAX_MS:
            return ms
    raise UsageError(f"expected milliseconds > 0 like 30, 33.5 or 33.5ms, from {MIN_MS:g} to {MAX_MS:g}, "
                     f"got {describe(value)}",
                     field=field, where=where)


def in_unit(delta, metric: str) -> int:
    """A delta of base counts (``delta('madds')``) in ``metric``'s unit."""
    m = REGISTRY[metric]
    return m.times * delta(m.base)


def count(report: Report, metric: str) -> int:
    return REGISTRY[metric].of(report)


def _ref_key(arch) -> object:
    """What identifies an architecture for the caches: a loaded spec by identity (budgets
    files share one spec per referenced file), a name or path by its text."""
    return ("spec", id(arch)) if isinstance(arch, ArchSpec) else ("ref", str(arch))


def check_budget(budget: Budget, cache: dict | None = None) -> BudgetResult:
    """Cost one budget's architecture (and its baseline) and compare with each limit.

    ``cache`` (shared by :func:`check`) keeps each analysis and baseline diff by
    (architecture, α, resolution, ρ, convention): a budgets file with 10,000 entries over a
    few configurations costs each configuration once, not 10,000 times."""
    cache = {} if cache is None else cache
    settings = (budget.alpha, budget.resolution, budget.rho, budget.convention, budget.depth, budget.device)
    kw = dict(alpha=budget.alpha, resolution=budget.resolution, rho=budget.rho,
              convention=budget.convention, depth=budget.depth, device=budget.device)
    if budget.device is None and any(REGISTRY[lim.metric].needs for lim in budget.limits):
        raise UsageError("a latency limit needs a device profile: give --device NAME (e.g. pixel1), "
                         "or device: in the budgets entry", field="--max-latency", where=budget.where)

    def report_of(arch) -> Report:
        key = ("report", _ref_key(arch)) + settings
        if key not in cache:
            cache[key] = (analyze(arch, **kw), arch)  # the arch kept alive, so its id stays unique
        return cache[key][0]

    report = report_of(budget.arch)
    delta = None
    if budget.baseline is not None:
        key = ("diff", _ref_key(budget.baseline), _ref_key(budget.arch)) + settings
        if key not in cache:
            cache[key] = (diff_reports(report_of(budget.baseline), report), budget.baseline)
        delta = cache[key][0]
    outcomes = tuple(Outcome(lim.metric, count(report, lim.metric), lim.value) for lim in budget.limits)
    return BudgetResult(budget, report, outcomes, delta)


def check(budgets: list[Budget] | tuple[Budget, ...], source: str | None = None,
          progress: Callable[[int, int], None] | None = None) -> CheckRun:
    """Check every budget; bad input raises (exit 2) before anything is reported.
    ``progress(done, total)``, if given, is told each budget checked (the CLI's bar)."""
    cache: dict = {}
    results = []
    for i, b in enumerate(budgets):
        results.append(check_budget(b, cache))
        if progress is not None:
            progress(i + 1, len(budgets))
    return CheckRun(tuple(results), source)


# --- the budgets file -------------------------------------------------------------------------

MEMORY_KEYS = ("act_dtype", "weight_dtype", "chunks")  # the Convention's memory fields, by name
BUDGET_KEYS = ("arch", "name", "alpha", "depth", "resolution", "rho", "profile", "classes", "bias", "bn",
               "baseline", "device", "allow_partial") + MEMORY_KEYS + tuple(f"max_{m}" for m in METRICS)


@contextmanager
def _located(doc, path: tuple, label: str) -> Iterator[None]:
    """Errors about a value of the budgets file point at that value.

    An error that already has a line (inside a referenced architecture file) keeps it; a
    whole-file one ('no such file') says which file and is placed at the entry that named it.
    """
    try:
        yield
    except MbcostError as exc:
        if exc.where.line is None:
            message = f"{exc.where.file}: {exc.message}" if exc.where.file else exc.message
            raise SpecError(message, field=label, where=doc.where(path)) from None
        raise


def _arch_ref(text: str, base: Path) -> str | Path:
    """Relative to the budgets file if it is (or looks like) a path; else a built-in name."""
    p = base / text
    if p.exists() or "/" in text or "\\" in text or p.suffix in (".yaml", ".yml"):
        return p
    return text


def _load_arch(ref: str | Path, specs: dict, allow_unknown: bool = False) -> ArchSpec:
    """Load a budgets entry's ``arch`` or ``baseline``, once per file: a built-in name, an
    architecture YAML, or a model file of another format (``.onnx``).

    A budgets file can name any path, and its messages end up in CI logs: a file that is not
    an architecture at all (``../secret.env``) is refused without quoting any of it."""
    key = str(ref)
    if key not in specs:
        model = read_model(ref, allow_unknown=allow_unknown) if isinstance(ref, Path) else None
        if model is not None:
            specs[key] = model
        elif isinstance(ref, Path):
            specs[key] = spec_from_document(parse(read_text(ref), key, recognise_architecture))
        else:
            specs[key] = load_spec(ref, allow_unknown=allow_unknown)
    return specs[key]


def _budget(doc, i: int, base: Path, specs: dict | None = None, allow_unknown: bool = False,
            allow_partial: bool = False) -> Budget:
    specs = {} if specs is None else specs
    path, label = ("budgets", i), f"budgets[{i}]"
    f = Fields(doc, path, label, BUDGET_KEYS)
    if not f.has("arch"):
        f.fail(path, "missing 'arch' (a built-in name like mobilenet_v2, or a path to an architecture file)")
    arch_text = f.text("arch")
    with _located(doc, path + ("arch",), f"{label}.arch"):
        spec = _load_arch(_arch_ref(arch_text, base), specs, allow_unknown)
    baseline = None
    if f.has("baseline"):
        with _located(doc, path + ("baseline",), f"{label}.baseline"):
            baseline = _load_arch(_arch_ref(f.text("baseline"), base), specs, allow_unknown)

    def value(key, parser):
        if not f.has(key):
            return None
        with _located(doc, path + (key,), f"{label}.{key}"):
            raw = f.data[key]
            if isinstance(raw, bool) or raw is None:  # YAML 'yes' is not a number
                raise UsageError(f"expected a number, got {describe(raw)}")
            return parser(raw)

    alpha = value("alpha", parse_alpha)  # None: the architecture's own (a variant's), else 1
    depth = value("depth", parse_depth)
    resolution = value("resolution", parse_resolution)
    rho = value("rho", parse_rho)
    if resolution is not None and rho is not None:
        f.fail(path + ("rho",), "give either resolution or rho, not both")
    if rho is not None:
        with _located(doc, path + ("rho",), f"{label}.rho"):
            input_resolution(spec, None, f.data["rho"])  # ρ·R₀ must be a usable size
    profile = f.choice("profile", tuple(PROFILES), "paper")
    try:  # Convention validates bn, bias, classes and memory itself; the message points at the value
        convention = PROFILES[profile].changed(**{k: f.data[k] for k in ("bn", "bias", "classes") + MEMORY_KEYS
                                                  if f.has(k)})
    except UsageError as exc:
        f.fail(path + (exc.field,), exc.message)
    limits = []
    for metric in METRICS:
        key = f"max_{metric}"
        if f.has(key):
            parser = parse_ms if REGISTRY[metric].unit == "ms" else parse_size
            limits.append(Limit(metric, parser(f.data[key], f"{label}.{key}", doc.where(path + (key,)))
                                if parser is parse_ms else
                                parser(f.data[key], f"{label}.{key}", doc.where(path + (key,)), unit=REGISTRY[metric].unit)))
    dev = None
    if f.has("device"):
        from .latency import load_device

        with _located(doc, path + ("device",), f"{label}.device"):
            dev = load_device(f.text("device"), flag=f"{label}.device")
    if not limits:
        f.fail(path, "no limit: give max_madds, max_params or max_flops")
    return Budget(name=f.text("name", arch_text), arch=spec, limits=tuple(limits), alpha=alpha,
                  resolution=resolution, rho=rho, convention=convention, baseline=baseline, depth=depth,
                  where=doc.where(path), device=dev, allow_partial=allow_partial or f.boolean("allow_partial", False))


_recognise_budgets = recognise_file("a budgets file", "a YAML mapping with 'budgets' (docs/ci.md)", ("budgets",))


def load_budgets(path: str | Path, *, allow_unknown: bool = False, allow_partial: bool = False) -> list[Budget]:
    """Read and validate a budgets file; every error names file:line:column and the field.
    ``allow_unknown``: imported models' ops mbcost cannot cost are kept (results are partial);
    ``allow_partial``: such results are judged on what is costed (else per entry's ``allow_partial``)."""
    path = Path(path)
    doc = parse(read_text(path), str(path), _recognise_budgets)
    top = Fields(doc, (), "", ("budgets",))
    entries = doc.data.get("budgets")
    if not isinstance(entries, list) or not entries:
        top.fail(("budgets",), "expected a non-empty list of budgets (each with arch and max_madds, "
                 "max_params or max_flops)" if "budgets" in doc.data else
                 "missing 'budgets' (a list of {arch: ..., max_madds: ...} entries)")
    specs: dict[str, ArchSpec] = {}  # each referenced file read and validated once
    return [_budget(doc, i, path.parent, specs, allow_unknown, allow_partial) for i in range(len(entries))]
