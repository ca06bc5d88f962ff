"""Fault injection against real workspaces, run folders and LLM endpoints; one line per case.

    python tests/harness/fault_injection.py [--group NAME ...] [--json FILE]

Groups:
- workspace-files: each workspace file (workspace.json, ledger.sqlite, every version, the input's copy) deleted,
  emptied, cut in half, or with one byte flipped at its start, middle or end; then `curate export` and
  `curate diff`.
- run-files: run.json, the checkpoint database and events.jsonl of a waiting run, damaged the same ways; then
  `curate run --resume` with a decisions file.
- read-only: every command on a workspace and run folders remounted read-only (a bind mount; skipped where the
  machine does not allow mounts).
- disk-full: `curate run`, `apply`, `export` and the embedding cache on a small tmpfs filled to several levels, then
  a resume once space is freed (skipped where tmpfs cannot be mounted).
- llm: endpoints that trickle a reply one byte a second (chunked, a lying Content-Length, trickled headers) and
  endpoints that lie about token counts (negative, null, absent with --max-cost, huge with --max-cost).

A case is handled when the command exits 0 with the right result (the same bytes as an undamaged run) or with
its documented code (2: one paragraph, no traceback; 3 waiting; 4 budget). It is a traceback when an exception
escapes `curate`, a hang when it runs past its limit, and a silent change when it exits 0 with different data,
or a failed write leaves a different version current.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from copilot.llm.fake_server import FakeOpenAIServer, FakeReply, TricklingServer

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "support_tickets.csv"
HANG_S = 120


@dataclass
class Case:
    group: str
    name: str
    outcome: str  # handled | traceback | hang | silent change | skipped
    detail: str = ""


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    crashed: bool = False


class Hang(BaseException):
    pass


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def curate(*args: object, cwd: Path, limit: int = HANG_S, **env: str) -> Result:
    """`curate ARGS` in this process through the real entry point (a hang is stopped by an alarm)."""
    from copilot.cli import main

    def alarm(*_: object) -> None:
        raise Hang

    out, err = io.StringIO(), io.StringIO()
    code, crashed = 0, False
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(limit)
    here = Path.cwd()
    os.chdir(cwd)
    try:
        with environment(COLUMNS="200", **env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            sys.argv = ["curate", *map(str, args)]
            try:
                main()
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except Hang:
        code = -1
    except Exception:  # escaped the CLI: what a user would see as a traceback
        crashed = True
        err.write(traceback.format_exc())
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(here)
    return Result(code, out.getvalue(), err.getvalue(), crashed)


def judge(result: Result, codes: set[int], check: Callable[[], str | None] | None = None) -> tuple[str, str]:
    """(outcome, detail) for a command's result: its exit code must be one of `codes`; on exit 0, `check` says
    what differs from the right result (None: nothing)."""
    if result.code == -1:
        return "hang", f"ran past {HANG_S} s"
    if result.crashed or "Traceback" in result.stderr:
        return "traceback", result.stderr.strip().splitlines()[-1][:200]
    if result.code not in codes:
        return "silent change", f"exit {result.code}: {result.stderr.strip()[:200]}"
    if result.code == 2 and "error:" not in result.stderr:
        return "silent change", "exit 2 without a message"
    if result.code == 0 and check is not None and (problem := check()):
        return "silent change", problem
    first = result.stderr.strip().splitlines()[-1][:160] if result.stderr.strip() else ""
    return "handled", f"exit {result.code}" + (f": {first}" if result.code == 2 else "")


# ---- faults on one file ------------------------------------------------------------------------------------
def _flip(at: Callable[[int], int]) -> Callable[[Path], None]:
    def fault(path: Path) -> None:
        data = bytearray(path.read_bytes())
        if data:
            i = min(max(at(len(data)), 0), len(data) - 1)
            data[i] ^= 0xFF
        path.write_bytes(bytes(data))

    return fault


FAULTS: dict[str, Callable[[Path], None]] = {
    "deleted": lambda p: p.unlink(),
    "emptied": lambda p: p.write_bytes(b""),
    "cut in half": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "byte flipped at its start": _flip(lambda n: 20),
    "byte flipped in the middle": _flip(lambda n: n // 2),
    "byte flipped at its end": _flip(lambda n: n - 20),
}


class Fixture:
    """A data file with a workspace (dedup and label-errors applied), a finished run and a waiting run, made once;
    every case works on a fresh copy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = root / "base"
        self.base.mkdir()
        data = self.base / "d.csv"
        data.write_text("".join(EXAMPLE.read_text().splitlines(keepends=True)[:201]))
        cache = str(root / "cache")
        self.env = {"CURATE_CACHE_DIR": cache}
        for args in (
            ("tools", "dedup", "d.csv", "--out", "dups.jsonl"),
            ("apply", "d.csv", "dups.jsonl"),
            ("tools", "label-errors", "d.csv", "--out", "labels.jsonl"),
            ("apply", "d.csv", "labels.jsonl"),
            ("run", "d.csv", "--policy", "approve-all", "--out", "finished"),
            ("run", "d.csv", "--out", "waiting"),
        ):
            result = curate(*args, cwd=self.base, **self.env)
            assert result.code in (0, 3), (args, result.stderr)
        pending = json.loads((self.base / "waiting" / "pending.json").read_text())
        decisions = {p["finding_id"]: "approve" for p in pending}
        (self.base / "decisions.json").write_text(json.dumps(decisions))
        self.truth_export = self._truth(("export", "d.csv", "--out", "truth.csv"), "truth.csv")
        self.truth_diff = curate("diff", "d.csv", "--from", "1", "--to", "3", cwd=self.base, **self.env).stdout
        self.truth_curated = (self.base / "finished" / "curated.csv").read_bytes()
        with self.copy() as folder:  # what resuming the waiting run with its decisions does, undamaged
            self.truth_resume_code = self.resume(folder).code
            self.truth_resumed = self.resumed_rows(folder)

    def resume(self, folder: Path) -> Result:
        return curate("run", "--resume", "waiting", "--decisions", "decisions.json", cwd=folder, **self.env)

    def resumed_rows(self, folder: Path) -> bytes:
        """The waiting run's current version, exported."""
        args = ("export", "--workspace", "waiting/workspace/ledger", "--out", "resumed.csv")
        result = curate(*args, cwd=folder, **self.env)
        assert result.code == 0, result.stderr
        return (folder / "resumed.csv").read_bytes()

    def _truth(self, args: tuple[str, ...], name: str) -> bytes:
        result = curate(*args, cwd=self.base, **self.env)
        assert result.code == 0, result.stderr
        truth = (self.base / name).read_bytes()
        (self.base / name).unlink()
        return truth

    @contextlib.contextmanager
    def copy(self) -> Iterator[Path]:
        folder = Path(tempfile.mkdtemp(dir=self.root))
        shutil.copytree(self.base, folder, dirs_exist_ok=True, symlinks=True)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _same_bytes(path: Path, truth: bytes, what: str) -> Callable[[], str | None]:
    def check() -> str | None:
        if not path.is_file():
            return f"exit 0 but no {what} was written"
        return None if path.read_bytes() == truth else f"exit 0 but {what} differs from the undamaged one"

    return check


