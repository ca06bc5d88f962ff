"""Integrity under faults nobody scripted (issue 31): each numbered defect of the independent review, one test each.

1 no command writes over its input, the workspace or another run's files; 2 an LLM call ends by its deadline
however slowly the server sends; 3 every file read back is checked against what the ledger recorded; 4 a finding
decided twice is refused; 5 no false assurance (an empty benchmark, lying token counts); 6 read-only, full-disk
and damaged files end in exit 2 with one paragraph; 7 control characters never reach a terminal or a report; 8 the
file's own spelling, byte order mark and line endings are kept, ids are read as written, and a live chat holds
its run.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from copilot.core.config import Settings
from copilot.llm.client import LLMCallFailed, LLMClient
from copilot.llm.fake_server import FakeOpenAIServer, FakeReply, TricklingServer
from copilot.run.session import Session
from curation_tools.errors import UserInputError

from .conftest import EXAMPLE, curate_here

ESC = "\x1b"


def _tickets(n: int = 160) -> list[dict[str, str]]:
    return list(csv.DictReader(EXAMPLE.open()))[:n]


def _tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` by its sha256: what a refused command must leave as it was."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(("-shm", "-wal", ".lock"))
    }


@pytest.fixture(scope="module")
def made(tmp_path_factory, shared_cache):
    """A data file with its workspace (dedup applied), a finished run and a waiting run, made once."""
    folder = tmp_path_factory.mktemp("integrity")
    (folder / "d.csv").write_text("".join(EXAMPLE.read_text().splitlines(keepends=True)[:161]))
    (folder / "dedup.jsonl").write_text("".join(json.dumps({"text": t["text"]}) + "\n" for t in _tickets(60)))
    for args in (
        ["tools", "dedup", "d.csv", "--out", "dups.jsonl"],
        ["apply", "d.csv", "dups.jsonl"],
        ["run", "d.csv", "--policy", "approve-all", "--out", "finished"],
        ["run", "d.csv", "--out", "waiting"],
    ):
        done = curate_here(*args, cwd=folder, cache=shared_cache)
        assert done.code in (0, 3), done.stderr
    return folder


@pytest.fixture
def work(made, tmp_path, monkeypatch):
    folder = tmp_path / "w"
    shutil.copytree(made, folder)
    monkeypatch.chdir(folder)
    return folder


# ---- 1: nothing writes over its input, the workspace or another run's files --------------------------------------
REFUSED_OUTPUTS = {
    "tools --out the input": ["tools", "dedup", "d.csv", "--out", "d.csv"],
    "tools --out the input by another path": ["tools", "dedup", "d.csv", "--out", "finished/../d.csv"],
    "audit --out the input": ["audit", "d.csv", "--benchmark", "d.csv:text", "--out", "d.csv"],
    "audit --json the benchmark": ["audit", "d.csv", "--benchmark", "dups.jsonl:message", "--json", "dups.jsonl"],
    "card --out the input": ["card", "d.csv", "--out", "d.csv"],
    "report --out the run's input": ["report", "finished", "--out", "d.csv"],
    "report --out a record of the run": ["report", "finished", "--out", "finished/changes.jsonl"],
    "review --out the run's input": ["review", "waiting", "--out", "d.csv"],
    "export into the workspace's versions": ["export", "d.csv", "--out", ".curate/d.csv/versions/v000002.parquet"],
    "export over the workspace's input copy": ["export", "d.csv", "--out", ".curate/d.csv/source.csv"],
    "export into a run's workspace": ["export", "d.csv", "--out", "finished/workspace/ledger/x.csv"],
    "export over another run's curated file": ["export", "d.csv", "--out", "finished/curated.csv"],
    "export over a run's summary": [
        "export",
        "--workspace",
        "finished/workspace/ledger",
        "--out",
        "finished/summary.json",
    ],
    "run --out inside a workspace": ["run", "d.csv", "--out", ".curate/d.csv/run"],
    "run --out a folder whose curated file would be the input": ["run", "finished/curated.csv", "--out", "finished"],
    "scan --out a folder where a findings file would be the input": ["scan", "dedup.jsonl", "--out", "."],
}


@pytest.mark.parametrize("args", REFUSED_OUTPUTS.values(), ids=REFUSED_OUTPUTS.keys())
def test_no_command_writes_over_its_input_the_workspace_or_another_runs_files(cli, made, monkeypatch, args):
    monkeypatch.chdir(made)  # not a copy: a run folder names its input by its absolute path
    before = _tree(made)
    result = cli(*args)
    assert result.code == 2, (result.code, result.stderr)
    assert "Traceback" not in result.stderr and "error:" in result.stderr
    assert _tree(made) == before


def test_a_chat_export_never_replaces_a_record_of_its_run(work):
    session = Session.resume(work / "finished")
    with pytest.raises(UserInputError, match="record of this run"):
        session.export("summary.json")
    assert session.export("copy.csv").read_bytes() == (work / "finished" / "curated.csv").read_bytes()


# ---- 2: a whole-request deadline -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["chunked", "length", "headers"])
def test_an_llm_call_ends_by_its_deadline_however_slowly_the_server_sends(monkeypatch, mode):
    from pydantic import BaseModel

    class Answer(BaseModel):
        x: int = 0

    with TricklingServer(mode) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("CURATE_TIMEOUT_S", "1")
        monkeypatch.setenv("CURATE_MAX_RETRIES", "0")
        client = LLMClient(Settings())
        started = time.monotonic()
        with pytest.raises(Exception, match="timed out"):
            client.chat_json("system", "user", Answer)
        took = time.monotonic() - started
    assert took < 6, f"a trickled reply held the call for {took:.0f} s with a 1 s deadline"
    assert client.usage.failed_calls == 1 and client.usage.calls == 0


# ---- 3: what is read back is what was recorded ----------------------------------------------------------------
def test_a_swapped_version_file_is_refused_never_exported(cli, work):
    versions = work / ".curate" / "d.csv" / "versions"
    shutil.copy(versions / "v000001.parquet", versions / "v000002.parquet")
    result = cli("export", "d.csv", "--out", "out.csv")
    assert result.code == 2 and "v000002.parquet" in result.stderr and "changed since curate wrote it" in result.stderr
    assert not (work / "out.csv").exists()


def test_an_edited_input_copy_is_refused_never_flows_into_an_export(cli, work):
    copy = work / ".curate" / "d.csv" / "source.csv"
    copy.write_text(copy.read_text().replace("card", "CARD"))
    result = cli("export", "d.csv", "--out", "out.csv")
    assert result.code == 2 and "source.csv" in result.stderr and not (work / "out.csv").exists()


@pytest.mark.parametrize("damage", ["deleted", "emptied", "truncated", "header"])
def test_a_missing_empty_or_damaged_ledger_is_refused_not_shown_as_an_empty_history(cli, work, damage):
    ledger = work / ".curate" / "d.csv" / "ledger.sqlite"
    sqlite3.connect(ledger).execute("PRAGMA wal_checkpoint(TRUNCATE)").connection.close()
    data = ledger.read_bytes()
    {
        "deleted": lambda: ledger.unlink(),
        "emptied": lambda: ledger.write_bytes(b""),
        "truncated": lambda: ledger.write_bytes(data[: len(data) // 2]),
        "header": lambda: ledger.write_bytes(b"XXXX" + data[4:]),
    }[damage]()
    result = cli("log", "d.csv")
    assert result.code == 2 and "ledger.sqlite" in result.stderr and "Traceback" not in result.stderr


def test_a_format_1_ledger_is_upgraded_with_the_hashes_of_its_files(cli, work):
    path = work / ".curate" / "d.csv" / "ledger.sqlite"
    db = sqlite3.connect(path)
    db.executescript("ALTER TABLE versions DROP COLUMN sha256; DROP TABLE workspace_files; PRAGMA user_version = 1;")
    db.close()
    assert cli("export", "d.csv", "--out", "out.csv").code == 0
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM versions WHERE sha256 IS NULL").fetchone()[0] == 0
    shutil.copy(
        work / ".curate" / "d.csv" / "versions" / "v000001.parquet", work / ".curate/d.csv/versions/v000002.parquet"
    )
    assert cli("export", "d.csv", "--out", "out2.csv").code == 2


def test_a_damaged_checkpoint_is_refused_by_name(cli, work):
    path = work / "waiting" / "workspace" / "checkpoints.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    blob_id, blob = db.execute("SELECT rowid, checkpoint FROM checkpoints ORDER BY rowid DESC LIMIT 1").fetchone()
    flipped = bytearray(blob)
    flipped[len(flipped) // 2] ^= 0x01
    db.execute("UPDATE checkpoints SET checkpoint=? WHERE rowid=?", (bytes(flipped), blob_id))
    db.commit()
    db.close()
    result = cli("run", "--resume", "waiting")
    assert result.code == 2 and "checkpoints.sqlite" in result.stderr and "Traceback" not in result.stderr


# ---- 4: a finding decided twice ------------------------------------------------------------------------------
def _pending(work: Path) -> list[dict]:
    return json.loads((work / "waiting" / "pending.json").read_text())


def test_a_finding_decided_twice_in_a_decisions_object_is_refused_with_its_lines(cli, work):
    first = _pending(work)[0]["finding_id"]
    (work / "dec.json").write_text(f'{{\n  "{first}": "approve",\n  "{first}": "reject"\n}}\n')
    result = cli("run", "--resume", "waiting", "--decisions", "dec.json")
    assert result.code == 2 and "lines 2, 3" in result.stderr


def test_a_finding_decided_twice_in_pending_json_is_refused(cli, work):
    pending = _pending(work)
    twice = [{**pending[0], "decision": "approve"}, *pending[1:], {**pending[0], "decision": "reject"}]
    (work / "dec.json").write_text(json.dumps(twice, indent=1))
    result = cli("run", "--resume", "waiting", "--decisions", "dec.json")
    assert result.code == 2 and f"finding {pending[0]['finding_id']} is decided 2 times" in result.stderr


def test_a_finding_decided_twice_in_a_review_sheet_is_refused(cli, work):
    assert cli("review", "waiting").code == 0
    sheet = (work / "waiting" / "review.csv").read_text().splitlines()
    header, first = sheet[0].split(","), sheet[1]
    column = header.index("decision")

    def decided(line: str, answer: str) -> str:
        cells = next(csv.reader([line]))
        cells[column] = answer
        out = io.StringIO()
        csv.writer(out).writerow(cells)
        return out.getvalue().strip()

    (work / "filled.csv").write_text("\n".join([sheet[0], decided(first, "approve"), decided(first, "reject")]) + "\n")
    result = cli("run", "--resume", "waiting", "--decisions", "filled.csv")
    assert result.code == 2 and "decided on line 2 and again on line 3" in result.stderr


def test_a_list_as_a_new_label_is_refused_with_exit_2(cli, work):
    first = _pending(work)[0]["finding_id"]
    (work / "dec.json").write_text(json.dumps({first: {"approve": True, "new_label": [1, 2]}}))
    result = cli("run", "--resume", "waiting", "--decisions", "dec.json")
    assert result.code == 2 and "one label" in result.stderr and "Traceback" not in result.stderr


# ---- 5: no false assurance ----------------------------------------------------------------------------------
def test_a_benchmark_whose_field_holds_no_text_is_refused(cli, work):
    (work / "bench.jsonl").write_text("".join(json.dumps({"question": "", "id": i}) + "\n" for i in range(5)))
    result = cli("run", "d.csv", "--benchmark", "bench.jsonl:question", "--policy", "approve-all", "--out", "r")
    assert result.code == 2 and "hold no text" in result.stderr


@pytest.mark.parametrize(
    "usage, failed",
    [
        ({"prompt_tokens": -4_000_000_000, "completion_tokens": -1}, True),
        ({"prompt_tokens": None, "completion_tokens": None}, True),
        ({"prompt_tokens": 3, "completion_tokens": 2}, False),
    ],
)
def test_token_counts_that_are_not_counts_make_a_failed_call(monkeypatch, usage, failed):
    from pydantic import BaseModel

    class Answer(BaseModel):
        x: int = 0

    with FakeOpenAIServer(chat=lambda body: FakeReply(content="{}", usage=usage)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        client = LLMClient(Settings())
        if failed:
            with pytest.raises(LLMCallFailed, match="token counts are not counts"):
                client.chat_json("s", "u", Answer)
        else:
            client.chat_json("s", "u", Answer)
    assert client.usage.cost_usd >= 0 and client.usage.prompt_tokens >= 0
    assert (client.usage.failed_calls > 0) == failed


def test_max_cost_cannot_be_kept_without_token_counts(monkeypatch):
    from pydantic import BaseModel

    from copilot.llm.budget import Budget

    class Answer(BaseModel):
        x: int = 0

    with FakeOpenAIServer(chat=lambda body: FakeReply(content="{}", usage=None)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        client = LLMClient(Settings(), Budget(max_cost=1.0))
        with pytest.raises(LLMCallFailed, match="--max-cost cannot be kept"):
            client.chat_json("s", "u", Answer)
        assert client.usage.degraded


# ---- 6: read-only, full disk, damaged files, bad settings: exit 2 with one paragraph ----------------------------
def _mount(*args: str) -> bool:
    return os.geteuid() == 0 and subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.mark.parametrize(
    "args",
    [["log", "d.csv"], ["diff", "d.csv"], ["export", "d.csv", "--out", "OUT/x.csv"], ["run", "--resume", "waiting"]],
    ids=["log", "diff", "export", "resume"],
)
def test_a_read_only_workspace_is_exit_2_for_every_command(cli, work, tmp_path, monkeypatch, args):
    view = tmp_path / "ro"
    view.mkdir()
    if not (_mount("--bind", str(work), str(view)) and _mount("-o", "remount,ro,bind", str(view))):
        pytest.skip("needs root to bind-mount a folder read-only")
    try:
        monkeypatch.chdir(view)
        out = tmp_path / "out"
        out.mkdir()
        result = cli(*[a.replace("OUT", str(out)) for a in args])
        assert result.code == 2 and "read-only" in result.stderr and "Traceback" not in result.stderr
    finally:
        subprocess.run(["umount", "-l", str(view)], capture_output=True)


def test_a_full_disk_leaves_the_current_version_and_a_resume_finishes(cli, tmp_path, monkeypatch):
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=1024k", "tmpfs", str(disk)):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        monkeypatch.chdir(disk)
        (disk / "d.csv").write_text("".join(EXAMPLE.read_text().splitlines(keepends=True)[:161]))
        filler = disk / "filler"
        with open(filler, "wb") as handle, contextlib.suppress(OSError):
            handle.write(b"\0" * (shutil.disk_usage(disk).free - 60_000))
        result = cli("run", "d.csv", "--policy", "approve-all", "--out", "run")
        assert result.code == 2 and "Traceback" not in result.stderr, result.stderr
        filler.unlink()
        again = (
            cli("run", "--resume", "run")
            if (disk / "run" / "run.json").exists()
            else cli("run", "d.csv", "--policy", "approve-all", "--out", "run2")
        )
        assert again.code == 0, again.stderr
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_truncated_version_file_is_refused(cli, work):
    version = work / ".curate" / "d.csv" / "versions" / "v000002.parquet"
    version.write_bytes(version.read_bytes()[:100])
    result = cli("diff", "d.csv")
    assert result.code == 2 and "v000002.parquet" in result.stderr


def test_a_malformed_dask_address_is_exit_2(cli, work, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setenv("CURATE_ENGINE", "dask")
    monkeypatch.setenv("CURATE_DASK_ADDRESS", "not-an-address")
    result = cli("tools", "dedup", "d.csv")
    assert result.code == 2 and "not a Dask scheduler address" in result.stderr


def test_a_disk_that_fills_up_mid_run_stops_only_the_embedding_cache(tmp_path):
    import numpy as np

    from curation_tools.embed import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    cache._db.execute("PRAGMA query_only = ON")  # every write refused from here on, as by a full disk
    cache.put_many([(b"k", np.ones(3, dtype=np.float32))])
    assert cache.get_many([b"k"])[b"k"].tolist() == [1.0, 1.0, 1.0]


# ---- 7: control characters ------------------------------------------------------------------------------------
def test_control_characters_never_reach_the_terminal_or_a_report(cli, tmp_path, monkeypatch, capsys):
    from copilot.cli.run import _show
    from copilot.run.events import make_event

    monkeypatch.chdir(tmp_path)
    clear, title = "\x1b[2J", "\x1b]0;owned\x07"
    tickets = _tickets(120)
    rows = [[t["ticket_id"], t["text"], t["intent"]] for t in tickets]
    rows += [[f"Z{i}{clear}", t["text"], f"intent{title}"] for i, t in enumerate(tickets[:10])]
    _write_csv(tmp_path / "d.csv", ["ticket_id", "text", "intent"], rows)
    scan = cli("scan", "d.csv")
    run = cli("run", "d.csv", "--policy", "approve-all", "--out", "run")
    assert run.code == 0, run.stderr
    explained = cli("explain", f"Z0{clear}", "--workspace", "run/workspace/ledger")
    undo = cli("undo", "d.csv", "--workspace", "run/workspace/ledger")
    for result in (scan, run, explained, undo):
        assert ESC not in result.stdout + result.stderr
    assert "␛[2J" in explained.stdout  # shown as a symbol, not dropped
    _show(make_event(1, "", "plan", {"round": 1, "planner": "llm", "steps": [], "rationale": f"done{clear}{title}"}))
    _show(make_event(2, "", "message", {"text": f"the model says {clear}"}))
    assert ESC not in capsys.readouterr().err
    for name in ("report.md", "report.html"):
        assert ESC not in (tmp_path / "run" / name).read_text()


def test_a_person_s_by_and_reason_are_shown_inert_in_the_log(cli, work):
    assert cli("apply", "d.csv", "dups.jsonl", "--by", f"me{ESC}[2J", "--reason", f"why{ESC}]0;t\x07").code == 0
    log = cli("log", "d.csv")
    assert ESC not in log.stdout and "\x07" not in log.stdout and "me␛[2J" in log.stdout


# ---- 8: the file's own spelling, byte order mark, line endings and ids ---------------------------------------------
def _relabelled(cli, path: Path) -> bytes:
    assert cli("tools", "label-errors", path, "--out", "le.jsonl").code == 0
    assert cli("apply", path, "le.jsonl").code == 0
    out = path.with_name("out" + "".join(path.suffixes))
    assert cli("export", path, "--out", out).code == 0
    return out.read_bytes()


def _write_csv(path: Path, header: list[str], rows: list[list[str]], bom: bool = False, line_end: str = "\n") -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator=line_end).writerows([header, *rows])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode())


def test_a_relabel_is_written_in_the_columns_spelling_with_the_bom_and_crlf_kept(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tickets = _tickets()
    spelled = {label: f"{i / 2:.2f}" for i, label in enumerate(sorted({t["intent"] for t in tickets}))}
    path = tmp_path / "d.csv"
    rows = [[t["ticket_id"], t["text"], spelled[t["intent"]]] for t in tickets]
    _write_csv(path, ["ticket_id", "text", "label"], rows, bom=True, line_end="\r\n")
    out = _relabelled(cli, path)
    written = path.read_bytes()
    assert out.startswith(b"\xef\xbb\xbf") and out.count(b"\r\n") == written.count(b"\r\n")
    assert out.count(b"\n") == written.count(b"\n")
    changed = [(a, b) for a, b in zip(path.read_bytes().split(b"\r\n"), out.split(b"\r\n"), strict=True) if a != b]
    assert changed, "the example's label errors were not relabelled"
    for _, new in changed:
        assert new.rsplit(b",", 1)[1].decode() in spelled.values()  # '0.50', never '0.5'


def test_an_edited_jsonl_row_changes_only_its_edited_value(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    row = '{{"id": {}, "text": {}, "label": "{}",  "weight": 1.50, "note": "caf\\u00e9"}}'
    lines = [row.format(i, json.dumps(t["text"]), t["intent"]) for i, t in enumerate(_tickets())]
    path = tmp_path / "d.jsonl"
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    out = _relabelled(cli, path).split(b"\r\n")
    changed = [(a, b) for a, b in zip(path.read_bytes().split(b"\r\n"), out, strict=True) if a != b]
    assert changed
    for old, new in changed:
        before, after = json.loads(old), json.loads(new)
        assert before["label"] != after["label"]
        assert new.replace(json.dumps(after["label"]).encode(), b"") == old.replace(
            json.dumps(before["label"]).encode(), b""
        )  # '1.50', '\u00e9' and the double space are as written


def test_ids_distinct_as_written_are_an_id_column(tmp_path):
    from curation_tools.io import load_dataset

    tickets = _tickets(30)
    ids = ["1", "1.0", "01", *[str(i + 10) for i in range(27)]]
    path = tmp_path / "d.csv"
    _write_csv(path, ["id", "text", "label"], [[i, t["text"], t["intent"]] for i, t in zip(ids, tickets, strict=True)])
    data, _ = load_dataset(path)
    assert data.roles.id == "id" and list(data.frame.index[:3]) == ["1", "1.0", "01"]


def test_a_live_chat_holds_its_run_so_a_resume_elsewhere_is_refused(cli, work):
    session = Session.resume(work / "waiting")
    session.hold()
    try:
        first = _pending(work)[0]["finding_id"]
        (work / "dec.json").write_text(json.dumps({first: "approve"}))
        import sys

        done = subprocess.run(
            [sys.executable, "-m", "copilot.cli", "run", "--resume", "waiting", "--decisions", "dec.json"],
            cwd=work,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2 and "is in use" in done.stderr, done.stderr
    finally:
        session.close()
    assert session.state().pending == len(_pending(work))
