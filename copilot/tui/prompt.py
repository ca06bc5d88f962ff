"""Questions in a modal: one line of text (a score cut-off, a row id), or yes or no before a change."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from copilot.tui.plain import plain


class Ask(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "cancel")]

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Static(plain(self.question))  # it may quote a row id
            yield Input(value=self.value, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()  # the answer is for whoever asked, not for the chat prompt
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """A yes-or-no question before an action that replaces what is there (undo, redo, every answer at once): only
    Enter says yes, so text typed by mistake never confirms it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("enter", "answer(True)", "yes"),
        ("escape", "answer(False)", "no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Static(plain(self.question + "\n\nEnter: yes · Escape: no"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
