"""curation-copilot: an LLM co-pilot that curates datasets through deterministic, approvable tools."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """`from copilot import Curator` (the notebook API) without importing pandas for every `curate` command."""
    if name == "Curator":
        from copilot.api.curator import Curator

        return Curator
    raise AttributeError(f"module 'copilot' has no attribute {name!r}")
