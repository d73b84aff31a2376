"""The built-in architectures: every file in ``configs/`` and each of its variants, with the
title it reports under and the source its header cites (``mbcost list``)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..core.locate import builtin_dir, variant_name
from ..core.spec import spec_from_document
from ..core.yamlio import parse, read_text


@dataclass(frozen=True)
class Builtin:
    name: str  # what `mbcost report NAME` accepts: a file (resnet50) or a variant (resnet50_torchvision)
    file: str  # configs/<file>.yaml
    variant: str | None
    title: str
    source: str  # the citation the file's header comment opens with
    alpha: Fraction
    depth: Fraction
    resolution: tuple[int, int]


def header_source(text: str) -> str:
    """The file's opening comment paragraph (up to its first empty comment line), as one line:
    every built-in starts with its citation there."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        if not body:
            break
        lines.append(body)
    return " ".join(lines)


def builtins() -> list[Builtin]:
    out = []
    for path in sorted(builtin_dir().glob("*.yaml")):
        text = read_text(path)
        source = header_source(text)
        doc = parse(text, path.stem)
        variants = doc.data.get("variants") or {}
        for variant in [None, *map(str, variants)]:
            spec = spec_from_document(doc, variant)
            out.append(Builtin(name=variant_name(path.stem, variant), file=path.stem, variant=variant,
                               title=spec.title, source=source, alpha=spec.alpha or Fraction(1),
                               depth=spec.depth or Fraction(1), resolution=spec.resolution))
    return out
