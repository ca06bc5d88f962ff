"""Prompt files from prompts/: `version: N`, then `## system` and `## user` sections."""

from __future__ import annotations

import re
from functools import cache

from pydantic import BaseModel

from copilot.core.resources import resource_dir

_SECTION = re.compile(r"^## (system|user)\s*$", re.M)


class Prompt(BaseModel):
    name: str
    version: int
    system: str
    user: str

    def render(self, **values: str) -> tuple[str, str]:
        """System and user messages; values are row data, placed where the template says and escaped."""
        safe = {k: v.replace("</data>", "</ data>").replace("<data>", "< data>") for k, v in values.items()}
        return self.system, self.user.format(**safe)


@cache
def load_prompt(name: str) -> Prompt:
    path = resource_dir("prompts") / f"{name}.md"
    text = path.read_text(encoding="utf-8")
    header = re.match(r"version:\s*(\d+)\s*\n", text)
    if header is None:
        raise ValueError(f"{path}: the first line must be 'version: N'")
    parts = _SECTION.split(text[header.end() :])
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    return Prompt(name=name, version=int(header.group(1)), system=sections["system"], user=sections["user"])
