"""Finding architectures: built-in names (a file, or a file's variant), paths, and model files
of other formats.

Built-ins are the YAML files of ``mbcost/configs`` (the repository's ``configs/``); a file's
``variants`` are built-ins too (``efficientnet_b3`` is efficientnet.yaml's variant b3). Which
files and variants there are is read once per process: ``reproduce`` and budgets files name
built-ins hundreds of times.

Model files that are not architecture YAML are read by the reader registered for their
extension in :data:`READERS`, named as ``module:function`` and imported only when such a file
is read (the readers need optional packages, and core must not import them).
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import re
from pathlib import Path

from ..errors import SpecError
from .fields import did_you_mean
from .yamlio import parse, read_text

# extension → the reader of such a model file: (path, allow_unknown=…) → ArchSpec
READERS: dict[str, str] = {".onnx": "mbcost.interop.onnx_import:read"}

# FRAMEWORK:NAME → the reader of a model a framework builds: (NAME, allow_unknown=…) → ArchSpec
FRAMEWORKS: dict[str, str] = {"torchvision": "mbcost.interop.torch_import:torchvision_model",
                              "timm": "mbcost.interop.torch_import:timm_model"}
# path/to/file.py:factory → the module factory() returns (the user's code: run only when named so)
FACTORY = "mbcost.interop.torch_import:factory_model"
_FACTORY = re.compile(r"^(?P<path>.+\.py):(?P<factory>[A-Za-z_][A-Za-z0-9_]*)$")


def _call(reader: str, *args, **kw):
    module, _, function = reader.partition(":")
    return getattr(importlib.import_module(module), function)(*args, **kw)


def read_model(path: Path, *, allow_unknown: bool = False):
    """The ArchSpec of a model file in another format, or None for an architecture YAML. A file
    says nothing of the code it was exported from: its implementation is 'unknown'."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        return None
    spec = _call(reader, path, allow_unknown=allow_unknown)
    if spec.implementation is None:
        from .peers import Origin, implementation_for

        spec = dataclasses.replace(spec, implementation=implementation_for(Origin("onnx")))
    return spec


def reference(text: str, base: Path | None = None) -> tuple[str, tuple] | None:
    """A model named by how it is built, not by a file to read: ``torchvision:NAME``,
    ``timm:NAME`` or ``path/to/file.py:factory`` (relative to ``base``) → (its reader, the
    reader's arguments); None for anything else (a built-in, a path). The one resolver of such
    references: the CLI, the API and budgets files all name models through it."""
    scheme, colon, name = text.partition(":")
    if colon and scheme in FRAMEWORKS:
        if not name:
            raise SpecError(f"{scheme}: needs a model name after the colon ({scheme}:NAME)", field="arch")
        return FRAMEWORKS[scheme], (name,)
    m = _FACTORY.match(text)
    if m:
        path = Path(m["path"])
        return FACTORY, ((base / path) if base is not None and not path.is_absolute() else path, m["factory"])
    return None


def read_reference(text: str, base: Path | None = None, *, allow_unknown: bool = False):
    """The ArchSpec of a :func:`reference`, or None when ``text`` is not one."""
    ref = reference(text, base)
    if ref is None:
        return None
    reader, args = ref
    return _call(reader, *args, allow_unknown=allow_unknown)


def builtin_dir() -> Path:
    """Where the built-in architectures are installed. mbcost ships as plain files (never a
    zip), so the package's folder is enough — and importlib.resources costs ~8 ms a start."""
    try:
        from .. import configs
    except ImportError:  # run from a source checkout without installing: configs/ is beside it
        return Path(__file__).resolve().parents[2] / "configs"
    return Path(configs.__file__).parent


@functools.cache
def _builtin_files() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in builtin_dir().glob("*.yaml")))


def builtin_names() -> list[str]:
    return list(_builtin_files())


@functools.cache
def variants_of(path: Path) -> tuple[str, ...]:
    data = parse(read_text(path), str(path)).data
    variants = data.get("variants") if isinstance(data, dict) else None
    return tuple(map(str, variants)) if isinstance(variants, dict) else ()


def variant_name(stem: str, variant: str | None) -> str:
    """A variant's built-in name: efficientnet + b3 → efficientnet_b3, but mnasnet + 1_0 →
    mnasnet1_0 (torchvision's names: no underscore between a word and a width)."""
    if variant is None:
        return stem
    return f"{stem}{variant}" if stem[-1:].isalpha() and variant[:1].isdigit() else f"{stem}_{variant}"


def builtin_variants() -> list[str]:
    """Every built-in name: each file, and each file's variants as file_variant."""
    return list(_builtin_variants())


@functools.cache
def _builtin_variants() -> tuple[str, ...]:
    out = []
    for stem in _builtin_files():
        out.append(stem)
        out += [variant_name(stem, v) for v in variants_of(builtin_dir() / f"{stem}.yaml")]
    return tuple(out)


def resolve_arch(arch: str | Path) -> tuple[Path, str | None]:
    """(file, variant). A path that exists wins; ``file@variant`` names a variant; a built-in
    name may be a file (``mobilenet_v2``) or a file's variant (``efficientnet_b3`` is
    efficientnet.yaml, variant b3); otherwise a clear error."""
    text = str(arch)
    p = Path(arch)
    if not isinstance(arch, Path) and "@" in text and not p.exists():
        base, variant = text.rsplit("@", 1)
        return resolve_arch(base)[0], variant
    if p.exists() or isinstance(arch, Path) or p.suffix in (".yaml", ".yml", *READERS) or "/" in text:
        return p, None
    candidate = builtin_dir() / f"{text}.yaml"
    if candidate.is_file():
        return candidate, None
    for i in range(len(text) - 1, 0, -1):  # the longest file name first: shufflenet_v2 + x0_5
        base, variant = builtin_dir() / f"{text[:i]}.yaml", text[i:].lstrip("_")
        if variant and base.is_file() and variant in variants_of(base):  # mnasnet1_0: mnasnet, 1_0
            return base, variant
    names = builtin_names()
    hint = did_you_mean(text, names)
    more = f"; did you mean {hint!r}?" if hint else ""
    raise SpecError(f"unknown architecture {text!r}: not a file and not a built-in "
                    f"({', '.join(names)}){more}")
