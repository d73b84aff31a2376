"""PyTorch modules read into mbcost's graph: ``mbcost.analyze(net, input=(3, 224, 224))``, and
``torchvision:NAME``, ``timm:NAME`` and ``path/to/file.py:factory`` wherever a command takes a model.

The route (docs/interop.md says why): the live module is exported by PyTorch's own ONNX exporter
(the TorchScript one, ``dynamo=False``: it needs no onnxscript) into a temporary file, and that
file is read by :mod:`mbcost.interop.onnx_import` — one importer, so a module and its ``.onnx``
export give the same layers, the same counts and the same refusal for an op mbcost cannot cost.
The export keeps each BatchNorm as its own node (``training=TrainingMode.PRESERVE`` on a module in
eval mode skips the exporter's conv-BN fusion, which an eval export does), so under ``--profile
torchvision`` the parameters are the live module's Σ numel, γ and β counted as PyTorch does.

Layers are named by the module that holds them (``features.3.conv.0.0``, ``blocks.0.attn.qkv``),
read from the scope names the exporter writes (``/features/features.3/conv/conv.0/conv.0.0/Conv``);
an op a module's forward calls besides its own (a residual ``+``, attention's products) is
``MODULE.op`` (``features.3.add``, ``blocks.0.attn.mat_mul_1``).

At another resolution the module is exported again, at that input (``--resolution``, ``sweep``);
its widths are the module's, so α must be 1 — ``mbcost convert`` writes a YAML whose widths α
scales. A ``file.py:factory`` reference runs that file's code: only a reference written that way
does, never a path to a YAML or ONNX file.
"""
from __future__ import annotations

import difflib
import importlib
import importlib.util
import re
import sys
import tempfile
import warnings
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from ..core.graph import NETWORK_INPUT, Graph
from ..core.peers import Origin, implementation_for
from ..core.spec import ArchSpec
from ..errors import MbcostError, SpecError, UsageError, Where

DEFAULT_INPUT = (3, 224, 224)
MAX_INPUT = 8192


def require(package: str, reference: str):
    """Import torch (or torchvision, timm) for ``reference``, or one clear line: what to install."""
    try:
        return importlib.import_module(package)
    except ImportError:
        extra = "" if package != "torch" else " (pip install 'mbcost[torch]')"
        raise UsageError(f"{reference} needs {package}, which is not installed: pip install {package}{extra}",
                         field="arch") from None


