"""Untrusted text (row ids, file names, cell values, LLM rationales) made inert for Markdown: report.md and the
dataset card."""

from __future__ import annotations

import re
from typing import Any

from copilot.control_chars import visible

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#!|~])")


def md(value: Any) -> str:
    """Untrusted text (row ids, file names, summaries, LLM rationales) as inert Markdown: no links, images,
    HTML or table breaks, whatever it holds."""
    text = " ".join(visible(str(value)).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def code(value: Any) -> str:
    """Untrusted text as a Markdown code span (shown literally), fenced by more backticks than it holds."""
    text = " ".join(visible(str(value)).split())
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if fence != "`" else f"`{text}`"
