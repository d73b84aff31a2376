"""Writing outputs: to stdout, or to a file all-or-nothing.

A failing run never creates or clobbers its ``--output``: the path is checked before any work,
and the text is written to a temporary file beside it and renamed over it.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import UsageError


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


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write a temporary file beside ``path`` and rename it over: all or nothing (bytes for
    binary outputs such as an ONNX model)."""
    import tempfile

    binary = isinstance(text, bytes)
    mode, encoding = ("wb", None) if binary else ("w", "utf-8")
    newline = None if binary else ""

    check_output_path(path)
    if _special(path):
        try:
            with open(path, mode, encoding=encoding, newline=newline) as fh:
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
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as fh:
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
