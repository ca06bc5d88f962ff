"""The pii tool (personal data and secrets found by checked rules) and redaction that forgets: once a redaction is
applied, the value is nowhere under the run folder (files raw, Parquet decoded, SQLite pages raw)."""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from copilot.evaluation.pii_data import FAKERS, KIND_NAMES, planted_sentence
from curation_tools.pii_rules import find_pii

from .conftest import REPO, make_dataset

CHATS = REPO / "examples" / "support_chats.jsonl"
TRUTH = json.loads((REPO / "examples" / "support_chats.truth.json").read_text())["pii"]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Write to jane.doe@example.com today", "email", "jane.doe@example.com"),
        ("Call me on +1 415-555-0132.", "phone", "+1 415-555-0132"),
        ("or (415) 555-0132 after six", "phone", "(415) 555-0132"),
        ("Mobile +33 6 19 86 24 01 please", "phone", "+33 6 19 86 24 01"),
        ("card 4111 1111 1111 1111 was charged", "card", "4111 1111 1111 1111"),
        ("amex 3782-822463-10005 too", "card", "3782-822463-10005"),
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "iban", "GB82 WEST 1234 5698 7654 32"),
        ("from DE89370400440532013000 yesterday", "iban", "DE89370400440532013000"),
        ("logged in from 192.168.1.20.", "ip", "192.168.1.20"),
        ("v6 2001:db8::8a2e:370:7334 here", "ip", "2001:db8::8a2e:370:7334"),
        ("my key sk-proj-abcDEF1234567890abcdefGHIJ works", "secret", "sk-proj-abcDEF1234567890abcdefGHIJ"),
        ("AKIAIOSFODNN7EXAMPLE is the id", "secret", "AKIAIOSFODNN7EXAMPLE"),
        ("token=AbC9xYz8Qw7Er6Ty5Ui4Op3As2Df1Gh", "secret", "AbC9xYz8Qw7Er6Ty5Ui4Op3As2Df1Gh"),
    ],
)
def test_each_kind_is_found_as_its_exact_span(text, kind, value):
    spans = find_pii(text)
    assert [(s.kind, s.value) for s in spans] == [(kind, value)]
    assert text[spans[0].start : spans[0].end] == value


@pytest.mark.parametrize(
    "text",
    [
        "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day and makes 9 * 2 = $<<9*2=18>>18.",
        "She has 360 coins - 270 coins = <<360-270=90>>90 coins left; 60000 - 10800 = 49200",
        "My order 123456789012 of 2024-01-05 at 10:30:00 cost $1,234.56",
        "Update to version 1.2.3.4 and build 10.0.19041.1",
        "Card ending 4242 was declined; the 4111 1111 1111 1112 number fails its check",
        "Reference GB82 WEST 1234 5698 7654 33 is not a valid IBAN",
        "The hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 of the file",
        "Order status 2024-000123-45? Ref 2023-445566-12, invoice 1234-567890",  # found by a new user as phones
    ],
)
def test_numbers_that_are_not_personal_data_are_left_alone(text):
    assert find_pii(text) == []


def test_planted_values_of_every_kind_are_found_in_real_sentences():
    import random

    rng = random.Random(5)
    for kind in KIND_NAMES:
        for _ in range(40):
            sentence, value = planted_sentence(kind, rng)
            found = [(s.kind, s.value) for s in find_pii(f"How much is 16 - 3 = 13? {sentence}")]
            assert (kind, value) in found, (kind, sentence, found)
    assert set(FAKERS) == set(KIND_NAMES)


def _chat_dataset(rows):
    frame = pd.DataFrame({"id": [r[0] for r in rows], "messages": [r[1] for r in rows]})
    return make_dataset(frame, id="id")


