"""Words to guidance with an LLM: the model fills a small JSON object whose names are enums of this run's classes,
columns, tools and benchmark files (a local endpoint constrains the answer to that schema); the answer becomes a
`Guidance` checked like the offline parser's. Parts the model lists as `not_understood`, or an answer with no
constraint for non-empty words, are refused, never dropped."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from copilot.core.guidance import Guidance, RowScope
from copilot.core.prompts import load_prompt
from copilot.review.guidance_words import TOOL_WORDS, GuidanceVocabulary, ParsedGuidance

DUPLICATE_ISSUES = {
    "none": [],
    "exact": ["exact_duplicate"],
    "near": ["near_duplicate", "semantic_duplicate"],
    "all": ["exact_duplicate", "near_duplicate", "semantic_duplicate"],
}


def _enum(values: list[str]) -> Any:
    return Literal[tuple(values)] if values else str  # type: ignore[return-value]


def answer_model(vocab: GuidanceVocabulary) -> type[BaseModel]:
    classes = _enum(vocab.classes)
    columns = _enum(list(vocab.columns))
    tools = Literal[tuple(TOOL_WORDS)]  # type: ignore[valid-type]
    rows = create_model("RowChoice", column=(columns, ...), value=(str, ...))
    return create_model(
        "GuidanceAnswer",
        never_relabel=(bool, False),
        flag_only=(bool, False),
        protected_classes=(list[classes], Field(default_factory=list)),
        distinct_pairs=(list[list[classes]], Field(default_factory=list)),
        keep_duplicates=(Literal["none", "exact", "near", "all"], "none"),
        tools_off=(list[tools], Field(default_factory=list)),
        tools_only=(list[tools], Field(default_factory=list)),
        only_rows=(rows | None, None),
        never_rows=(rows | None, None),
        benchmarks=(list[_enum([_name(b) for b in vocab.benchmarks])], Field(default_factory=list)),
        not_understood=(list[str], Field(default_factory=list)),
    )


def _name(spec: str) -> str:
    from curation_tools.benchmark_files import parse_spec

    return parse_spec(spec)[0].stem


def to_guidance(answer: BaseModel, vocab: GuidanceVocabulary) -> Guidance:
    """The model's answer as Guidance; a row value the column does not hold is a ValueError (sent back to repair)."""
    a = answer.model_dump()
    scope = []
    for key, mode in (("only_rows", "only"), ("never_rows", "never")):
        if a[key]:
            column, value = a[key]["column"], str(a[key]["value"])
            known = {v.lower(): v for v in vocab.columns.get(column, [])}
            if value.lower() not in known:
                raise ValueError(f"column {column} holds no value {value!r} (it holds {', '.join(known.values())})")
            scope.append(RowScope(column=column, values=[known[value.lower()]], mode=mode))
    pairs = [(p[0], p[1]) for p in a["distinct_pairs"] if len(p) == 2 and p[0] != p[1]]
    return Guidance(
        never_relabel=a["never_relabel"],
        flag_only=a["flag_only"],
        protected_classes=list(dict.fromkeys(a["protected_classes"])),
        distinct=pairs,
        keep_issues=DUPLICATE_ISSUES[a["keep_duplicates"]],
        tools_off=a["tools_off"],
        tools_only=a["tools_only"],
        scope=scope,
        benchmarks=a["benchmarks"],
    )


def parse_with_llm(client: Any, words: str, vocab: GuidanceVocabulary) -> ParsedGuidance:
    prompt = load_prompt("guidance")
    system, user = prompt.render(
        classes=", ".join(vocab.classes) or "(no label column)",
        columns="; ".join(f"{c}: {', '.join(v[:12])}" for c, v in vocab.columns.items()) or "(none)",
        benchmarks=", ".join(_name(b) for b in vocab.benchmarks) or "(none)",
        words=words,
    )
    model = answer_model(vocab)
    answer = client.chat_json(system, user, model, repairs=2, purpose="guidance", check=lambda a: to_guidance(a, vocab))
    guidance = to_guidance(answer, vocab)
    parsed = ParsedGuidance(guidance)
    left = [w for w in answer.model_dump()["not_understood"] if w.strip()]
    if left:
        parsed.refused += [(w, "the model could not express it as a constraint") for w in left]
    elif guidance.is_empty():
        parsed.refused.append((words, "the model found no constraint in it"))
    else:
        parsed.understood.append((words, guidance.describe()))
    return parsed
