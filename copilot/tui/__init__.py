"""The Textual terminal UI: a thin client of copilot.run.session.Session (no curation logic here)."""
