"""Turning results into text: aligned tables for people, CSV and JSON for programs.

Counts are exact integers in every machine format; only the terminal table abbreviates
them (568.7M, 4.21M).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.engine import Report
from ..errors import UsageError
from ..core.multipliers import fmt_alpha


def human(n: int | float, digits: int = 1) -> str:
    """568740352 → '568.7M', 4209088 with digits=2 → '4.21M', 864 → '864'."""
    for div, unit in ((10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= div:
            return f"{n / div:.{digits}f}{unit}"
    return f"{n:,}" if isinstance(n, int) else f"{n:.{digits}f}"


def shape_text(shape) -> str:
    return "×".join(map(str, shape))


def square(pair: tuple[int, int]) -> int | list[int]:
    """The JSON contract: an integer for square kernels/strides, [h, w] otherwise."""
    return pair[0] if pair[0] == pair[1] else list(pair)


def kernel_stride(layer) -> str:
    if layer.kind in ("add", "fc") or (layer.kind == "pool" and layer.global_):
        return "global" if layer.kind == "pool" else ""
    k = layer.k[0] if layer.k[0] == layer.k[1] else "×".join(map(str, layer.k))
    s = layer.s[0] if layer.s[0] == layer.s[1] else "×".join(map(str, layer.s))
    return f"{k}×{k} /{s}" if isinstance(k, int) else f"{k} /{s}"


# --- machine formats --------------------------------------------------------------------------

def report_dict(report: Report) -> dict[str, Any]:
    """The JSON contract of ``mbcost report`` (docs/json.md)."""
    return {
        "architecture": report.architecture,
        "alpha": float(report.alpha),
        "resolution": square(report.resolution),
        "convention": report.convention.name,
        "totals": {"madds": report.madds, "params": report.params,
                   **({"flops": 2 * report.madds} if report.convention.flops else {})},
        "layers": [
            {
                "name": r.layer.name,
                "kind": r.layer.kind,
                "kernel": square(r.layer.k),
                "stride": square(r.layer.s),
                "groups": r.layer.groups,
                "activation": r.layer.act,
                "inputs": list(r.layer.inputs),
                "input_shape": list(r.input_shape),
                "output_shape": list(r.output_shape),
                "madds": r.madds,
                "params": r.params,
            }
            for r in report.layers
        ],
        "by_kind": [
            {"type": k.type, "madds": k.madds, "params": k.params,
             "madds_share": k.madds_share, "params_share": k.params_share}
            for k in report.by_kind()
        ],
    }


def report_json(report: Report) -> str:
    import json  # the table path never pays for json, csv or tempfile

    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = ("name", "kind", "kernel", "stride", "groups", "activation", "input_shape",
               "output_shape", "madds", "params")


def report_csv(report: Report) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in report.layers:
        L = r.layer
        w.writerow([L.name, L.kind, "x".join(map(str, L.k)), "x".join(map(str, L.s)), L.groups,
                    L.act, "x".join(map(str, r.input_shape)), "x".join(map(str, r.output_shape)),
                    r.madds, r.params])
    return buf.getvalue()


# --- the terminal -----------------------------------------------------------------------------

def text_table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Fixed-width columns, two spaces apart. Rich's Table measures every cell and costs
    more than the whole analysis on a 60-layer network; this keeps ``report`` instant."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(headers), "  ".join("─" * w for w in widths)] + [line(r) for r in rows]


def report_text(report: Report, bold: bool = False) -> str:
    """The terminal report as plain text; ``bold`` adds ANSI bold to titles, headers and totals.

    No rich here on purpose: importing and rendering through rich costs more than the whole
    analysis, and a table piped to a file or a pager carries no styles anyway.
    """
    b = (lambda s: f"\x1b[1m{s}\x1b[0m") if bold else (lambda s: s)  # noqa: E731

    def block(title, headers, rows, right, total_last=False):
        lines = text_table(headers, rows, right)
        lines[0] = b(lines[0])
        if total_last:
            lines[-1] = b(lines[-1])
        return [b(title)] + lines

    total_m = report.madds or 1
    title = (f"{report.architecture}  α = {fmt_alpha(report.alpha)}  "
             f"{shape_text(report.resolution)} input  ·  {report.convention.describe()}")
    rows = [[r.layer.name, r.layer.kind, r.layer.act if r.layer.kind not in ("pool", "add") else "",
             shape_text(r.input_shape), shape_text(r.output_shape), kernel_stride(r.layer),
             human(r.madds), human(r.params, 2), f"{100 * r.madds / total_m:.2f}"]
            for r in report.layers]
    rows.append(["total", "", "", "", "", "", human(report.madds), human(report.params, 2), "100.00"])
    out = block(title, ["layer", "kind", "act", "input", "output", "k /s", "mult-adds", "params",
                        "% madds"], rows, {3, 4, 5, 6, 7, 8}, total_last=True)
    kinds = [[k.type, f"{k.madds:,}", f"{100 * k.madds_share:.2f}%", f"{k.params:,}",
              f"{100 * k.params_share:.2f}%"] for k in report.by_kind()]
    out += [""] + block("by layer type (cf. MobileNetV1 paper, Table 2)",
                        ["type", "mult-adds", "% mult-adds", "params", "% params"], kinds, {1, 2, 3, 4})
    out += ["", f"{b('total')}  {report.madds:,} mult-adds ({human(report.madds)})  ·  "
                f"{report.params:,} parameters ({human(report.params, 2)})"]
    if report.convention.flops:
        out.append(f"{b('FLOPs')}  {2 * report.madds:,} ({human(2 * report.madds)}) = 2 × mult-adds")
    return "\n".join(out) + "\n"


# --- writing files ----------------------------------------------------------------------------

def check_output_path(path: Path) -> None:
    """Fail before any work if the output can't be written; never create or clobber on error."""
    if path.is_dir():
        raise UsageError(f"{path} is a directory", field="--output")
    if _special(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"{path} is not writable", field="--output")
        return
    parent = _target(path).parent
    if not parent.is_dir():
        raise UsageError(f"folder {parent} does not exist", field="--output")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"folder {parent} is not writable", field="--output")


def write_atomic(path: Path, text: str) -> None:
    """Write a temporary file beside ``path`` and rename it over: all or nothing."""
    import tempfile

    check_output_path(path)
    if _special(path):
        try:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}", field="--output") from None
        return
    path = _target(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise UsageError(f"cannot write in {path.parent}: {exc.strerror or exc}", field="--output") from None
    try:
        # mkstemp makes 0600 files; give the result the mode a plain open() would have
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):  # disk full, quota: the old file is still there
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}", field="--output") from None
        raise


def _target(path: Path) -> Path:
    """Through a symlink, the file it points to: that is replaced and the link kept."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _special(path: Path) -> bool:
    """/dev/stdout, /dev/null, a FIFO: written in place, since renaming over one would replace
    the device itself."""
    return path.exists() and not path.is_file() and not path.is_dir()
