"""Reworded code: a benchmark program rewritten with other names, other loops and other words.

A HumanEval rewrite (llm-decontaminator's) renames the function and its variables, restates the docstring,
swaps a `for` for a `while` and adds dead statements; what stays is what the program is about and the shape
of its code. Two views of a program carry that:
- its **words**: docstrings, comments and identifiers split into words ("check_negative_balance" ->
  "check negative balance"), embedded like any text (the item's words against the row's);
- its **shape**: the code with identifiers, strings and comments taken out (`ID`, `STR`), keywords, builtins,
  operators and numbers kept; the share of the item's token 4-grams the row holds.
A logistic model on the words' cosine, how far that cosine stands above the next item's, and the shape share
(CODE_WEIGHTS, fitted by benchmarks/decontam_code.py on even task ids, with CodeAlpaca programs an LLM judged
not to be rewrites as negatives) scores each code row against its nearest code items by words. (A TF-IDF
cosine of the words views as a fourth feature was measured and left out: no gain on held-out rewrites, more
CodeAlpaca negatives flagged.)
"""

from __future__ import annotations

import builtins
import keyword
import re

import numpy as np
import pandas as pd

from curation_tools.neighbours import nearest

# fitted on even task ids (bias -8.8); the bias then moved by logit(0.5) - logit(0.35), so that the tool's threshold
# of 0.5 falls where the dev half's recall stops rising (0.35: python rewrites 0.877, 6 of 76 CodeAlpaca negatives)
CODE_WEIGHTS = {"words": 7.28, "margin": 7.55, "shape": 6.65, "bias": -8.18}
SHAPE_GRAM = 4
CODE_CANDIDATES = 3  # nearest code items by words scored per code row
_DOCSTRING = re.compile(r'("""|\'\'\')(.*?)\1', re.DOTALL)
_COMMENT = re.compile(r"#[^\n]*|//[^\n]*|/\*.*?\*/", re.DOTALL)
_STRING = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d+)?|==|!=|<=|>=|\+=|-=|\*=|//|\*\*|->|&&|\|\||\S")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_KEEP = set(keyword.kwlist) | set(dir(builtins)) | {"self", "List", "Tuple", "Dict", "Optional", "Any"}
_CODE_MARK = re.compile(r"^\s*(def |class |return\b|for .* in .*:|while .*:|if .*:|import |from \w+ import )", re.M)


def is_code(text: str) -> bool:
    """Whether a text holds a program: two lines or more that start like Python statements."""
    return len(_CODE_MARK.findall(text)) >= 2


def _split_identifier(name: str) -> str:
    return _CAMEL.sub(r"\1 \2", name).replace("_", " ").lower()


def words_view(code: str) -> str:
    """What a program says in words: docstrings, comments, and its identifiers split into words."""
    prose = [m.group(2) for m in _DOCSTRING.finditer(code)]
    rest = _DOCSTRING.sub(" ", code)
    prose += [m.group().lstrip("#/* ").rstrip("*/") for m in _COMMENT.finditer(rest)]
    rest = _STRING.sub(" ", _COMMENT.sub(" ", rest))
    names = [_split_identifier(t) for t in _TOKEN.findall(rest) if t[0].isalpha() or t[0] == "_"]
    names = [n for n in names if n not in _KEEP]
    return " ".join(" ".join([*prose, *names]).split())


def shape_tokens(code: str) -> list[str]:
    """The code without its names and words: identifiers -> ID, strings -> STR, comments and docstrings dropped."""
    rest = _COMMENT.sub(" ", _DOCSTRING.sub(" ", code))
    rest = _STRING.sub(" STR ", rest)
    out = []
    for token in _TOKEN.findall(rest):
        if token == "STR" or not (token[0].isalpha() or token[0] == "_"):
            out.append(token)
        else:
            out.append(token if token in _KEEP else "ID")
    return out


def _grams(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + SHAPE_GRAM]) for i in range(len(tokens) - SHAPE_GRAM + 1)}


def shape_share(row: str, item_grams: set[tuple[str, ...]]) -> float:
    """Share of the item's code 4-grams (names and words taken out) the row holds."""
    if not item_grams:
        return 0.0
    return len(_grams(shape_tokens(row)) & item_grams) / len(item_grams)


def code_probability(features: pd.DataFrame) -> np.ndarray:
    z = sum(weight * features[name] for name, weight in CODE_WEIGHTS.items() if name != "bias")
    return 1 / (1 + np.exp(-np.asarray(z + CODE_WEIGHTS["bias"], dtype=np.float64)))


def code_pairs(row_texts: list[str], rows: np.ndarray, item_texts: list[str], items: np.ndarray, embed) -> pd.DataFrame:
    """Features and score of each code row against its CODE_CANDIDATES nearest code items by words.

    `rows` / `items`: the indices of the code rows and code items; `embed(texts)` gives unit vectors."""
    columns = ["row", "item", "words", "margin", "shape", "score"]
    if len(rows) == 0 or len(items) == 0:
        return pd.DataFrame(columns=columns)
    item_vectors = np.asarray(embed([words_view(item_texts[i]) for i in items]), dtype=np.float32)
    row_vectors = np.asarray(embed([words_view(row_texts[r]) for r in rows]), dtype=np.float32)
    k = min(CODE_CANDIDATES + 1, len(items))
    found, cosine = nearest(item_vectors, k, queries=row_vectors)
    item_grams = {}
    out = []
    for n, row in enumerate(rows):
        for rank in range(min(CODE_CANDIDATES, k)):
            other = cosine[n, 1] if rank == 0 and k > 1 else cosine[n, 0]
            j = int(found[n, rank])
            if j not in item_grams:
                item_grams[j] = _grams(shape_tokens(item_texts[items[j]]))
            share = shape_share(row_texts[row], item_grams[j])
            out.append((int(row), int(items[j]), float(cosine[n, rank]), float(cosine[n, rank] - other), share))
    frame = pd.DataFrame(out, columns=columns[:-1])
    frame["score"] = code_probability(frame)
    return frame
