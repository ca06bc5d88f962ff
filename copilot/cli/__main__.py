"""`python -m copilot.cli ARGS`: the same as `curate ARGS`."""

from copilot.cli.app import main

main()