def workspace_files(fx: Fixture) -> Iterator[Case]:
    targets = ["workspace.json", "ledger.sqlite", "source.csv"] + [f"versions/v{i:06d}.parquet" for i in (1, 2, 3)]
    for target in targets:
        for fault_name, fault in FAULTS.items():
            for command in ("export", "diff"):
                with fx.copy() as folder:
                    path = folder / ".curate" / "d.csv" / target
                    for extra in ("-wal", "-shm"):  # the ledger as it is on disk, its journal folded in
                        (path.parent / (path.name + extra)).unlink(missing_ok=True)
                    fault(path)
                    if command == "export":
                        result = curate("export", "d.csv", "--out", "out.csv", cwd=folder, **fx.env)
                        check = _same_bytes(folder / "out.csv", fx.truth_export, "the export")
                    else:
                        result = curate("diff", "d.csv", "--from", "1", "--to", "3", cwd=folder, **fx.env)

                        def check(result: Result = result) -> str | None:
                            return None if result.stdout == fx.truth_diff else "exit 0 but the diff differs"

                    outcome, detail = judge(result, {0, 2}, check)
                    yield Case("workspace-files", f"{target} {fault_name}: curate {command}", outcome, detail)


def run_files(fx: Fixture) -> Iterator[Case]:
    for target in ("run.json", "workspace/checkpoints.sqlite", "events.jsonl"):
        for fault_name, fault in FAULTS.items():
            with fx.copy() as folder:
                path = folder / "waiting" / target
                for extra in ("-wal", "-shm"):
                    (path.parent / (path.name + extra)).unlink(missing_ok=True)
                fault(path)
                result = fx.resume(folder)

                def check(folder: Path = folder) -> str | None:
                    same = fx.resumed_rows(folder) == fx.truth_resumed
                    return None if same else "the run went on, but its data differs from the undamaged run's"

                went_on = result.code == fx.truth_resume_code
                outcome, detail = judge(
                    Result(0, result.stdout, result.stderr, result.crashed) if went_on else result, {0, 2}, check
                )
                yield Case("run-files", f"{target} {fault_name}: curate run --resume", outcome, detail)


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def read_only(fx: Fixture) -> Iterator[Case]:
    with fx.copy() as folder:
        view = fx.root / "read-only"
        view.mkdir()
        if not (_mount("--bind", str(folder), str(view)) and _mount("-o", "remount,ro,bind", str(view))):
            subprocess.run(["umount", "-l", str(view)], capture_output=True)
            yield Case("read-only", "(all)", "skipped", "this machine does not allow a read-only bind mount")
            return
        out = fx.root / "outside"
        out.mkdir(exist_ok=True)
        commands = [
            ("log", "d.csv"),
            ("diff", "d.csv"),
            ("explain", "T0001", "d.csv"),
            ("export", "d.csv", "--out", out / "x.csv"),
            ("undo", "d.csv"),
            ("apply", "d.csv", "dups.jsonl"),
            ("card", "d.csv", "--out", out / "card.md"),
            ("audit", "d.csv", "--benchmark", REPO / "examples" / "bank_eval.jsonl:query", "--out", out / "a.jsonl"),
            ("report", "finished", "--out", out / "r.html"),
            ("review", "waiting", "--out", out / "r.csv"),
            ("run", "--resume", "waiting", "--decisions", "decisions.json"),
            ("run", "--resume", "finished"),
            ("tools", "dedup", "d.csv", "--out", out / "f.jsonl"),
            ("scan", "d.csv"),
            ("run", "d.csv", "--out", out / "run", "--policy", "approve-all"),
        ]
        try:
            for args in commands:
                result = curate(*args, cwd=view, **fx.env)
                outcome, detail = judge(result, {0, 2, 3})
                yield Case(
                    "read-only", "curate " + " ".join(str(a).replace(str(fx.root), "") for a in args), outcome, detail
                )
        finally:
            subprocess.run(["umount", "-l", str(view)], capture_output=True)


