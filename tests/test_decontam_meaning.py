"""Contamination where meaning matters: surface variants and slots, whole items inside rows, reworded exam
questions and reworded code."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from curation_tools.code_view import code_pairs, is_code, shape_tokens, words_view
from curation_tools.decontam import DecontamParams, run
from curation_tools.query_slots import difference, differs_within, negated, signature
from curation_tools.question_view import closing_question
from curation_tools.short_items import holds_whole

from .conftest import make_dataset


@pytest.mark.parametrize(
    ("row", "item"),
    [
        ("What's the exchange rate?", "what is the exchange rate"),
        ("please, CAN YOU freeze my account!!", "freeze my account for me"),
        ("I dont want my card anymore", "i do not want my card anymore"),
        ("Someone stole my cards!", "Someone stole my card"),
        ("hey, i'd like to set up direct deposit thanks", "set up direct deposit"),
    ],
)
def test_surface_variants_have_one_signature(row, item):
    assert signature(row) == signature(item)


@pytest.mark.parametrize(
    ("row", "item", "slot"),
    [
        ("is there a charge to use my card in Japan", "is there a charge to use my card in France", "name"),
        ("15 days from today, what will the date be", "in 5 days what will the date be", "number"),
        ("remind me on friday", "remind me on monday", "date"),
        ("i do not want my card", "i do want my card", "negation"),
        ("change your name", "change my name", "person"),
        ("how should i refer to you", "how do you refer to me", "person"),
        ("change to whisper mode", "change from whisper mode", "content word"),
        ("how do you say please in french", "how do you say hi in french", "content word"),
        ("are there charges for topping up US cards", "are there charges for topping up cards", "content word"),
    ],
)
def test_a_content_slot_makes_a_new_query_and_is_named(row, item, slot):
    found = difference(row, item)
    assert found is not None and found.slot == slot, found


def test_a_query_inside_a_longer_row_keeps_its_words_or_names_the_change():
    row = "Question: What is the capital of France?\nA. Paris\nB. Rome"
    assert differs_within(row, "What is the capital of France") is None
    changed = differs_within("i'm looking for flights from monday to wednesday", "flights from monday to friday")
    assert changed is not None and changed.slot == "date" and changed.kept == pytest.approx(0.8)


def test_a_whole_item_is_a_sentence_or_clause_of_its_own():
    key = ["what", "is", "the", "exchange", "rate"]
    assert holds_whole("I'm moving abroad. What is the exchange rate? Thanks", key)
    assert holds_whole("what is the exchange rate, and the fee", key)
    assert not holds_whole("what is the exchange rate for foreign ATMs", key)  # only the start of a question
    assert not holds_whole("in pacific time, what is the exchange rate", key)  # a clause before it narrows it
    assert not holds_whole("so what is the exchange rates", key)


def test_negation_and_closing_questions():
    assert negated("Which is NOT an example of a chemical change?") and negated("All of the following EXCEPT")
    assert not negated("Which of the following is an example of a chemical change?")
    passage = "This question refers to the following information.\n" + "A long quoted speech. " * 20 + "\nWho spoke?"
    assert closing_question(passage) == "Who spoke?"
    assert closing_question("A one paragraph math problem. " * 10) is None  # its last sentence is not the problem


def test_code_views_take_names_and_words_apart():
    code = (
        'def checkNegative_balance(ops):\n    """True when the balance drops below zero."""\n'
        "    return any(x < 0 for x in ops)\n"
    )
    assert is_code(code + "def other():\n    return 1\n") and not is_code("What is the return policy?")
    assert "check negative balance" in words_view(code) and "balance drops below zero" in words_view(code)
    assert shape_tokens(code)[:6] == ["def", "ID", "(", "ID", ")", ":"] and "STR" not in shape_tokens(code)


BELOW_ZERO = '''from typing import List


def below_zero(operations: List[int]) -> bool:
    """ You're given a list of deposit and withdrawal operations on a bank account that starts with
    zero balance. Your task is to detect if at any point the balance of account falls below zero, and
    at that point function should return True. Otherwise it should return False.
    >>> below_zero([1, 2, -4, 5])
    True
    """
    balance = 0
    for op in operations:
        balance += op
        if balance < 0:
            return True
    return False
'''
REWRITE = """from typing import List

# This function checks if the account balance becomes negative at any point during a series of transactions.
def check_negative_balance(transactions: List[int]) -> bool:
    account_balance = 0
    n = 0
    while n < len(transactions):
        account_balance += transactions[n]
        if account_balance < 0:
            return True
        n += 1
    return False
"""
OTHER = '''def count_vowels(word: str) -> int:
    """Count the vowels in a word."""
    total = 0
    for letter in word:
        if letter in "aeiou":
            total += 1
    return total
'''


def test_a_renamed_restructured_program_is_its_items_rewrite_and_another_program_is_not(ctx):
    items = [BELOW_ZERO, OTHER.replace("vowels", "consonants")]
    pairs = code_pairs([REWRITE, OTHER], [0, 1], items, [0, 1], ctx.embedder.embed)
    best = pairs.sort_values("score", ascending=False).drop_duplicates("row").set_index("row")
    assert best.loc[0, "item"] == 0 and best.loc[0, "score"] >= 0.5, best
    assert best.loc[0, "shape"] > 0.3 and best.loc[0, "words"] > 0.5


def test_exam_questions_reworded_are_found_and_topical_or_negated_questions_are_not(tmp_path, ctx):
    items = [
        {"id": "s1", "question": "Ethnic identity refers to:", "choices": ["a", "b", "c", "d"], "answer": "A"},
        {
            "id": "c1",
            "question": "Which of the following is an example of a chemical change?",
            "choices": ["Tearing paper", "Melting ice", "Mixing vinegar with baking soda", "Filling a balloon"],
            "answer": "C",
        },
        {
            "id": "a1",
            "question": "Which of the following elements is a metal?",
            "choices": ["S", "Se", "I", "Ga"],
            "answer": "D",
        },
    ]
    bench = tmp_path / "exam.jsonl"
    bench.write_text("".join(json.dumps(i) + "\n" for i in items))
    rows = [
        "What does the term ethnic identity mean?",  # a rewording
        "Which is NOT an example of a chemical change?",  # the opposite question
        "What is the boiling point of water at sea level?",  # unrelated
        "The recipe says to mix flour, sugar and two eggs before baking the cake for forty minutes.",
    ]
    data = make_dataset(pd.DataFrame({"text": rows}), label="none")
    result = run(data, DecontamParams(benchmark=[f"{bench}:mmlu"]), ctx)
    found = {f.row_id: f for f in result.findings}
    assert set(found) == {"0"}, {k: f.message for k, f in found.items()}
    assert found["0"].evidence.benchmark_item == "s1" and found["0"].evidence.method == "question rewording"
