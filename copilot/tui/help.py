"""The help screen: every key, every command."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from copilot.chat_commands import HELP

KEYS = """Keys
 Main     r  review pending          h  history
          c  cancel running tool     ?  help          ctrl+q  quit
          type a command in the box below and press enter
 Review   a  approve all             x  reject all
          space  toggle row          l  change label
          s  approve above a score   o  sort (score / row id)
          f  filter by issue         enter  confirm    escape  back
 History  u  undo selected           y  redo selected
          e  explain a row           escape  back
 escape closes this help
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "dismiss", "close"), ("question_mark", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(KEYS + "\n" + HELP)
