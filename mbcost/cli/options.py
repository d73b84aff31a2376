"""Flags shared by several commands, and the helpers that turn them into library calls."""
from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from ..core.conventions import PROFILES, Convention
from ..errors import UsageError
from ..render.formats import FORMATS, choose, formats_of, render
from . import io

Arch = Annotated[str, typer.Argument(help="A built-in name (mobilenet_v2) or a path to an architecture YAML file.",
                                     show_default=False)]
Alpha = Annotated[Optional[str], typer.Option("--alpha", "-a", help="Width multiplier α (any number > 0).",
                                              show_default="1.0, or the variant's")]
Depth = Annotated[Optional[str], typer.Option(
    "--depth", "-d", help="Depth multiplier d: every stage (a row that states n) repeats ⌈n·d⌉ times.",
    show_default="1.0, or the variant's")]
Resolution = Annotated[Optional[str], typer.Option("--resolution", "-r",
                                                   help="Input resolution R in pixels (square).",
                                                   show_default="the file's own")]
Rho = Annotated[Optional[str], typer.Option("--rho", help="Resolution multiplier ρ: R = round(ρ × the file's resolution).")]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to FILE (atomically) instead of stdout.",
                                                dir_okay=False, show_default=False)]

OutputStride = Annotated[Optional[int], typer.Option(
    "--output-stride", metavar="OS", show_default=False,
    help="DeepLab's output stride (8, 16, 32): the backbone strides that would shrink the map past 1/OS "
         "of the input become dilation, so the features stay at 1/OS (docs/heads.md).")]
Scales = Annotated[Optional[str], typer.Option(
    "--scales", metavar="LIST", show_default=False,
    help="Multi-scale inference: the input at each scale (0.5,0.75,1,…; DeepLab's int((R − 1)·s + 1)), "
         "costs summed, one row per scale.")]
Flip = Annotated[bool, typer.Option("--flip", help="With --scales: each scale's input is also run mirrored (×2).")]

Device = Annotated[Optional[str], typer.Option(
    "--device", metavar="NAME", show_default=False,
    help="Time every layer on a device's latency profile: a built-in (pixel1, pixel2, pixel3; its profile in "
         "--dtype) or a profile .yaml (mbcost latency fit --save). Adds latency (ms, with the profile's ± "
         "interval) and each layer's bound (memory or compute).")]


def allow_unknown() -> bool:
    """--allow-unknown, a root option (accepted anywhere on the line): read from the command
    line being run, and passed down to every model load — never a module-level switch."""
    try:  # typer ≥ 0.2x vendors its own copy of click
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - older typer depends on click proper
        from click import get_current_context

    ctx = get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().params.get("allow_unknown"))


def model(arch, output_stride: int | None = None):
    """ARCH loaded as the command line asks (:func:`mbcost.core.engine.load`, with --allow-unknown
    and --output-stride)."""
    from ..core.engine import load

    try:
        return load(arch, allow_unknown=allow_unknown(), output_stride=output_stride)
    except UsageError as exc:
        if exc.field == "output_stride":
            raise UsageError(exc.message, field="--output-stride") from None
        raise


def device(name: str | None):
    """The device profile of --device, or None."""
    if name is None:
        return None
    from ..analyses.latency import load_device

    return load_device(name)


_CONV = "Counting convention"
Profile = Annotated[str, typer.Option("--profile", help=f"Preset convention: {', '.join(PROFILES)}.",
                                      rich_help_panel=_CONV)]
Classes = Annotated[Optional[int], typer.Option("--classes", help="Override the file's number of classes.",
                                                rich_help_panel=_CONV, show_default=False)]
Bias = Annotated[Optional[bool], typer.Option("--bias/--no-bias", help="Count biases of layers that have one.",
                                              rich_help_panel=_CONV, show_default="per profile")]
BN = Annotated[Optional[int], typer.Option("--bn", help="Parameters per batch-norm channel: 0 folded, 2 γ β, "
                                           "3 β mean var, 4 all.", rich_help_panel=_CONV,
                                           show_default="per profile")]
