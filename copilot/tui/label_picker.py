"""Choose a label from the column's classes: type to narrow the list, arrows to move, Enter to pick.

A free-text answer could name a class no row holds ("spamm") or a string for an integer column; the picker
offers only the classes the data has, so a person's relabel always names one of them.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from copilot.core.control_chars import visible
from copilot.tui.plain import plain
from curation_tools.label_names import named_label


class LabelPicker(ModalScreen[str | None]):
    DEFAULT_CSS = """
    LabelPicker { align: center middle; }
    #pick { width: 70; height: 90%; max-height: 22; border: thick $primary; background: $surface; padding: 0 1; }
    #pick Static { height: auto; }
    #classes { height: 1fr; min-height: 3; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "cancel", "cancel"),
        ("down", "move(1)", "next"),
        ("up", "move(-1)", "previous"),
    ]

    def __init__(
        self, question: str, classes: list[str], suggested: str = "", names: dict[str, str] | None = None
    ) -> None:
        super().__init__()
        self.question = question
        self.choices = classes  # not `classes`: a Textual widget's CSS classes
        self.names = names or {}  # class -> name, for coded labels: shown and searched, the class is returned
        self.suggested = self.names.get(suggested, suggested)

    def compose(self) -> ComposeResult:
        with Vertical(id="pick"):  # not the one-line #ask box: the list needs its rows, even at 80x24
            yield Static(plain(self.question))  # it may quote a row id
            yield Input(value=self.suggested, placeholder="type to search the classes", id="answer")
            yield OptionList(id="classes")

    def on_mount(self) -> None:
        self._show(self.suggested)
        self.query_one("#answer", Input).focus()

    def _label(self, choice: str) -> str:
        return named_label(choice, self.names.get(choice))

    def _matches(self, typed: str) -> list[str]:
        wanted = typed.strip().casefold()
        exact = [c for c in self.choices if wanted in (c.casefold(), self.names.get(c, "").casefold())]
        return exact + [c for c in self.choices if wanted in self._label(c).casefold() and c not in exact]

    def _show(self, typed: str) -> None:
        options = self.query_one("#classes", OptionList)
        options.clear_options()
        # class names are plain text, never markup
        options.add_options([Option(plain(self._label(c)), id=c) for c in self._matches(typed)])
        if options.option_count:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        try:
            self._show(event.value)
        except NoMatches:  # a fast typist's last change can arrive after Enter picked and the list is gone
            return

    def action_move(self, step: int) -> None:
        options = self.query_one("#classes", OptionList)
        if options.option_count:
            options.highlighted = ((options.highlighted or 0) + step) % options.option_count

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()  # the answer is for whoever asked, not for the chat prompt
        options = self.query_one("#classes", OptionList)
        if options.highlighted is None:
            self.notify(visible(f"No class matches {event.value!r}."), severity="warning", markup=False)
            return
        self.dismiss(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