def test_the_tool_proposes_one_span_per_finding_inside_the_message_and_never_names_the_value(tmp_path):
    from curation_tools.context import ToolContext
    from curation_tools.pii import SPEC, PiiParams

    chat = [
        {"role": "user", "content": "I am jane@example.com, call +44 20 7946 0958"},
        {"role": "assistant", "content": "Thanks, 16 - 3 = 13."},
    ]
    data = _chat_dataset([("c1", chat)])
    result = SPEC.run(data, PiiParams(), ToolContext(cache_dir=tmp_path))
    assert [(f.issue, f.action.path, f.action.replace, f.action.new_value) for f in result.findings] == [
        ("pii_email", [0, "content"], "jane@example.com", "[EMAIL]"),
        ("pii_phone", [0, "content"], "+44 20 7946 0958", "[PHONE]"),
    ]
    for finding in result.findings:
        assert finding.action.replace not in finding.message
        assert finding.evidence.before == chat[0]["content"]
        assert finding.action.replace not in finding.evidence.after
        assert finding.action.new_value in finding.evidence.after


def test_spans_of_one_message_compose_and_a_rejected_one_stays(tmp_path):
    from copilot.core.decisions import Decision, FindingDecision
    from copilot.ledger import Ledger
    from curation_tools.context import ToolContext
    from curation_tools.pii import SPEC, PiiParams

    chat = [{"role": "user", "content": "mail a@b.org or c@d.org, card 4111 1111 1111 1111"}]
    data = _chat_dataset([("c1", chat)])
    proposal = SPEC.run(data, PiiParams(), ToolContext(cache_dir=tmp_path)).proposal
    proposal.tool, proposal.tool_version = "pii", "test"
    keep = next(f.finding_id for f in proposal.findings if f.action.replace == "c@d.org")
    decided = {
        f.finding_id: FindingDecision(finding_id=f.finding_id, approve=f.finding_id != keep, decided_by="person")
        for f in proposal.findings
    }
    with Ledger.open_or_create(tmp_path / "ws", data) as ledger:
        ledger.store_proposal(proposal)
        result = ledger.apply(proposal, Decision(proposal_id=proposal.proposal_id, findings=decided))
        assert not result.conflicts
        text = ledger.dataset().frame["messages"].iloc[0][0]["content"]
    assert text == "mail [EMAIL] or c@d.org, card [CARD]"


