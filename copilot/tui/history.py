"""The history screen: the ledger's decisions, undo and redo, explain a row."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import CellDoesNotExist

from copilot.core.control_chars import visible
from copilot.tui.plain import plain
from copilot.tui.prompt import Ask, Confirm
from curation_tools.errors import UserInputError


class HistoryScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        ("u", "undo", "undo"),
        ("y", "redo", "redo"),
        ("e", "explain", "explain row"),
        ("escape", "back", "back"),
    ]

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def action_back(self) -> None:
        self.dismiss(None)  # not pop_screen: the main screen's callback refreshes the plan, preview and status

    def compose(self) -> ComposeResult:
        yield Static(id="version")
        yield DataTable(id="decisions", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="explain-box"):
            yield Static(id="explain")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#decisions", DataTable).add_columns(
            "#", "tool", "status", "approved", "rejected", "edits", "by"
        )
        self.refresh_table()

    def refresh_table(self) -> None:
        table = self.query_one("#decisions", DataTable)
        table.clear()
        for d in self.session.history():
            table.add_row(
                str(d.decision_id),
                plain(d.tool),
                d.status,
                str(d.approved),
                str(d.rejected),
                str(d.n_edits),
                plain(d.decided_by),
                key=str(d.decision_id),
            )
        state = self.session.state()
        self.query_one("#version", Static).update(
            f"[b]History[/b] · version v{state.version} · {state.rows} rows · u undo · y redo · e explain"
        )

    def _selected(self) -> int | None:
        table = self.query_one("#decisions", DataTable)
        try:
            return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except CellDoesNotExist:
            return None

    def _run(self, op: str) -> None:
        decision = self._selected()
        if decision is None:
            return
        info = next(d for d in self.session.history() if d.decision_id == decision)
        question = f"{op.capitalize()} decision #{decision} ({info.tool}, {info.n_edits} edits, by {info.decided_by})?"
        self.app.push_screen(Confirm(question), lambda yes: self._carry_out(op, decision) if yes else None)

    def _carry_out(self, op: str, decision: int) -> None:
        try:
            result = self.session.undo(decision) if op == "undo" else self.session.redo(decision)
        except UserInputError as error:
            self.notify(visible(str(error)), severity="warning", markup=False)
            return
        self.notify(f"{op} decision #{decision}: {len(result.edits)} edits, {len(result.conflicts)} conflicts")
        for note in result.notes:
            self.notify(visible(note), severity="warning", markup=False)
        self.refresh_table()

    def action_undo(self) -> None:
        self._run("undo")

    def action_redo(self) -> None:
        self._run("redo")

    def action_explain(self) -> None:
        from copilot.api.chat_commands import ChatCommands

        def done(row: str | None) -> None:
            if row:
                self.query_one("#explain", Static).update(plain(ChatCommands(self.session).handle(f"why {row}").text))

        self.app.push_screen(Ask("Explain which row id?"), done)
