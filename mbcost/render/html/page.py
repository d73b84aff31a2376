"""One self-contained HTML page: Jinja2 templates, the inline assets, the data as JSON.

Every page carries the command's JSON document (what ``--format json`` writes, to the key) in
``<script type="application/json" id="data">``, and what the page needs beyond it (a memory
timeline, expected top-1, the layers of each side of a diff) in ``id="extra"``: the browser
reads its numbers from there, so the page's numbers are the JSON's numbers.

Safety, in three layers:

- the templates autoescape everything they print (a layer named ``<script>`` is text), and
  show its control characters escaped (:func:`~mbcost.render.text.printable`, through Jinja's
  ``finalize``: a page viewed with ``cat`` or ``less`` cannot drive the terminal either);
- the JSON blocks escape ``<``, ``>`` and ``&`` as ``\\u003c``…, so no string can close the
  block, and the script reads them with ``JSON.parse``, never ``eval``;
- a Content-Security-Policy allows only the page's own inline scripts, by their SHA-256, and
  no network at all (``default-src 'none'``): were a string ever to slip through as markup,
  it could not run, and nothing is fetched when the page is viewed.

Jinja2 is an optional extra (``pip install 'mbcost[html]'``), imported only here.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

from ...errors import UsageError
from ..formats import envelope
from ..text import human, json_safe, printable

#: the vendored libraries (vendor/README.md): file, licence, what a page uses it for
LIBRARIES = {"dagre": ("dagre.min.js", "dagre.LICENSE"), "chart": ("chart.umd.min.js", "chart.js.LICENSE")}

#: the largest table a page holds; past it the page would be tens of megabytes and a browser
#: slow to open it, so the command says to write JSON or CSV instead
MAX_ROWS = 20_000


def _text(*parts: str) -> str:
    return resources.files(__package__).joinpath(*parts).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def script(name: str) -> str:
    """A vendored library with its licence as the leading comment (MIT asks the notice to
    travel with every copy, and the page is one)."""
    code, licence = LIBRARIES[name]
    return f"/*! {_text('vendor', licence).strip()} */\n{_text('vendor', code)}"


@lru_cache(maxsize=1)
def environment():
    try:
        import jinja2
    except ImportError:
        raise UsageError("HTML output needs Jinja2: pip install 'mbcost[html]'", field="--format") from None
    env = jinja2.Environment(loader=jinja2.PackageLoader(__package__, "templates"), autoescape=True,
                             finalize=_shown,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["exact"] = exact
    env.filters["human"] = human
    return env


def _shown(value: Any) -> Any:
    """What a template prints: user text with its control characters escaped; markup the page
    builds itself (the scripts, the style, the JSON blocks, marked safe) as it is."""
    import markupsafe

    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return printable(value)
    return value


def json_block(value: Any) -> str:
    """JSON to sit inside a ``<script type="application/json">``: nothing in it can end the
    element or open a comment, and JSON.parse reads the escapes back as the characters."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (json_safe(text).replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def exact(n) -> str:
    """An exact integer as the tables print it (300,774,272); anything else as it is."""
    if isinstance(n, bool) or n is None:
        return "" if n is None else ("yes" if n else "no")
    if isinstance(n, int):
        return f"{n:,}"
    if isinstance(n, float):
        return f"{n:.4g}" if abs(n) < 1e-3 and n else f"{n:,.3f}".rstrip("0").rstrip(".")
    return str(n)


@dataclass(frozen=True)
class Cell:
    """One table cell: the text shown and the value it sorts by (a number, or the text)."""

    text: str
    value: Any = None
    numeric: bool = False
    href: str = ""  # a link within the page (#entry-2)

    @classmethod
    def of(cls, v) -> "Cell":
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return cls(exact(v), v, True)
        if isinstance(v, (list, tuple)):
            return cls("×".join(map(str, v)) if all(isinstance(x, int) for x in v) else ", ".join(map(str, v)))
        return cls(exact(v))


@dataclass(frozen=True)
class Column:
    """A table column: its header, the key of the record it shows (a ``/`` path into nested
    records: ``madds/delta``) and an optional title (what it counts)."""

    label: str
    key: str
    title: str = ""
    link: str = ""  # the record's key holding the cell's link within the page

    def get(self, record: dict) -> Any:
        v: Any = record
        for part in self.key.split("/"):
            v = v.get(part) if isinstance(v, dict) else None
        return v


@dataclass(frozen=True)
class Table:
    """A sortable, filterable table: rows of cells and what each row is filtered by."""

    id: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[tuple[Cell, ...], dict[str, str]], ...]  # cells, the row's data-* attributes
    filters: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (attribute, label, choices)
    search: str = "name"  # what the text filter matches: the row's data-<search>

    @classmethod
    def of(cls, id: str, columns: Iterable[Column], records: Iterable[dict], attrs=lambda r: {},
           filters: Iterable[tuple[str, str]] = (), search: str = "name") -> "Table":
        columns = tuple(columns)
        def cell(c: Column, r: dict) -> Cell:
            x = Cell.of(c.get(r))
            return Cell(x.text, x.value, x.numeric, r[c.link]) if c.link else x

        rows = tuple((tuple(cell(c, r) for c in columns), {k: str(v) for k, v in attrs(r).items()})
                     for r in records)
        choices = tuple((attr, label, tuple(sorted({a[attr] for _, a in rows if attr in a})))
                        for attr, label in filters)
        return cls(id, columns, rows, choices, search)


def check_rows(n: int, what: str) -> None:
    """Refuse a page that would hold more than :data:`MAX_ROWS` rows."""
    if n > MAX_ROWS:
        raise UsageError(f"an HTML page holds at most {MAX_ROWS:,} {what}, this one would hold {n:,}: "
                         "write --format json or csv for it", field="--format")


def html_page(command: str, body: dict[str, Any], title: str, extra: dict[str, Any] | None = None,
         libraries: tuple[str, ...] = ("dagre", "chart"), **context) -> str:
    """The page of ``command``: ``body`` is its JSON document's body (the envelope is added
    here, as ``--format json`` adds it), ``context`` what its template prints."""
    env = environment()
    doc = envelope(command, body)
    scripts = [script(name) for name in libraries] + [_text("assets", "page.js")]
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in scripts)
    csp = f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    return env.get_template(f"{command}.html.j2").render(
        command=command, doc=doc, title=title, data=json_block(doc), extra=json_block(extra or {}),
        scripts=scripts, style=_text("assets", "page.css"), csp=csp, **context)