Flops = Annotated[bool, typer.Option("--flops", help="Report FLOPs (2 × mult-adds).", rich_help_panel=_CONV)]

_MEM = "Memory (docs/memory.md)"
Dtype = Annotated[Optional[str], typer.Option("--dtype", metavar="DTYPE", rich_help_panel=_MEM, show_default="fp32",
                                              help="Element type of activations and weights: fp32, fp16, bf16, int8.")]
ActDtype = Annotated[Optional[str], typer.Option("--act-dtype", metavar="DTYPE", rich_help_panel=_MEM,
                                                 show_default="--dtype", help="Element type of activations only.")]
WeightDtype = Annotated[Optional[str], typer.Option("--weight-dtype", metavar="DTYPE", rich_help_panel=_MEM,
                                                    show_default="--dtype", help="Element type of weights only.")]
Chunks = Annotated[Optional[int], typer.Option(
    "--bottleneck-chunks", metavar="N", rich_help_panel=_MEM, show_default="whole tensors",
    help="MobileNetV2 §6.2's memory-efficient inference: compute each bottleneck's expanded tensor in N chunks.")]


def convention(profile: str = "paper", classes: int | None = None, bias: bool | None = None,
               bn: int | None = None, flops: bool = False, dtype: str | None = None,
               act_dtype: str | None = None, weight_dtype: str | None = None,
               chunks: int | None = None) -> Convention:
    """The convention of the counting and memory flags; --act-dtype and --weight-dtype
    override --dtype for their side."""
    if profile not in PROFILES:
        from ..core.peers import PEERS

        hint = (f" ({profile} is a FLOP counter's profile, not a parameter convention: "
                f"'mbcost compare' shows what it counts)" if profile in PEERS else "")
        raise UsageError(f"expected one of {', '.join(PROFILES)}, got {profile!r}{hint}", field="--profile")
    if dtype is not None:  # named as typed, so the error below says --dtype, not --act-dtype
        try:
            PROFILES["paper"].with_(act_dtype=dtype)
        except UsageError as exc:
            raise UsageError(exc.message, field="--dtype") from None
    try:  # Convention validates its own fields; the message names the flag
        return PROFILES[profile].with_(bn=bn, bias=bias, classes=classes, flops=flops or None,
                                       act_dtype=act_dtype or dtype, weight_dtype=weight_dtype or dtype,
                                       chunks=chunks)
    except UsageError as exc:
        raise UsageError(exc.message, field=FLAGS.get(exc.field, exc.field)) from None


FLAGS = {"bn": "--bn", "classes": "--classes", "bias": "--bias/--no-bias", "flops": "--flops",
         "act_dtype": "--act-dtype", "weight_dtype": "--weight-dtype", "chunks": "--bottleneck-chunks"}


# --- the convention flags, declared once for every command ---------------------------------------

COUNTING = ("profile", "classes", "bias", "bn", "flops")  # the counting convention's flags
MEMORY = ("dtype", "act_dtype", "weight_dtype", "chunks")  # the memory flags (docs/memory.md)
_OPTIONS = {"profile": Profile, "classes": Classes, "bias": Bias, "bn": BN, "flops": Flops, "dtype": Dtype,
            "act_dtype": ActDtype, "weight_dtype": WeightDtype, "chunks": Chunks}


@dataclass(frozen=True)
class ConventionFlags:
    """The convention flags of one command line, as typed (None: not given)."""

    profile: str | None = None
    classes: int | None = None
    bias: bool | None = None
    bn: int | None = None
    flops: bool = False
    dtype: str | None = None
    act_dtype: str | None = None
    weight_dtype: str | None = None
    chunks: int | None = None

    def convention(self, profile: str = "paper") -> Convention:
        """The convention they describe; ``profile`` when --profile was not given."""
        return convention(self.profile or profile, self.classes, self.bias, self.bn, self.flops, self.dtype,
                          self.act_dtype, self.weight_dtype, self.chunks)

    def given(self) -> list[str]:
        """The flags typed on the line, as the user wrote them (--profile, --bias/--no-bias, …)."""
        unset = {"flops": False}  # --flops is a switch; --no-bias (False) was typed
        return [FLAGS.get(name, f"--{name}") for name in _OPTIONS
                if getattr(self, name) is not None and getattr(self, name) != unset.get(name)]


