"""Untrusted text (cells, ids, labels, file names, LLM replies) for Textual widgets: never markup, and control
characters shown as symbols (`copilot.core.control_chars`): Textual would write an escape sequence in a cell to the
terminal as it is."""

from __future__ import annotations

from rich.text import Text

from copilot.core.control_chars import visible


def plain(text: object, style: str = "") -> Text:
    return Text(visible(str(text)), style=style)


def inert(text: Text) -> Text:
    """A built Text with its control characters made visible: one symbol per character, so its styles stay where
    they were."""
    text.plain = visible(text.plain)
    return text
