"""The Textual terminal UI: a thin client of copilot.session.Session (no curation logic here)."""