def _every_file_holds(folder: Path, values: list[str]) -> dict[str, list[str]]:
    """Each file under the folder that holds a value: its raw bytes (SQLite: the database pages as stored,
    free pages included), and Parquet decoded."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        texts = [data]
        if path.suffix == ".parquet":
            texts.append(pd.read_parquet(path).to_json(force_ascii=False).encode())
        if data.startswith(b"SQLite format 3"):
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            texts += [repr(db.execute(f'SELECT * FROM "{t}"').fetchall()).encode() for t in tables]
            db.close()
        if path.suffix in (".html", ".md", ".csv"):  # a word diff's markup between a value's words
            shown = re.sub(r"<[^>]+>|\[-|-\]|\{\+|\+\}", " ", data.decode("utf-8", "replace"))
            texts.append(" ".join(html.unescape(shown).split()).encode())
        hits = [v for v in values if any(v.encode() in t or json.dumps(v)[1:-1].encode() in t for t in texts)]
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


def test_after_an_approved_redaction_no_file_under_the_run_folder_holds_a_planted_value(cli, tmp_path):
    data = tmp_path / "chats.jsonl"
    shutil.copyfile(CHATS, data)
    before = hashlib.sha256(data.read_bytes()).hexdigest()
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("steps:\n  - tool: pii\n")
    out = tmp_path / "run"
    result = cli("run", data, "--recipe", recipe, "--policy", "approve-all", "--out", out)
    assert result.code == 0, result.stderr
    values = [p["value"] for p in TRUTH]
    assert len(values) == 24 and {p["kind"] for p in TRUTH} == set(KIND_NAMES)
    assert _every_file_holds(out, values) == {}
    assert hashlib.sha256(data.read_bytes()).hexdigest() == before  # the input is never modified
    assert "forgot 24 redacted values" in result.stderr
    curated = [json.loads(line) for line in (out / "curated.jsonl").read_text().splitlines()]
    assert sum("[EMAIL]" in json.dumps(row) for row in curated) == 4
    # the workspace still reads back against its hashes; undo says what it cannot restore
    assert cli("log", "--workspace", out / "workspace" / "ledger").code == 0
    undo = cli("undo", "--decision", "1", "--workspace", out / "workspace" / "ledger")
    assert undo.code == 0, undo.stderr
    assert "not restored" in undo.stderr and "forgotten" in undo.stderr
    assert _every_file_holds(out, values) == {}


def test_a_redaction_approved_in_review_is_forgotten_from_the_pending_list_the_checkpoint_kept(cli, tmp_path):
    """A run that waits holds the pending redactions (their values) in its checkpoint and pending list; after the
    person approves them the checkpoint is stored again without them and the resumed run still reads it."""
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("steps:\n  - tool: pii\n    params: {kinds: [email]}\n  - tool: dedup\n")
    out = tmp_path / "run"
    waiting = cli("run", CHATS, "--recipe", recipe, "--policy", "review", "--out", out)
    assert waiting.code == 3, waiting.stderr
    emails = [p["value"] for p in TRUTH if p["kind"] == "email"]
    assert _every_file_holds(out, emails)  # pending: the values are there to be judged
    pending = json.loads((out / "pending.json").read_text())
    decisions = tmp_path / "decisions.json"
    decisions.write_text(json.dumps({item["finding_id"]: "approve" for item in pending}))
    resumed = cli("run", "--resume", out, "--decisions", decisions)
    assert resumed.code in (0, 3), resumed.stderr
    assert _every_file_holds(out, emails) == {}
    again = cli("run", "--resume", out)  # the rewritten checkpoint reads back
    assert again.code in (0, 3), again.stderr


def test_the_heuristic_planner_runs_pii_first_on_chat_data_and_not_on_plain_text(cli, tmp_path):
    result = cli("run", CHATS, "--policy", "approve-all", "--out", tmp_path / "chat")
    assert result.code == 0, result.stderr
    events = [json.loads(line) for line in (tmp_path / "chat" / "events.jsonl").read_text().splitlines()]
    plans = [[s["tool"] for s in e["data"]["steps"]] for e in events if e["kind"] == "plan" and e["data"]["steps"]]
    assert plans[0] == ["pii"]
    from copilot.agents.plan import PlanningContext, offered_tools

    plain = PlanningContext(profile={"text_layout": "plain"}, roles={"text": ["text"]}, benchmarks=[])
    assert "pii" not in offered_tools(plain)


def test_the_pii_suite_scores_recall_precision_and_what_the_run_folder_kept(cli, tmp_path):
    from .conftest import shared_file

    shared_file("gsm8k/gsm8k_test.jsonl")
    shared_file("banking77/banking77_test.jsonl")
    suite = tmp_path / "pii-small.yaml"
    suite.write_text(
        "kind: pii\ntasks:\n"
        "  - {name: planted, source: {kind: chats, per_class: 60}, plants: {pii: 3}, seed: 4}\n"
        "  - {name: clean, source: {kind: chats, per_class: 60}, seed: 5, restraint: true}\n"
    )
    result = cli("eval", "--suite", suite, "--out", tmp_path / "out")
    assert result.code == 0, result.stderr
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    assert {(r["task"], r["system"]) for r in rows} == {
        (t, s) for t in ("planted", "clean") for s in ("heuristic", "pii-recipe")
    }
    for row in rows:
        assert row["values_left"] == [] and row["false_redactions"] == 0
        if row["task"] == "planted":
            assert all(row[f"{k}_recall"] == 1.0 for k in KIND_NAMES) and row["precision"] == 1.0


def test_curate_apply_of_a_findings_file_forgets_the_redacted_values_in_the_workspace(cli, tmp_path):
    data = tmp_path / "chats.jsonl"
    shutil.copyfile(CHATS, data)
    findings = tmp_path / "pii.jsonl"
    assert cli("tools", "pii", data, "--out", findings).code == 0
    applied = cli("apply", data, findings)
    assert applied.code == 0, applied.stderr
    assert "removed from the ledger" in applied.stderr
    assert _every_file_holds(tmp_path / ".curate", [p["value"] for p in TRUTH]) == {}
    assert cli("log", data).code == 0  # the rewritten versions read back against their new hashes


def test_the_review_page_shows_a_redaction_before_and_after_and_the_report_keeps_only_markers(cli, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("steps:\n  - tool: pii\n    params: {kinds: [email, phone]}\n")
    out = tmp_path / "run"
    assert cli("run", CHATS, "--recipe", recipe, "--policy", "review", "--out", out).code == 3
    assert cli("review", out).code == 0
    page = (out / "review.html").read_text()
    email = next(p["value"] for p in TRUTH if p["kind"] == "email")
    assert email in page and "[EMAIL]" in page and '"before"' in page and '"after"' in page
    phone = next(p["value"] for p in TRUTH if p["kind"] == "phone" and " " in p["value"])
    removed = [text for b in _page_blocks(page) for style, text in b["parts"] if style == "del"]
    assert any(phone in text for text in removed)  # the word diff keeps a value whole, so forgetting finds it
    approve = tmp_path / "all.json"
    pending = json.loads((out / "pending.json").read_text())
    approve.write_text(json.dumps({item["finding_id"]: "approve" for item in pending}))
    assert cli("run", "--resume", out, "--decisions", approve).code == 0
    report = (out / "report.html").read_text()
    assert email not in report and "[EMAIL forgotten]" in report and "[EMAIL]" in report
    assert _every_file_holds(out, [p["value"] for p in TRUTH if p["kind"] in ("email", "phone")]) == {}


def _page_blocks(page: str) -> list[dict]:
    """The evidence blocks the review page's script draws (its embedded JSON)."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            if "parts" in value:
                found.append(value)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for blob in re.findall(r"<script[^>]*application/json[^>]*>(.*?)</script>", page, re.S):
        walk(json.loads(blob))
    return found


