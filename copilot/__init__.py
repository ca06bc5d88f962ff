"""curation-copilot: an LLM co-pilot that curates datasets through deterministic, approvable tools."""

__version__ = "0.1.0"
