"""Output formats as data: which formats each command writes, and how a format is chosen.

``RENDERERS`` maps a command to its formats, each naming the function that renders it as
``module:function`` inside :mod:`mbcost.render`. The functions are imported only when used,
so ``mbcost report`` never imports the sweep's, diff's or rich's renderers. A renderer takes
the command's result and keyword options (``styled``, ``width`` and command-specific ones it
declares) and returns the text to print or write.

Choosing a format (:func:`choose`): ``--format`` if given; otherwise the ``--output`` file's
extension (each format's ``extensions`` in :data:`FORMATS`); otherwise the terminal table. A format that
contradicts the extension, or one the command does not write, is bad input (exit 2).

Every JSON output goes through :func:`json_text`, which puts ``schema_version``, the mbcost
version and the command first.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from .._version import __version__
from ..errors import UsageError
from .text import json_safe, printable

SCHEMA_VERSION = 3  # 1: mbcost 0.1, unversioned; 2: 0.2; 3: 0.3 (tokens, norms, attention; per-op-class latency)


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    description: str


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("table", (".txt",), "aligned text for a terminal"),
    Format("json", (".json",), "exact integers, with schema_version and the full convention"),
    Format("csv", (".csv",), "one row per layer or configuration, each traceable on its own"),
    Format("md", (".md", ".markdown"), "GitHub Markdown"),
    Format("latex", (".tex",), "a booktabs table for a paper"),
    Format("junit", (".xml",), "JUnit XML for CI test reports"),
    Format("html", (".html", ".htm"), "one self-contained page to open in a browser or share"),
)}

ALIASES = {"text": "table"}  # `check --format text`, as mbcost 0.1 named it

RENDERERS: dict[str, dict[str, str]] = {
    "report": {"table": "report:report_text", "json": "report:report_json", "csv": "report:report_csv",
               "md": "report:report_md", "latex": "report:report_latex", "html": "html:report_html"},
    "sweep": {"table": "sweep:sweep_text", "json": "sweep:sweep_json", "csv": "sweep:sweep_csv",
              "md": "sweep:sweep_md", "latex": "sweep:sweep_latex", "html": "html:sweep_html"},
    "verify": {"table": "verify:verify_text", "json": "verify:verify_json", "md": "verify:verify_md",
               "html": "html:verify_html"},
    "check": {"table": "check:check_text", "json": "check:check_json", "md": "check:check_md",
              "junit": "junit:check_junit", "html": "html:check_html"},
    "diff": {"table": "diff:diff_text", "json": "diff:diff_json", "md": "diff:diff_md",
             "latex": "diff:diff_latex", "html": "html:diff_html"},
    "fit": {"table": "fit:fit_text", "json": "fit:fit_json", "csv": "fit:fit_csv", "md": "fit:fit_md"},
    "latency": {"table": "latency:latency_text", "json": "latency:latency_json", "csv": "latency:latency_csv",
                "md": "latency:latency_md"},
    "reproduce": {"table": "reproduce:reproduce_text", "json": "reproduce:reproduce_json",
                  "csv": "reproduce:reproduce_csv", "md": "reproduce:reproduce_md",
                  "latex": "reproduce:reproduce_latex", "html": "html:reproduce_html"},
    "compare": {"table": "compare:compare_text", "json": "compare:compare_json", "csv": "compare:compare_csv",
                "md": "compare:compare_md", "latex": "compare:compare_latex", "html": "html:compare_html"},
    # report --scales: one row per input scale, and their sum
    "multiscale": {"table": "multiscale:multiscale_text", "json": "multiscale:multiscale_json",
                   "csv": "multiscale:multiscale_csv", "md": "multiscale:multiscale_md"},
    "list": {"table": "catalog:list_text", "json": "catalog:list_json", "csv": "catalog:list_csv",
             "md": "catalog:list_md"},
}


def formats_of(command: str) -> tuple[str, ...]:
    return tuple(RENDERERS[command])


def _by_extension(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return next((f.name for f in FORMATS.values() if suffix in f.extensions), None)


def choose(command: str, fmt: str | None, output: Path | None, *, flag: str = "--format") -> str:
    """The format to write: as given, else from the output's extension, else the table."""
    known = formats_of(command)
    if fmt is not None:
        name = ALIASES.get(fmt, fmt)
        if name not in known:
            raise UsageError(f"expected one of {', '.join(known)}, got {fmt!r}", field=flag)
        implied = _by_extension(output) if output is not None else None
        if implied is not None and implied != name:
            raise UsageError(f"{fmt} contradicts the output file {output.name!r}, which is {implied}: "
                             "drop one or make them agree", field=flag)
        return name
    if output is not None:
        implied = _by_extension(output)
        if implied is not None:
            if implied not in known:
                raise UsageError(f"{command} does not write {implied} (the format {output.name!r} implies); "
                                 f"it writes {', '.join(known)}", field="--output")
            return implied
    return "table"