@contextlib.contextmanager
def small_disk(fx: Fixture, kilobytes: int) -> Iterator[Path | None]:
    disk = Path(tempfile.mkdtemp(dir=fx.root))
    if not _mount("-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(disk)):
        yield None
        return
    try:
        yield disk
    finally:  # lazily: connections this process left open go with it
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _fill(disk: Path, leave: int) -> Path:
    """A file that takes the disk's free space but `leave` bytes."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with contextlib.suppress(OSError):
        filler.write_bytes(b"\0" * max(free - leave, 0))
    return filler


def _head(workspace_parent: Path) -> int:
    from copilot.ledger import Ledger

    with Ledger(workspace_parent / ".curate" / "d.csv") as ledger:
        return ledger.head()


def _findings(path: Path) -> list[dict] | None:
    """A findings file's findings without their ids (a new id each time a tool runs)."""
    if not path.is_file():
        return None
    return [{k: v for k, v in json.loads(line).items() if k != "finding_id"} for line in path.read_text().splitlines()]


def disk_full(fx: Fixture) -> Iterator[Case]:
    data = fx.base / "d.csv"
    for leave in (0, 8_000, 40_000, 120_000, 300_000):
        with small_disk(fx, 2048) as disk:
            if disk is None:
                yield Case("disk-full", "(all)", "skipped", "this machine does not allow a tmpfs mount")
                return
            shutil.copy(data, disk / "d.csv")
            filler = _fill(disk, leave)
            first = curate("run", "d.csv", "--policy", "approve-all", "--out", "run", cwd=disk, **fx.env)
            outcome, detail = judge(
                first, {0, 2}, _same_bytes(disk / "run" / "curated.csv", fx.truth_curated, "curated")
            )
            yield Case("disk-full", f"curate run with {leave:,} bytes free", outcome, detail)
            filler.unlink(missing_ok=True)
            again = (
                curate("run", "--resume", "run", cwd=disk, **fx.env)
                if (disk / "run" / "run.json").exists()
                else curate("run", "d.csv", "--policy", "approve-all", "--out", "run2", cwd=disk, **fx.env)
            )
            folder = disk / ("run" if (disk / "run" / "run.json").exists() else "run2")
            outcome, detail = judge(again, {0}, _same_bytes(folder / "curated.csv", fx.truth_curated, "curated"))
            yield Case(
                "disk-full", f"then, with space freed, the run resumed ({leave:,} bytes free before)", outcome, detail
            )
    for leave in (0, 60_000, 200_000):
        with small_disk(fx, 2048) as disk, fx.copy() as folder:
            assert disk is not None
            work = disk / "w"
            shutil.copytree(folder / ".curate", work / ".curate", symlinks=True)
            for name in ("d.csv", "dups.jsonl"):
                shutil.copy(folder / name, work / name)
            before = _head(work)
            filler = _fill(disk, leave)
            succeeded = []
            for args in (("apply", "d.csv", "dups.jsonl"), ("undo", "d.csv"), ("export", "d.csv", "--out", "o.csv")):
                result = curate(*args, cwd=work, **fx.env)
                outcome, detail = judge(result, {0, 2})
                succeeded += [args[0]] if result.code == 0 else []
                yield Case("disk-full", f"curate {args[0]} with {leave:,} bytes free", outcome, detail)
            filler.unlink()
            after = _head(work)
            changed = after != before and not {"apply", "undo"} & set(succeeded)
            outcome = "silent change" if changed else "handled"
            detail = f"v{before} -> v{after}; succeeded: {', '.join(succeeded) or 'none'}"
            yield Case("disk-full", f"the current version after those writes ({leave:,} bytes free)", outcome, detail)
    with small_disk(fx, 2048) as disk:
        assert disk is not None
        _fill(disk, 0)
        result = curate(
            "tools",
            "label-errors",
            str(data),
            "--out",
            fx.root / "le.jsonl",
            cwd=fx.base,
            CURATE_CACHE_DIR=str(disk / "cache"),
        )
        truth = curate("tools", "label-errors", str(data), "--out", fx.root / "le-truth.jsonl", cwd=fx.base, **fx.env)
        assert truth.code == 0

        def same() -> str | None:
            found, truth = (_findings(fx.root / name) for name in ("le.jsonl", "le-truth.jsonl"))
            return None if found == truth else "exit 0 but the findings differ from those made with a cache"

        outcome, detail = judge(result, {0, 2}, same)
        yield Case("disk-full", "the embedding cache on a full disk: curate tools label-errors", outcome, detail)


# ---- LLM endpoints -----------------------------------------------------------------------------------------
def _liar(usage: dict | None) -> FakeOpenAIServer:
    """A chat endpoint whose replies are well formed but whose token counts are `usage` (None: absent)."""
    return FakeOpenAIServer(chat=lambda body: FakeReply(content="{}", usage=usage))


def llm(fx: Fixture) -> Iterator[Case]:
    endpoints: list[tuple[str, Callable[[], TricklingServer | FakeOpenAIServer], tuple[str, ...], set[int]]] = [
        ("a reply trickled in chunks, one byte a second", lambda: TricklingServer("chunked"), (), {0}),
        ("a reply of a declared 100 MB, one byte a second", lambda: TricklingServer("length"), (), {0}),
        ("headers trickled one byte a second", lambda: TricklingServer("headers"), (), {0}),
        ("negative token counts", lambda: _liar({"prompt_tokens": -4_000_000_000, "completion_tokens": -1}), (), {0}),
        ("null token counts", lambda: _liar({"prompt_tokens": None, "completion_tokens": None}), (), {0}),
        ("no token counts, with --max-cost", lambda: _liar(None), ("--max-cost", "0.01"), {0, 4}),
        (
            "huge token counts, with --max-cost",
            lambda: _liar({"prompt_tokens": 10**9, "completion_tokens": 10**9}),
            ("--max-cost", "0.01"),
            {0, 4},
        ),
    ]
    env = {**fx.env, "CURATE_TIMEOUT_S": "2", "CURATE_MAX_RETRIES": "0", "CURATE_USD_PER_1K_PROMPT": "0.01"}
    for name, make, extra, codes in endpoints:
        with make() as server, fx.copy() as folder:
            started = time.monotonic()
            args = ("run", "d.csv", "--planner", "llm", "--policy", "approve-all", "--out", "run", *extra)
            result = curate(*args, cwd=folder, OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="test", **env)
            took = time.monotonic() - started

            def check(folder: Path = folder) -> str | None:
                usage = json.loads((folder / "run" / "summary.json").read_text()).get("llm_usage") or {}
                if usage.get("cost_usd", 0) < 0 or usage.get("prompt_tokens", 0) < 0:
                    return f"a negative cost or count was recorded: {usage}"
                return None

            outcome, detail = judge(result, codes, check)
            yield Case("llm", f"{name}: curate run --planner llm", outcome, f"{detail} in {took:.0f} s")


GROUPS: dict[str, Callable[[Fixture], Iterator[Case]]] = {
    "workspace-files": workspace_files,
    "run-files": run_files,
    "read-only": read_only,
    "disk-full": disk_full,
    "llm": llm,
}


def run_cases(groups: list[str], say: Callable[[Case], None] = lambda case: None) -> list[Case]:
    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="curate-faults-") as root:
        fixture = Fixture(Path(root))
        for group in groups:
            for case in GROUPS[group](fixture):
                cases.append(case)
                say(case)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--group", action="append", choices=list(GROUPS), help="run only these groups")
    parser.add_argument("--json", type=Path, help="write every case as JSON here")
    args = parser.parse_args()
    cases = run_cases(
        args.group or list(GROUPS),
        lambda case: print(f"{case.outcome:>13}  {case.group}: {case.name}  ({case.detail})", flush=True),
    )
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.outcome] = counts.get(case.outcome, 0) + 1
    print("\n" + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())))
    if args.json:
        args.json.write_text(json.dumps([asdict(c) for c in cases], indent=2))
    sys.exit(0 if all(c.outcome in ("handled", "skipped") for c in cases) else 1)


if __name__ == "__main__":
    main()