def is_module(value: Any) -> bool:
    """True for a ``torch.nn.Module`` — without importing torch for anything else."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.nn.Module)


@dataclass(frozen=True)
class Built:
    """A module to cost: how to build it, what to call it, its input C×H×W and where it came from."""

    make: Callable[[dict], Any]  # (extra kwargs, {} for the module as named) → nn.Module
    source: str  # the reference as the user wrote it: torchvision:mobilenet_v2
    name: str
    title: str
    input: tuple[int, int, int]
    origin: Origin
    # the constructor's width multiplier (torchvision's MobileNets take width_mult), if it has one
    width_kw: str | None = "width_mult"


# --- references ---------------------------------------------------------------------------

def torchvision_model(name: str, allow_unknown: bool = False) -> ArchSpec:
    """``torchvision:NAME``: ``torchvision.models.get_model(NAME, weights=None)`` (random weights:
    the counts do not depend on them), at its weights' input size (their crop size; a ViT's own
    image_size)."""
    source = f"torchvision:{name}"
    require("torch", source)
    tv = require("torchvision", source)
    names = tv.models.list_models()
    if name not in names:
        raise UsageError(_unknown("torchvision", name, names), field="arch")

    def make(kw: dict):
        extra = {"aux_logits": False} if name in ("googlenet", "inception_v3") else {}
        # GoogLeNet's and Inception's auxiliary heads run only in training: torchvision's
        # published weights drop them, and their parameters are no part of the network that runs
        return tv.models.get_model(name, weights=None, **extra, **kw)

    net = make({})
    size = getattr(net, "image_size", None)
    if size is None:
        try:
            size = tv.models.get_model_weights(name).DEFAULT.transforms.keywords.get("crop_size")
        except Exception:  # no published weights: the usual 224
            size = None
    size = int(size[0] if isinstance(size, (list, tuple)) else size or 224)
    built = Built(make, source, name, f"torchvision.models.{name} ({type(net).__name__})", (3, size, size),
                  _origin("torchvision", net, name))
    return read_built(built, net, allow_unknown=allow_unknown)


def timm_model(name: str, allow_unknown: bool = False) -> ArchSpec:
    """``timm:NAME``: ``timm.create_model(NAME, pretrained=False)``, at its pretrained config's
    input size."""
    source = f"timm:{name}"
    require("torch", source)
    timm = require("timm", source)
    names = timm.list_models()
    if name not in names:
        names = names + [n for n in timm.list_models(pretrained=True) if n not in names]
        base = name.split(".")[0]
        if base not in names:
            raise UsageError(_unknown("timm", name, names), field="arch")

    def make(kw: dict):
        return timm.create_model(name, pretrained=False, **kw)

    net = make({})
    cfg = getattr(net, "pretrained_cfg", None) or {}
    size = tuple(cfg.get("input_size") or DEFAULT_INPUT)
    built = Built(make, source, name, f"timm {name} ({type(net).__name__})", _input(size, source),
                  _origin("timm", net, name))
    return read_built(built, net, allow_unknown=allow_unknown)


def factory_model(path: Path, factory: str, allow_unknown: bool = False) -> ArchSpec:
    """``path/to/file.py:factory``: runs ``file.py`` (the user's own code: only a reference written
    this way runs any) and calls ``factory()``, which returns an ``nn.Module`` — or a module and its
    input C×H×W. The input is also read from the module's ``pretrained_cfg`` (timm's), else 3×224×224."""
    source = f"{path}:{factory}"
    require("torch", source)
    if not path.is_file():
        raise SpecError("no such file", where=Where(str(path)))
    spec = importlib.util.spec_from_file_location(f"_mbcost_factory_{abs(hash(str(path.resolve())))}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except MbcostError:
        raise
    except BaseException as exc:  # the user's code failed: say where, in one line
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise SpecError(f"running it failed: {type(exc).__name__}: {_first_line(exc)}", where=Where(str(path))) \
            from None
    fn = getattr(module, factory, None)
    if not callable(fn):
        names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        hint = difflib.get_close_matches(factory, names, n=1)
        more = f"; did you mean {hint[0]!r}?" if hint else f" (it defines {', '.join(names[:12]) or 'none'})"
        raise SpecError(f"no function {factory!r}{more}", where=Where(str(path)))

    def make(kw: dict):
        try:
            out = fn(**kw)
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise SpecError(f"{factory}() failed: {type(exc).__name__}: {_first_line(exc)}",
                            where=Where(str(path))) from None
        return out

    out = make({})
    size = None
    if isinstance(out, tuple) and len(out) == 2:
        out, size = out
    if not is_module(out):
        raise SpecError(f"{factory}() returned {type(out).__name__}, not a torch.nn.Module", where=Where(str(path)))
    import inspect

    try:
        takes = "width_mult" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes = False
    built = Built(lambda kw: _module_only(make(kw)), source, factory, f"{path.name}:{factory} ({type(out).__name__})",
                  _input(size or _cfg_input(out), source), _origin("torch", out, factory),
                  "width_mult" if takes else None)
    return read_built(built, out, allow_unknown=allow_unknown)


def _module_only(out):
    return out[0] if isinstance(out, tuple) else out


def read_module(net, input: Any = None, *, allow_unknown: bool = False, name: str | None = None) -> ArchSpec:
    """Any ``torch.nn.Module`` (the API's ``mbcost.analyze(net, input=(3, 224, 224))``). ``input``:
    C×H×W (or N×C×H×W with N = 1), default the module's ``pretrained_cfg`` input size (timm's) or
    3×224×224."""
    kind = type(net).__name__
    source = name or f"<{kind}>"
    size = _input(input if input is not None else _cfg_input(net), "input")
    built = Built(lambda kw: net, source, name or kind, f"{kind} (a torch.nn.Module)", size,
                  _origin("torch", net, kind), None)
    return read_built(built, net, allow_unknown=allow_unknown)


def _cfg_input(net) -> tuple:
    cfg = getattr(net, "pretrained_cfg", None) or getattr(net, "default_cfg", None) or {}
    return tuple(cfg.get("input_size") or DEFAULT_INPUT) if isinstance(cfg, dict) else DEFAULT_INPUT


def _input(value, field: str) -> tuple[int, int, int]:
    """C×H×W from (C, H, W), (1, C, H, W) or one side R (3×R×R)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (3, value, value)
    try:
        dims = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        dims = ()
    if len(dims) == 4 and dims[0] == 1:
        dims = dims[1:]
    if len(dims) != 3 or not all(1 <= d <= MAX_INPUT for d in dims) or any(isinstance(v, bool) for v in value):
        raise UsageError(f"expected the input as (C, H, W), such as (3, 224, 224), got {value!r}", field=field)
    return dims


