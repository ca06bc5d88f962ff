"""sft-quality: flags on instruction and chat replies, each firing on its defect and not on real replies like it."""

from __future__ import annotations

import pandas as pd
import pytest

from curation_tools.sft_checks import Endings, check_pair, length_outliers
from curation_tools.sft_quality import SftQualityParams, run

from .conftest import make_dataset

MATH = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18"
ENDINGS = Endings([MATH] * 30)


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("   ", "empty_reply"),
        ("```python\ndef f(x):\n    return x", "truncated_reply"),
        ("She makes 9 * 2 = $<<9*2=18>>18 every day and", "truncated_reply"),
        ("Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 =", "truncated_reply"),
        ("Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 18 dollars", "truncated_reply"),
        ("I'm sorry, but I can't help with that request.", "refusal"),
        ("As an AI language model, I cannot answer this.", "refusal"),
        ("How much does Janet make every day at the market?", "repeated_turn"),
        ("She sells nine eggs a day. She sells nine eggs a day. She sells nine eggs a day.", "repeated_turn"),
        (
            "La respuesta es dieciocho dólares, porque ella vende nueve huevos cada día a dos dólares.",
            "language_mismatch",
        ),
    ],
)
def test_each_check_fires_on_its_defect(reply, kind):
    issues = check_pair("How much does Janet make every day at the market?", reply, ENDINGS)
    assert kind in [i.kind for i in issues], issues


PROSE = Endings(["Nothing happens", "You grow watermelons in your stomach", "The seeds pass through you"] * 10)


@pytest.mark.parametrize(
    ("reply", "endings"),
    [
        (MATH, ENDINGS),
        ("There is no Church that all Mexicans are members of", PROSE),  # a sentence may end on a preposition
        ("def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a", PROSE),  # code ends on names
        ("100+100+100+80=<<100+100+100+80=380>>380 total score across 4 tests\n#### 95", ENDINGS),  # no language
    ],
)
def test_real_replies_like_the_defects_are_not_flagged(reply, endings):
    assert check_pair("A question?", reply, endings) == []


def test_length_outliers_are_far_longer_or_without_words_where_replies_are_prose():
    replies = [f"A normal answer of {'a few ' * (i % 5)}words here." for i in range(40)] + ["x" * 20_000, "No", "."]
    flagged = length_outliers(replies)
    assert set(flagged) == {40, 42}  # 'No' is short and still an answer


def test_the_tool_reads_chat_and_instruction_layouts_and_only_flags(tmp_path):
    from curation_tools.context import ToolContext

    chats = pd.DataFrame(
        {
            "messages": [
                [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": ""}],
                [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}],
            ]
        }
    )
    result = run(make_dataset(chats), SftQualityParams(), ToolContext(cache_dir=tmp_path))
    assert [(f.row_id, f.issue, f.action.type) for f in result.findings] == [("0", "empty_reply", "flag")]
    assert "message 2 (assistant)" in result.findings[0].message
    layout = pd.DataFrame({"instruction": ["Say hi", "Add 2 and 2"], "output": ["Hi!", "I'm sorry, but I can't."]})
    result = run(make_dataset(layout), SftQualityParams(), ToolContext(cache_dir=tmp_path))
    assert [(f.row_id, f.issue) for f in result.findings] == [("1", "refusal")]


def test_the_heuristic_planner_runs_sft_quality_after_the_copies_on_chat_data(cli, tmp_path):
    import json

    from .test_pii import CHATS

    result = cli("run", CHATS, "--policy", "approve-all", "--out", tmp_path / "run")
    assert result.code == 0, result.stderr
    events = [json.loads(line) for line in (tmp_path / "run" / "events.jsonl").read_text().splitlines()]
    plans = [[s["tool"] for s in e["data"]["steps"]] for e in events if e["kind"] == "plan" and e["data"]["steps"]]
    assert plans == [["pii"], ["dedup"], ["sft-quality"]]


def test_an_unknown_check_is_refused(cli, tmp_path):
    from .test_pii import CHATS

    result = cli("tools", "sft-quality", CHATS, "--checks", "refusals", "--out", tmp_path / "f.jsonl")
    assert result.code == 2 and "refusal" in result.stderr