def test_a_multi_word_value_is_forgotten_from_the_word_diff_and_export_after_undo_does_not_bring_it_back(cli, tmp_path):
    data = tmp_path / "chats.jsonl"
    chat = [{"role": "user", "content": "Call +44 20 7946 0958 or charge 4111 1111 1111 1111 today, thanks."}]
    data.write_text(
        json.dumps({"id": "c1", "messages": chat})
        + "\n"
        + json.dumps({"id": "c2", "messages": [{"role": "user", "content": "What is 16 - 3 - 4?"}]})
        + "\n"
    )
    values = ["+44 20 7946 0958", "4111 1111 1111 1111"]
    out = tmp_path / "run"
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("steps:\n  - tool: pii\n")
    assert cli("run", data, "--recipe", recipe, "--policy", "approve-all", "--out", out).code == 0
    assert _every_file_holds(out, values) == {}
    workspace = out / "workspace" / "ledger"
    undo = cli("undo", "--workspace", workspace)
    assert undo.code == 0 and "not restored" in undo.stderr
    exported = tmp_path / "after_undo.jsonl"
    assert cli("export", "--workspace", workspace, "--out", exported).code == 0
    text = exported.read_text()
    assert not any(v in text for v in values) and "[PHONE forgotten]" in text


def test_the_python_api_forgets_what_it_redacts(tmp_path):
    from copilot import Curator

    data = tmp_path / "chats.jsonl"
    shutil.copyfile(CHATS, data)
    cur = Curator(str(data), workspace=str(tmp_path / "ws"))
    found = cur.find("pii", kinds=["card", "iban"])
    assert len(found) == 8
    cur.apply(approve=found["score"] > 0)
    values = [p["value"] for p in TRUTH if p["kind"] in ("card", "iban")]
    assert _every_file_holds(tmp_path / "ws", values) == {}
    assert all(
        "[CARD]" in json.dumps(m) or "[IBAN]" in json.dumps(m) for m in cur.data.loc[found["row_id"], "messages"]
    )
