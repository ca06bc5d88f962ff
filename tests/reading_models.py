"""Scripted models that read what they are sent, for the judges' fake-server tests: they answer the probe
questions (prompts/judge_probes.yaml) and real rows by word overlap, as a model that reads would."""

from __future__ import annotations

import json
import re


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3}


def _data_blocks(body: dict) -> list[str]:
    return re.findall(r"<data>\n(.*?)\n</data>", body["messages"][1]["content"], flags=re.S)


def label_choice(body: dict) -> str:
    """'A' or 'B': the option whose label shares a word with the text (a label is snake_case words)."""
    user = body["messages"][1]["content"]
    text = _data_blocks(body)[0].lower()
    a = user.split("A: ", 1)[1].split("\n", 1)[0]
    return "A" if any(part in text for part in a.split("_") if len(part) > 2) else "B"


def label_reader(body: dict) -> str:
    return json.dumps({"choice": label_choice(body), "confidence": 0.85})


def contaminated(body: dict) -> bool:
    """A rewording keeps at least 30% of the benchmark item's longer words."""
    train, benchmark = _data_blocks(body)
    words = _words(benchmark)
    return len(words & _words(train)) / max(len(words), 1) >= 0.3


def asks_independent(body: dict) -> bool:
    return "independent" in body["messages"][1]["content"].rsplit("</data>", 1)[1]


def contamination_reader(body: dict) -> str:
    copy = contaminated(body)
    if asks_independent(body):
        return json.dumps({"independent": not copy, "confidence": 0.9})
    return json.dumps({"contaminated": copy, "confidence": 0.9})
