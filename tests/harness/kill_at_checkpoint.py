"""`curate ARGS` that SIGKILLs itself right after its N-th checkpoint write (a LangGraph `put` or `put_writes`).

Usage: kill_at_checkpoint.py N ARGS... Exits by SIGKILL at that boundary, or normally if the run writes fewer
checkpoints (then it prints "ended before write N" on stderr), so a test can walk N = 1, 2, ... over every
node boundary of a run without timing anything.
"""

from __future__ import annotations

import os
import signal
import sys

from langgraph.checkpoint.sqlite import SqliteSaver

target = int(sys.argv[1])
sys.argv = ["curate", *sys.argv[2:]]
written = 0


def counting(method):
    def wrapper(self, *args, **kwargs):
        global written
        result = method(self, *args, **kwargs)
        written += 1
        if written == target:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    return wrapper


SqliteSaver.put = counting(SqliteSaver.put)
SqliteSaver.put_writes = counting(SqliteSaver.put_writes)

from copilot.cli import main  # noqa: E402

try:
    main()
finally:
    print(f"ended before write {target} ({written} written)", file=sys.stderr)
