"""The help screen: every key, every command."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from copilot.api.chat_commands import HELP

KEYS = """Keys
 Main     r  review pending          h  history       ?  help
          c  cancel running tool     ctrl+q  quit     pgup/pgdn  scroll
          typing goes to the command box (enter runs it), never to these
          keys; escape leaves the box, so the single keys act again
 Review   a  approve all             x  reject all    (both ask first)
          space  toggle row          l  change label (pick a class)
          s  approve above a score   o  sort (score / row id)
          f  filter by issue         shift+up/down  scroll the evidence
          g / n  accept / decline a suggested rule     G  undo a rule
          enter  confirm             escape  back
 History  u  undo selected           y  redo selected (both ask first:
          enter says yes)            e  explain a row    escape  back
 escape closes this help
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "dismiss", "close"), ("question_mark", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text(KEYS + "\n" + HELP))  # plain text: "[N]" in the commands is not markup