def renderer(command: str, fmt: str) -> Callable[..., str]:
    module, _, function = RENDERERS[command][fmt].partition(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), function)


def render(command: str, fmt: str, result: Any, **options) -> str:
    """Render with the options the renderer takes (a JUnit writer has no use for ``width``).

    Every output passes through the one sanitiser here, whatever the renderer forgot: a text
    format (table, Markdown, CSV, LaTeX) through :func:`~mbcost.render.text.printable`, keeping
    its line breaks and, when styled for a terminal, its ANSI styles; JSON through
    :func:`~mbcost.render.text.json_safe`. (Cells are escaped first, by the table helpers, so
    a newline inside a name cannot split a row; JUnit XML and HTML escape on their own.)"""
    import inspect

    fn = renderer(command, fmt)
    accepted = inspect.signature(fn).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        options = {k: v for k, v in options.items() if k in accepted}
    out = fn(result, **options)
    if fmt in TEXT_FORMATS:
        styles = bool(options.get("styled"))
        return _each(out, lambda t: printable(t, lines=True, styles=styles))
    if fmt == "json":
        return _each(out, json_safe)
    return out


# the formats whose output is text a person reads at a terminal or in an editor
TEXT_FORMATS = ("table", "md", "csv", "latex")


def _each(out, clean: Callable[[str], str]):
    """``clean`` applied to one string, or to each chunk a streaming renderer yields."""
    if isinstance(out, str):
        return clean(out)
    if isinstance(out, bytes):
        return out
    return (clean(chunk) for chunk in out)


def envelope(command: str, body: dict[str, Any]) -> dict[str, Any]:
    """A JSON document: what wrote it and in which schema, then the command's own fields."""
    return {"schema_version": SCHEMA_VERSION, "mbcost_version": __version__, "command": command, **body}


LONG_LIST = 200  # a list longer than this is written one compact record per line


def json_text(command: str, body: dict[str, Any]) -> str:
    """The command's JSON document as one string (see :func:`json_chunks`)."""
    return "".join(json_chunks(command, body))


def json_chunks(command: str, body: dict[str, Any]) -> Iterator[str]:
    """The command's JSON document, indented for reading, except that the records of a long
    list (a network's layers, a sweep's rows) are one compact line each: Python's indenting
    encoder is pure Python and took most of a 100,000-layer diff's time, while compact records
    use the C encoder. Yielded in pieces of about a thousand records, so the CLI writes a
    40 MB document as it is made instead of joining it first."""
    import json  # the table path never pays for it

    doc = envelope(command, body)
    if not any(isinstance(v, list) and len(v) > LONG_LIST for v in doc.values()):
        yield json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        return
    record = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode  # the separators json.dumps uses
    yield "{\n"
    for n, (key, value) in enumerate(doc.items()):
        yield (",\n" if n else "") + f"  {json.dumps(key)}: "
        if isinstance(value, list) and len(value) > LONG_LIST:
            yield "[\n"
            for i in range(0, len(value), 1000):
                yield (",\n" if i else "") + ",\n".join("    " + record(v) for v in value[i:i + 1000])
            yield "\n  ]"
        else:
            yield json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False).replace("\n", "\n  ")
    yield "\n}\n"


TEXT_OF = {"Report": "report", "Sweep": "sweep", "Verification": "verify", "CheckRun": "check",
           "ArchDiff": "diff", "FitResult": "fit", "Comparison": "compare", "MultiScale": "multiscale"}


def text_of(result: Any) -> str:
    """A result as its command's terminal table, unstyled: what ``print(result)`` shows."""
    return render(TEXT_OF[type(result).__name__], "table", result, styled=False)
