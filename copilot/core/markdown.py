"""Untrusted text (row ids, file names, cell values, labels, LLM rationales) made inert for Markdown: report.md and
the dataset card. Inert by backslash escapes, never by HTML entities (a card on the Hub is read as Markdown text
too), and without escaping what needs none (an underscore inside a word, as in `support_tickets.csv`)."""

from __future__ import annotations

import re
from typing import Any

from copilot.core.control_chars import visible

MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]#!|~<>&])")
EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")  # intraword `_` is literal in CommonMark


def md(value: Any) -> str:
    """Untrusted text as inert Markdown: no links, images, HTML, emphasis or table breaks, whatever it holds."""
    text = MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(visible(str(value)).split()))
    return EDGE_UNDERSCORE.sub(r"\\_", text)


def code(value: Any, cell: bool = False) -> str:
    """Untrusted text as a Markdown code span (shown literally), fenced by more backticks than it holds; in a table
    `cell`, its `|` escaped so the row keeps its columns."""
    text = " ".join(visible(str(value)).split())
    if cell:
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if fence != "`" else f"`{text}`"
