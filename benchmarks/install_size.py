"""What each direct dependency costs: installed size (its own and what only it pulls in) and import time.

Reads the installed distributions' metadata in the current environment (run it in a venv made with the
README's install command); nothing is downloaded. Sizes come from each distribution's RECORD, so they
add up to the venv's site-packages. Import time is the median wall time of `python -c "import X"` in a
fresh interpreter, as a ratio to `python -c pass`.

    python benchmarks/install_size.py            # --runs 5 --markdown
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from importlib.metadata import Distribution, distributions
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOTS = ("curation-copilot", "curation-tools")
# the import name of each direct dependency whose import time is worth knowing
IMPORT_NAMES = {
    "chromadb": "chromadb",
    "cleanlab": "cleanlab",
    "langgraph": "langgraph.graph",
    "onnxruntime": "onnxruntime",
    "openai": "openai",
    "pandas": "pandas",
    "pyarrow": "pyarrow",
    "pydantic": "pydantic",
    "scikit-learn": "sklearn",
    "scipy": "scipy.stats",
    "textual": "textual.app",
    "tokenizers": "tokenizers",
}


def installed() -> dict[str, Distribution]:
    return {canonicalize_name(d.metadata["Name"]): d for d in distributions()}


def size_of(dist: Distribution) -> int:
    total = 0
    for file in dist.files or []:
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    return total


def requirements(dist: Distribution, extras: tuple[str, ...] = ()) -> list[str]:
    names = []
    for text in dist.requires or []:
        req = Requirement(text)
        environments = [{**default_environment(), "extra": extra} for extra in ("", *extras)]
        if req.marker is None or any(req.marker.evaluate(env) for env in environments):
            names.append(canonicalize_name(req.name))
    return names


def closure(start: str, dists: dict[str, Distribution], skip: frozenset[str] = frozenset()) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen or name in skip or name not in dists:
            continue
        seen.add(name)
        todo.extend(requirements(dists[name]))
    return seen


def median_seconds(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="interpreter starts per import timing (median)")
    args = parser.parse_args()

    dists = installed()
    missing = [root for root in ROOTS if root not in dists]
    if missing:
        sys.exit(f"not installed here: {', '.join(missing)}; run this in a venv made with the README's command")
    sizes = {name: size_of(dist) for name, dist in dists.items()}
    roots = set(ROOTS)
    everything = set().union(*(closure(root, dists) for root in ROOTS))
    direct = sorted({dep for root in ROOTS for dep in requirements(dists[root])} - roots)

    baseline = median_seconds("pass", args.runs)
    rows = []
    for dep in direct:
        reach = closure(dep, dists, frozenset(roots))
        others = set().union(*(closure(other, dists, frozenset(roots)) for other in direct if other != dep))
        only_here = reach - others
        import_name = IMPORT_NAMES.get(dep)
        ratio = median_seconds(f"import {import_name}", args.runs) / baseline if import_name else None
        rows.append((dep, sizes.get(dep, 0), sum(sizes[d] for d in only_here), len(only_here), ratio))
    rows.sort(key=lambda row: -row[2])

    mb = 1 / 1e6
    print(
        f"{len(everything)} distributions needed, {sum(sizes[d] for d in everything) * mb:.0f} MB installed "
        f"(venv site-packages holds {sum(sizes.values()) * mb:.0f} MB in {len(dists)} distributions)\n"
    )
    print(
        "| direct dependency | own size (MB) | size of what only it pulls in, itself included (MB) "
        "| distributions only it pulls in | import time / `python -c pass` |"
    )
    print("|---|---|---|---|---|")
    for dep, own, exclusive, count, ratio in rows:
        shown = f"{ratio:.0f}x" if ratio is not None else "-"
        print(f"| {dep} | {own * mb:.1f} | {exclusive * mb:.1f} | {count} | {shown} |")


if __name__ == "__main__":
    main()
