"""``mbcost convert``: any model mbcost reads, written as an architecture YAML (mbcost/interop/yaml_out.py)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import io
from .app import app
from .options import Arch, Output, check_output, emit, model

WidthRuleOption = Annotated[Optional[str], typer.Option(
    "--width-rule", metavar="RULE", show_default="the file's own; divisible8 for an imported model",
    help="How --alpha rounds the written widths: floor, make_divisible (= divisible8) or divisibleN "
         "(torchvision's _make_divisible by N).")]


@app.command(epilog="Examples:\n\n"
             "  mbcost convert torchvision:mobilenet_v2 -o mv2.yaml --width-rule divisible8\n\n"
             "  mbcost report mv2.yaml --alpha 0.5 --profile torchvision\n\n"
             "  mbcost convert model.onnx -o model.yaml\n\n"
             "  mbcost convert timm:efficientnet_b0 | less\n\n"
             "Blocks are the model's repeated modules, a stage of equal blocks one row with n (--depth scales "
             "it); widths are written as the model's code rounds them where it can be built at other widths "
             "(a built-in, torchvision's width_mult), else as c scaled by the rule. The YAML is read back "
             "before it is written: its layers are the model's. docs/interop.md.")
def convert(
    arch: Arch,
    output: Output = None,
    width_rule: WidthRuleOption = None,
) -> None:
    """Write ARCH — a built-in, a YAML or ONNX file, torchvision:NAME, timm:NAME or file.py:factory — as a readable architecture YAML: the layers' own names, repeated modules as blocks, widths that --alpha and --depth scale, its implementation; its report is the model's."""
    from ..interop.yaml_out import convert as run, width_rule as parse_rule

    rule = parse_rule(width_rule) if width_rule is not None else None
    check_output(output)
    result = run(model(arch), rule, source=arch)
    emit(result.text, output)
    if output is not None:
        how = (f"widths from α = {', '.join(str(float(a)) for a in result.probes)}" if result.probes
               else "one width known: --alpha scales every width by the rule")
        io.error_line(f"convert: wrote {output}: {result.layers} layers, {result.blocks} blocks; {how}")
    if result.unmatched:
        io.error_line(f"convert: {len(result.unmatched)} layer(s) whose widths no rule reproduces at every probed α "
                      f"(marked 'no rule' in the file): {', '.join(result.unmatched[:8])}"
                      + (" …" if len(result.unmatched) > 8 else ""))
