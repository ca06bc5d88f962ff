"""The fault-injection script (tests/harness/fault_injection.py) run whole: damaged workspace and run files, a
read-only mount, a full disk, trickling and lying LLM endpoints. Every case must be handled; a group the machine
cannot stage (no mount rights) is skipped with the script's reason."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow  # about three minutes: some 170 commands against damaged files

GROUPS = ["workspace-files", "run-files", "read-only", "disk-full", "llm"]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    report = tmp_path_factory.mktemp("faults") / "cases.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "tests" / "harness" / "fault_injection.py"), "--json", str(report)],
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(report.read_text())


@pytest.mark.parametrize("group", GROUPS)
def test_every_fault_is_handled(cases, group, record_property):
    mine = [c for c in cases if c["group"] == group]
    assert mine, f"the script ran no case of {group}"
    if all(c["outcome"] == "skipped" for c in mine):
        pytest.skip(mine[0]["detail"])
    record_property("cases", sum(c["outcome"] != "skipped" for c in mine))
    unhandled = [
        f"{c['outcome']}: {c['name']} ({c['detail']})" for c in mine if c["outcome"] not in ("handled", "skipped")
    ]
    assert not unhandled, "\n".join(unhandled)
