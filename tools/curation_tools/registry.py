"""Tool discovery through the ``curation_tools.tools`` entry-point group (third parties register the same way)."""

from __future__ import annotations

import time
from functools import cache
from importlib.metadata import entry_points

from pydantic import BaseModel

from curation_tools.context import ToolContext
from curation_tools.dataset import Dataset
from curation_tools.errors import UserInputError
from curation_tools.schema import ToolResult, ToolSpec

GROUP = "curation_tools.tools"


@cache
def available_tools() -> dict[str, ToolSpec]:
    tools: dict[str, ToolSpec] = {}
    for entry in entry_points(group=GROUP):
        spec = entry.load()
        if not isinstance(spec, ToolSpec):
            raise TypeError(f"entry point {entry.value} in group {GROUP} is not a ToolSpec")
        tools[spec.name] = spec
    return dict(sorted(tools.items()))


def get_tool(name: str) -> ToolSpec:
    tools = available_tools()
    if name not in tools:
        raise UserInputError(f"No tool named '{name}'. Available: {', '.join(tools) or 'none installed'}.")
    return tools[name]


def run_tool(spec: ToolSpec, data: Dataset, params: BaseModel, ctx: ToolContext) -> ToolResult:
    """The one way a tool runs (a run's step, `curate tools NAME`, `scan`): its roles checked, timed, and its
    proposal stamped with the tool's name and version."""
    data.require(spec.required_roles, spec.name)
    started = time.perf_counter()
    result = spec.run(data, params, ctx)
    result.proposal.tool, result.proposal.tool_version = spec.name, spec.version
    result.elapsed_s = time.perf_counter() - started
    return result
