"""The chat coordinator on a finished run: 10 questions a person asks about a session, each answer checked for
the fact the session state holds (a number or a tool name). Needs an endpoint (OPENAI_BASE_URL; e.g. the
local model from `curate llm serve`).

    curate run examples/support_tickets.csv --policy approve-all --out runs/chat-demo
    python benchmarks/chat_questions.py runs/chat-demo
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from copilot.chat_commands import ChatCommands
from copilot.session import Session


def questions(session: Session) -> list[tuple[str, list[str]]]:
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


def right(answer: str, facts: list[str]) -> bool:
    text = answer.lower()
    if len(facts) == 1 and " " in facts[0]:  # a list of tool names: all must be named
        return all(name in text for name in facts[0].split())
    return any(fact.lower() in text.replace(",", "") for fact in facts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a finished run folder")
    args = parser.parse_args()
    session = Session.resume(args.run)
    commands = ChatCommands(session)
    correct = 0
    started = time.perf_counter()
    print("| question | expected | answer | right |\n|---|---|---|---|")
    for question, facts in questions(session):
        answer = commands.handle(question).text
        ok = right(answer, facts)
        correct += ok
        shown = " ".join(answer.split())[:160].replace("|", "/")
        print(f"| {question} | {' / '.join(facts)} | {shown} | {'yes' if ok else 'no'} |")
    usage = session.llm.usage if session.llm else None
    print(f"\n{correct} of {len(questions(session))} right in {time.perf_counter() - started:.0f} s; {usage}")


if __name__ == "__main__":
    main()
