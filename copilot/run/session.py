"""The Session API: start or resume a curation run on a dataset, stream typed events, take decisions.

The CLI (`curate run`), the TUI and the eval harness all drive runs through this one class. A run lives
in one folder: run.json (its configuration), workspace/ (ledger, proposals, checkpoints, indexes),
events.jsonl, and on finishing curated.<format>, changes.jsonl, summary.json and report.md.
"""

from __future__ import annotations

import difflib
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from langgraph.types import Command
from pydantic import BaseModel

from copilot.agents.heuristic import RecipePlanner
from copilot.agents.plan import Planner
from copilot.agents.recipe import check_steps
from copilot.agents.registry import PlannerDeps, check_planner, make_planner, planner_spec
from copilot.core import formats
from copilot.core.config import Settings
from copilot.core.decisions import (
    HUMAN,
    AnswersReviewer,
    FindingDecision,
    PendingDetail,
    PendingFinding,
    ReviewDraft,
    Reviewer,
    as_decision,
)
from copilot.core.guidance import Guidance, GuidanceRule
from copilot.core.integrity import (
    DamagedFile,
    WriteFailed,
    check_sqlite_file,
    check_sqlite_integrity,
    is_write_failure,
    unwritable,
)
from copilot.core.locks import FolderLock, folder_lock
from copilot.core.output_paths import RUN_OUTPUTS, check_output_folder
from copilot.ledger import DecisionInfo, Edit, Ledger, OperationResult, RowHistory, jsonable
from copilot.llm.budget import Budget
from copilot.outputs.report import write_outputs
from copilot.review.evidence import Display
from copilot.run.checkpoints import DamagedCheckpoint, checkpointer, damaged
from copilot.run.events import Event, make_event
from copilot.run.forgetting import forget_redactions
from copilot.run.graph import RunContext, RunState, build_graph, emit
from copilot.run.guidance_setup import rule_from_words
from copilot.run.run_config import RunConfig
from curation_tools.atomic_files import write_text_atomic
from curation_tools.benchmark_files import load_benchmark, parse_spec
from curation_tools.dataset import Dataset
from curation_tools.errors import ToolCancelled, UserInputError
from curation_tools.io import load_dataset
from curation_tools.label_names import class_values
from curation_tools.progress import ProgressFn
from curation_tools.registry import available_tools
from curation_tools.schema import Evidence, Proposal
from curation_tools.text import natural_key

Status = Literal["ready", "running", "waiting", "finished", "budget_reached", "plan_rejected", "cancelled"]
THREAD = {"configurable": {"thread_id": "run"}}


class SessionState(BaseModel):
    version: int
    rows: int
    rows_in: int
    pending: int
    status: str


DRAFT_FILE = "review_draft.json"


