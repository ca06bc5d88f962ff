"""The coordinator's side of a chat: plain commands offline, free questions with an LLM.

Commands (documented in `help`): continue/run, skip TOOL, show [N], why ROW, undo [N], redo [N],
export NAME, status, review, history, help, quit. The reply says what happened; `action` tells a UI
what to do next (continue the run, open the review or history screen, quit). No UI code here.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from copilot.core.guidance import GuidanceRule
from copilot.review.guidance_words import UNKNOWN
from copilot.run.guidance_setup import GuidanceRefused
from curation_tools.errors import UserInputError
from curation_tools.registry import available_tools

if TYPE_CHECKING:
    from copilot.run.session import Session

HELP = """Commands:
  continue (or run)   go on with the plan
  skip TOOL           leave a tool out of later plans (e.g. skip label-errors)
  show [N]            the first N rows of the current version (default 5)
  why ROW             every change to a row, who decided it and why
  undo [N] / redo [N] revert or re-apply decision N (default: the latest)
  export NAME         write the current version into the session folder (format from the extension)
  status              version, rows, pending decisions
  guide WORDS         what you know, as constraints every later step obeys (e.g. guide keep the near
                      duplicates; the README lists the phrasings); plain sentences that are not questions work too
  guidance            the guidance in force, numbered;  unguide N  takes rule N back
  review / history    open the review or history screen
  help / quit"""


class Reply(BaseModel):
    text: str
    action: Literal["continue", "review", "history", "quit"] | None = None


class _Answer(BaseModel):
    reply: str


class ChatCommands:
    def __init__(self, session: Session) -> None:
        self.session = session

    def handle(self, line: str) -> Reply:
        try:
            words = shlex.split(line.strip())
        except ValueError:
            words = line.strip().split()
        if not words:
            return Reply(text="Type a command; 'help' lists them.")
        command, args = words[0].lower(), words[1:]
        handler = getattr(self, f"_cmd_{command}", None)
        if handler is None or line.strip().endswith("?"):  # a question, not a command
            return self._free_text(line)
        try:
            return handler(args)
        except UserInputError as error:
            return Reply(text=str(error))

    # ---- commands --------------------------------------------------------------------------------
    def _cmd_help(self, args: list[str]) -> Reply:
        return Reply(text=HELP)

    def _cmd_continue(self, args: list[str]) -> Reply:
        return Reply(text="Continuing.", action="continue")

    _cmd_run = _cmd_continue

    def _cmd_quit(self, args: list[str]) -> Reply:
        return Reply(text="Bye: `curate chat --resume` returns here.", action="quit")

    def _cmd_review(self, args: list[str]) -> Reply:
        if not self.session.pending:
            return Reply(text="Nothing waits for a decision.")
        return Reply(text="Opening the review.", action="review")

    def _cmd_history(self, args: list[str]) -> Reply:
        return Reply(text="Opening the history.", action="history")

    def _cmd_skip(self, args: list[str]) -> Reply:
        tools = [n for n, s in available_tools().items() if s.output != "report"]
        if len(args) != 1 or args[0] not in tools:
            return Reply(text=f"skip which tool? One of: {', '.join(tools)}.")
        self.session.skip(args[0])
        return Reply(text=f"{args[0]} will be left out of the next plans.")

    def _cmd_show(self, args: list[str]) -> Reply:
        n = int(args[0]) if args and args[0].isdigit() else 5
        frame = self.session.preview(n)
        return Reply(text=frame.to_string(max_colwidth=40))

    def _cmd_why(self, args: list[str]) -> Reply:
        if len(args) != 1:
            return Reply(text="why ROW: give one row id.")
        history = self.session.explain(args[0])
        if not history.events:
            return Reply(text=f"Row {args[0]} has not been changed.")
        lines = [f"Row {args[0]} ({'present' if history.present else 'removed'}):"]
        for e in history.events:
            lines.append(
                f"  decision #{e.decision_id} {e.op_status}: {e.tool} {e.action} ({e.issue}, score {e.score:.2f}) "
                f"by {e.decided_by}: {e.message}"
            )
        return Reply(text="\n".join(lines))

    def _decision_arg(self, args: list[str]) -> int | None:
        return int(args[0]) if args and args[0].isdigit() else None

    def _cmd_undo(self, args: list[str]) -> Reply:
        result = self.session.undo(self._decision_arg(args))
        return Reply(text=f"Undid decision #{result.decision_id}: {len(result.edits)} edits reverted.")

    def _cmd_redo(self, args: list[str]) -> Reply:
        result = self.session.redo(self._decision_arg(args))
        return Reply(text=f"Redid decision #{result.decision_id}: {len(result.edits)} edits applied again.")

    def _cmd_export(self, args: list[str]) -> Reply:
        if len(args) != 1 or Path(args[0]).name != args[0]:
            return Reply(text="export NAME: a file name (it is written into the session folder).")
        path = self.session.export(args[0])
        return Reply(text=f"Wrote {path}.")

    def _cmd_status(self, args: list[str]) -> Reply:
        state = self.session.state()
        return Reply(
            text=f"version v{state.version}, {state.rows} rows, {state.pending} pending decision(s), "
            f"run {state.status}."
        )

    def _cmd_guide(self, args: list[str]) -> Reply:
        if not args:
            return Reply(text="guide WORDS: say what you know, e.g. guide never touch rows labelled X.")
        return self._guide(" ".join(args))

    def _guide(self, words: str, read: GuidanceRule | None = None) -> Reply:
        try:
            rule = self.session.add_guidance(read or self.session.guidance_from_words(words))
        except GuidanceRefused as refused:
            unread = "; ".join(f'"{clause}" ({why})' for clause, why in refused.parsed.refused)
            return Reply(
                text=f"I could not turn {unread} into a constraint, so I changed nothing. What should I do with "
                f"it? Say it with a phrasing from the README (Guidance), e.g. 'keep the near duplicates', 'never "
                f"touch rows labelled X', 'X and Y are different on purpose', 'only flag'."
            )
        said = "\n".join(f"  - {c}" for c in rule.guidance.describe()) or f"  purpose: {rule.guidance.purpose}"
        return Reply(text=f"Guidance #{rule.rule_id} in force from now on:\n{said}")

    def _cmd_guidance(self, args: list[str]) -> Reply:
        rules = self.session.guidance_rules()
        if not rules:
            return Reply(text="No guidance in force.")
        lines = [f"#{r.rule_id} ({r.source}): {'; '.join(r.guidance.describe()) or 'purpose only'}" for r in rules]
        return Reply(text="\n".join(lines))

    def _cmd_unguide(self, args: list[str]) -> Reply:
        if len(args) != 1 or not args[0].isdigit():
            return Reply(text="unguide N: the number `guidance` shows.")
        rule = self.session.remove_guidance(int(args[0]))
        return Reply(text=f"Took back guidance #{rule.rule_id}: {'; '.join(rule.guidance.describe())}.")

    # ---- free text -------------------------------------------------------------------------------
    def _free_text(self, line: str) -> Reply:
        if not line.strip().endswith("?"):  # a statement: what the person knows, read as guidance or asked about
            try:
                rule = self.session.guidance_from_words(line)
            except GuidanceRefused as refused:
                read_some = refused.parsed.understood or any(why != UNKNOWN for _, why in refused.parsed.refused)
                if read_some:  # an instruction curate half-read: nothing is done, the reply quotes the words
                    return self._guide(line)
            else:
                if not rule.guidance.is_empty():
                    return self._guide(line, rule)
        if not self.session.settings.llm_configured:
            return Reply(
                text="Without an LLM I understand only the commands below; free questions need an "
                "OpenAI-compatible endpoint (OPENAI_BASE_URL).\n" + HELP
            )
        from copilot.core.prompts import load_prompt

        system, user = load_prompt("chat").render(question=line, context=self._context())
        answer = self.session.llm_client().chat_json(system, user, _Answer, purpose="chat")
        return Reply(text=answer.reply)

    def _context(self) -> str:
        """The session state as JSON, with the counts and comparisons people ask for already worked out: a small
        model reads a number correctly far more often than it adds or compares them."""
        state = self.session.state()
        history = self.session.history()
        applied = [d for d in history if d.status == "applied"]
        edits_by_tool: dict[str, int] = {}
        for d in applied:
            edits_by_tool[d.tool] = edits_by_tool.get(d.tool, 0) + d.n_edits
        ranked = sorted(edits_by_tool.items(), key=lambda kv: (-kv[1], kv[0]))
        facts = {
            "rows_now": state.rows,
            "rows_at_start": state.rows_in,
            "current_version": state.version,
            "run_status": state.status,
            "pending_decisions": state.pending,
            "decisions_applied": len(applied),
            "decisions_undone": sum(d.status != "applied" for d in history),
            "findings_approved_in_all": sum(d.approved for d in applied),
            "findings_rejected_in_all": sum(d.rejected for d in applied),
            "edits_in_all": sum(d.n_edits for d in applied),
            "edits_by_tool": dict(ranked),
            "tool_with_most_edits": ranked[0][0] if ranked else None,
            "tools_that_changed_data": [tool for tool, n in ranked if n],
            "decisions": [
                d.model_dump(include={"decision_id", "tool", "status", "decided_by", "approved", "rejected", "n_edits"})
                for d in history
            ],
        }
        return json.dumps(facts, indent=1)