def _origin(framework: str, net, name: str) -> Origin:
    """Where a module's code lives: the framework and the module that defines its class
    (torchvision.models.mobilenetv2, timm.models.efficientnet), which names its implementation."""
    return Origin(framework, type(net).__module__, name)


def _unknown(framework: str, name: str, names: list[str]) -> str:
    hint = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    more = f"; did you mean {' or '.join(repr(h) for h in hint)}?" if hint else \
        f" (list them with {framework}.{'models.list_models()' if framework == 'torchvision' else 'list_models()'})"
    return f"{framework} has no model {name!r}{more}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else "")[:300]


# --- the export and the import ------------------------------------------------------------

def export(net, input: tuple[int, int, int], path: Path, source: str) -> None:
    """The module as ONNX at a 1×C×H×W input, with its BatchNorms kept (see the module's docstring)."""
    import torch

    net.eval()
    x = torch.zeros(1, *input)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(net, (x,), str(path), dynamo=False, training=torch.onnx.TrainingMode.PRESERVE,
                              input_names=["input"])
    except MbcostError:
        raise
    except Exception as exc:  # an op PyTorch cannot export, a forward that fails at this input
        raise SpecError(f"PyTorch cannot export it at {'×'.join(map(str, input))} to be costed: "
                        f"{type(exc).__name__}: {_first_line(exc)}", where=Where(source)) from None


def _read(net, input: tuple[int, int, int], source: str, allow_unknown: bool) -> ArchSpec:
    from .onnx_import import read

    with tempfile.TemporaryDirectory(prefix="mbcost-torch-") as tmp:
        path = Path(tmp) / "model.onnx"
        export(net, input, path, source)
        try:
            return read(path, allow_unknown=allow_unknown)
        except MbcostError as exc:  # said of the model the user named, not of the temporary file
            exc.message = exc.message.replace(str(path), source)
            if exc.where.file == str(path):
                exc.where = Where(source)
            raise
        except Exception as exc:  # protobuf's 2 GB limit: the importer re-serialises the model it folds
            size = sum(p.numel() * p.element_size() for p in net.parameters())
            why = f"its {size / 2**30:.1f} GB of weights are past protobuf's 2 GB limit on one ONNX model, which " \
                  "mbcost's importer cannot read from external data yet" if size >= 2**31 else \
                f"reading PyTorch's export failed: {type(exc).__name__}: {_first_line(exc)}"
            raise SpecError(why, where=Where(source)) from None


def read_built(built: Built, net, *, allow_unknown: bool = False) -> ArchSpec:
    """The module, exported and imported at its input; at another resolution, exported again."""
    base = _read(net, built.input, built.source, allow_unknown)
    graph0 = base.prebuilt(Fraction(1), None, None)
    c0, res0 = built.input[0], built.input[1:]
    graphs: dict[tuple[int, int], Graph] = {res0: _named(graph0, built)}
    implementation = implementation_for(built.origin)

    def prebuilt(alpha: Fraction, resolution, classes) -> Graph:
        if alpha != 1:
            raise UsageError(f"{built.source} is a PyTorch module: its channel counts are the module's, so α must be 1 "
                             f"(got {alpha}); 'mbcost convert {built.source} -o net.yaml' writes a YAML that α scales",
                             field="--alpha")
        res = tuple(resolution or res0)
        if res not in graphs:
            spec = _read(net, (c0, *res), built.source, allow_unknown)
            graphs[res] = _named(spec.prebuilt(Fraction(1), None, None), built)
        return graphs[res]

    return replace(base, name=built.name, source=built.source, title=built.title, prebuilt=prebuilt,
                   resolution=res0, implementation=implementation, rebuild=_rebuild(built, allow_unknown),
                   module_classes={n: type(m).__name__ for n, m in net.named_modules() if n})


