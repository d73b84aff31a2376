"""Where output goes: the one path to stdout (and the error line to stderr), and files written
all-or-nothing.

Every command's output — plain text, CSV, JSON, JUnit, and rich's tables through
:data:`stdout` — goes through :func:`write`, which

- replaces what stdout's encoding cannot hold (``PYTHONIOENCODING=latin-1`` or ``ascii`` and
  the α of a title) with ``?`` instead of crashing, so the rest of the output arrives;
- flushes after each write, so a failure is seen here and not at interpreter exit;
- turns every failure into :class:`OutputError` (exit 2, one line): stdout closed
  (``>&-``, where Python has no ``sys.stdout`` at all), a full disk (``> /dev/full``), an I/O
  error;
- turns a broken pipe (``mbcost check … | head -c1``, ``| true``: the reader has gone) into
  :class:`BrokenPipe`, which the CLI ends quietly with exit 141, the status a shell reports for
  a program killed by SIGPIPE — what ``cat``, ``grep`` or ``git log`` give in the same place.
  It is never 1, which means "over budget", and never 0, since the output was not read.

A failing run never creates or clobbers its ``--output``: the path is checked before any work,
and the text is written to a temporary file beside it and renamed over it.
"""
from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

from ..errors import MbcostError, UsageError


BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE (13)
_ANSI = re.compile(r"\x1b\[[;?0-9]*[a-zA-Z]")


class OutputError(MbcostError):
    """stdout cannot be written (closed, full, failing): exit 2."""


class BrokenPipe(MbcostError):
    """stdout's reader has gone: the CLI exits 141 without a message."""

    exit_code = BROKEN_PIPE_EXIT


def _stream():
    stream = sys.stdout
    if stream is None:  # Python starts with no sys.stdout when file descriptor 1 is closed
        raise OutputError("closed, so the output cannot be written; "
                          "redirect it (> FILE or > /dev/null) or use --output", field="stdout")
    return stream


def encoding() -> str:
    stream = sys.stdout
    return (getattr(stream, "encoding", None) or "utf-8") if stream is not None else "utf-8"


def isatty() -> bool:
    try:
        return sys.stdout is not None and sys.stdout.isatty()
    except (OSError, ValueError):  # closed or detached
        return False


def styled(stream=None) -> bool:
    """Bold and colour only for a person at a terminal, and never with NO_COLOR set to
    anything but the empty string (no-color.org). The one test every styled output makes —
    the tables of report, verify, diff and reproduce, check's FAIL/ok, ``--help``, the
    progress bar (``stream=sys.stderr``) — so none of them can forget NO_COLOR or a pipe."""
    if os.environ.get("NO_COLOR"):
        return False
    if stream is None:
        return isatty()
    try:
        return stream.isatty()
    except (OSError, ValueError, AttributeError):  # closed, detached, or no stream at all
        return False


def encodable(text: str, enc: str | None = None) -> str:
    """``text`` with each character the encoding cannot hold replaced by '?'."""
    enc = enc or encoding()
    try:
        text.encode(enc)
        return text
    except UnicodeEncodeError:
        return text.encode(enc, errors="replace").decode(enc, errors="replace")
    except LookupError:  # an encoding Python does not know: fall back to ASCII
        return text.encode("ascii", errors="replace").decode("ascii")


def write(text: str) -> None:
    """Write ``text`` to stdout now, or raise OutputError / BrokenPipe."""
    stream = _stream()
    try:
        stream.write(encodable(text, getattr(stream, "encoding", None) or "utf-8"))
        stream.flush()
    except BrokenPipeError:
        raise BrokenPipe("stdout's reader has gone (broken pipe)", field="stdout") from None
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", field="stdout") from None
    except ValueError:  # "I/O operation on closed file"
        raise OutputError("closed, so the output cannot be written", field="stdout") from None


def echo(text: str = "", nl: bool = True) -> None:
    """Print a line, as click.echo did: ANSI styling is dropped unless stdout is a terminal."""
    if "\x1b" in text and not isatty():
        text = _ANSI.sub("", text)
    write(text + ("\n" if nl else ""))


def silence_stdout() -> None:
    """After a broken pipe, point file descriptor 1 at /dev/null, so that the interpreter's
    final flush of what is left in sys.stdout's buffer does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test runner)
        pass


def error_line(line: str) -> None:
    """The one line on stderr; it must not fail, whatever stderr is."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(encodable(line, getattr(stream, "encoding", None) or "utf-8") + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


@contextmanager
def progress(what: str, *, large: int = 300):
    """A progress bar on stderr for a long job. Yields ``step(done, total)`` for the job to
    call as it goes; the bar appears at the first step whose ``total`` is at least ``large``
    (sweep: α, about a millisecond each), and only when stderr is a terminal — never in a
    pipe, a CI log or a test's captured output. Transient: it is erased when the job ends, so
    stderr keeps only the one error line if there is one. Colour as :func:`styled` says for
    stderr; ``what`` is the user's text (an architecture's name), never read as markup."""
    state: dict = {}

    def step(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = _bar(what, total) if total >= large else None
        if state["bar"] is not None:
            bar, task = state["bar"]
            bar.update(task, completed=done)

    try:
        yield step
    finally:
        if state.get("bar") is not None:
            state["bar"][0].stop()


def _bar(what: str, total: int):
    try:
        if sys.stderr is None or not sys.stderr.isatty():
            return None
    except (OSError, ValueError):
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.text import Text

    console = Console(file=sys.stderr, no_color=not styled(sys.stderr), highlight=False)
    bar = Progress(TextColumn("{task.fields[what]}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), console=console, transient=True)
    task = bar.add_task("", total=total, what=Text(what))
    bar.start()
    return bar, task


class _Stdout:
    """A file-like view of stdout for rich's Console: every write goes through :func:`write`;
    ``encoding`` is stdout's, so rich draws ASCII boxes where it must."""

    @property
    def encoding(self) -> str:
        return encoding()

    def isatty(self) -> bool:
        return isatty()

    def write(self, text: str) -> int:
        write(text)
        return len(text)

    def flush(self) -> None:
        pass  # write() has flushed

    def fileno(self) -> int:
        return _stream().fileno()


stdout = _Stdout()


# --- files ------------------------------------------------------------------------------------

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


def chunks(text: str | bytes | Iterable[str]) -> Iterable:
    """A renderer's output as chunks: one string (or bytes, a binary output such as an ONNX
    model), or the chunks a streaming renderer yields (sweep's CSV, one per α), which are
    written as they come and never joined."""
    return (text,) if isinstance(text, (str, bytes)) else text


def write_atomic(path: Path, text: str | bytes | Iterable[str]) -> None:
    """Write a temporary file beside ``path`` and rename it over: all or nothing. ``text`` is
    a string, bytes, or an iterable of chunks; a chunk that fails to render (an error raised by
    the generator) leaves the old file as it was."""
    import tempfile

    binary = isinstance(text, bytes)
    mode, encoding = ("wb", None) if binary else ("w", "utf-8")
    newline = None if binary else ""

    check_output_path(path)
    if _special(path):
        try:
            with open(path, mode, encoding=encoding, newline=newline) as fh:
                fh.writelines(chunks(text))
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
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as fh:
            fh.writelines(chunks(text))
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
