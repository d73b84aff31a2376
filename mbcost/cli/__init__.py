"""The command line: parses flags, calls the library, renders. No counting happens here.

Each command lives in its own module and registers itself on ``app``.
"""
from __future__ import annotations

from .app import app, main  # noqa: F401
from . import report  # noqa: F401,E402  (registers the command)
from . import verify  # noqa: F401,E402  (registers the command)
from . import sweep  # noqa: F401,E402  (registers the command)
from . import check, diff  # noqa: F401,E402  (registers the commands)
from . import reproduce  # noqa: F401,E402  (registers the command)