def _rebuild(built: Built, allow_unknown: bool):
    """The module built again at width α by its constructor's width multiplier (α → its Graph at
    the same input; None if the constructor takes none), for ``mbcost convert``'s width rules."""
    if built.width_kw is None:
        return None

    def at(alpha: Fraction) -> Graph | None:
        try:
            net = built.make({built.width_kw: float(alpha)})
        except MbcostError:
            raise  # the user's factory failed at this width: a width it cannot be built at
        except Exception:  # no such argument (TypeError), or a value the constructor refuses
            return None
        if not is_module(net):
            return None
        return _named(_read(net, built.input, built.source, allow_unknown).prebuilt(Fraction(1), None, None), built)

    return at


# --- names --------------------------------------------------------------------------------

_OP = re.compile(r"^(?P<op>[A-Za-z]+(?:_\d+)?)_*$")


def module_path(scopes: list[str]) -> str:
    """The module's qualified name from the exporter's scopes, each named relative to the one
    before: ``features``, ``features.3``, ``conv``, ``conv.0`` is ``features.3.conv.0``."""
    parts, prev = [], None
    for e in scopes:
        parts.append(e[len(prev) + 1:] if prev and e.startswith(prev + ".") else e)
        prev = e
    return ".".join(p for p in parts if p)


def module_names(names: list[str]) -> dict[str, str]:
    """Each layer's name as the module that holds it: the exporter's scope path
    ``/features/features.3/conv/conv.2/Conv`` is the module ``features.3.conv.2``; where one
    module makes several layers (a residual add in a block's forward, attention's products), each
    is ``MODULE.op``, numbered as the exporter numbers them (``blocks.0.attn.mat_mul_1``). Names
    of another form are kept."""
    parsed = {}
    for n in names:
        parts = n.split("/")
        m = _OP.match(parts[-1]) if n.startswith("/") else None
        if m:
            parsed[n] = (module_path(parts[1:-1]), _snake(m["op"]))
    per_scope: dict[str, int] = {}
    for scope, _ in parsed.values():
        per_scope[scope] = per_scope.get(scope, 0) + 1
    # a module's own layer is the module's name only if no layer of a submodule is named under it
    parents = {".".join(scope.split(".")[:j]) for scope in per_scope for j in range(1, scope.count(".") + 1)}
    out, taken = {}, {NETWORK_INPUT, "in"}
    for n in names:
        if n not in parsed:
            new = n
        else:
            scope, op = parsed[n]
            bare = scope and per_scope[scope] == 1 and scope not in parents
            new = scope if bare else f"{scope}.{op}" if scope else op
        while new in taken:
            new += "_"
        taken.add(new)
        out[n] = new
    return out


def _snake(op: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", op).lower()


def rename(graph: Graph, names: dict[str, str]) -> Graph:
    """The graph with its layers renamed (their inputs, a split's parts and the outputs with them)."""
    def tensor(t: str) -> str:
        if t in names:
            return names[t]
        base, dot, part = t.rpartition(".")
        return f"{names[base]}.{part}" if dot and base in names and part.isdigit() else t

    layers = tuple(replace(L, name=names.get(L.name, L.name), inputs=tuple(tensor(t) for t in L.inputs))
                   for L in graph.layers)
    return replace(graph, layers=layers, outputs=tuple(tensor(t) for t in graph.outputs))


def _named(graph: Graph, built: Built) -> Graph:
    renamed = rename(graph, module_names([L.name for L in graph.layers]))
    return replace(renamed, name=built.name, source=built.source, implementation=implementation_for(built.origin))
