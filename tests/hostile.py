"""A corpus of hostile strings (markup, links, HTML, control bytes) and a data file that carries them everywhere:
row ids, column names, cells, labels and the file's own name."""

from __future__ import annotations

import csv
from pathlib import Path

from .conftest import EXAMPLE

HOSTILE = [
    "INJ[/]",
    "closing tag [/] here",
    "[/bold]",
    "[@click=app.quit]quit[/]",
    "[link=http://attacker.invalid]x[/link]",
    "![x](http://attacker.invalid/pixel.png)",
    "<script>alert(1)</script>",
    "| a | b |",
    "\x1b[31mred\x1b[0m",
    "[bold red]loud",
    "`tick` and **bold**",
    "$(touch /tmp/pwned)",
]
LABEL_COLUMN = "[/bold]label"


def hostile_csv(folder: Path, rows: int = 120) -> Path:
    """Support tickets whose ids, cells, labels and column names are hostile; the hostile-id rows repeat an
    earlier row's text, so dedup proposes dropping them and every screen has to show their ids."""
    with EXAMPLE.open(newline="") as handle:
        tickets = list(csv.DictReader(handle))[:rows]
    path = folder / "[/oops].csv"  # a folder "[" and a file "oops].csv": markup in the path a person sees
    path.parent.mkdir(exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket_id", "text", LABEL_COLUMN])
        for t in tickets:
            writer.writerow([t["ticket_id"], t["text"], t["intent"]])
        for i, bad in enumerate(HOSTILE):
            writer.writerow([bad, tickets[i]["text"], tickets[i]["intent"]])  # an exact duplicate
            writer.writerow([f"cell-{i}", f"{bad} {tickets[i + 20]['text']}", tickets[i + 20]["intent"]])
        for i, t in enumerate(tickets[40:56]):  # two hostile label values, eight rows each
            writer.writerow([f"label-{i}", t["text"] + " again", HOSTILE[i % 2]])
    return path
