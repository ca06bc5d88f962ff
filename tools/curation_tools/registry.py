"""Tool discovery through the ``curation_tools.tools`` entry-point group (third parties register the same way)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from curation_tools.errors import UserInputError
from curation_tools.schema import ToolSpec

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
