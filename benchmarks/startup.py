"""Start-up cost of the `curate` command: wall time as a ratio to a bare `python -c pass`, and the
modules that take the most import time (`python -X importtime`).

    python benchmarks/startup.py            # --runs 7 --top 8
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "curate --version": [sys.executable, "-m", "copilot.cli", "--version"],
    "curate --help": [sys.executable, "-m", "copilot.cli", "--help"],
    "curate tools list": [sys.executable, "-m", "copilot.cli", "tools", "list"],
}
HEAVY = ("sklearn", "scipy", "langgraph", "chromadb", "onnxruntime", "textual", "cleanlab", "torch")
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def median_seconds(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def top_level_imports(argv: list[str]) -> list[tuple[str, float]]:
    """Cumulative import time (s) of each top-level package the command imports."""
    result = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, check=True)
    totals: dict[str, float] = {}
    for match in IMPORT_LINE.finditer(result.stderr):
        _self_us, cumulative_us, indent, module = match.groups()
        if len(indent) == 1:  # a module imported at top level, not from inside another import
            package = module.split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(cumulative_us) / 1e6
    return sorted(totals.items(), key=lambda item: -item[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()

    baseline = median_seconds(COMMANDS["python -c pass"], args.runs)
    print(f"median of {args.runs} runs\n")
    print("| command | wall time (s) | ratio to `python -c pass` | heavy modules imported |")
    print("|---|---|---|---|")
    for label, argv in COMMANDS.items():
        seconds = median_seconds(argv, args.runs)
        imported = {package for package, _ in top_level_imports(argv)}
        heavy = ", ".join(sorted(imported.intersection(HEAVY))) or "none"
        print(f"| `{label}` | {seconds:.2f} | {seconds / baseline:.0f}x | {heavy} |")
    print(f"\nlargest imports of `curate --help` (cumulative s, top {args.top}):")
    for package, seconds in top_level_imports(COMMANDS["curate --help"])[: args.top]:
        print(f"  {package:<24} {seconds:.3f}")


if __name__ == "__main__":
    main()
