"""The Typer application and the one place where errors become exit codes.

Exit codes, for every command: 0 success, 1 a check failed (verify, check, reproduce),
2 bad input (file, flag or value) — always one line on stderr, never a traceback
unless ``--debug`` is given; 3 a bug in mbcost (also one line; ``--debug`` for the traceback).
"""
from __future__ import annotations

import importlib
import sys

import typer
from typer.core import TyperGroup

try:  # typer ≥ 0.2x vendors its own copy of click
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer depends on click proper
    import click

from ..errors import MbcostError
from . import io


_ABORTS = tuple({typer.Abort, getattr(click.exceptions, "Abort", typer.Abort)})


def _one_line(text: str) -> str:
    """One line, whatever a path or value holds: whitespace runs become one space, other
    control characters (NUL, ESC, …) their escapes, by the one sanitiser of every output
    (:func:`mbcost.render.text.printable`), so a file name cannot break the line or drive the
    terminal."""
    from ..render.text import printable

    return printable(" ".join(text.split()))


# Each command lives in its own module, imported only when that command runs (or for
# --help): `mbcost report` must not pay for sweep's, check's or reproduce's imports.
COMMANDS = ("report", "verify", "sweep", "reproduce", "check", "diff", "compare", "fit", "latency", "plot",
            "export", "convert", "list")


