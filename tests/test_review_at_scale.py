"""A whole review from the keyboard, as a person does it: 500+ label findings on banking77 (77 intents, coded
labels with a name column), each judged on screen, wrong suggestions corrected by typing the right intent's
name in the label picker, the app quit half-way and the review finished in a resumed chat. Nothing is read
from JSON: every choice goes through keys, and the curated data must hold exactly what was chosen."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from textual import events

from copilot.agents.recipe import Recipe, RecipeStep
from copilot.review.policy import load_policy
from copilot.run.run_config import RunConfig
from copilot.run.session import Session

from .conftest import shared_file
from .test_review import until

ROWS, NOISE = 5000, 0.15
KEY_CHARACTERS = {"space": " ", "underscore": "_", "ctrl+u": None, "down": None, "enter": "\r"}


def _noisy_banking77(tmp_path) -> tuple[pd.DataFrame, dict[int, str]]:
    """5,000 banking77 training queries, 15% of them given another intent at random (seed 0); the true intent
    stays in a separate truth table, as a person's knowledge, not in the data."""
    train = pd.read_json(shared_file("banking77/banking77_train.jsonl"), lines=True)
    names = dict(enumerate(json.loads(shared_file("banking77/label_names.json").read_text())))
    rng = np.random.default_rng(0)
    data = train.iloc[np.sort(rng.choice(len(train), ROWS, replace=False))].reset_index(drop=True)
    data["idx"] = data["idx"].astype(str)
    truth = data.set_index("idx")["label"].copy()
    for i in rng.choice(ROWS, int(NOISE * ROWS), replace=False):
        wrong = int(rng.integers(len(names) - 1))
        wrong += wrong >= data.at[i, "label"]
        data.at[i, "label"], data.at[i, "label_name"] = wrong, names[wrong]
    data.to_json(tmp_path / "banking77_noisy.jsonl", orient="records", lines=True)
    return truth, names


def send(app, *keys: str) -> None:
    """Keys as a person types them: queued for the app at once, each handled in order. The test then waits on
    what the screen shows (the cursor's row, the picker's first option), not on Pilot's idle timer per key,
    which makes 1,000 keys take minutes."""
    for key in keys:
        app.post_message(events.Key(key, KEY_CHARACTERS.get(key, key if len(key) == 1 else None)))


async def settle(condition) -> None:
    """Wait until the UI shows `condition` (up to a minute)."""
    for _ in range(30_000):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("timed out waiting for the UI")


@pytest.mark.slow
def test_a_person_reviews_500_findings_on_77_classes_from_the_keyboard_and_resumes_half_way(tmp_path):
    from textual.widgets import Input, OptionList

    from copilot.tui.app import CurateApp
    from copilot.tui.label_picker import LabelPicker
    from copilot.tui.review import ReviewScreen

    truth, names = _noisy_banking77(tmp_path)
    folder = tmp_path / "session"
    config = RunConfig(
        data=str(tmp_path / "banking77_noisy.jsonl"),
        recipe=Recipe(plan="steps", steps=[RecipeStep(tool="label-errors")]),
        policy=load_policy("review"),
    )
    session = Session.start(config, folder)
    chosen: dict[str, int] = {}  # row -> the label the person chose (the label it keeps, when they rejected)
    how: Counter[str] = Counter()

    async def review(app, start: int, quit_half_way: bool) -> int:
        """Judge findings from the cursor on (checking it is at `start`): up to half of them, then quit, or to
        the end, then confirm. Returns how many findings the review holds."""
        async with app.run_test(size=(120, 35)) as pilot:
            await until(
                pilot,  # mounted, not only pushed: `ready` is set once the table is filled
                lambda: (
                    isinstance(app.screen, ReviewScreen)
                    and app.screen.ready
                    and app.screen.query_one("#findings").row_count
                ),
            )
            screen = app.screen
            table = screen.query_one("#findings")
            at, total = table.cursor_row, table.row_count
            assert at == start, "a resumed review opens where the person left it"
            for i in range(at, total // 2 if quit_half_way else total):
                await settle(lambda i=i: table.cursor_row == i)
                finding = screen._selected()
                row, given = finding.row_id, int(finding.evidence.given_label)
                right = int(truth[row])
                if given == right:  # the data was right: reject the finding, keep the label
                    if screen.answers[finding.finding_id] != "reject":
                        send(app, "space")
                        # seen before moving on: enter is a priority binding and would overtake a queued space
                        await settle(lambda f=finding: screen.answers[f.finding_id] == "reject")
                    chosen[row] = given
                    how["rejected"] += 1
                elif finding.action.new_label is not None and int(finding.action.new_label) == right:
                    chosen[row] = right  # approved as suggested (the default for a relabel)
                    how["approved as suggested"] += 1
                else:  # a flag, or a wrong suggestion: choose the right intent by its name
                    send(app, "l")
                    await settle(
                        lambda: (
                            isinstance(app.screen, LabelPicker) and any(i.has_focus for i in app.screen.query(Input))
                        )
                    )
                    typed = app.screen.query_one(Input)
                    send(app, "ctrl+u")  # a binding: it runs after plain characters sent with it, so wait for it
                    await settle(lambda t=typed: t.value == "")
                    send(app, *names[right])
                    options = app.screen.query_one(OptionList)
                    await settle(lambda t=typed, r=right: t.value == names[r])
                    await settle(lambda o=options, r=right: o.option_count and o.get_option_at_index(0).id == str(r))
                    send(app, "enter")
                    picked = {"approve": True, "new_label": str(right)}
                    await settle(lambda f=finding, p=picked: app.screen is screen and screen.answers[f.finding_id] == p)
                    chosen[row] = right
                    how["labelled by name"] += 1
                send(app, "down")
            last = total // 2 if quit_half_way else total - 1
            await settle(lambda: table.cursor_row == last)  # every key so far handled
            if not quit_half_way:
                await pilot.press("enter")  # confirm: the run applies the decisions and finishes
                await until(pilot, lambda: not app.running and app.session.status == "finished")
            await pilot.press("ctrl+q")
            return total

    total = asyncio.run(review(CurateApp(session), start=0, quit_half_way=True))
    assert total >= 500, f"the noisy banking77 sample gave {total} findings, fewer than the 500 this test is about"
    session.close()

    resumed = Session.resume(folder)  # `curate chat --resume`: a new process, the draft on disk
    asyncio.run(review(CurateApp(resumed), start=total // 2, quit_half_way=False))
    resumed.close()

    curated = pd.read_json(folder / "curated.jsonl", lines=True, dtype={"idx": str}).set_index("idx")
    assert len(chosen) == total
    print(f"{total} findings reviewed from the keyboard: {dict(how)}")
    for row, label in chosen.items():
        assert curated.at[row, "label"] == label, row
        assert curated.at[row, "label_name"] == names[label], row  # the name column follows the label
    changes = [json.loads(line) for line in (folder / "changes.jsonl").read_text().splitlines()]
    assert {c["decided_by"] for c in changes} == {"human"}
