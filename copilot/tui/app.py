"""The main screen and the app: conversation, plan, progress, preview and status; the run streams in a thread
worker through the Session API, so the UI never freezes."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input, ProgressBar, RichLog, Static

from copilot.api.chat_commands import ChatCommands
from copilot.core.decisions import HUMAN, AnswersReviewer, FindingDecision
from copilot.core.guidance import GuidanceRule
from copilot.review.learning import RuleSuggestion
from copilot.run.events import (
    Applied,
    Cost,
    Event,
    Finished,
    Message,
    PlanMade,
    Progress,
    ProgressData,
    ProposalReady,
    StepStarted,
)
from copilot.run.session import Session
from copilot.tui.help import HelpScreen
from copilot.tui.history import HistoryScreen
from copilot.tui.plain import inert, plain
from copilot.tui.review import ReviewGuide, ReviewScreen
from curation_tools.errors import UserInputError

CSS = """
#status { height: 1; background: $boost; }
#top { height: 7; }
#plan { width: 34; }
#preview { width: 1fr; }
#progress-row { height: 1; }
#progress-label { width: 40; }
#conversation { height: 1fr; border: round $primary; scrollbar-gutter: stable; }
#prompt { height: 3; }
#findings { width: 60%; }
#evidence-box { width: 1fr; border-left: solid $primary; padding: 0 1; }
#summary { height: auto; max-height: 4; }
#ask { width: 60; height: 7; border: thick $primary; background: $surface; padding: 1; }
Ask { align: center middle; }
#help { border: thick $primary; background: $surface; padding: 0 1; }
HelpScreen { align: center middle; }
#explain-box { height: 8; border-top: solid $primary; }
"""


class CurateApp(App[None]):
    CSS = CSS
    ENABLE_COMMAND_PALETTE = False  # every action has a key or a command; the footer needs the room at 80x24
    TITLE = "curate chat"
    BINDINGS: ClassVar[list[BindingType]] = [
        ("r", "review", "review"),
        ("h", "history", "history"),
        ("c", "cancel", "cancel tool"),
        ("question_mark", "help", "help"),
        ("escape", "keys", "keys"),
        ("ctrl+q", "quit", "quit"),
        Binding("pageup", "scroll_conversation(-1)", "scroll up", show=False),
        Binding("pagedown", "scroll_conversation(1)", "scroll down", show=False),
    ]

    MAIN_SCREEN_ACTIONS: ClassVar[set[str]] = {"review", "history", "cancel", "keys"}

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.commands = ChatCommands(session)
        self.steps: dict[str, str] = {}
        self.stage_started = 0.0
        self.running = False

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with Horizontal(id="top"):  # shown, not focused: Tab and typing go to the command box
            yield _shown_table("plan")
            yield _shown_table("preview")
        with Horizontal(id="progress-row"):
            yield Static("", id="progress-label")
            yield ProgressBar(id="progress", show_eta=True)
        conversation = RichLog(id="conversation", wrap=True, markup=True)
        conversation.can_focus = False  # the command box is the one place typing goes; pageup/pagedown scroll this
        yield conversation
        yield Input(placeholder="a command (help lists them), or a question", id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        past = [event for event in self.session.past_events() if not isinstance(event, Progress)]
        if past:  # a resumed session: its conversation so far, then what happens next
            self.say("coordinator", f"Resumed session on {self.session.config.data}; what happened so far:")
            for event in past:
                self.on_session_event(event)
        else:
            self.say("coordinator", f"Session on {self.session.config.data}. I plan, tools propose, you decide.")
        rules = self.session.guidance_rules()
        if rules:  # what the person said, as the constraints every step obeys, before anything runs on them
            said = "\n".join(f"  #{r.rule_id} {c}" for r in rules for c in r.guidance.describe())
            self.say("coordinator", f"Guidance in force ('unguide N' takes one back):\n{said}")
        self._refresh_plan()
        self._refresh_preview()
        self._refresh_status()
        self.query_one("#prompt", Input).focus()  # typed text goes into the box, never to a single-key binding
        self.run_session()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The main screen's single keys (r, h, c) act on the main screen only: on a review or the history,
        an `h` or `y` typed by mistake must not open another screen or reach its keys."""
        return not (action in self.MAIN_SCREEN_ACTIONS and len(self.screen_stack) > 1)

    # ---- the run, in a thread ------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, name="session")
    def run_session(self) -> None:
        self.running = True
        try:
            for event in self.session.events():
                self.call_from_thread(self.on_session_event, event)
        except Exception as error:  # shown, not fatal: the session can continue later
            self.call_from_thread(self.say, "error", f"{type(error).__name__}: {error}")
        finally:
            self.running = False
            self.call_from_thread(self._after_run)

    def _after_run(self) -> None:
        self._refresh_status()
        self._refresh_preview()
        if self.session.status == "waiting":
            n = len(self.session.pending)
            self.say("coordinator", f"{n} finding(s) wait for your decision: press r to review.")
            self.action_review()
        elif self.session.status == "finished":
            self.say("coordinator", "Done: every planned step ran. 'export NAME' writes the data; h shows history.")

    def on_session_event(self, event: Event) -> None:
        match event:
            case PlanMade(data=d):
                for step in d.steps:
                    self.steps[step.tool] = "planned"
                self.say(
                    "coordinator",
                    f"Round {d.round}: {', '.join(s.tool for s in d.steps) or 'finish'} — {d.rationale}",
                )
            case StepStarted(data=d):
                self.steps[d.tool] = "running"
            case Progress(data=d):
                self._progress(d)
            case ProposalReady(data=d):
                self.steps[d.tool] = f"{d.findings} findings"
                self.say(d.tool, d.explanation or d.summary)
            case Applied(data=d):
                self.steps[d.tool] = f"applied {d.edits}"
                self.say(d.tool, f"applied {d.edits} edits ({d.conflicts} conflicts)")
                self._refresh_preview()
            case Message(data=d):
                self.say("coordinator", d.text)
            case Cost(data=d):
                self.say("coordinator", d.shown())
            case Finished(data=d):
                self.say("coordinator", f"Run {d.status}.")
                for tool, state in self.steps.items():
                    if state == "running":  # a cancelled (or stopped) step is no longer running
                        self.steps[tool] = d.status
        self._refresh_plan()
        self._refresh_status()

    def _progress(self, d: ProgressData) -> None:
        bar = self.query_one("#progress", ProgressBar)
        if d.done == 0:
            self.stage_started = time.monotonic()
        bar.update(total=d.total or None, progress=d.done)
        elapsed = time.monotonic() - self.stage_started
        self.query_one("#progress-label", Static).update(plain(f"{d.tool}: {d.stage} {elapsed:.0f}s"))

    # ---- views ---------------------------------------------------------------------------------
    def say(self, who: str, text: str) -> None:
        """Add a line to the conversation. Both parts are plain text: rows, file names and LLM replies may
        hold markup such as "[/]" or "[@click=app.quit]", which must show as typed, never act."""
        self.query_one("#conversation", RichLog).write(inert(Text.assemble((who, "bold"), ": ", text)))

    def _refresh_plan(self) -> None:
        rows = [[plain(tool), plain(state)] for tool, state in self.steps.items()]
        fill_table(self.query_one("#plan", DataTable), [Text("step"), Text("state")], rows)

    def _refresh_preview(self) -> None:
        frame = self.session.preview(5)
        rows = [[plain(str(v)[:40]) for v in row] for row in frame.itertuples(index=False)]
        fill_table(self.query_one("#preview", DataTable), [plain(c) for c in frame.columns], rows)

    def _refresh_status(self) -> None:
        state = self.session.state()
        llm = self.session.llm
        cost = (
            f"LLM ${llm.usage.cost_usd:.4f} ({llm.usage.calls} calls)"
            if llm
            else ("LLM ready" if self.session.settings.llm_configured else "offline")
        )
        self.query_one("#status", Static).update(
            Text(f" v{state.version} · {state.rows} rows · {state.pending} pending · {state.status} · {cost} · ? help")
        )

    # ---- actions -------------------------------------------------------------------------------
    def action_review(self) -> None:
        if not self.session.pending or self.running:
            self.notify("Nothing waits for a decision.")
            return
        proposals = self.session.pending_proposals()
        rows = {f.row_id for p in proposals for f in p.findings}
        rows |= {n.row_id for p in proposals for f in p.findings for n in f.evidence.neighbours or []}
        row_texts = self.session.row_texts(rows)  # the neighbours' texts too: a label is judged beside them
        pending_ids = {p.finding_id for p in self.session.pending}
        displays = self.session.evidence_displays()
        classes, names = self.session.label_classes(), self.session.label_names()
        draft, save = self.session.review_draft(), self.session.save_review_draft
        guide = ReviewGuide(add=self._add_rule, remove=self._remove_rule, settled=self.session.guidance_decisions)
        screen = ReviewScreen(proposals, row_texts, pending_ids, displays, classes, names, draft, save, guide)
        self.push_screen(screen, self._reviewed)

    def _add_rule(self, suggestion: RuleSuggestion) -> int:
        rule = self.session.add_guidance(
            GuidanceRule(
                guidance=suggestion.guidance, words=suggestion.text, source="review", parser="review", added_by=HUMAN
            )
        )
        self.say("you", f"accepted a rule: {'; '.join(suggestion.guidance.describe())}")
        return int(rule.rule_id or 0)

    def _remove_rule(self, rule_id: int) -> None:
        rule = self.session.remove_guidance(rule_id)
        self.say("you", f"took back the rule: {'; '.join(rule.guidance.describe())}")

    def _reviewed(self, answers: dict[str, FindingDecision] | None) -> None:
        self.query_one("#prompt", Input).focus()  # typing goes to the command box again, no Tab needed
        if answers is None:
            self.say("coordinator", "Review left open: your choices so far are kept; r continues it.")
            return
        try:
            self.session.review_with(AnswersReviewer(answers))
        except UserInputError as error:  # the session keeps waiting, its pending findings intact
            self.say("error", f"{error} Press r to review again.")
            return
        approved = sum(a.approve for a in answers.values())
        self.say("you", f"approved {approved}, rejected {len(answers) - approved}")
        self.run_session()

    def action_history(self) -> None:
        self.push_screen(HistoryScreen(self.session), lambda _: self._after_history())

    def action_keys(self) -> None:
        """Escape in the command box: leave it, so the single keys (r, h, c, ?) act again."""
        if self.focused is self.query_one("#prompt", Input):
            self.set_focus(None)

    def _after_history(self) -> None:
        self._steps_from_history()
        self._refresh_preview()
        self._refresh_status()
        self.query_one("#prompt", Input).focus()

    def _steps_from_history(self) -> None:
        """Each tool's state as the ledger has it now (an undo in the history or by command shows at once)."""
        for info in self.session.history():  # oldest first: the latest decision of a tool shows
            self.steps[info.tool] = f"applied {info.n_edits}" if info.status == "applied" else info.status
        self._refresh_plan()

    def action_scroll_conversation(self, step: int) -> None:
        log = self.query_one("#conversation", RichLog)
        log.scroll_relative(y=step * max(log.size.height - 2, 1), animate=False)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_cancel(self) -> None:
        if self.running:
            self.session.cancel()
            self.say("you", "cancel the running tool")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "prompt":
            return
        event.input.value = ""
        if not event.value.strip():
            return
        self.say("you", event.value)
        reply = self.commands.handle(event.value)
        self.say("coordinator", reply.text)
        if reply.action == "continue" and not self.running:
            self.run_session()
        elif reply.action == "review":
            self.action_review()
        elif reply.action == "history":
            self.action_history()
        elif reply.action == "quit":
            self.exit()
        self._steps_from_history()
        self._refresh_preview()
        self._refresh_status()


def _shown_table(name: str) -> DataTable:
    table: DataTable = DataTable(id=name, cursor_type="none")
    table.can_focus = False
    return table


def fill_table(table: DataTable, header: list[Text], rows: list[list[Text]]) -> None:
    """Replace a table's contents, each column as wide as its widest cell. The widths are fixed here because a
    DataTable measures auto widths only on its next idle, which may never come when nothing else wakes it after
    a refresh from the session thread (the columns then stay as wide as their headers)."""
    table.clear(columns=True)
    for column, label in enumerate(header):
        table.add_column(label, width=max(cell.cell_len for cell in [label, *(row[column] for row in rows)]))
    for row in rows:
        table.add_row(*row)
