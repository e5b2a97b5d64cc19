"""One base class for every error a user can cause: the shells (CLI, flows, portal) catch it once
and print its message, which says what went wrong and what to do next. Never a traceback."""

from __future__ import annotations


class TonghopError(Exception):
    """A user-facing error: its message names the input and says what to do next."""

    code = "error"  # a stable string for JSON outputs
