"""Errors caused by the user's input, reported as one paragraph and exit code 2, never a traceback."""

from __future__ import annotations


class UserInputError(Exception):
    """A problem with the user's data, flags or files that the user can fix.

    The message is a complete paragraph: what is wrong, where (file, line, column when known),
    and what to do about it.
    """

    exit_code = 2


class ToolCancelled(Exception):
    """Raised inside a tool when its context's cancel flag is set."""
