"""Where prompts/, evals/ and examples/ live: inside the installed wheel, or at the repository root in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # copilot/


def resource_dir(name: str) -> Path:
    """`name` is 'prompts', 'evals' or 'examples'."""
    for candidate in (_PACKAGE / "_resources" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{name}/ is missing from this installation (looked in {_PACKAGE})")