def replace_parameter(command: Callable, name: str, extra: list[inspect.Parameter],
                      build: Callable[[dict], object]) -> Callable:
    """``command`` with the ``extra`` parameters in its signature where parameter ``name`` was
    (or at the end if it has none of that name), for typer to declare as options; called, the
    wrapper gathers their values into ``build(values)`` and passes that as ``name``. How one
    decorator declares a group of flags for every command that takes them."""
    sig = inspect.signature(command)
    hints = typing.get_type_hints(command, include_extras=True)  # typer reads evaluated annotations
    params: list[inspect.Parameter] = []
    for p in sig.parameters.values():
        params.extend(extra if p.name == name else [p.replace(annotation=hints.get(p.name, p.annotation))])
    names = [p.name for p in extra]

    def wrapper(**kw):
        values = {n: kw.pop(n) for n in names}
        return command(**kw, **{name: build(values)})

    wrapper.__signature__ = sig.replace(parameters=params, return_annotation=hints.get("return", sig.return_annotation))
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    wrapper.__name__, wrapper.__doc__ = command.__name__, command.__doc__
    return wrapper


def convention_options(*names: str, profile: str | None = "paper", flops_help: str | None = None):
    """Give a command the convention flags ``names`` (of :data:`COUNTING` and :data:`MEMORY`),
    declared here once; their values reach it as one :class:`ConventionFlags` in its
    ``counting`` parameter. ``profile``: --profile's default (None: not given unless typed).
    ``flops_help``: the command's own words for --flops."""
    def annotation(n: str):
        if n == "flops" and flops_help:
            return Annotated[bool, typer.Option("--flops", help=flops_help, rich_help_panel=_CONV)]
        return _OPTIONS[n]

    defaults = {"profile": profile, "flops": False}
    extra = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=defaults.get(n),
                               annotation=annotation(n)) for n in names]
    return lambda command: replace_parameter(command, "counting", extra, lambda v: ConventionFlags(**v))


def output_format(command: str):
    """The shared --format option of a command, listing the formats it writes (sqlite-utils
    keeps one output-options decorator for every command the same way)."""
    names = ", ".join(formats_of(command))
    extensions = " ".join(e for f in formats_of(command) for e in FORMATS[f].extensions)
    return Annotated[Optional[str], typer.Option(
        "--format", "-f", metavar="FORMAT", show_default=False,
        help=f"One of {names}. Default: from --output's extension ({extensions}), else table.")]


def choose_format(command: str, fmt: str | None, output: Path | None) -> str:
    """The format to write, checked with the output path before any work: a failing run
    never leaves a file."""
    chosen = choose(command, fmt, output)
    check_output(output)
    return chosen


def check_output(output: Path | None) -> None:
    """Refuse an unwritable --output before any work, so a failing run never leaves a file."""
    if output is not None:
        from .io import check_output_path

        check_output_path(output)


def emit(text, output: Path | None) -> None:
    """Print to stdout, or write the file all-or-nothing; ``text`` is a string or the chunks of
    a streaming renderer (:func:`mbcost.cli.io.chunks`)."""
    from .io import write_atomic

    if output is None:
        for chunk in io.chunks(text):
            io.write(chunk)
    else:
        write_atomic(output, text)


def write(command: str, fmt: str, result, output: Path | None, **options) -> None:
    """Render a command's result in the chosen format and print or write it."""
    emit(render(command, fmt, result, styled=output is None and styled(), width=width(), **options), output)


def width() -> int | None:
    """The terminal's width for tables at a terminal; None (renderer's default) when piped."""
    import shutil

    return shutil.get_terminal_size().columns if io.isatty() else None


def styled() -> bool:
    """Bold and colour only for a person at a terminal: :func:`mbcost.cli.io.styled`."""
    return io.styled()
