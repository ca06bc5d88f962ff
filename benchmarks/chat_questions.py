"""The chat coordinator on a finished run: 10 questions a person asks about a session, each answer checked for
the fact the session state holds (a number, a name, yes or no). Needs an endpoint (OPENAI_BASE_URL; e.g. the
local model from `curate llm serve`). Set 1 was asked first and its failures shaped the chat context (counts
worked out in advance); set 2 was written before the context changed and is the held-out check.

    curate run examples/support_tickets.csv --policy approve-all --out runs/chat-demo
    python benchmarks/chat_questions.py runs/chat-demo [--set 1|2]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from copilot.api.chat_commands import ChatCommands
from copilot.run.session import Session


def first_set(session: Session) -> list[tuple[str, list[str]]]:
    """(question, facts): an answer is right when it holds any of the facts (lower case)."""
    state = session.state()
    applied = [d for d in session.history() if d.status == "applied"]
    by_tool = {d.tool: d for d in applied}
    biggest = max(applied, key=lambda d: d.n_edits)
    none_pending = ["no", "none", "0", "zero"] if not state.pending else [str(state.pending)]
    asked = [
        ("How many rows does the data have now?", [str(state.rows)]),
        ("Which version of the data is current?", [str(state.version)]),
        ("How many decisions have been applied?", [str(len(applied))]),
        ("Are any decisions still pending?", none_pending),
        ("Which tool made the most edits?", [biggest.tool]),
        ("How many findings were rejected in all?", [str(sum(d.rejected for d in applied))]),
    ]
    for tool in ("dedup", "label-errors", "decontam"):
        if tool in by_tool:
            asked.append((f"How many edits did {tool} make?", [str(by_tool[tool].n_edits)]))
    asked.append(("Which tools made changes?", [" ".join(sorted(by_tool))]))  # every name, checked below
    return asked[:10]


def second_set(session: Session) -> list[tuple[str, list[str]]]:
    state = session.state()
    history = session.history()
    applied = [d for d in history if d.status == "applied"]
    edits: dict[str, int] = {}
    for d in applied:
        edits[d.tool] = edits.get(d.tool, 0) + d.n_edits
    deciders = sorted({d.decided_by for d in applied})
    return [
        ("How many rows did the data have at the start?", [str(state.rows_in)]),
        ("How many rows were removed in all?", [str(state.rows_in - state.rows)]),
        ("How many findings were approved?", [str(sum(d.approved for d in applied))]),
        ("How many edits were made in total?", [str(sum(edits.values()))]),
        ("Which tool made the fewest edits?", [min(edits, key=lambda t: (edits[t], t))]),
        ("Did label-errors change anything?", ["yes"] if edits.get("label-errors") else ["no"]),
        ("Has any decision been undone?", ["yes"] if any(d.status != "applied" for d in history) else ["no"]),
        ("Who approved the changes?", deciders),
        ("What is the status of the run?", [state.status]),
        ("How many decisions did dedup make?", [str(sum(d.tool == "dedup" for d in history))]),
    ]


SETS = {"1": first_set, "2": second_set}


def right(answer: str, facts: list[str]) -> bool:
    """Whole words only: "undone" must not count as "no"."""
    words = set(re.findall(r"[\w:-]+", answer.lower().replace(",", "")))
    if len(facts) == 1 and " " in facts[0]:  # a list of tool names: all must be named
        return all(name in words for name in facts[0].split())
    return any(fact.lower() in words for fact in facts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a finished run folder")
    parser.add_argument("--set", choices=sorted(SETS), default="1")
    args = parser.parse_args()
    session = Session.resume(args.run)
    commands = ChatCommands(session)
    correct = 0
    started = time.perf_counter()
    print("| question | expected | answer | right |\n|---|---|---|---|")
    asked = SETS[args.set](session)
    for question, facts in asked:
        answer = commands.handle(question).text
        ok = right(answer, facts)
        correct += ok
        shown = " ".join(answer.split())[:160].replace("|", "/")
        print(f"| {question} | {' / '.join(facts)} | {shown} | {'yes' if ok else 'no'} |")
    usage = session.llm.usage if session.llm else None
    print(f"\n{correct} of {len(asked)} right in {time.perf_counter() - started:.0f} s; {usage}")


if __name__ == "__main__":
    main()
