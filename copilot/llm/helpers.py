"""What tools get from an LLM, made in one place: the label and contamination judges and the text generator
(the ToolContext protocols curation_tools defines; tools never import an LLM SDK)."""

from __future__ import annotations

from typing import Any

from copilot.llm.client import LLMClient


def tool_helpers(client: LLMClient, judges: bool, generator: bool) -> dict[str, Any]:
    """ToolContext keyword arguments: `judge` and `contamination_judge` with judges, `generator` with generator."""
    from copilot.llm.judge import LLMContaminationJudge, LLMLabelJudge, LLMTextGenerator

    helpers: dict[str, Any] = {}
    if generator:
        helpers["generator"] = LLMTextGenerator(client)
    if judges:
        helpers["judge"] = LLMLabelJudge(client)
        helpers["contamination_judge"] = LLMContaminationJudge(client)
    return helpers