class MbcostGroup(TyperGroup):
    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS) + [c for c in self.commands if c not in COMMANDS]

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"{__package__}.{cmd_name}")  # registers on `app`
            info = next(i for i in app.registered_commands
                        if (i.name or i.callback.__name__) == cmd_name)
            self.commands[cmd_name] = typer.main.get_command_from_info(
                info, pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode)
        return self.commands.get(cmd_name)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv
        if debug:  # accepted anywhere on the line, not only before the command
            argv = ["--debug"] + [a for a in argv if a != "--debug"]
        # --allow-unknown, for every command that reads a model (an imported ONNX model's ops
        # that mbcost cannot cost become zero-cost layers, the result marked partial), is the
        # root's option: moved before the command wherever it was typed, and read from the
        # parsed line where a model is loaded (options.model)
        if "--allow-unknown" in argv:
            argv = ["--allow-unknown"] + [a for a in argv if a != "--allow-unknown"]
        if "--help" in argv or argv in ([], ["--debug"]):  # help only: report must not import rich
            _help_through_stdout()
            self.epilog = epilog()  # from the registries, and only when help is drawn
        code = 0
        try:
            rv = super().main(args=argv, prog_name=prog_name or "mbcost", complete_var=complete_var,
                              standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
            if sys.stdout is not None:  # anything click itself printed (--help) must arrive too
                sys.stdout.flush()
        except io.BrokenPipe:
            # the reader has gone (`| head -c1`): end quietly, as cat or grep would (docs/errors.md)
            io.silence_stdout()
            code = io.BROKEN_PIPE_EXIT
        except BrokenPipeError:  # from click's own echo (--help | head -1)
            if debug:
                raise
            io.silence_stdout()
            code = io.BROKEN_PIPE_EXIT
        except MbcostError as exc:
            if debug:
                raise
            io.error_line(f"error: {_one_line(str(exc))}")
            code = exc.exit_code
        except click.exceptions.NoArgsIsHelpError:  # `mbcost` alone: the help is on stdout
            io.error_line(f"error: give a command: {', '.join(COMMANDS)} (see 'mbcost --help')")
            code = 2
        except click.exceptions.ClickException as exc:  # typer/click usage errors: bad or missing flags
            if debug:
                raise
            hint = f" (see 'mbcost {exc.ctx.info_name} --help')" if getattr(exc, "ctx", None) and \
                exc.ctx.parent else " (see 'mbcost --help')"
            io.error_line(f"error: {_one_line(_click_message(exc))}{hint}")
            code = 2
        except _ABORTS:
            io.error_line("error: aborted")
            code = 1
        except OSError as exc:  # a path the OS refuses (name too long, …) or click's stdout failing
            if debug:
                raise
            what = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            io.error_line(f"error: {_one_line(what + (exc.strerror or str(exc)))[:300]}")
            code = 2
        except Exception as exc:  # a bug; the user still gets one line, and a way to see more
            if debug:
                raise
            io.error_line(f"error: internal error (a bug in mbcost, please report it): "
                          f"{type(exc).__name__}: {_one_line(str(exc))[:200]}; rerun with --debug "
                          "for the traceback")
            code = 3
        if standalone_mode:
            sys.exit(code)
        return code


def _help_through_stdout() -> None:
    """Send ``--help`` through the one stdout path (:mod:`mbcost.cli.io`), as every command's
    output goes: typer draws help with rich on a console of its own, straight to
    ``sys.stdout``, so an ASCII stdout crashed on the α (exit 3), a broken pipe gave exit 1
    ('over budget') and a closed stdout exit 0 with the help lost. Styled only when
    :func:`io.styled` says so (a terminal, NO_COLOR unset)."""
    from typer import rich_utils

    make = getattr(rich_utils, "_get_rich_console", None)
    if make is None or getattr(make, "through_stdout", False):
        return

    def console(stderr: bool = False):
        con = make(stderr=stderr)
        if not stderr:
            con.file = io.stdout
            if not io.styled():
                con._color_system = None  # no ANSI at all, bold included, as our own tables
        return con

    console.through_stdout = True
    rich_utils._get_rich_console = console


def _click_message(exc) -> str:
    """A bad flag value as our own flag errors read (``--format: 'xml' is not one of …``)."""
    param = getattr(exc, "param", None)
    if isinstance(exc, click.exceptions.BadParameter) and param is not None \
            and not isinstance(exc, click.exceptions.MissingParameter):
        name = param.opts[0] if param.param_type_name == "option" and param.opts \
            else param.human_readable_name
        return f"{name}: {exc.message}"
    return exc.format_message()


app = typer.Typer(
    cls=MbcostGroup,
    name="mbcost",
    help="Exact mult-adds and parameters of MobileNet-style networks, layer by layer, "
    "before anything is trained.",
    epilog="Examples:\n\n  mbcost report mobilenet_v2 --alpha 0.75\n\n",  # the rest is epilog(), at --help
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


def epilog() -> str:
    """The top-level help's epilog, from the registries: every built-in architecture, every
    layer kind a file may use and every output format."""
    from ..core.kinds import writable
    from ..core.locate import builtin_variants
    from ..render.formats import FORMATS

    formats = ", ".join(f"{f.name} ({' '.join(f.extensions)})" for f in FORMATS.values())
    return ("Examples:\n\n"
            "  mbcost report mobilenet_v2 --alpha 0.75\n\n"
            "  mbcost report my_net.yaml --resolution 160 --format csv --output costs.csv\n\n"
            f"Built-in architectures (mbcost list): {', '.join(builtin_variants())}.\n\n"
            f"Layer kinds (docs/format.md): {', '.join(writable())}.\n\n"
            f"Output formats (--format, or the --output extension): {formats}.\n\n"
            "Exit codes: 0 ok, 1 a check failed, 2 bad input, 3 a bug in mbcost.")


def _version(value: bool) -> None:
    if value:
        from .._version import __version__

        io.echo(f"mbcost {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks instead of one-line errors."),
    allow_unknown: bool = typer.Option(False, "--allow-unknown",
                                       help="Reading an ONNX model, cost what mbcost knows and keep the "
                                       "ops it cannot cost as zero-cost layers; the result is marked "
                                       "partial. Accepted anywhere on the line."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print mbcost's version and exit."),
) -> None:
    """Exact mult-adds and parameters of MobileNet-style networks, layer by layer."""


def main(argv: list[str] | None = None) -> int:
    """Entry point. With ``argv`` (from Python) it returns the exit code; without (the
    console script) it exits with it."""
    if argv is None:
        _short_lived_collector()
    code = typer.main.get_command(app).main(args=argv, prog_name="mbcost", standalone_mode=False)
    if argv is None:
        sys.exit(code)
    return code


def _short_lived_collector() -> None:
    """Tune the cyclic garbage collector for one command's process. A 100,000-layer file is
    a few hundred thousand small objects, nearly all acyclic and alive until the process ends;
    at the default thresholds (a collection every 700 allocations) the collector re-scans them
    again and again, a third of a 100,000-layer diff's time. Collections every 50,000, and the
    imported modules moved out of its way, keep cycles collected at a fraction of the cost.
    Only the console script: a program calling :func:`main` keeps its own settings."""
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 20, 10)
