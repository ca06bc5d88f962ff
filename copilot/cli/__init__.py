"""The `curate` command line: thin clients of the tools, the ledger and the Session API."""

from copilot.cli.app import main

__all__ = ["main"]