class Session:
    def __init__(self, out_dir: Path, config: RunConfig, settings: Settings | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.config = config
        self.settings = settings or Settings()
        self.workspace = self.out_dir / "workspace"
        self.pending: list[PendingFinding] = []
        self._answers: dict[str, dict[str, Any]] | None = None  # finding_id -> FindingDecision as JSON
        self._seq = self._events_path.read_bytes().count(b"\n") if self._events_path.exists() else 0
        self.llm = None
        self.status: Status = "ready"
        self._cancel = threading.Event()
        self._writer = FolderLock(self.out_dir, "this run")
        self._held = False
        self._open_ledger: Ledger | None = None

    # ---- lifecycle ---------------------------------------------------------------------------
    @classmethod
    def start(cls, config: RunConfig, out_dir: Path, settings: Settings | None = None) -> Session:
        out_dir = Path(out_dir)
        reads = [config.data, *(parse_spec(b)[0] for b in config.benchmarks)]
        check_output_folder(out_dir, reads=reads, outputs=[*RUN_OUTPUTS, "workspace"])
        with folder_lock(out_dir, "a run"):  # two `curate run --out DIR` at once: the second exits 2
            if (out_dir / "run.json").exists():
                raise UserInputError(
                    f"{out_dir} already holds a run; continue it with `curate run --resume {out_dir}`."
                )
            for spec in config.benchmarks:  # fail on a bad benchmark or recipe before any work
                load_benchmark(spec)
            check_steps(config.recipe, config.benchmarks)
            check_planner(config.planner)
            data, _ = load_dataset(config.data, config.roles, config.sep)
            session = cls(out_dir, config, settings)
            config.guidance = [*config.guidance, *session._guidance_from_words(data)]  # refused words: nothing made
            with Ledger.open_or_create(session.workspace / "ledger", data) as ledger:
                for rule in config.guidance:  # in force before the first plan; the ledger keeps who and when
                    ledger.add_guidance(rule)
            session._save_config()
        return session

    @classmethod
    def resume(cls, out_dir: Path, settings: Settings | None = None) -> Session:
        path = Path(out_dir) / "run.json"
        if not path.exists():
            raise UserInputError(f"{out_dir} holds no run (no run.json); start one with `curate run DATA --out DIR`.")
        config = RunConfig.model_validate(formats.load_json(path, "run", formats.RUN))
        session = cls(Path(out_dir), config, settings)
        session.pending = session._pending_from_checkpoint()
        return session

    # ---- driving -----------------------------------------------------------------------------
    def decide(self, answers: Mapping[str, Any], by: str = HUMAN) -> None:
        """The next reviewer's answers for the pending findings: finding_id -> a FindingDecision, or 'approve' |
        'reject' | {"approve": true, "new_label": X} made by `by`. Pending findings left out are rejected by `by`."""
        unknown = set(answers) - {p.finding_id for p in self.pending}
        if unknown:
            raise UserInputError(f"No pending finding(s) {', '.join(sorted(unknown)[:5])} in this run.")
        decided: dict[str, dict[str, Any]] = {}
        classes: list[str] | None = None
        for item in self.pending:
            fid = item.finding_id
            try:
                decision = (
                    as_decision(fid, answers[fid], by)
                    if fid in answers
                    else FindingDecision(finding_id=fid, approve=False, decided_by=by, reason="left undecided")
                )
            except ValueError as error:
                raise UserInputError(f"Finding {fid}: {error}") from None
            if decision.approve and decision.new_label is not None:
                classes = self.label_classes() if classes is None else classes  # read once per call
                self._check_label(fid, decision.new_label, classes)
            decided[fid] = decision.model_dump(mode="json")  # the one JSON form the graph reads back
        for fid, decision in self.guidance_decisions().items():  # the person's own constraints win over any answer
            decided[fid] = decision.model_dump(mode="json")
        self._answers = decided

    def _check_label(self, finding_id: str, label: Any, classes: list[str]) -> None:
        """A person's new label must be one of the column's classes: checked before anything is decided, so a
        typo leaves the session waiting as it was instead of failing later, when the edit is written."""
        if classes and str(label) not in classes:
            near = difflib.get_close_matches(str(label), classes, n=3)
            hint = f" Did you mean {' or '.join(repr(c) for c in near)}?" if near else ""
            shown = ", ".join(classes[:12]) + (", ..." if len(classes) > 12 else "")
            raise UserInputError(
                f"Finding {finding_id}: label {label!r} is not a class of column {self._ledger.roles.label!r} "
                f"({shown}).{hint} Nothing was decided."
            )

    def review_with(self, reviewer: Reviewer) -> None:
        """Let the next reviewer (a person's answers, a decisions file, a simulated reviewer) decide every pending
        finding; what it leaves undecided is rejected in its name."""
        pending = {p.finding_id for p in self.pending}
        if isinstance(reviewer, AnswersReviewer) and reviewer.unknown(pending):
            raise UserInputError(f"No pending finding(s) {', '.join(reviewer.unknown(pending)[:5])} in this run.")
        answers = {}
        for proposal in self.pending_proposals():
            for finding in proposal.findings:
                if finding.finding_id in pending:
                    decision = reviewer.decide(proposal.tool, finding)
                    if decision is not None:
                        answers[finding.finding_id] = decision
        self.decide(answers, by=reviewer.name)

    def _guidance_from_words(self, data: Dataset) -> list[GuidanceRule]:
        config = self.config
        llm = self.llm_client if self.settings.llm_configured else None
        rules = []
        if config.goal.strip() and config.goal_is_guidance:
            words = config.goal
            rules.append(rule_from_words(words, "goal", data, config.benchmarks, HUMAN, config.guidance_parser, llm))
        block = config.policy.guidance
        if isinstance(block, Guidance):
            rules.append(GuidanceRule(guidance=block, source="policy", parser="typed", added_by=config.policy.name))
        elif isinstance(block, str) and block.strip():
            by = config.policy.name
            rules.append(rule_from_words(block, "policy", data, config.benchmarks, by, config.guidance_parser, llm))
        return rules

    # ---- guidance: the person's constraints, recorded in the ledger -------------------------------------------
    def guidance_rules(self) -> list[GuidanceRule]:
        return self._ledger.guidance_rules()

    def guidance(self) -> Guidance:
        return self._ledger.guidance()

    def add_guidance(self, rule: GuidanceRule) -> GuidanceRule:
        """Put a rule in force: the next plans, reviews and applies obey it (pending findings it settles are
        decided by it: `guidance_decisions`)."""
        return self._ledger.add_guidance(rule)

    def guidance_from_words(
        self, words: str, source: Literal["chat", "goal"] = "chat", by: str = HUMAN
    ) -> GuidanceRule:
        """A person's words as a rule for this data (not yet in force: `add_guidance` it); words that cannot all be
        read are a GuidanceRefused quoting them."""
        llm = self.llm_client if self.settings.llm_configured else None
        data = self._ledger.dataset()
        return rule_from_words(words, source, data, self.config.benchmarks, by, self.config.guidance_parser, llm)

    def remove_guidance(self, rule_id: int, by: str = HUMAN) -> GuidanceRule:
        return self._ledger.remove_guidance(rule_id, by=by)

    def guidance_decisions(self) -> dict[str, FindingDecision]:
        """The pending findings guidance now settles, decided by it (a rule accepted during a review)."""
        check = self._ledger.guidance_check()
        if check.guidance.is_empty():
            return {}
        pending = {p.finding_id for p in self.pending}
        out = {}
        for proposal in self.pending_proposals():
            for finding in proposal.findings:
                if finding.finding_id in pending and (decision := check.decision(proposal.tool, finding)):
                    out[finding.finding_id] = decision
        return out

    def review_draft(self) -> ReviewDraft:
        """The person's unfinished review of the pending findings (empty if none): answers for findings that
        no longer wait, or that are not valid answers, are left out."""
        path = self.out_dir / DRAFT_FILE
        if not path.exists():
            return ReviewDraft()
        try:
            draft = ReviewDraft.model_validate(formats.load_json(path, "review draft", formats.REVIEW_DRAFT))
        except ValueError:  # a damaged draft is a lost convenience, not a reason to refuse the review
            return ReviewDraft()
        pending = {p.finding_id for p in self.pending}
        answers = {}
        for fid, answer in draft.answers.items():
            try:
                if fid in pending and as_decision(fid, answer, HUMAN):
                    answers[fid] = answer
            except ValueError:
                continue
        return draft.model_copy(update={"answers": answers, "at": draft.at if draft.at in pending else None})

    def save_review_draft(self, draft: ReviewDraft) -> None:
        """Keep a review in progress (atomically: a crash leaves the last saved draft)."""
        write_text_atomic(self.out_dir / DRAFT_FILE, draft.model_dump_json())

    def skip(self, tool: str) -> None:
        """Leave a tool out of every later plan (recorded in run.json, so a resumed session keeps it)."""
        if tool not in self.config.skip:
            self.config.skip.append(tool)
            self._save_config()

    def cancel(self) -> None:
        """Stop the running tool; the session can continue later from the last checkpoint."""
        self._cancel.set()

    # ---- what a client may ask and do: status, preview, history, undo/redo, explain, export -------------
    @property
    def _ledger(self) -> Ledger:
        """The session's one ledger connection (the run's graph nodes open their own, in their threads)."""
        if self._open_ledger is None:
            self._open_ledger = Ledger(self.workspace / "ledger")
        return self._open_ledger

    def hold(self) -> None:
        """Be the run folder's one writer until `close()` (a live chat: while a person reviews, no other process
        may decide or apply what is on their screen). A second holder exits 2 naming this process."""
        self._writer.acquire()
        self._held = True

    def close(self) -> None:
        if self._open_ledger is not None:
            self._open_ledger.close()
            self._open_ledger = None
        if self._held:
            self._writer.release()
            self._held = False

    def state(self) -> SessionState:
        return SessionState(
            version=self._ledger.head(),
            rows=self._ledger.n_rows(),
            rows_in=self._ledger.n_rows(1),
            pending=len(self.pending),
            status=self.status,
        )

    def preview(self, n: int = 5) -> pd.DataFrame:
        """The first n rows of the current version (data columns only)."""
        return self._ledger.dataset().frame.head(n)

    def label_classes(self) -> list[str]:
        """The label column's classes in the current version, as text ([] without a single-label column)."""
        if not self._ledger.roles.label:
            return []
        classes = class_values(self._ledger.dataset().frame[self._ledger.roles.label])
        return sorted(classes or {}, key=natural_key)

    def label_column(self) -> str | None:
        return self._ledger.roles.label

    def label_names(self) -> dict[str, str]:
        """class (as text) -> its name, where a column names the label one-to-one (label + label_name); else {}."""
        return self._ledger.label_names()

    def row_texts(self, row_ids: set[str]) -> dict[str, str]:
        """The current text of these rows, for a reviewer ({} when the data has no text column)."""
        if not self._ledger.roles.text:
            return {}
        texts = self._ledger.dataset().texts()
        return {r: str(texts.get(r, "")) for r in row_ids}

    def evidence_displays(self) -> dict[str, Display]:
        """How each tool's findings are shown to a reviewer: its spec's evidence view and its own fields."""
        return {
            name: Display(view=spec.evidence, fields=spec.evidence_fields) for name, spec in available_tools().items()
        }

    def history(self) -> list[DecisionInfo]:
        return self._ledger.decisions()

    def undo(self, decision_id: int | None = None, by: str = HUMAN) -> OperationResult:
        result = self._ledger.undo(decision_id, by=by)
        self._refresh_outputs()
        return result

    def redo(self, decision_id: int | None = None, by: str = HUMAN) -> OperationResult:
        result = self._ledger.redo(decision_id, by=by)
        self._refresh_outputs()
        return result

    def _refresh_outputs(self) -> None:
        """A finished run's curated file, changes and report follow an undo or redo made afterwards."""
        self._rewrite_outputs(self._ledger)

    def _rewrite_outputs(self, ledger: Ledger) -> None:
        if not (self.out_dir / "summary.json").exists():
            return
        with self._graph() as graph:
            snapshot = self._snapshot(graph)
        if snapshot.next or snapshot.interrupts:  # still running or waiting: the outputs come at its end
            return
        state = snapshot.values
        usage = self.llm.usage.model_dump() if self.llm is not None else None
        write_outputs(self.out_dir, ledger, state, self.config, usage)

    def explain(self, row_id: str) -> RowHistory:
        return self._ledger.explain(row_id)

    def export(self, name: str) -> Path:
        """Write the current version into the session folder; the name's extension picks the format."""
        return self._ledger.export(self.out_dir / name)

    def curated(self) -> pd.DataFrame:
        return self._ledger.dataset().frame

    def applied_edits(self) -> list[tuple[str, Edit]]:
        """(tool, edit) for every edit of every applied decision, in order."""
        return [
            (info.tool, edit)
            for info in self._ledger.decisions()
            if info.status == "applied"
            for edit in self._ledger.edits_of(info.decision_id)
        ]

    def proposal(self, proposal_id: str) -> Proposal:
        return self._ledger.proposal(proposal_id)

    def pending_details(self) -> list[PendingDetail]:
        """Each pending finding with what a person needs to decide it without other files: the row as it is now
        (None if an earlier decision removed it) and the tool's evidence (kept row, benchmark item, given and
        suggested labels, neighbours). pending.json holds their `record()`s."""
        findings = {f.finding_id: f for p in self.pending_proposals() for f in p.findings}
        frame = self._ledger.dataset().frame
        details = []
        for item in self.pending:
            finding = findings.get(item.finding_id)
            row = jsonable(frame.loc[item.row_id].to_dict()) if item.row_id in frame.index else None
            evidence = finding.evidence if finding else Evidence()
            details.append(PendingDetail(**item.model_dump(), row=row, evidence=evidence))
        return details

    def pending_proposals(self) -> list[Proposal]:
        """The proposals whose findings wait for decisions, in review order."""
        ids = list(dict.fromkeys(p.proposal_id for p in self.pending))
        return [self.proposal(pid) for pid in ids]

    def events(self) -> Iterator[Event]:
        """Run until the run finishes, waits for decisions, or reaches its budget; yields what happens.

        The run folder is locked while this runs: a second process driving the same run exits 2 naming
        this one, instead of applying every step a second time."""
        self._writer.acquire()
        try:
            yield from self._run()
            with Ledger(self.workspace / "ledger") as ledger:  # this thread's own connection (the TUI's worker)
                notes = forget_redactions(self.out_dir, ledger)
                if notes:  # reports drawn again from the ledger as it now is, not only scrubbed as text
                    self._rewrite_outputs(ledger)
            for note in notes:
                yield self._event("message", text=note)
        except DamagedCheckpoint as error:  # a task write read back while the run continues
            raise damaged(self.workspace / "checkpoints.sqlite", error) from None
        except (sqlite3.OperationalError, OSError) as error:
            if not is_write_failure(error):
                raise
            raise WriteFailed(self.out_dir, "the run folder", error) from None
        finally:
            if not self._held:
                self._writer.release()

    def _run(self) -> Iterator[Event]:
        with self._graph() as graph:
            snapshot = self._snapshot(graph)
            if snapshot.interrupts:
                if self._answers is None:
                    self.status = "waiting"
                    self.pending = _pending(snapshot.interrupts[0].value)
                    yield self._event("decision_needed", pending=self.pending)
                    return
                run_input: Any = Command(resume={snapshot.interrupts[0].id: self._answers})
            elif snapshot.created_at is None:  # no checkpoint at all: a new run
                run_input = {}
                yield self._event("started", data=self.config.data, planner=self.config.planner)
            elif snapshot.values.get("status") and not snapshot.next and not snapshot.tasks:
                self.status = snapshot.values["status"]
                return
            else:
                # Killed mid-run. Also when a step's tasks had saved their writes but the step's checkpoint was not
                # written yet: LangGraph then reports no `next`, and the writes are applied by continuing.
                run_input = None
                yield self._event("message", text="resuming from the last checkpoint")
            self.status = "running"
            self._answers = None
            self.pending = []
            self._cancel.clear()
            stream = graph.stream(
                run_input,
                THREAD,
                stream_mode=["custom", "updates"],
                durability="sync",
                context=self._run_context(),
            )
            try:
                yield from self._translate(stream)
            except ToolCancelled:
                self.status = "cancelled"
                yield self._event("message", text="cancelled; the step runs again when the session continues")
                return
            finally:
                stream.close()  # before the checkpointer's connection closes
            if isinstance(run_input, Command):  # the reviewed findings are decided: their draft is done
                (self.out_dir / DRAFT_FILE).unlink(missing_ok=True)
            if self.status == "waiting":
                return
            final = graph.get_state(THREAD).values
            self.status = final.get("status", "finished")
            if self.llm is not None:
                yield self._event("cost", **self.llm.usage.model_dump())

    def _translate(self, stream) -> Iterator[Event]:
        for mode, chunk in stream:
            if mode == "custom":
                kind = chunk.pop("kind")
                # every progress update reaches the caller; events.jsonl keeps each stage's first and last only
                persist = kind != "progress" or chunk["done"] in (0, chunk["total"])
                yield self._event(kind, persist=persist, **chunk)
            elif "__interrupt__" in chunk:
                self.status = "waiting"
                self.pending = _pending(chunk["__interrupt__"][0].value)
                yield self._event("decision_needed", pending=self.pending)
                return

    # ---- internals ---------------------------------------------------------------------------
    def _save_config(self) -> None:
        write_text_atomic(self.out_dir / "run.json", self.config.model_dump_json(indent=2))

    def past_events(self) -> list[Event]:
        """The events earlier runs of this session recorded (events.jsonl), oldest first: a resumed chat shows
        its conversation again. A line this version cannot read is skipped."""
        if not self._events_path.exists():
            return []
        events = []
        for line in self._events_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
                events.append(make_event(record["seq"], record["at"], record["kind"], record["data"]))
            except (ValueError, KeyError, TypeError):
                continue
        return events

    @property
    def _events_path(self) -> Path:
        return self.out_dir / "events.jsonl"

    def _event(self, kind: str, persist: bool = True, **data: Any) -> Event:
        if not persist:
            return make_event(self._seq, datetime.now(UTC).isoformat(timespec="seconds"), kind, data)
        self._seq += 1
        event = make_event(self._seq, datetime.now(UTC).isoformat(timespec="seconds"), kind, data)
        with self._events_path.open("a", encoding="utf-8") as handle:
            handle.write(event.model_dump_json() + "\n")
        return event

    def _planner(self) -> Planner:
        if self.config.recipe.plan == "steps":
            return RecipePlanner(self.config.recipe.steps)
        deps = PlannerDeps(llm_client=self.llm_client, notify=lambda text: emit("message", text=text))
        return make_planner(self.config.planner, deps)

    def llm_client(self):
        if self.llm is None:
            from copilot.llm.client import LLMClient

            if not self.settings.llm_configured:
                raise UserInputError(
                    "--planner llm needs an OpenAI-compatible endpoint: set OPENAI_BASE_URL (and OPENAI_API_KEY "
                    "if it needs one), or use --planner heuristic."
                )
            budget = Budget(
                max_llm_calls=self.config.max_llm_calls,
                max_cost=self.config.max_cost,
                usd_per_1k_prompt=self.settings.usd_per_1k_prompt,
                usd_per_1k_completion=self.settings.usd_per_1k_completion,
            )
            self.llm = LLMClient(self.settings, budget)
        return self.llm

    def _llm_helpers(self) -> dict[str, Any]:
        """What tools get from the LLM: the text generator where the planner's spec says its runs generate, judges
        with --llm-judge."""
        generates = planner_spec(self.config.planner).generates
        if not generates and not self.config.llm_judges:
            return {}
        from copilot.llm.helpers import tool_helpers

        return tool_helpers(self.llm_client(), judges=self.config.llm_judges, generator=generates)

    def _run_context(self) -> RunContext:
        def finish(state: RunState, progress: ProgressFn) -> dict[str, Any]:
            usage = self.llm.usage.model_dump() if self.llm is not None else None
            with Ledger(self.workspace / "ledger") as ledger:
                return write_outputs(self.out_dir, ledger, state, self.config, usage, progress)

        return RunContext(
            workspace=self.workspace,
            settings=self.settings,
            planner=self._planner(),
            policy=self.config.policy,
            benchmarks=self.config.benchmarks,
            goal=self.config.goal,
            seed=self.config.seed,
            finish=finish,
            judges=self._llm_helpers(),
            skip=self.config.skip,
            cancel=self._cancel,
        )

    @contextmanager
    def _graph(self) -> Iterator[Any]:
        self.workspace.mkdir(parents=True, exist_ok=True)
        path = self.workspace / "checkpoints.sqlite"
        for folder in (self.out_dir, self.workspace):
            if unwritable(folder):
                raise UserInputError(
                    f"{folder}: the run folder is read-only. curate writes there even to show a run (its checkpoints' "
                    f"journal and its lock): make it writable, or copy the run folder and use the copy."
                )
        if path.exists() or self._seq:  # events were recorded, so the run had begun to checkpoint
            check_sqlite_file(path, "the run's checkpoint database")
        conn = sqlite3.connect(path, check_same_thread=False)
        try:
            if path.stat().st_size:
                check_sqlite_integrity(conn, path, "the run's checkpoint database")
            yield build_graph(checkpointer(conn))
        finally:
            conn.close()

    def _pending_from_checkpoint(self) -> list[PendingFinding]:
        with self._graph() as graph:
            snapshot = self._snapshot(graph)
            return _pending(snapshot.interrupts[0].value) if snapshot.interrupts else []

    def _snapshot(self, graph: Any) -> Any:
        """The run's latest checkpoint, checked: a damaged one is a DamagedFile naming the checkpoint database, never
        a run resumed from state that was not saved."""
        path = self.workspace / "checkpoints.sqlite"
        try:
            snapshot = graph.get_state(THREAD)
            for interrupt in snapshot.interrupts:
                _pending(interrupt.value)  # a waiting run's pending findings, as the review node wrote them
        except (DamagedCheckpoint, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
            raise damaged(path, error) from None
        except sqlite3.DatabaseError as error:
            raise DamagedFile(path, f"the run's checkpoint database is damaged ({error})") from None
        return snapshot


def _pending(interrupt: Any) -> list[PendingFinding]:
    """The review node's interrupt payload as typed findings (ValueError where it is not one)."""
    return [PendingFinding.model_validate(p) for p in interrupt["pending"]]


def benchmark_spec_absolute(spec: str) -> str:
    """Benchmark specs are stored with absolute paths, so a resumed run finds them from any folder."""
    path, fields = parse_spec(spec)
    return str(path.resolve()) + (f":{fields}" if fields else "")
