"""The CPU budget: how many threads this process may use without oversubscribing its cores.

`os.cpu_count()` is the host's count: in a container or under `taskset` it can be many times the cores this
process may run on, and an OpenMP or BLAS pool that size thrashes (HistGradientBoosting took 130 s instead of
4.5 s that way). The budget is the smallest of the CPUs this process is allowed (affinity) and its cgroup's CPU
quota; a run that runs several tools at once splits it between them (ToolContext.threads).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def _cgroup_quota() -> int | None:
    try:
        quota, period = CGROUP_CPU_MAX.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return max(1, math.ceil(int(quota) / int(period)))


def usable_cpus() -> int:
    """CPUs this process may use: affinity, capped by the cgroup quota (at least 1)."""
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = _cgroup_quota()
    return max(1, min(allowed, quota) if quota else allowed)
