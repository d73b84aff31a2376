"""The command line: parses flags, calls the library, renders. No counting happens here.

Each command lives in its own module (report.py, verify.py, …) and registers itself on
``app``; app.COMMANDS lists them, and a command's module is imported only when it runs.
"""
from __future__ import annotations

from .app import COMMANDS, app, main  # noqa: F401
