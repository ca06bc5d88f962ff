"""Deterministic data-curation tools: each proposes changes with evidence, none mutates data."""

__version__ = "0.1.0"
