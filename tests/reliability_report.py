"""Regenerate docs/RELIABILITY.md: run the reliability harnesses and count the cases tried and handled.

    python tests/reliability_report.py            # all of them, slow ones included (about 6 minutes on 2 cores)

Each pytest case is one case tried (a parametrized case counts once); the property tests and the kill walk say
how many generated files or kill points they covered (`record_property`), and those are counted instead. A case
is handled when its test passes: the assertions are the rules (no traceback, no hang, exit code, no lost update,
no silent change).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Category:
    name: str
    rule: str
    failure: str  # what one unhandled case would be
    selects: tuple[str, ...]  # "file.py" or "file.py::test_name_prefix"


CATEGORIES = [
    Category(
        "Concurrent writers (real parallel processes)",
        "no lost update, no double undo, one writer per run",
        "lost updates",
        ("test_concurrency.py",),
    ),
    Category(
        "Kill -9, then resume",
        "resumes where it stopped; the previous version stays intact",
        "lost updates",
        ("test_run.py::test_kill", "test_run.py::test_a_kill", "test_ledger.py::test_sigkill"),
    ),
    Category(
        "Cell fidelity (generated CSV/TSV/JSONL/Parquet files)",
        "untouched cells byte-identical, types kept",
        "silent changes",
        ("test_fidelity.py",),
    ),
    Category(
        "Hostile strings (CLI, report, every TUI screen)",
        "shown as typed, never markup, never an action",
        "tracebacks",
        ("test_hostile_strings.py",),
    ),
    Category(
        "Strict inputs (policies, recipes, decisions, findings)",
        "unknown keys and foreign findings refused",
        "silent changes",
        ("test_strict_inputs.py",),
    ),
    Category(
        "Bad inputs (paths, FIFOs, deep JSON, odd cells)",
        "exit 2 with one paragraph, or handled",
        "tracebacks",
        ("test_bad_inputs.py", "test_io.py::test_bad_input"),
    ),
    Category(
        "Integrity review (wave 3): overwrites, read-back checks, deadlines, decisions, terminals, formats",
        "a test per defect an independent review found (most failed on the code before the fix)",
        "silent changes",
        ("test_integrity.py",),
    ),
    Category(
        "Fault injection script (damaged files, read-only mount, full disk, trickling and lying LLM servers)",
        "exit 0 with the undamaged result, or exit 2 with one paragraph; never different data",
        "silent changes",
        ("test_fault_injection.py",),
    ),
    Category(
        "LLM endpoint faults (real SDK, local HTTP server)",
        "retried, repaired or fallen back; counted",
        "tracebacks",
        ("test_run_llm.py",),
    ),
]


def selected(category: Category, file: str, name: str) -> bool:
    for select in category.selects:
        want_file, _, prefix = select.partition("::")
        if file == want_file and name.startswith(prefix):
            return True
    return False


def run_pytest(junit: Path) -> None:
    files = sorted({s.partition("::")[0] for c in CATEGORIES for s in c.selects})
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "junit_family=legacy",  # keeps record_property's counts
        f"--junitxml={junit}",
        *[f"tests/{f}" for f in files],
    ]
    subprocess.run(command, cwd=REPO, check=False)


def count(junit: Path) -> dict[str, list[int]]:
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in ET.parse(junit).getroot().iter("testcase"):
        file = case.get("classname", "").split(".")[-1] + ".py"
        name = case.get("name", "")
        if case.find("skipped") is not None:
            continue
        ok = case.find("failure") is None and case.find("error") is None
        weight = sum(int(p.get("value", "1")) for p in case.iter("property") if p.get("name") == "cases") or 1
        for category in CATEGORIES:
            if selected(category, file, name):
                tally[category.name][0] += weight
                tally[category.name][1] += weight if ok else 0
    return tally


def render(tally: dict[str, list[int]]) -> str:
    lines = [
        "# Reliability",
        "",
        "Fault injection against the whole tool: every case is a pytest case in `tests/` (the slow ones run in CI",
        "too). This page is written by `python tests/reliability_report.py`; do not edit it by hand.",
        "",
        f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, 2 cores.",
        "",
        "| category | rule | cases tried | handled |",
        "|---|---|---|---|",
    ]
    failures: dict[str, int] = defaultdict(int)
    for category in CATEGORIES:
        tried, handled = tally.get(category.name, [0, 0])
        failures[category.failure] += tried - handled
        lines.append(f"| {category.name} | {category.rule} | {tried} | {handled} |")
    total = [sum(v[0] for v in tally.values()), sum(v[1] for v in tally.values())]
    lines += [
        f"| **all** | | **{total[0]}** | **{total[1]}** |",
        "",
        "Unhandled: "
        + ", ".join(f"{failures[k]} {k}" for k in ("tracebacks", "silent changes", "lost updates"))
        + " (a hang fails its case by timeout and counts as a traceback here).",
        "",
        "What the cases are: see each test module's docstring. Property tests count each generated file; the kill",
        "walk counts each checkpoint write it killed the run after; every other case is one pytest case.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        junit = Path(folder) / "junit.xml"
        run_pytest(junit)
        text = render(count(junit))
    target = REPO / "docs" / "RELIABILITY.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
